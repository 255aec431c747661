"""Routing at 400, 4,000 and 40,000 agents: the decision, decide+apply, complete+serve.

The decision is `router.policy.place`, which returns its event; `index.best` alone is
the lookup inside it (before 2026-12-01 the handler built the event after the lookup).

The decision must stay O(log n): the medians across sizes show the growth. Every
benchmark keeps the floor steady (what one round adds, the next round's setup
takes away), and checks the outcome against the routing rules.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import pytest

from bench.floor import ORDER_SKILLS, Floor, build_floor, saturate
from engine import commands as cmd
from engine.handlers import Changes, Reply, handle
from engine.state import State
from presence.agent import Agent
from router.order import COMPLETED, Order
from router.policy import place

SIZES = (400, 4000, 40000)
ROUNDS = 20_000
WARMUP = 2_000
LOOP_N = 100_000


def rule_pick(state: State, skill: str | None) -> Agent | None:
    """The routing rules of API.md, by brute force over every agent."""
    eligible = [a for a in state.agents.values() if a.can_take(skill)]
    if not eligible:
        return None
    return min(
        eligible,
        key=lambda a: (a.handing_over, len(a.open_orders) / a.capacity, a.last_assigned_at, a.id),
    )


def percentiles(samples_ns: list[int]) -> dict[str, float]:
    s = sorted(samples_ns)
    n = len(s)
    return {
        f"{name}_us": round(s[min(n - 1, int(q * n))] / 1000, 3)
        for name, q in (("p50", 0.5), ("p90", 0.9), ("p99", 0.99), ("p999", 0.999))
    } | {"max_us": round(s[-1] / 1000, 3), "samples": n}


def timer_overhead_ns() -> int:
    """Median cost of the perf_counter_ns pair around a sample (subtract it mentally)."""
    clock = time.perf_counter_ns
    s = []
    for _ in range(10_000):
        t0 = clock()
        s.append(clock() - t0)
    return sorted(s)[len(s) // 2]


class Steady:
    """Round setups that keep a floor steady: each undoes what the last round did."""

    def __init__(self, floor: Floor) -> None:
        self.floor = floor
        self.last: str | None = None
        self.k = 0

    def skill(self) -> str | None:
        self.k += 1
        return ORDER_SKILLS[self.k % 3]

    def submit_args(self) -> tuple[tuple[Changes, cmd.Command], dict[str, Any]]:
        """Complete the previous round's order, then offer a new one to route."""
        floor = self.floor
        if self.last is not None:
            floor.handle(cmd.CompleteOrder(self.last))
        order = floor.order(self.skill())
        self.last = order.id
        now = floor.tick()
        floor.state.advance(now)
        return (Changes(floor.state, now), cmd.SubmitOrders([order])), {}

    def complete_args(self) -> tuple[tuple[Changes, cmd.Command], dict[str, Any]]:
        """Route a new order (untimed), then offer its completion."""
        floor = self.floor
        order = floor.order(self.skill())
        floor.handle(cmd.SubmitOrders([order]))
        now = floor.tick()
        floor.state.advance(now)
        return (Changes(floor.state, now), cmd.CompleteOrder(order.id)), {}


def routing(order_id: str, skill: str | None) -> Order:
    """An order being routed, as the engine holds it between arrival and its decision."""
    return Order(order_id, skill, 0, b"", 0, 0, status="routing")


@pytest.mark.benchmark(group="router: place (the decision)")
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("skill", ["pre", None])
def test_place(benchmark: Any, floor_of: Callable[[int], Floor], n: int, skill: str | None):
    state = floor_of(n).state
    decision = benchmark.pedantic(
        place, (state.index, routing("o-bench", skill)), rounds=2000, iterations=100,
        warmup_rounds=200,
    )  # fmt: skip
    expected = rule_pick(state, skill)
    assert expected is not None and decision.agent_id == expected.id  # type: ignore[union-attr]


@pytest.mark.benchmark(group="router: index.best (who, without building the event)")
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("skill", ["pre", None])
def test_index_best(benchmark: Any, floor_of: Callable[[int], Floor], n: int, skill: str | None):
    """The index lookup alone: what `place` adds to it is building its one event."""
    state = floor_of(n).state
    picked = benchmark.pedantic(
        state.index.best, (skill,), rounds=2000, iterations=100, warmup_rounds=200
    )
    assert picked is not None and picked is rule_pick(state, skill)


