"""Time accounting as tables: transitions, shifts and a window in, milliseconds out.

Times are written "HH:MM" on a base day, "HH:MM+1" on the next day. Expected durations
are written "H:MM" and compared to the millisecond.
"""

from __future__ import annotations

from typing import NamedTuple

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from presence.agent import AVAILABLE, AWAY, OFFLINE
from presence.timeline import Span, TimeSplit, Transition, split_time, state_spans

MIN = 60_000
HOUR = 60 * MIN
DAY = 24 * HOUR
BASE = 1_795_392_000_000  # 2026-11-23T00:00:00Z; the arithmetic does not care which day


def t(hhmm: str) -> int:
    """'08:30' on the base day, '06:00+1' the next day."""
    hhmm, _, plus = hhmm.partition("+")
    day = int(plus or 0)
    h, m = hhmm.split(":")
    return BASE + day * DAY + int(h) * HOUR + int(m) * MIN


def dur(hmm: str) -> int:
    """'7:43' as milliseconds."""
    h, m = hmm.split(":")
    return int(h) * HOUR + int(m) * MIN


def tr(*items: str) -> list[Transition]:
    """tr('08:00 available', '16:00 offline') -> [(at, state), ...]."""
    out = []
    for item in items:
        when, state = item.split()
        out.append((t(when), state))
    return out


def shifts(*pairs: str) -> list[Span]:
    """shifts('08:00-16:00', '22:00-06:00+1')."""
    out = []
    for pair in pairs:
        start, end = pair.split("-", 1)
        out.append((t(start), t(end)))
    return out


DAY_SHIFT = shifts("08:00-16:00")
WHOLE_DAY = (t("00:00"), t("00:00+1"))
NIGHT = shifts("22:00-06:00+1")
NIGHT_WORK = tr("21:55 available", "02:00+1 away", "02:30+1 available", "06:00+1 offline")


class Case(NamedTuple):
    transitions: list[Transition]
    shifts: list[Span]
    lo: int
    hi: int
    # scheduled, on duty, away, outside schedule
    expected: tuple[int, int, int, int]
    utilization: float | None


def case(
    transitions: list[Transition],
    shift_list: list[Span],
    window: tuple[int, int],
    expected: tuple[str, str, str, str],
    utilization: float | None,
) -> Case:
    sched, on, away, outside = map(dur, expected)
    return Case(transitions, shift_list, *window, (sched, on, away, outside), utilization)


