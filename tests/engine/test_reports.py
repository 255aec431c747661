"""Reports over live state: local days, and today's utilization through the real engine.

The center's day is a calendar day in its `timezone` setting (default Asia/Shanghai,
UTC+8, so local midnight is 16:00Z). `utilization_today` is on-duty time so far today
divided by scheduled time so far today: the window is clipped at the engine's now.
"""

from __future__ import annotations

import pytest

from engine.calendar import day_start
from engine.reports import agent_time, utilization_today
from presence.timeline import TimeSplit
from presence.timeutil import format_time, parse_time

MIN = 60_000
HOUR = 60 * MIN

DAY_START_CASES = {
    # Asia/Shanghai is UTC+8 with no DST: the local day starts at 16:00Z the day before.
    "shanghai 15:59:59Z is still the 23rd": (
        "Asia/Shanghai",
        "2026-11-23T15:59:59Z",
        "2026-11-22T16:00:00Z",
    ),
    "shanghai one ms before midnight": (
        "Asia/Shanghai",
        "2026-11-23T15:59:59.999Z",
        "2026-11-22T16:00:00Z",
    ),
    "shanghai 16:00:00Z is the 24th": (
        "Asia/Shanghai",
        "2026-11-23T16:00:00Z",
        "2026-11-23T16:00:00Z",
    ),
    "shanghai morning": ("Asia/Shanghai", "2026-11-23T00:00:00Z", "2026-11-22T16:00:00Z"),
    "utc midnight is its own day start": ("UTC", "2026-11-23T00:00:00Z", "2026-11-23T00:00:00Z"),
    "utc one ms before midnight": ("UTC", "2026-11-23T23:59:59.999Z", "2026-11-23T00:00:00Z"),
    "utc midday": ("UTC", "2026-11-23T12:34:56.789Z", "2026-11-23T00:00:00Z"),
    "kolkata, half-hour offset": ("Asia/Kolkata", "2026-11-23T18:29:59Z", "2026-11-22T18:30:00Z"),
    "kolkata, next day": ("Asia/Kolkata", "2026-11-23T18:30:00Z", "2026-11-23T18:30:00Z"),
    # New York springs forward 2026-03-08 02:00 EST -> 03:00 EDT: a 23-hour day.
    "new york spring-forward day, after the switch": (
        "America/New_York",
        "2026-03-08T12:00:00Z",
        "2026-03-08T05:00:00Z",
    ),
    "new york spring-forward day, last ms": (
        "America/New_York",
        "2026-03-09T03:59:59.999Z",
        "2026-03-08T05:00:00Z",
    ),
    "new york day after spring-forward starts in EDT": (
        "America/New_York",
        "2026-03-09T04:00:00Z",
        "2026-03-09T04:00:00Z",
    ),
    # New York falls back 2026-11-01 02:00 EDT -> 01:00 EST: a 25-hour day.
    "new york fall-back day, first 01:30 (EDT)": (
        "America/New_York",
        "2026-11-01T05:30:00Z",
        "2026-11-01T04:00:00Z",
    ),
    "new york fall-back day, second 01:30 (EST)": (
        "America/New_York",
        "2026-11-01T06:30:00Z",
        "2026-11-01T04:00:00Z",
    ),
    "new york fall-back day, last ms": (
        "America/New_York",
        "2026-11-02T04:59:59.999Z",
        "2026-11-01T04:00:00Z",
    ),
    # Havana moves its clocks at midnight itself. Regression: in the repeated hour
    # 00:00..01:00 (fold=1) day_start kept the fold and returned the second midnight.
    "havana fall-back repeats midnight, first 00:30": (
        "America/Havana",
        "2026-11-01T04:30:00Z",
        "2026-11-01T04:00:00Z",
    ),
    "havana fall-back repeats midnight, second 00:30": (
        "America/Havana",
        "2026-11-01T05:30:00Z",
        "2026-11-01T04:00:00Z",
    ),
    "havana fall-back day, afternoon": (
        "America/Havana",
        "2026-11-01T20:00:00Z",
        "2026-11-01T04:00:00Z",
    ),
    # Havana springs forward 2026-03-08 00:00 CST -> 01:00 CDT: no midnight that day.
    "havana skipped midnight: the day starts at the switch": (
        "America/Havana",
        "2026-03-08T05:30:00Z",
        "2026-03-08T05:00:00Z",
    ),
    "havana the evening before the skipped midnight": (
        "America/Havana",
        "2026-03-08T04:59:59.999Z",
        "2026-03-07T05:00:00Z",
    ),
}


@pytest.mark.parametrize(
    ("tz", "now", "expected"), DAY_START_CASES.values(), ids=DAY_START_CASES.keys()
)
def test_day_start(tz: str, now: str, expected: str) -> None:
    got = day_start(parse_time(now), tz)
    assert format_time(got) == expected
    assert day_start(got, tz) == got  # midnight is the first moment of its own day


# -- through the real engine -------------------------------------------------------------


def util(center, agent_id: str) -> float | None:
    """Today's utilization, live; replay (the follower) must give the same number."""
    live = utilization_today(center.state, agent_id)
    assert utilization_today(center.follower, agent_id) == live
    assert center.follower.transitions == center.state.transitions
    return live


