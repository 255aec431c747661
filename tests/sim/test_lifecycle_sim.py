"""The simulator's assignment lifecycle (issue 14): unresponsive agents, reply delays,
wrap-up and returning customers, on a small floor (the 400-seat day: bench/RESULTS.md)."""

from __future__ import annotations

import dataclasses

import pytest

from bench.sim.floors import EngineFloor, ModelFloor
from bench.sim.metrics import summary
from bench.sim.run import simulate
from bench.sim.scenario import AgentPlan, Scenario, arrivals, plan
from bench.sim.strategies import STRATEGIES
from engine.events import decode_record
from engine.fingerprint import digest
from engine.invariants import apply_checked
from engine.state import State

# 8-hour shifts with a changeover at 08:00; the lifecycle's behaviours well above the
# CLI's --lifecycle, so a short day shows each of them many times.
LIFE = Scenario(
    seats=30, shifts=3, hours=10, seed=3, sale_start_h=-1, unresponsive_share=0.08,
    response_delay_s=15, wrap_up_s=20, returning_share=0.4,
)  # fmt: skip


@pytest.fixture(scope="module")
def runs() -> dict[str, dict]:
    return {
        name: summary(simulate(LIFE, name)[0])
        for name in ("seatflow", "seatflow-no-timeout", "seatflow-no-sticky", "asterisk-rrmemory")
    }


def test_seatflow_with_the_timeout_leaves_nothing_stuck_with_an_unresponsive_agent(runs):
    life = runs["seatflow"]["lifecycle"]
    assert life["timed_out"] > 10
    assert life["stuck_with_unresponsive_past_timeout"] == 0
    assert runs["seatflow"]["invariant_violations"] == 0, runs["seatflow"]["violation_examples"]
    assert runs["seatflow-no-timeout"]["lifecycle"]["stuck_with_unresponsive_past_timeout"] > 10
    assert runs["asterisk-rrmemory"]["lifecycle"]["stuck_with_unresponsive_past_timeout"] > 10
    p99 = {n: r["lifecycle"]["first_response_wait_s"]["p99"] for n, r in runs.items()}
    assert p99["seatflow"] < p99["seatflow-no-timeout"], p99


def test_sticky_routing_brings_returning_customers_back_to_their_agent(runs):
    share = {n: r["lifecycle"]["served_by_previous_share"] for n, r in runs.items()}
    assert runs["seatflow"]["lifecycle"]["returning_orders"] > 500
    assert share["seatflow"] > 0.5 > 0.1 > share["seatflow-no-sticky"], share
    assert share["asterisk-rrmemory"] < 0.1, share


def test_the_journal_replays_and_every_assignment_follows_the_rules():
    out, floor = simulate(LIFE, "seatflow", keep_journal=True)
    assert isinstance(floor, EngineFloor)
    follower = State()
    problems: list[str] = []
    for data in floor.journal.records:
        problems += apply_checked(follower, decode_record(data))
    assert problems == []
    follower.advance(floor.engine.state.now)
    assert digest(follower) == digest(floor.engine.state)
    routed = {
        e.routed_by
        for data in floor.journal.records
        for e in decode_record(data).events
        if type(e).__name__ == "OrderAssigned"
    }
    assert routed == {"load", "sticky"}  # fmt: skip


def test_the_lifecycle_leaves_the_rest_of_the_day_as_it_was():
    """Its draws come from streams of their own: agents, shifts and orders are the same."""
    off = dataclasses.replace(
        LIFE, unresponsive_share=0, response_delay_s=0, wrap_up_s=0, returning_share=0
    )
    with_it, without = plan(LIFE), plan(off)
    assert [s for s in with_it.steps if s[1] not in ("mute", "unmute")] == without.steps
    assert with_it.agents == without.agents
    mine, theirs = list(arrivals(LIFE)), list(arrivals(off))
    assert [dataclasses.replace(a, customer=None) for a in mine] == theirs
    seen: set[str | None] = set()
    returning = 0
    for a in mine:
        returning += a.customer in seen
        seen.add(a.customer)
    assert 0.3 < returning / len(mine) < 0.45


class Seen:
    """What a floor reports, in order (the simulator's side of the seam)."""

    def __init__(self) -> None:
        self.log: list[tuple[str, str, int]] = []

    def assigned(self, order_id: str, agent_id: str, at: int) -> None:
        self.log.append(("assigned", order_id, at))

    def released(self, order_id: str, at: int) -> None:
        self.log.append(("released", order_id, at))

    def completed(self, order_id: str, at: int) -> None:
        self.log.append(("completed", order_id, at))

    def agent_state(self, agent_id: str, state: str, at: int) -> None:
        pass

    def requested(self, agent_id: str, request_id: str, at: int) -> None:
        pass


@pytest.mark.parametrize(
    ("strategy", "rests"),
    [
        ("asterisk-rrmemory", True),  # app_queue wrapuptime: against the member's last call
        ("asterisk-leastrecent", True),
        ("asterisk-fewestcalls", True),
        ("asterisk-random", True),
        ("freeswitch-longest-idle", True),  # mod_callcenter's agent wrap-up-time
        ("chatwoot-round-robin", False),  # no such option
        ("no-guard", False),  # seatflow's ranking before the lifecycle
    ],
)
def test_an_anchor_with_a_wrap_up_option_rests_the_whole_member_after_a_completion(
    strategy: str, rests: bool
):
    seen = Seen()
    floor = ModelFloor(seen, STRATEGIES[strategy](0), wrap_up_ms=20_000)
    floor.setup([AgentPlan("a1", ("pre",), 2, "t", ((0, 10**9),))], 0)
    floor.login("a1", 0)
    floor.submit("o1", "pre", 0, 1_000, None)
    floor.complete("o1", 5_000)
    floor.submit("o2", "pre", 0, 6_000, None)  # one slot free all along
    if not rests:
        assert seen.log[-1] == ("assigned", "o2", 6_000)
        assert floor.next_due() is None
        return
    assert seen.log[-1] == ("completed", "o1", 5_000)  # o2 waits: the member rests
    assert floor.violations(True) == []  # resting is the product's rule, not a lapse
    assert floor.next_due() == 25_000
    floor.fire(24_999)
    assert seen.log[-1] == ("completed", "o1", 5_000)
    floor.fire(25_000)
    assert seen.log[-1] == ("assigned", "o2", 25_000)
    assert floor.next_due() is None
    floor.submit("o3", "pre", 0, 26_000, None)  # both slots taken now
    floor.complete("o2", 30_000)  # rests until 50 s ...
    floor.complete("o3", 40_000)  # ... then until 60 s: the later completion counts
    floor.submit("o4", "pre", 0, 41_000, None)
    floor.fire(50_000)
    assert seen.log[-1] == ("completed", "o3", 40_000)
    assert floor.next_due() == 60_000
    floor.fire(60_000)
    assert seen.log[-1] == ("assigned", "o4", 60_000)
