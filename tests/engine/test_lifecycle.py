"""The assignment lifecycle at the engine: first responses, response timeouts, wrap-up.

Every command runs through `Center.run`: the replay follower checks each assignment
against the routing rules and stays equal to the live state, and `invariants.check`
(no order left unanswered past its timeout, no wrap-up slot past its end) holds.
"""

from __future__ import annotations

import pytest

from engine import commands as cmd
from engine import events as ev
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.fingerprint import fingerprint

SEC = 1000


async def two_agents(center, capacity: int = 2) -> None:
    await center.agent("a1", capacity=capacity)
    await center.agent("a2", capacity=capacity)
    await center.login("a1", "a2")


def journaled(center) -> list[ev.Event]:
    return [e for data in center.journal.records for e in ev.decode_record(data).events]


# -- A: first responses ---------------------------------------------------------------


async def test_responded_sets_first_response_once_and_a_retry_is_a_no_op(center):
    await two_agents(center)
    await center.order("o1")
    center.clock.advance(42 * SEC)
    reply = await center.responded("o1")
    assert reply.status == 200
    assert reply.body.first_response_at == "2026-11-23T00:00:42Z"
    order = center.state.orders["o1"]
    assert (order.responded_by, order.response_ms) == ("a1", 42 * SEC)
    records = len(center.journal.records)
    center.clock.advance(5 * SEC)
    again = await center.responded("o1")
    assert again.status == 200 and again.body.first_response_at == "2026-11-23T00:00:42Z"
    assert len(center.journal.records) == records  # nothing journaled
    await center.complete("o1")
    assert (await center.responded("o1")).status == 200  # still a no-op once completed


async def test_responded_on_an_order_not_assigned_is_409_and_changes_nothing(center):
    await center.agent("a1", capacity=1)
    await center.order("o1")  # nobody logged in: queued
    with pytest.raises(Conflict) as err:
        await center.responded("o1")
    assert (err.value.code, err.value.message) == (
        "order_not_assigned",
        "order 'o1' is queued, not assigned",
    )
    await center.login("a1")
    await center.complete("o1")
    with pytest.raises(Conflict):
        await center.responded("o1")  # completed without a response
    with pytest.raises(NotFound):
        await center.responded("nope")


async def test_an_agent_reports_responses_to_its_own_orders_only(center):
    await two_agents(center, capacity=1)
    await center.order("o1")
    await center.order("o2")
    assert center.holder("o1") == "a1"
    with pytest.raises(Forbidden):
        await center.responded("o1", as_agent="a2")
    with pytest.raises(Forbidden):  # the same 403 for an id that does not exist
        await center.responded("ghost", as_agent="a2")
    assert (await center.responded("o1", as_agent="a1")).status == 200


# -- B: response timeouts -------------------------------------------------------------


async def test_timeout_setting_is_0_or_10_to_3600_else_422_and_nothing_changes(center):
    for bad in (1, 9, 3601, -1):
        with pytest.raises(Invalid) as err:
            await center.lifecycle(timeout_s=bad)
        assert err.value.field == "response_timeout_s"
        assert err.value.message == (
            f"response_timeout_s {bad} is out of range: 0 (off) or 10..3600"
        )
    assert center.state.settings.response_timeout_s == 0
    for good in (10, 3600, 0):
        await center.lifecycle(timeout_s=good)
        assert center.state.settings.response_timeout_s == good