SPLIT_CASES = {
    "clean day": case(
        tr("08:00 available", "16:00 offline"),
        DAY_SHIFT,
        WHOLE_DAY,
        ("8:00", "8:00", "0:00", "0:00"),
        1.0,
    ),
    "late login": case(
        tr("08:17 available", "16:00 offline"),
        DAY_SHIFT,
        WHOLE_DAY,
        ("8:00", "7:43", "0:00", "0:00"),
        463 / 480,
    ),
    "early logout": case(
        tr("08:00 available", "15:30 offline"),
        DAY_SHIFT,
        WHOLE_DAY,
        ("8:00", "7:30", "0:00", "0:00"),
        0.9375,
    ),
    "away breaks inside the shift": case(
        tr(
            "08:00 available",
            "10:00 away",
            "10:15 available",
            "12:00 away",
            "12:45 available",
            "16:00 offline",
        ),
        DAY_SHIFT,
        WHOLE_DAY,
        ("8:00", "7:00", "1:00", "0:00"),
        0.875,
    ),
    "away straddling the shift end": case(
        tr("08:00 available", "15:30 away", "16:30 offline"),
        DAY_SHIFT,
        WHOLE_DAY,
        ("8:00", "7:30", "0:30", "0:30"),
        0.9375,
    ),
    "logged in before the shift starts": case(
        tr("07:40 available", "16:00 offline"),
        DAY_SHIFT,
        WHOLE_DAY,
        ("8:00", "8:00", "0:00", "0:20"),
        1.0,
    ),
    "away before the shift starts is outside schedule": case(
        tr("07:00 available", "07:30 away", "08:10 available", "16:00 offline"),
        DAY_SHIFT,
        WHOLE_DAY,
        ("8:00", "7:50", "0:10", "1:00"),
        47 / 48,
    ),
    "staying past the end": case(
        tr("08:00 available", "16:45 offline"),
        DAY_SHIFT,
        WHOLE_DAY,
        ("8:00", "8:00", "0:00", "0:45"),
        1.0,
    ),
    "two shifts, logged in through the gap": case(
        tr("06:00 available", "18:00 offline"),
        shifts("06:00-10:00", "14:00-18:00"),
        WHOLE_DAY,
        ("8:00", "8:00", "0:00", "4:00"),
        1.0,
    ),
    "two shifts, logged out in the gap, a break in the second": case(
        tr(
            "06:00 available",
            "10:00 offline",
            "14:10 available",
            "16:00 away",
            "16:20 available",
            "18:00 offline",
        ),
        shifts("06:00-10:00", "14:00-18:00"),
        WHOLE_DAY,
        ("8:00", "7:30", "0:20", "0:00"),
        0.9375,
    ),
    "touching shifts count once each": case(
        tr("06:00 available", "14:00 offline"),
        shifts("06:00-10:00", "10:00-14:00"),
        WHOLE_DAY,
        ("8:00", "8:00", "0:00", "0:00"),
        1.0,
    ),
    "night shift, window is the evening before midnight": case(
        NIGHT_WORK,
        NIGHT,
        WHOLE_DAY,
        ("2:00", "2:00", "0:00", "0:05"),
        1.0,
    ),
    "night shift, window is the morning after midnight": case(
        NIGHT_WORK,
        NIGHT,
        (t("00:00+1"), t("00:00+2")),
        ("6:00", "5:30", "0:30", "0:00"),
        5.5 / 6,
    ),
    "night shift, both days": case(
        NIGHT_WORK,
        NIGHT,
        (t("00:00"), t("00:00+2")),
        ("8:00", "7:30", "0:30", "0:05"),
        0.9375,
    ),
    "window cuts the shift in the middle": case(
        tr("08:00 available", "16:00 offline"),
        DAY_SHIFT,
        (t("11:00"), t("13:30")),
        ("2:30", "2:30", "0:00", "0:00"),
        1.0,
    ),
    "window cut at now while away (the future has no duty)": case(
        tr("08:00 available", "11:30 away"),
        DAY_SHIFT,
        (t("00:00"), t("12:00")),
        ("4:00", "3:30", "0:30", "0:00"),
        0.875,
    ),
    "no shifts: all logged-in time is outside schedule": case(
        tr("09:00 available", "12:00 away", "13:00 available", "17:00 offline"),
        [],
        WHOLE_DAY,
        ("0:00", "0:00", "0:00", "8:00"),
        None,
    ),
    "no transitions: offline all along": case(
        [],
        DAY_SHIFT,
        WHOLE_DAY,
        ("8:00", "0:00", "0:00", "0:00"),
        0.0,
    ),
    "nothing at all": case([], [], WHOLE_DAY, ("0:00", "0:00", "0:00", "0:00"), None),
    "window entirely before everything": case(
        tr("08:00 available", "16:00 offline"),
        DAY_SHIFT,
        (t("00:00"), t("06:00")),
        ("0:00", "0:00", "0:00", "0:00"),
        None,
    ),
    "window entirely after everything, logged out": case(
        tr("08:00 available", "16:00 offline"),
        DAY_SHIFT,
        (t("18:00"), t("23:00")),
        ("0:00", "0:00", "0:00", "0:00"),
        None,
    ),
    "window entirely after everything, never logged out": case(
        tr("08:00 available", "15:00 away"),
        DAY_SHIFT,
        (t("18:00"), t("23:00")),
        ("0:00", "0:00", "0:00", "5:00"),
        None,
    ),
    "logged in before the window carries into it": case(
        tr("06:00 available", "16:00 offline"),
        DAY_SHIFT,
        (t("10:00"), t("20:00")),
        ("6:00", "6:00", "0:00", "0:00"),
        1.0,
    ),
    "hi == lo": case(
        tr("08:00 available", "16:00 offline"),
        DAY_SHIFT,
        (t("12:00"), t("12:00")),
        ("0:00", "0:00", "0:00", "0:00"),
        None,
    ),
    "hi < lo": case(
        tr("08:00 available", "16:00 offline"),
        DAY_SHIFT,
        (t("13:00"), t("12:00")),
        ("0:00", "0:00", "0:00", "0:00"),
        None,
    ),
    "transitions exactly at lo and at hi": case(
        tr("08:00 available", "16:00 offline"),
        DAY_SHIFT,
        (t("08:00"), t("16:00")),
        ("8:00", "8:00", "0:00", "0:00"),
        1.0,
    ),
    "login exactly at hi counts nothing": case(
        tr("16:00 available"),
        DAY_SHIFT,
        (t("08:00"), t("16:00")),
        ("8:00", "0:00", "0:00", "0:00"),
        0.0,
    ),
    "logout exactly at lo counts nothing": case(
        tr("07:00 available", "10:00 offline"),
        DAY_SHIFT,
        (t("10:00"), t("16:00")),
        ("6:00", "0:00", "0:00", "0:00"),
        0.0,
    ),
    "repeated same-state transitions change nothing": case(
        tr(
            "08:00 available",
            "09:00 available",
            "10:00 away",
            "10:30 away",
            "11:00 available",
            "16:00 offline",
            "17:00 offline",
        ),
        DAY_SHIFT,
        WHOLE_DAY,
        ("8:00", "7:00", "1:00", "0:00"),
        0.875,
    ),
    "two transitions at the same moment: the last one holds": case(
        tr("08:00 available", "08:00 away", "09:00 available", "16:00 offline"),
        DAY_SHIFT,
        WHOLE_DAY,
        ("8:00", "7:00", "1:00", "0:00"),
        0.875,
    ),
}