async def test_utilization_through_a_shanghai_day(center) -> None:
    """Shift 01:00Z..09:00Z (09:00..17:00 local) for a1 and a2; a3 has no shift."""
    at = center.at
    for agent_id in ("a1", "a2", "a3"):
        await center.agent(agent_id)
    await center.shifts(("a1", at("01:00"), at("09:00")), ("a2", at("01:00"), at("09:00")))
    await center.goto(at("00:30"))
    assert util(center, "a1") is None  # nothing scheduled yet today
    await center.login("a1", "a3")  # early: 30 minutes outside schedule

    await center.goto(at("01:15"))
    await center.login("a2")
    await center.goto(at("02:00"))
    assert util(center, "a1") == 1.0
    assert util(center, "a2") == 45 / 60
    assert util(center, "a3") is None  # logged in, but nothing scheduled

    await center.goto(at("03:00"))
    await center.away("a2")
    await center.goto(at("03:30"))
    assert util(center, "a2") == 105 / 150
    await center.goto(at("04:00"))
    await center.available("a2")
    await center.goto(at("05:00"))
    assert util(center, "a2") == 165 / 240

    await center.goto(at("06:00"))
    await center.force("a2")  # mid-shift self-logout is held; a supervisor forces it
    await center.goto(at("07:00"))
    assert util(center, "a2") == 225 / 360
    await center.login("a2")
    await center.goto(at("08:55"))
    reply = await center.logout("a2")  # inside the 10-minute grace: allowed
    assert reply.status == 200
    await center.goto(at("09:00"))
    assert util(center, "a2") == 340 / 480
    assert util(center, "a1") == 1.0
    assert agent_time(
        center.state, "a1", day_start(center.state.now, "Asia/Shanghai"), center.state.now
    ) == TimeSplit(8 * HOUR, 8 * HOUR, 0, 30 * MIN)

    # After the shift, through the evening, up to the last ms of the local day.
    await center.goto(at("12:00"))
    assert util(center, "a2") == 340 / 480
    await center.goto(at("15:59") + 59_999)
    assert util(center, "a2") == 340 / 480
    assert util(center, "a1") == 1.0
    # Local midnight (16:00Z): a new day with nothing scheduled so far.
    await center.goto(at("16:00"))
    assert util(center, "a1") is None
    assert util(center, "a2") is None


async def test_utilization_of_a_shift_across_local_midnight(center) -> None:
    """Shift 14:00Z..22:00Z is 22:00..06:00 in Shanghai: it is split by local midnight."""
    at = center.at
    await center.agent("a1")
    await center.shifts(("a1", at("14:00"), at("22:00")))
    await center.goto(at("14:00"))
    await center.login("a1")
    await center.goto(at("15:00"))
    assert util(center, "a1") == 1.0
    await center.goto(at("15:30"))
    await center.away("a1", "break")
    await center.goto(at("16:00") - 1)
    assert util(center, "a1") == (90 * MIN) / (2 * HOUR - 1)
    await center.goto(at("16:00"))
    assert util(center, "a1") is None  # the new local day has had no scheduled time yet
    await center.goto(at("17:00"))
    assert util(center, "a1") == 0.0  # still away: an hour scheduled, none on duty
    await center.available("a1")
    await center.goto(at("18:00"))
    assert util(center, "a1") == 0.5
    lo = day_start(center.state.now, "Asia/Shanghai")
    assert format_time(lo) == "2026-11-23T16:00:00Z"
    # The window is clipped at now even when asked about the whole local day.
    assert agent_time(center.state, "a1", lo, lo + 24 * HOUR) == TimeSplit(
        2 * HOUR, 1 * HOUR, 1 * HOUR, 0
    )


async def test_an_agent_on_shift_who_never_logs_in_scores_zero(center) -> None:
    await center.agent("a1")
    await center.shifts(("a1", center.at("01:00"), center.at("09:00")))
    await center.goto(center.at("01:00"))
    assert util(center, "a1") is None  # the shift starts now: nothing scheduled so far
    await center.goto(center.at("01:00") + 1)
    assert util(center, "a1") == 0.0
    await center.goto(center.at("05:00"))
    assert util(center, "a1") == 0.0


async def test_changing_the_timezone_moves_the_day_start(make_center) -> None:
    """Shift 22:00Z (day before)..06:00Z; a break 00:00Z..01:00Z straddles UTC midnight."""
    center = make_center(start=make_center.at("20:00", day=-1))
    at = center.at
    await center.agent("a1")
    await center.shifts(("a1", at("22:00", day=-1), at("06:00")))
    await center.goto(at("22:00", day=-1))
    await center.login("a1")
    await center.goto(at("00:00"))
    await center.away("a1")
    await center.goto(at("01:00"))
    await center.available("a1")
    await center.goto(at("03:00"))
    # Shanghai: today began 2026-11-22T16:00Z, so the whole shift so far counts.
    assert util(center, "a1") == 4 / 5

    reply = await center.settings(tz="UTC")
    assert reply.body.timezone == "UTC"
    assert center.state.settings.timezone == "UTC"
    # UTC: today began at 00:00Z; 3 hours scheduled, 2 on duty.
    assert util(center, "a1") == 2 / 3
    await center.goto(at("06:00"))
    assert util(center, "a1") == 5 / 6
    await center.goto(at("23:59"))
    assert util(center, "a1") == 5 / 6
    await center.goto(at("00:00", day=1))
    assert util(center, "a1") is None

    await center.settings(tz="Asia/Shanghai")  # back: today is again local
    assert format_time(day_start(center.state.now, "Asia/Shanghai")) == "2026-11-23T16:00:00Z"
    assert util(center, "a1") is None
