"""Presence history behind the window (issue 12): raw transitions, shifts and audit
entries older than RAW_DAYS local days fold into per-day rows, and nothing a report
shows changes because of it; the live state stops growing with the center's age."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from engine import commands as cmd
from engine.checkpoint import decode, encode
from engine.errors import Conflict, Invalid, NotFound
from engine.fingerprint import fingerprint
from engine.payroll.report import payroll_report, utilization_report
from presence.daybook import RAW_DAYS
from presence.events import ShiftSpec
from presence.requests import LogoutRequest
from presence.timeutil import parse_time

T0 = parse_time("2026-11-24T00:00:00Z")  # the day after tests/conftest.py's clock
DAY = 24 * 3600 * 1000
HOUR = 3600 * 1000
AGENTS = ("a1", "a2", "a3")
DAYS = 14


async def _setup(center: Any) -> None:
    s = center.state.settings
    await center.run(
        cmd.ChangeSettings(*dataclasses.astuple(dataclasses.replace(s, timezone="UTC")))
    )
    await center.run(cmd.SetPayrollScheme("2026-11", "CNY", [3], [100, 150]))
    for a in AGENTS:
        await center.agent(a, capacity=2)
    await center.shifts(
        *(
            (a, T0 + d * DAY + 8 * HOUR, T0 + d * DAY + 16 * HOUR)
            for a in AGENTS
            for d in range(DAYS)
        )
    )


async def _day(center: Any, d: int) -> None:
    """Log in (a3 late), a break, an order each, a denied early logout, log out."""
    base = T0 + d * DAY
    await center.goto(base + 8 * HOUR)
    await center.login("a1", "a2")
    await center.goto(base + 9 * HOUR)
    await center.login("a3")
    await center.away("a1")
    await center.goto(base + 9 * HOUR + 20 * 60_000)
    await center.available("a1")
    for a in AGENTS:
        await center.order(f"{a}-{d}")
        await center.complete(f"{a}-{d}")
    await center.goto(base + 15 * HOUR)
    reply = await center.logout("a2")  # early: a request the supervisor denies
    await center.deny(reply.body.logout_request.id)
    await center.goto(base + 16 * HOUR + 60_000)
    for a in AGENTS:
        await center.logout(a)


def _days_report(center: Any, d: int) -> Any:
    lo = T0 + d * DAY
    return utilization_report(center.state, lo, lo + DAY, center.engine.now())


async def test_folded_days_report_what_they_reported_before_the_fold(center: Any):
    await _setup(center)
    seen = {}
    for d in range(DAYS):
        await _day(center, d)
        seen[d] = _days_report(center, d)  # before anything of day d is folded
    week = utilization_report(center.state, T0 + 6 * DAY, T0 + 13 * DAY, center.engine.now())
    await center.goto(T0 + (DAYS + RAW_DAYS) * DAY + HOUR)
    await center.order("late")  # any command runs the fold once a midnight passed
    state = center.state
    assert state.history_from == T0 + DAYS * DAY
    assert len(state.daybook.days) == DAYS
    for d in range(DAYS):
        assert _days_report(center, d) == seen[d], f"day {d} changed when folded"
    assert utilization_report(state, T0 + 6 * DAY, T0 + 13 * DAY, center.engine.now()) == week
    # The raw history left memory: per agent its last transition, shift and no audit.
    assert all(len(ts) == 1 for ts in state.transitions.values())
    assert all(len(state.roster.of(a)) == 1 for a in AGENTS)
    assert state.audit == []
    # Reports across folded days carry their time and logout counts, payroll too.
    whole = utilization_report(state, T0, T0 + DAYS * DAY, center.engine.now())
    rows = {r.agent_id: r for r in whole.agents}
    assert rows["a2"].logout_requests == rows["a2"].logout_denials == DAYS
    assert rows["a1"].scheduled_s == DAYS * 8 * 3600
    assert rows["a1"].on_duty_s == DAYS * (8 * 3600 - 20 * 60)
    paid = {r.agent_id: r for r in payroll_report(state, "2026-11", center.engine.now()).agents}
    assert paid["a1"].scheduled_s == 7 * 8 * 3600 and paid["a2"].logout_requests == 7


async def test_the_raw_window_follows_the_clock_and_replay_and_checkpoint_agree(center: Any):
    await _setup(center)
    for d in range(DAYS):
        await _day(center, d)
        # Never more than RAW_DAYS days (and today) of transitions in memory.
        kept = len(center.state.transitions["a1"])
        assert kept <= 6 * (RAW_DAYS + 1) + 1
    assert center.state.history_from == T0 + (DAYS - 1 - RAW_DAYS) * DAY
    # center.verify() compared a replay of the journal with the live state at every step.
    restored = decode(encode(center.state, 1, b"r"))[1]
    assert fingerprint(restored) == fingerprint(center.state)
    lo = T0 + 2 * DAY
    assert utilization_report(restored, lo, lo + DAY, center.engine.now()) == _days_report(
        center, 2
    )


async def test_folded_time_is_final_and_kept_per_day(center: Any):
    await _setup(center)
    for d in range(RAW_DAYS + 3):
        await _day(center, d)
    state = center.state
    horizon = state.history_from
    assert horizon == T0 + 2 * DAY
    with pytest.raises(Invalid) as e:  # a window starting inside a folded day
        utilization_report(state, T0 + DAY + HOUR, T0 + 5 * DAY, center.engine.now())
    assert e.value.code == "history_by_day" and e.value.field == "from"
    # Past the horizon any window still works; before it, whole days.
    utilization_report(state, horizon + HOUR, horizon + 5 * HOUR, center.engine.now())
    utilization_report(state, T0, horizon + 5 * HOUR, center.engine.now())
    with pytest.raises(Invalid) as e:  # a shift reaching into a folded day: 422, nothing kept
        await center.run(cmd.AddShifts([ShiftSpec("a1", horizon - HOUR, horizon + HOUR)]))
    assert e.value.code == "history_by_day"
    s = state.settings
    with pytest.raises(Conflict) as c:  # the days are cut at midnights of this zone
        await center.run(
            cmd.ChangeSettings(
                *dataclasses.astuple(dataclasses.replace(s, timezone="Asia/Shanghai"))
            )
        )
    assert c.value.code == "timezone_locked"


async def test_decided_logout_requests_leave_with_their_days_and_stay_decided(center: Any):
    await _setup(center)
    await center.agent("a4", capacity=2)
    await center.shifts(("a4", T0, T0 + 20 * HOUR))
    await center.goto(T0 + HOUR)
    await center.login("a4")
    held = await center.logout("a4")  # in its shift: held for a supervisor, never decided
    assert held.body.logout_request.id == "lr-1"
    await center.away("a4")
    for d in range(RAW_DAYS + 3):
        await _day(center, d)  # a2's early logout, denied: lr-2 on day 0 ... lr-11 on day 9
    state = center.state
    assert state.history_from == T0 + 2 * DAY
    # Days 0 and 1 are folded: their decided requests went with their audit entries; the
    # request still pending stays, however old.
    assert list(state.requests) == ["lr-1", *(f"lr-{n}" for n in range(4, 12))]
    assert state.requests["lr-1"].status == "pending" and state.agents["a4"].pending_request
    # A folded request is still known as decided (409, as before the fold), not unknown.
    for refused in (cmd.ApproveLogout("lr-2", "sup"), cmd.DenyLogout("lr-3", "sup")):
        with pytest.raises(Conflict) as c:
            await center.run(refused)
        assert c.value.code == "request_not_pending" and "decided before" in c.value.message
    for unknown in ("lr-12", "lr-0", "lr-02", "2", "lr-²", "lr-" + "9" * 5000):
        with pytest.raises(NotFound):
            await center.run(cmd.ApproveLogout(unknown, "sup"))
    # The next midnight folds day 2 (lr-4); ids keep counting past the folded ones, and
    # the pending request can still be approved.
    await center.goto(T0 + 10 * DAY + 10 * HOUR)
    await center.login("a2")
    assert (await center.logout("a2")).body.logout_request.id == "lr-12"
    assert list(state.requests) == ["lr-1", *(f"lr-{n}" for n in range(5, 13))]
    assert (await center.approve("lr-1")).body.status == "approved"
    restored = decode(encode(state, 1, b"r"))[1]
    assert fingerprint(restored) == fingerprint(state)


async def test_a_checkpoint_that_still_holds_folded_requests_restores_as_the_replay(center: Any):
    await _setup(center)
    for d in range(RAW_DAYS + 3):
        await _day(center, d)
    state = center.state
    replayed = fingerprint(state)
    # As a checkpoint written before folds dropped decided requests: lr-1 of day 0 kept.
    state.requests["lr-1"] = LogoutRequest("lr-1", "a2", T0, "denied", 1, T0 + HOUR, "sup")
    restored = decode(encode(state, 1, b"r"))[1]
    assert "lr-1" not in restored.requests
    assert fingerprint(restored) == replayed