async def test_an_unanswered_order_is_taken_back_and_its_agent_is_not_responding(center):
    await center.lifecycle(timeout_s=60)
    await two_agents(center)
    await center.order("o1", priority=4)
    await center.order("o2")  # a2
    await center.order("o3")  # a1 again (load 1/2 each, a1 idle longer)
    assert [center.holder(o) for o in ("o1", "o2", "o3")] == ["a1", "a2", "a1"]
    await center.responded("o2")
    await center.goto(center.at("00:00") + 59 * SEC)
    assert center.holder("o1") == "a1"  # not yet
    await center.goto(center.at("00:01"))  # exactly the timeout: both of a1's orders
    a1 = center.state.agents["a1"]
    assert a1.state == "not_responding"
    assert center.holder("o1") == "a2" and center.status("o3") == "queued"
    o1 = center.state.orders["o1"]
    assert (o1.priority, o1.reassignments, o1.seq) == (4, 1, 1)  # priority and arrival kept
    assert [(e.action, e.agent_id, e.order_id) for e in center.state.audit] == [
        ("response_timeout", "a1", "o1"),
        ("response_timeout", "a1", "o3"),
    ]
    assert center.state.counters.timed_out == 2
    # The timers fired as of the clock move, in a record of their own before ClockSet's.
    timer_record = ev.decode_record(center.journal.records[-2])
    assert timer_record.at == center.at("00:01")
    assert [type(e).__name__ for e in timer_record.events] == [
        "ResponseTimedOut",
        "OrderReleased",
        "OrderAssigned",
        "ResponseTimedOut",
        "OrderReleased",
        "OrderQueued",
    ]


async def test_a_not_responding_agent_keeps_its_other_orders_and_comes_back(center):
    await center.lifecycle(timeout_s=30)
    await center.agent("a1", capacity=3)
    await center.login("a1")
    await center.order("o1")
    await center.responded("o1")
    await center.order("o2")
    await center.goto(center.at("00:00") + 30 * SEC)
    a1 = center.state.agents["a1"]
    assert a1.state == "not_responding" and list(a1.open_orders) == ["o1"]
    assert center.status("o2") == "queued"  # the only agent: it waits for room
    await center.order("o3")
    assert center.status("o3") == "queued"  # no new orders while not responding
    await center.available("a1")
    assert a1.state == "available"
    assert center.holder("o2") == "a1" and center.holder("o3") == "a1"  # served at once


async def test_never_back_to_the_same_agent_while_another_has_room(center):
    await center.lifecycle(timeout_s=10)
    await center.agent("a1", capacity=1)
    await center.agent("a2", capacity=1)
    await center.login("a1")
    await center.order("o1")
    await center.login("a2")
    await center.order("o2")
    await center.goto(center.at("00:00") + 10 * SEC)  # both time out
    # a1 went not_responding and a2 too: nobody is eligible; both orders wait.
    assert [center.status(o) for o in ("o1", "o2")] == ["queued", "queued"]
    await center.available("a1")
    assert center.holder("o1") == "a1"  # the agent with room takes the head of the queue


async def test_timers_fire_from_the_clock_with_any_command_after_the_due_time(center):
    await center.lifecycle(timeout_s=60)
    await two_agents(center)
    await center.order("o1")
    center.clock.advance(300 * SEC)  # time passes; nothing is journaled yet
    assert center.holder("o1") == "a1"
    with pytest.raises(NotFound):  # a refused command: the timers still fire first
        await center.complete("nope")
    assert center.holder("o1") == "a2"
    assert center.state.agents["a1"].state == "not_responding"
    assert ev.decode_record(center.journal.records[-1]).at == center.at("00:05")


async def test_a_response_in_time_or_a_completion_stops_the_timer(center):
    await center.lifecycle(timeout_s=60)
    await two_agents(center)
    await center.order("o1")
    await center.order("o2")
    await center.responded("o1")
    await center.complete("o2")
    await center.goto(center.at("01:00"))
    assert center.state.agents["a1"].state == center.state.agents["a2"].state == "available"
    assert center.state.counters.timed_out == 0
    assert len(center.state.deadlines) == 0


async def test_a_shorter_timeout_takes_overdue_orders_back_at_once(center):
    await two_agents(center)
    await center.order("o1")
    await center.goto(center.at("00:10"))
    await center.lifecycle(timeout_s=300)  # o1 has waited 10 min: overdue now
    assert center.state.agents["a1"].state == "not_responding"
    assert center.holder("o1") == "a2"
    await center.lifecycle(timeout_s=0)  # off: nothing is timed any more
    await center.goto(center.at("05:00"))
    assert center.holder("o1") == "a2"


