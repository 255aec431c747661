"""`check_open`, the per-minute checker the simulator runs: the same rules as `check`
over agents, their orders and the queues, with a count standing in for the scan of
completed orders. Same broken states as tests/engine/test_invariants.py."""

from __future__ import annotations

import pytest

from engine.invariants import check, check_open


async def floor(center):
    """a1 (cap 2) holds o1 and o3; a2 is away; o2 (post) and o4 (pre) wait; o9 is done."""
    await center.agent("a1", capacity=2)
    await center.agent("a2", skills=("pre", "post"), capacity=2)
    await center.shifts(("a1", center.at("08:00"), center.at("16:00")))
    await center.goto(center.at("09:00"))
    await center.login("a1", "a2")
    await center.away("a2")
    await center.order("o1")
    await center.order("o2", "post")
    await center.logout("a1")
    await center.order("o9")
    await center.complete("o9")
    await center.order("o3")
    await center.order("o4")
    assert check(center.state) == [] and check_open(center.state) == []
    return center.state


def offline_holder(s):
    s.agents["a1"].state = "offline"


def unserved_room(s):
    s.agents["a2"].state = "available"


def lost_from_agent(s):
    del s.agents["a1"].open_orders["o1"]


def counter_drift(s):
    s.counters.completed += 1


def dropped_from_queue(s):
    s.queues.remove(s.orders["o2"])


def dangling_request(s):
    s.agents["a2"].pending_request = "lr-9"


@pytest.mark.parametrize(
    ("corrupt", "expected"),
    [
        pytest.param(offline_holder, ["agent 'a1' is offline but holds ['o1', 'o3']"],
                     id="offline-agent-holds-orders"),
        pytest.param(unserved_room, [
            "order 'o2' (skill 'post') waits while an eligible agent has room",
            "order 'o4' (skill 'pre') waits while an eligible agent has room",
        ], id="queued-while-room"),
        pytest.param(lost_from_agent, [
            "order 'o4' (skill 'pre') waits while an eligible agent has room",
            "4 orders are open (received 5, completed 1) but 1 are held and 2 queued",
        ], id="assigned-but-not-held"),
        pytest.param(counter_drift, [
            "3 orders are open (received 5, completed 2) but 2 are held and 2 queued",
        ], id="counter-drift"),
        pytest.param(dropped_from_queue, [
            "4 orders are open (received 5, completed 1) but 2 are held and 1 queued",
        ], id="lost-from-queue"),
        pytest.param(dangling_request, [
            "agent 'a2' points to logout request 'lr-9' which is unknown",
        ], id="dangling-request"),
    ],
)
async def test_check_open_names_each_violation(center, corrupt, expected):
    state = await floor(center)
    corrupt(state)
    assert check_open(state) == expected