def check_next_submit(steady: Steady) -> None:
    """One more round, untimed: the order goes to the agent the rules pick."""
    (ch, command), _ = steady.submit_args()
    order = command.orders[0]  # type: ignore[attr-defined]
    expected = rule_pick(ch.state, order.skill)
    reply = handle(ch, command)
    assert expected is not None and reply.status == 201
    assert ch.state.orders[order.id].agent_id == expected.id


@pytest.mark.benchmark(group="router: submit one order, decide+apply (handlers.handle)")
@pytest.mark.parametrize("n", SIZES)
def test_submit_decide_apply(benchmark: Any, floor_of: Callable[[int], Floor], n: int):
    steady = Steady(floor_of(n))
    reply: Reply = benchmark.pedantic(
        handle, setup=steady.submit_args, rounds=ROUNDS, warmup_rounds=WARMUP
    )
    assert reply.status == 201 and reply.body.status == "assigned"
    check_next_submit(steady)


@pytest.mark.benchmark(group="router: complete one order + serve (handlers.handle)")
@pytest.mark.parametrize("n", SIZES)
def test_complete_serve(benchmark: Any, floor_of: Callable[[int], Floor], n: int):
    """Room on the floor: the completion frees a slot, no order waits to be served."""
    steady = Steady(floor_of(n))
    reply: Reply = benchmark.pedantic(
        handle, setup=steady.complete_args, rounds=ROUNDS, warmup_rounds=WARMUP
    )
    assert reply.status == 200 and reply.body.status == COMPLETED


@pytest.mark.benchmark(group="router: complete + serve a waiting order (floor full)")
@pytest.mark.parametrize("n", SIZES)
def test_complete_serve_saturated(benchmark: Any, n: int):
    """Every agent full and orders waiting: each completion hands the freed slot to the
    best waiting order. Setup queues one new order and picks a random full agent."""
    floor = asyncio.run(_saturated(n))
    agents = floor.agents
    rng = floor.rng

    def setup() -> tuple[tuple[Changes, cmd.Command], dict[str, Any]]:
        floor.handle(cmd.SubmitOrders([floor.order(rng.choice(ORDER_SKILLS))]))
        agent = rng.choice(agents)
        now = floor.tick()
        floor.state.advance(now)
        return (Changes(floor.state, now), cmd.CompleteOrder(next(iter(agent.open_orders)))), {}

    def served(ch: Changes, command: cmd.Command) -> None:
        kinds = [type(e).__name__ for e in ch.events]
        assert kinds[0] == "OrderCompleted"
        served_kinds.update(kinds[1:])

    served_kinds: set[str] = set()
    reply: Reply = benchmark.pedantic(
        handle, setup=setup, teardown=served, rounds=ROUNDS // 4, warmup_rounds=WARMUP // 4
    )
    assert reply.status == 200 and reply.body.status == COMPLETED
    assert served_kinds == {"OrderAssigned"}, (
        len(floor.state.queues),
        floor.state.queues.skills(),
        sum(a.has_room() for a in agents),
    )
    assert len(floor.state.queues) > 0


async def _saturated(n: int) -> Floor:
    floor = build_floor(n, seed=2)
    saturate(floor, queued=max(1000, n // 4))
    return floor


@pytest.mark.benchmark(group="router: p99 over 100k timed calls (plain perf_counter_ns loop)")
@pytest.mark.parametrize("n", SIZES)
def test_tail_latency(benchmark: Any, floor_of: Callable[[int], Floor], n: int):
    """Not a pytest-benchmark timing: one round runs 100k individually timed decisions and
    100k decide+apply steps; their percentiles land in extra_info (see RESULTS.md)."""
    floor = floor_of(n)
    steady = Steady(floor)
    clock = time.perf_counter_ns

    def loops() -> dict[str, Any]:
        index = floor.state.index
        orders = [routing("o-bench", skill) for skill in ORDER_SKILLS]
        decide = []
        for i in range(LOOP_N):
            order = orders[i % 3]
            t0 = clock()
            place(index, order)
            decide.append(clock() - t0)
        submit = []
        for _ in range(LOOP_N):
            (ch, command), _ = steady.submit_args()
            t0 = clock()
            handle(ch, command)
            submit.append(clock() - t0)
        return {
            "timer_overhead_ns": timer_overhead_ns(),
            "place": percentiles(decide),
            "submit_decide_apply": percentiles(submit),
        }

    result = benchmark.pedantic(loops, rounds=1, warmup_rounds=0)
    benchmark.extra_info.update(result)
    print(f"\nn={n} {result}")
    assert result["place"]["samples"] == LOOP_N
    check_next_submit(steady)
