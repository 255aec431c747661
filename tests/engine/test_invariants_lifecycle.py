"""The lifecycle's invariants find each kind of broken state (issue 14, item F).

`check` and `check_open` hold an unanswered order past its timeout, a wrap-up slot
past its end or without its timer, and an offline agent in wrap-up; `check_assignment`
counts wrap-up slots as load, refuses a not-responding agent, knows the preferred and
sticky agents and the agent an order was just taken from.
"""

from __future__ import annotations

import pytest

from engine.deadlines import WRAP
from engine.events import OrderAssigned
from engine.invariants import check, check_assignment, check_open

SEC = 1000


async def floor(center):
    """Timeout 60 s, wrap-up 30 s, sticky 1 h; a1 holds o1 (c-1's, unanswered) and wraps o0;
    a2 is not responding; o9 waits for a skill nobody has."""
    await center.lifecycle(timeout_s=60, wrap_s=30, sticky_s=3600)
    await center.agent("a1", capacity=3)
    await center.agent("a2", capacity=3)
    await center.login("a1")
    await center.order("o0")
    await center.complete("o0")  # a1 wraps up until 00:00:30
    await center.login("a2")
    await center.order("ox")  # a2, never answered
    await center.goto(center.at("00:00") + 10 * SEC)
    await center.customer_order("o1", "c-1")  # a1 (a2 has ox): assigned at 00:00:10
    await center.order("o9", "none-has-it")
    await center.goto(center.at("00:01"))  # ox timed out: a2 not responding, ox to a1
    s = center.state
    assert (s.agents["a2"].state, center.holder("ox"), center.holder("o1")) == (
        "not_responding",
        "a1",
        "a1",
    )
    assert check(s) == [] and check_open(s) == []
    return s


def overdue(s):
    s.now += 60 * SEC  # time moved without a command: no timer fired


def lost_wrap_timer(s):
    s.agents["a1"].wrap_ends.append(s.now + 5 * SEC)
    s.deadlines.cancel(WRAP, "a1")


def offline_wrapping(s):
    a1 = s.agents["a1"]
    a1.open_orders.clear()
    a1.state = "offline"
    a1.wrap_ends.append(s.now + 5 * SEC)
    s.deadlines.set(WRAP, "a1", s.now + 5 * SEC)


@pytest.mark.parametrize(
    ("corrupt", "expected"),
    [
        pytest.param(overdue, [
            "order 'ox' is assigned to 'a1' since 1795392060000 with no first response past the "
            "60 s timeout (now 1795392120000)",
            "order 'o1' is assigned to 'a1' since 1795392010000 with no first response past the "
            "60 s timeout (now 1795392120000)",
        ], id="unanswered-past-timeout"),
        pytest.param(lost_wrap_timer, [
            "agent 'a1' has wrap-up slots but no timer for the first end",
        ], id="wrap-up-without-timer"),
        pytest.param(offline_wrapping, [
            "agent 'a1' is offline but holds 1 wrap-up slots",
        ], id="offline-in-wrap-up"),
    ],
)  # fmt: skip
async def test_check_names_each_lifecycle_violation(center, corrupt, expected):
    state = await floor(center)
    corrupt(state)
    got = check(state)
    assert [p for p in got if p in expected] == expected
    assert set(expected) <= set(check_open(state))


async def test_wrap_up_slots_count_as_load_and_not_responding_is_not_eligible(center):
    await center.lifecycle(wrap_s=30)
    await center.agent("a1", capacity=1)
    await center.agent("a2", capacity=1)
    await center.login("a1", "a2")
    await center.order("o1")
    await center.complete("o1")  # a1: 1/1 in wrap-up
    await center.away("a2")
    await center.order("o2")  # queued
    s = center.state
    assert check_assignment(s, OrderAssigned("o2", "a1")) == [
        "order 'o2' assigned to agent 'a1' which is not eligible (state available, skills "
        "['pre'], load 1/1, order skill 'pre')"
    ]
    s.agents["a2"].state = "not_responding"
    assert "state not_responding" in check_assignment(s, OrderAssigned("o2", "a2"))[0]


async def test_check_assignment_knows_preferred_sticky_and_avoid(center):
    await center.lifecycle(sticky_s=3600)
    for a in ("a1", "a2", "a3"):
        await center.agent(a, capacity=3)
    await center.login("a1", "a2", "a3")
    await center.customer_order("o1", "c-1")  # a1
    s = center.state
    # A new order of c-1 being routed: the sticky agent a1, not the least loaded a2.
    from engine import events as ev
    from engine.state import apply

    apply(s, ev.OrderReceived("o2", "pre", 0, b"", None, "c-1", "a3"), s.now)
    assert check_assignment(s, OrderAssigned("o2", "a2")) == [
        "order 'o2' assigned to agent 'a2' but the routing rules pick 'a3' (preferred)"
    ]
    assert check_assignment(s, OrderAssigned("o2", "a3")) == [
        "order 'o2' assigned to agent 'a3' says routed_by 'load', the rules say 'preferred'"
    ]
    assert check_assignment(s, OrderAssigned("o2", "a3", "preferred")) == []
    assert check_assignment(s, OrderAssigned("o2", "a1", "sticky"), avoid="a3") == []
    assert check_assignment(s, OrderAssigned("o2", "a2"), avoid="a3") == [
        "order 'o2' assigned to agent 'a2' but the routing rules pick 'a1' (sticky)"
    ]