MS_CASES = {
    # Exact to the millisecond: one ms late, one ms of away, one ms past the end.
    "one ms late": (
        [(t("08:00") + 1, AVAILABLE), (t("16:00"), OFFLINE)],
        DAY_SHIFT,
        *WHOLE_DAY,
        (8 * HOUR, 8 * HOUR - 1, 0, 0),
    ),
    "one ms away at the end, one ms past it": (
        [(t("08:00"), AVAILABLE), (t("16:00") - 1, AWAY), (t("16:00") + 1, OFFLINE)],
        DAY_SHIFT,
        *WHOLE_DAY,
        (8 * HOUR, 8 * HOUR - 1, 1, 1),
    ),
    "window of one ms": (
        [(t("08:00"), AVAILABLE)],
        DAY_SHIFT,
        t("12:00"),
        t("12:00") + 1,
        (1, 1, 0, 0),
    ),
    "shift of one ms": (
        [(t("08:00"), AVAILABLE)],
        [(t("12:00"), t("12:00") + 1)],
        *WHOLE_DAY,
        (1, 1, 0, 16 * HOUR - 1),
    ),
}


@pytest.mark.parametrize("c", SPLIT_CASES.values(), ids=SPLIT_CASES.keys())
def test_split_time(c: Case) -> None:
    got = split_time(c.transitions, c.shifts, c.lo, c.hi)
    assert got == TimeSplit(*c.expected)
    assert got.utilization == c.utilization


@pytest.mark.parametrize(
    ("transitions", "shift_list", "lo", "hi", "expected"), MS_CASES.values(), ids=MS_CASES.keys()
)
def test_split_time_to_the_millisecond(transitions, shift_list, lo, hi, expected) -> None:
    assert split_time(transitions, shift_list, lo, hi) == TimeSplit(*expected)


def test_utilization_is_on_duty_over_scheduled_exactly() -> None:
    split = split_time([(t("08:00") + 1, AVAILABLE)], DAY_SHIFT, *WHOLE_DAY)
    assert split.utilization == (8 * HOUR - 1) / (8 * HOUR)
    assert split.utilization < 1.0


# -- state_spans -------------------------------------------------------------------------

