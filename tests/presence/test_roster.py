"""The roster: shift validation, the shift in progress, and handover windows."""

from __future__ import annotations

import pytest

from engine.errors import Invalid
from engine.events import ShiftSpec
from presence.roster import Roster
from presence.timeutil import parse_time

MIN = 60_000
DAY = 24 * 60 * MIN
D0 = parse_time("2026-11-23T00:00:00Z")


def t(hhmm: str, day: int = 0) -> int:
    h, mm = hhmm.split(":")
    return D0 + day * DAY + (int(h) * 60 + int(mm)) * MIN


def roster(*shifts: tuple[str, int, int]) -> Roster:
    r = Roster()
    r.add(ShiftSpec(*s) for s in shifts)
    return r


def test_overlap_with_an_existing_shift_names_both_shifts():
    r = roster(("a1", t("08:00"), t("16:00")))
    with pytest.raises(Invalid) as err:
        r.check_new([ShiftSpec("a1", t("15:00"), t("23:00"))])
    assert (err.value.status, err.value.code) == (422, "shift_overlap")
    assert err.value.detail == {"field": "shifts[0]"}
    assert err.value.message == (
        "shift 2026-11-23T15:00:00Z..2026-11-23T23:00:00Z of agent 'a1' overlaps its shift "
        "2026-11-23T08:00:00Z..2026-11-23T16:00:00Z"
    )


def test_overlap_inside_one_batch_names_the_later_entry():
    with pytest.raises(Invalid) as err:
        Roster().check_new(
            [
                ShiftSpec("a1", t("08:00"), t("16:00")),
                ShiftSpec("a2", t("08:00"), t("16:00")),
                ShiftSpec("a1", t("10:00"), t("11:00")),
            ]
        )
    assert err.value.code == "shift_overlap"
    assert err.value.detail == {"field": "shifts[2]"}


@pytest.mark.parametrize(
    "new",
    [
        pytest.param(ShiftSpec("a2", t("08:00"), t("16:00")), id="other-agent-same-hours"),
        pytest.param(ShiftSpec("a1", t("16:00"), t("23:59")), id="back-to-back-after"),
        pytest.param(ShiftSpec("a1", t("00:00"), t("08:00")), id="back-to-back-before"),
        pytest.param(ShiftSpec("a1", t("22:00"), t("06:00", 1)), id="across-midnight"),
    ],
)
def test_no_conflict(new):
    r = roster(("a1", t("08:00"), t("16:00")))
    r.check_new([new])  # does not raise
    r.add([new])
    assert len(r.of(new.agent_id)) == (2 if new.agent_id == "a1" else 1)


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        pytest.param(
            t("16:00"),
            t("08:00"),
            "shift of agent 'a1' does not end after it starts",
            id="end-before-start",
        ),
        pytest.param(
            t("08:00"), t("08:00"), "shift of agent 'a1' does not end after it starts", id="empty"
        ),
        pytest.param(
            t("08:00"),
            t("08:00", 1) + 1,
            "shift of agent 'a1' is longer than 24 hours",
            id="over-24h",
        ),
    ],
)
def test_malformed_shift(start, end, message):
    with pytest.raises(Invalid) as err:
        Roster().check_new([ShiftSpec("a1", start, end)])
    assert err.value.detail == {"field": "shifts[0].end"}
    assert err.value.message == message


def test_exactly_24_hours_is_allowed():
    Roster().check_new([ShiftSpec("a1", t("08:00"), t("08:00", 1))])


NIGHT = ("a1", t("22:00"), t("06:00", 1))
DAYSHIFT = ("a1", t("08:00"), t("16:00"))


@pytest.mark.parametrize(
    ("shifts", "now", "expected"),
    [
        pytest.param([], t("12:00"), None, id="no-shifts"),
        pytest.param([DAYSHIFT], t("07:59"), None, id="before"),
        pytest.param([DAYSHIFT], t("08:00"), DAYSHIFT[1:], id="at-start"),
        pytest.param([DAYSHIFT], t("15:59"), DAYSHIFT[1:], id="inside"),
        pytest.param([DAYSHIFT], t("16:00"), None, id="at-end"),
        pytest.param([DAYSHIFT, NIGHT], t("20:00"), None, id="between"),
        pytest.param([DAYSHIFT, NIGHT], t("01:00", 1), NIGHT[1:], id="across-midnight"),
    ],
)
def test_in_progress(shifts, now, expected):
    assert roster(*shifts).in_progress("a1", now) == expected


W = 5 * MIN  # stop_new_before_end_s = 300


@pytest.mark.parametrize(
    ("shifts", "now", "expected"),
    [
        pytest.param([], t("12:00"), (False, None, None), id="no-shifts"),
        pytest.param([DAYSHIFT], t("07:00"), (False, None, t("08:00")), id="before-first-shift"),
        pytest.param([DAYSHIFT], t("12:00"), (False, t("16:00"), t("15:55")), id="before-window"),
        pytest.param([DAYSHIFT], t("15:55"), (True, t("16:00"), None), id="window-starts"),
        pytest.param([DAYSHIFT], t("15:58"), (True, t("16:00"), None), id="inside-window"),
        pytest.param([DAYSHIFT], t("18:00"), (True, t("16:00"), None), id="past-end-no-next-shift"),
        pytest.param(
            [DAYSHIFT, NIGHT], t("15:57"), (True, t("16:00"), t("22:00")), id="window-until-next"
        ),
        pytest.param(
            [DAYSHIFT, NIGHT], t("20:00"), (True, t("16:00"), t("22:00")), id="between-shifts"
        ),
        pytest.param(
            [DAYSHIFT, NIGHT],
            t("22:00"),
            (False, t("06:00", 1), t("05:55", 1)),
            id="next-shift-started",
        ),
        pytest.param(
            [DAYSHIFT, NIGHT],
            t("05:56", 1),
            (True, t("06:00", 1), None),
            id="night-window-next-day",
        ),
        pytest.param(
            [("a1", t("08:00"), t("08:03"))],
            t("08:01"),
            (True, t("08:03"), None),
            id="shift-shorter-than-window",
        ),
    ],
)
def test_handover(shifts, now, expected):
    assert roster(*shifts).handover("a1", now, W) == expected


def test_handover_with_zero_window_starts_at_the_end():
    r = roster(DAYSHIFT)
    assert r.handover("a1", t("15:59"), 0) == (False, t("16:00"), t("16:00"))
    assert r.handover("a1", t("16:00"), 0) == (True, t("16:00"), None)


def test_between_lists_intersecting_shifts_by_agent_then_start():
    r = roster(NIGHT, DAYSHIFT, ("a0", t("09:00"), t("10:00")), ("a2", t("20:00"), t("21:00")))
    assert r.between(None, t("09:30"), t("23:00")) == [
        ("a0", t("09:00"), t("10:00")),
        ("a1", DAYSHIFT[1], DAYSHIFT[2]),
        ("a1", NIGHT[1], NIGHT[2]),
        ("a2", t("20:00"), t("21:00")),
    ]
    assert r.between("a1", t("16:00"), t("22:00")) == []
