"""The invariant checkers find each kind of broken state, and name the culprit.

`check` scans everything; `check_open` (what the simulator runs every simulated
minute) applies the same rules to agents, their open orders and the queues, with a
count standing in for the scan of completed orders. Both see the same broken states."""

from __future__ import annotations

import pytest

from engine.events import OrderAssigned
from engine.invariants import check, check_assignment, check_open


async def floor(center):
    """a1 (cap 2) holds o1; a2 is away; o2 (post) and o3 (pre) wait; lr-1 is pending."""
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
    assert center.queue("pre") == ["o4"]
    assert check(center.state) == [] and check_open(center.state) == []
    return center.state


def offline_holder(s):
    s.agents["a1"].state = "offline"


def unserved_room(s):
    s.agents["a2"].state = "available"


def lost_from_agent(s):
    del s.agents["a1"].open_orders["o1"]


def left_routing(s):
    s.orders["o1"].status = "routing"


def dangling_request(s):
    s.agents["a2"].pending_request = "lr-9"


def orphan_request(s):
    s.agents["a1"].pending_request = None


def wrong_handover(s):
    s.agents["a1"].handing_over = True


def counter_drift(s):
    s.counters.completed += 1


def queued_but_not_in_queue(s):
    s.orders["o1"].status = "queued"


def dropped_from_queue(s):
    s.queues.remove(s.orders["o2"])


@pytest.mark.parametrize(
    ("corrupt", "expected"),
    [
        pytest.param(
            offline_holder,
            ["agent 'a1' is offline but holds ['o1', 'o3']"],
            id="offline-agent-holds-orders",
        ),
        pytest.param(
            unserved_room,
            [
                "order 'o2' (skill 'post') waits while an eligible agent has room",
                "order 'o4' (skill 'pre') waits while an eligible agent has room",
            ],
            id="queued-while-room",
        ),
        pytest.param(
            lost_from_agent,
            [
                "order 'o1' is assigned to 'a1' but held 0 times",
                "order 'o4' (skill 'pre') waits while an eligible agent has room",
            ],
            id="assigned-but-not-held",
        ),
        pytest.param(
            left_routing,
            [
                "agent 'a1' holds order 'o1' which is routing to 'a1'",
                "order 'o1' is left in status 'routing'",
            ],
            id="routing-survives",
        ),
        pytest.param(
            dangling_request,
            [
                "agent 'a2' points to logout request 'lr-9' which is unknown",
            ],
            id="dangling-request",
        ),
        pytest.param(
            orphan_request,
            [
                "pending logout request 'lr-1' is not its agent's pending one",
            ],
            id="orphan-request",
        ),
        pytest.param(
            wrong_handover,
            ["agent 'a1' has handing_over=True but its roster says False"],
            id="handover-out-of-date",
        ),
        pytest.param(
            counter_drift, ["1 orders completed but the counter says 2"], id="counter-drift"
        ),
        pytest.param(
            queued_but_not_in_queue,
            [
                "agent 'a1' holds order 'o1' which is queued to 'a1'",
                "order 'o1' is queued but in 0 queues",
                "queues count 2 orders but 3 are queued",
            ],
            id="queued-not-in-queue",
        ),
    ],
)
async def test_check_names_each_violation(center, corrupt, expected):
    state = await floor(center)
    corrupt(state)
    assert check(state) == expected


@pytest.mark.parametrize(
    ("corrupt", "expected"),
    [
        pytest.param(
            offline_holder,
            ["agent 'a1' is offline but holds ['o1', 'o3']"],
            id="offline-agent-holds-orders",
        ),
        pytest.param(
            unserved_room,
            [
                "order 'o2' (skill 'post') waits while an eligible agent has room",
                "order 'o4' (skill 'pre') waits while an eligible agent has room",
            ],
            id="queued-while-room",
        ),
        pytest.param(
            lost_from_agent,
            [
                "order 'o4' (skill 'pre') waits while an eligible agent has room",
                "4 orders are open (received 5, completed 1) but 1 are held and 2 queued",
            ],
            id="assigned-but-not-held",
        ),
        pytest.param(
            counter_drift,
            [
                "3 orders are open (received 5, completed 2) but 2 are held and 2 queued",
            ],
            id="counter-drift",
        ),
        pytest.param(
            dropped_from_queue,
            [
                "4 orders are open (received 5, completed 1) but 2 are held and 1 queued",
            ],
            id="lost-from-queue",
        ),
        pytest.param(
            dangling_request,
            [
                "agent 'a2' points to logout request 'lr-9' which is unknown",
            ],
            id="dangling-request",
        ),
    ],
)
async def test_check_open_names_each_violation(center, corrupt, expected):
    state = await floor(center)
    corrupt(state)
    assert check_open(state) == expected


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        pytest.param(
            OrderAssigned("o2", "a2"),
            [
                "order 'o2' assigned to agent 'a2' which is not eligible (state away, "
                "skills ['post', 'pre'], load 0/2, order skill 'post')",
            ],
            id="to-away-agent",
        ),
        pytest.param(
            OrderAssigned("o2", "a1"),
            [
                "order 'o2' assigned to agent 'a1' which is not eligible (state available, "
                "skills ['pre'], load 2/2, order skill 'post')",
            ],
            id="full-and-no-skill",
        ),
        pytest.param(
            OrderAssigned("o1", "a1"),
            [
                "order 'o1' assigned to agent 'a1' which is not eligible (state available, "
                "skills ['pre'], load 2/2, order skill 'pre')",
            ],
            id="already-assigned",
        ),
        pytest.param(
            OrderAssigned("nope", "a1"),
            [
                "OrderAssigned('nope', 'a1') names an unknown id",
            ],
            id="unknown-order",
        ),
    ],
)
async def test_check_assignment_refuses_ineligible_agents(center, event, expected):
    state = await floor(center)
    assert check_assignment(state, event) == expected


async def test_check_assignment_knows_the_best_agent_and_the_queue_order(center):
    await center.agent("a1", capacity=2)
    await center.agent("a2", capacity=2)
    await center.order("o1", priority=1)
    await center.order("o2", priority=5)
    state = center.state
    for a in ("a1", "a2"):
        state.agents[a].state = "available"  # room appears without serving: check only
    assert check_assignment(state, OrderAssigned("o2", "a2")) == [
        "order 'o2' assigned to agent 'a2' but the routing rules pick 'a1'"
    ]
    assert check_assignment(state, OrderAssigned("o1", "a1")) == [
        "order 'o1' assigned to agent 'a1' from the queue but 'o2' waits ahead of it"
    ]
    assert check_assignment(state, OrderAssigned("o2", "a1")) == []