async def test_a_logout_release_counts_as_a_reassignment_too(center):
    await two_agents(center)
    await center.order("o1")
    await center.logout("a1")
    assert center.state.orders["o1"].reassignments == 1
    released = [e for e in journaled(center) if isinstance(e, ev.OrderReleased)]
    assert [(e.order_id, e.reason) for e in released] == [("o1", "offline")]


async def test_replay_reproduces_timeouts_without_running_timers(make_center):
    from engine.clock import ManualClock
    from engine.core import Engine

    center = make_center()
    await center.lifecycle(timeout_s=20, wrap_s=15)
    await two_agents(center)
    for i in range(6):
        await center.order(f"o{i}")
        if i == 1:
            await center.complete("o0")  # a wrap-up slot on a1
        center.clock.advance(7 * SEC)
    await center.goto(center.at("00:10"))
    assert center.state.counters.timed_out > 0
    replayed = Engine(center.journal, ManualClock())
    replayed.recover()
    assert fingerprint(replayed.state) == fingerprint(center.state)
    assert replayed.state.deadlines.next_due() == center.state.deadlines.next_due()


# -- C: wrap-up -----------------------------------------------------------------------


async def test_wrap_up_setting_is_0_to_600(center):
    for bad in (-1, 601):
        with pytest.raises(Invalid) as err:
            await center.lifecycle(wrap_s=bad)
        assert err.value.message == f"wrap_up_s {bad} is out of range 0..600"
    await center.lifecycle(wrap_s=600)


async def test_a_completion_holds_the_slot_in_wrap_up_until_the_clock_frees_it(center):
    await center.lifecycle(wrap_s=30)
    await center.agent("a1", capacity=1)
    await center.login("a1")
    await center.order("o1")
    await center.order("o2")  # queued: a1 is full
    await center.complete("o1")
    a1 = center.state.agents["a1"]
    assert (a1.load, len(a1.wrap_ends), list(a1.open_orders)) == (1, 1, [])
    assert center.status("o2") == "queued"  # the slot is still taken
    await center.goto(center.at("00:00") + 29 * SEC)
    assert center.status("o2") == "queued"
    await center.goto(center.at("00:00") + 30 * SEC)
    assert center.holder("o2") == "a1" and a1.wrap_ends == []
    assert center.state.orders["o2"].assigned_at == center.at("00:00") + 30 * SEC


async def test_wrap_up_counts_in_routing_load_and_ends_at_logout(center):
    await center.lifecycle(wrap_s=60)
    await two_agents(center, capacity=2)
    await center.order("o1")  # a1
    await center.complete("o1")  # a1 load 1/2 (wrapping), a2 0/2
    await center.order("o2")
    assert center.holder("o2") == "a2"
    await center.logout("a1")
    assert center.state.agents["a1"].wrap_ends == []
    await center.goto(center.at("00:05"))


async def test_wrap_up_is_on_duty_time(center):
    from engine.reports import agent_time

    await center.lifecycle(wrap_s=600)
    await center.agent("a1", capacity=1)
    await center.shifts(("a1", center.at("00:00"), center.at("01:00")))
    await center.login("a1")
    await center.order("o1")
    await center.complete("o1")
    await center.goto(center.at("00:10"))
    split = agent_time(center.state, "a1", center.at("00:00"), center.at("01:00"))
    assert split.on_duty_ms == 10 * 60 * SEC  # the agent stays available while wrapping


async def test_a_second_command_in_the_same_step_fires_nothing_again(center, rng):
    """Many timers due at once fire in one record, earliest first."""
    await center.lifecycle(timeout_s=10, wrap_s=10)
    await center.agent("a1", capacity=5)
    await center.agent("a2", capacity=5)
    await center.login("a1", "a2")
    for i in range(8):
        await center.order(f"o{i}")
        if rng.random() < 0.5:
            await center.complete(f"o{i}")
    await center.goto(center.at("00:01"))
    await center.run(cmd.Login("a1"))
    assert center.state.deadlines.next_due() is None or (
        center.state.deadlines.next_due() > center.state.now
    )