SPAN_CASES = {
    "no transitions: offline across the window": (
        [],
        t("08:00"),
        t("12:00"),
        [("08:00", "12:00", OFFLINE)],
    ),
    "offline before the first transition": (
        tr("09:00 available", "10:00 away"),
        t("08:00"),
        t("12:00"),
        [("08:00", "09:00", OFFLINE), ("09:00", "10:00", AVAILABLE), ("10:00", "12:00", AWAY)],
    ),
    "transitions before lo set the starting state": (
        tr("06:00 available", "07:00 away"),
        t("08:00"),
        t("12:00"),
        [("08:00", "12:00", AWAY)],
    ),
    "a transition exactly at lo starts the window": (
        tr("08:00 available"),
        t("08:00"),
        t("12:00"),
        [("08:00", "12:00", AVAILABLE)],
    ),
    "a transition exactly at hi is outside the window": (
        tr("09:00 available", "12:00 offline"),
        t("08:00"),
        t("12:00"),
        [("08:00", "09:00", OFFLINE), ("09:00", "12:00", AVAILABLE)],
    ),
    "transitions after hi are ignored": (
        tr("09:00 available", "13:00 away", "14:00 offline"),
        t("08:00"),
        t("12:00"),
        [("08:00", "09:00", OFFLINE), ("09:00", "12:00", AVAILABLE)],
    ),
    "repeated same state: adjacent pieces, same state": (
        tr("09:00 available", "10:00 available", "11:00 away"),
        t("08:00"),
        t("12:00"),
        [
            ("08:00", "09:00", OFFLINE),
            ("09:00", "10:00", AVAILABLE),
            ("10:00", "11:00", AVAILABLE),
            ("11:00", "12:00", AWAY),
        ],
    ),
    "same-moment transitions: no empty piece, the last wins": (
        tr("09:00 available", "09:00 away", "09:00 available"),
        t("08:00"),
        t("12:00"),
        [("08:00", "09:00", OFFLINE), ("09:00", "12:00", AVAILABLE)],
    ),
    "empty window": (tr("09:00 available"), t("10:00"), t("10:00"), []),
    "backwards window": (tr("09:00 available"), t("11:00"), t("10:00"), []),
}


@pytest.mark.parametrize(
    ("transitions", "lo", "hi", "expected"), SPAN_CASES.values(), ids=SPAN_CASES.keys()
)
def test_state_spans(transitions, lo, hi, expected) -> None:
    want = [(t(a), t(b), state) for a, b, state in expected]
    assert list(state_spans(transitions, lo, hi)) == want


def assert_tiles(pieces: list[tuple[int, int, str]], lo: int, hi: int) -> None:
    """Pieces are non-empty, contiguous, and cover [lo, hi) exactly."""
    if hi <= lo:
        assert pieces == []
        return
    assert pieces[0][0] == lo
    assert pieces[-1][1] == hi
    for (_, end, _), (start, _, _) in zip(pieces, pieces[1:], strict=False):
        assert end == start
    assert all(start < end for start, end, _ in pieces)


@pytest.mark.parametrize("c", SPLIT_CASES.values(), ids=SPLIT_CASES.keys())
def test_state_spans_tile_every_table_window(c: Case) -> None:
    pieces = list(state_spans(c.transitions, c.lo, c.hi))
    assert_tiles(pieces, c.lo, c.hi)
    if c.hi > c.lo and all(at > c.lo for at, _ in c.transitions):
        assert pieces[0][2] == OFFLINE


# -- properties --------------------------------------------------------------------------

SPAN_MAX = 400  # small ms range so the brute-force reference below stays cheap

times = st.integers(0, SPAN_MAX)
transitions_st = st.lists(
    st.tuples(times, st.sampled_from([OFFLINE, AVAILABLE, AWAY])), max_size=12
).map(sorted)


@st.composite
def shifts_st(draw: st.DrawFn) -> list[Span]:
    """Sorted, non-overlapping, non-empty shifts (touching allowed, as the roster allows)."""
    points = sorted(draw(st.lists(times, max_size=10)))
    pairs = zip(points[::2], points[1::2], strict=False)
    return [(s, e) for s, e in pairs if s < e]


@st.composite
def window_st(draw: st.DrawFn) -> tuple[int, int, int]:
    """lo <= m <= hi, reaching a little outside the range of the data."""
    lo, m, hi = sorted(draw(st.lists(st.integers(-20, SPAN_MAX + 20), min_size=3, max_size=3)))
    return lo, m, hi


def brute_force(transitions: list[Transition], shift_list: list[Span], lo: int, hi: int):
    """Walk the window one millisecond at a time: the definition, not the algorithm."""
    sched = on = away = outside = logged_in = 0
    for x in range(lo, hi):
        state = OFFLINE
        for at, new in transitions:
            if at <= x:
                state = new
        inside = any(s <= x < e for s, e in shift_list)
        sched += inside
        if state == OFFLINE:
            continue
        logged_in += 1
        if not inside:
            outside += 1
        elif state == AVAILABLE:
            on += 1
        else:
            away += 1
    return TimeSplit(sched, on, away, outside), logged_in


@settings(max_examples=300, deadline=None)
@given(transitions_st, shifts_st(), window_st())
def test_split_time_properties(transitions, shift_list, window) -> None:
    lo, m, hi = window
    whole = split_time(transitions, shift_list, lo, hi)
    reference, logged_in = brute_force(transitions, shift_list, lo, hi)
    assert whole == reference
    assert whole.on_duty_ms + whole.away_ms + whole.outside_schedule_ms == logged_in
    assert whole.on_duty_ms + whole.away_ms <= whole.scheduled_ms
    assert min(whole.scheduled_ms, whole.on_duty_ms, whole.away_ms, whole.outside_schedule_ms) >= 0
    if whole.utilization is not None:
        assert 0.0 <= whole.utilization <= 1.0
    # Additivity: [lo, m) + [m, hi) == [lo, hi), field by field.
    left = split_time(transitions, shift_list, lo, m)
    right = split_time(transitions, shift_list, m, hi)
    assert left.scheduled_ms + right.scheduled_ms == whole.scheduled_ms
    assert left.on_duty_ms + right.on_duty_ms == whole.on_duty_ms
    assert left.away_ms + right.away_ms == whole.away_ms
    assert left.outside_schedule_ms + right.outside_schedule_ms == whole.outside_schedule_ms
    assert_tiles(list(state_spans(transitions, lo, hi)), lo, hi)


# -- cost follows the window, not the history ----------------------------------------------


class Counted(list):  # type: ignore[type-arg]
    """A list that counts the items read from it (by index or by iteration)."""

    reads = 0

    def __getitem__(self, i):  # type: ignore[no-untyped-def]
        got = super().__getitem__(i)
        Counted.reads += len(got) if isinstance(i, slice) else 1
        return got

    def __iter__(self):  # type: ignore[no-untyped-def]
        for x in super().__iter__():
            Counted.reads += 1
            yield x


def years(days: int) -> tuple[list[Transition], list[Span]]:
    """An agent's history: a day shift every day, two breaks in each."""
    a_day = tr(
        "07:55 available", "10:00 away", "10:15 available", "13:00 away", "13:30 available",
        "16:05 offline",
    )  # fmt: skip
    out = [(at + d * DAY, s) for d in range(days) for at, s in a_day]
    return out, [(t("08:00") + d * DAY, t("16:00") + d * DAY) for d in range(days)]


@pytest.mark.parametrize(("days", "day"), [(30, 29), (3 * 365, 3 * 365 - 1), (3 * 365, 10)])
def test_a_days_window_reads_that_day_whatever_came_before(days: int, day: int) -> None:
    """A day's utilization (today's, or one long past) after years of history reads that
    day's transitions and shift (and a bisection's worth), and answers what it answers
    with no history around it."""
    history, shift_list = years(days)
    lo, hi = t("00:00") + day * DAY, t("00:00+1") + day * DAY
    Counted.reads = 0
    got = split_time(Counted(history), Counted(shift_list), lo, hi)
    alone = split_time(history[6 * day : 6 * day + 6], shift_list[day : day + 1], lo, hi)
    assert got == alone
    assert got == TimeSplit(8 * HOUR, 7 * HOUR + 15 * MIN, 45 * MIN, 10 * MIN)
    # The window (6 transitions, 1 shift), two bisections into each list; walking from
    # the first transition and shift read 7 * days items.
    assert Counted.reads <= 10 + 2 * ((6 * days).bit_length() + days.bit_length()), Counted.reads
