"""Utilization and the monthly payroll through the real engine (replay == live is checked
by `Center` after every command, so tallies and schemes survive a restart exactly).

The center is in Asia/Shanghai (UTC+8): local midnight is 16:00Z the day before.
"""

from __future__ import annotations

import pytest

from engine import commands as cmd
from engine.errors import Conflict, Invalid, NotFound
from engine.payroll.report import payroll_report, utilization_report
from presence.timeutil import parse_time

H = 3600


def t(text: str) -> int:
    return parse_time(text)


async def _floor_day(center) -> None:  # type: ignore[no-untyped-def]
    """One day, 2026-11-23 (UTC times); see the tests for what each agent does."""
    await center.agent("a1", team="t1")
    await center.agent("a2", team="t1")
    await center.agent("b1", team="t2")
    await center.shifts(
        ("a1", t("2026-11-23T01:00:00Z"), t("2026-11-23T09:00:00Z")),
        ("b1", t("2026-11-23T01:00:00Z"), t("2026-11-23T09:00:00Z")),
        # Crosses local midnight (16:00Z).
        ("a2", t("2026-11-23T12:00:00Z"), t("2026-11-23T20:00:00Z")),
    )
    await center.goto(t("2026-11-23T01:00:00Z"))
    await center.login("b1")
    await center.goto(t("2026-11-23T01:15:00.500Z"))  # a1 logs in late, half a second in
    await center.login("a1")
    await center.goto(t("2026-11-23T02:00:00Z"))
    assert (await center.logout("b1")).status == 202  # held: shift in progress
    await center.goto(t("2026-11-23T02:05:00Z"))
    await center.deny("lr-1")
    await center.goto(t("2026-11-23T03:00:00Z"))
    await center.away("a1")
    await center.goto(t("2026-11-23T03:30:00Z"))
    await center.available("a1")
    await center.goto(t("2026-11-23T05:00:00Z"))
    await center.force("b1")
    await center.goto(t("2026-11-23T08:30:00Z"))
    assert (await center.logout("a1")).status == 202
    await center.goto(t("2026-11-23T08:40:00Z"))
    await center.approve("lr-2")  # an approved early logout
    await center.goto(t("2026-11-23T11:50:00Z"))
    await center.login("a2")  # ten minutes before its shift
    await center.goto(t("2026-11-23T19:55:00Z"))
    assert (await center.logout("a2")).status == 200  # inside the grace window
    await center.goto(t("2026-11-25T00:00:00Z"))


def rows(report) -> dict[str, dict[str, object]]:  # type: ignore[no-untyped-def]
    return {
        r.agent_id: {
            "scheduled_s": r.scheduled_s, "on_duty_s": r.on_duty_s, "away_s": r.away_s,
            "outside_schedule_s": r.outside_schedule_s, "utilization": r.utilization,
            "logouts": (r.logout_requests, r.logout_denials, r.logout_approvals,
                        r.forced_logouts),
        }
        for r in report.agents
    }  # fmt: skip


async def test_utilization_of_a_day_to_the_second(center) -> None:  # type: ignore[no-untyped-def]
    await _floor_day(center)
    # The local day of the 23rd: 2026-11-22T16:00Z .. 2026-11-23T16:00Z.
    day = utilization_report(
        center.state, t("2026-11-22T16:00:00Z"), t("2026-11-23T16:00:00Z"), center.state.now
    )
    a1_duty = 8 * H - 15 * 60 - 0.5 - 30 * 60 - 20 * 60  # late, away, left 20 min early
    assert rows(day) == {
        "a1": {"scheduled_s": 8 * H, "on_duty_s": a1_duty, "away_s": 1800,
               "outside_schedule_s": 0, "utilization": a1_duty / (8 * H),
               "logouts": (1, 0, 1, 0)},
        # The shift crosses local midnight: only its first 4 h belong to the 23rd.
        "a2": {"scheduled_s": 4 * H, "on_duty_s": 4 * H, "away_s": 0,
               "outside_schedule_s": 600, "utilization": 1.0, "logouts": (0, 0, 0, 0)},
        "b1": {"scheduled_s": 8 * H, "on_duty_s": 4 * H, "away_s": 0,
               "outside_schedule_s": 0, "utilization": 0.5, "logouts": (1, 1, 0, 1)},
    }  # fmt: skip
    teams = {s.team: s for s in day.teams}
    assert teams["t1"].scheduled_s == 12 * H and teams["t1"].agents == 2
    assert teams["t1"].utilization == (a1_duty + 4 * H) / (12 * H)
    assert teams["t2"].forced_logouts == 1 and teams["t2"].logout_denials == 1
    assert day.totals.scheduled_s == 20 * H and day.totals.away_s == 1800
    assert day.totals.utilization == (a1_duty + 8 * H) / (20 * H)

    # The next local day holds the rest of a2's shift: 16:00Z .. 19:55Z of 20:00Z.
    nxt = utilization_report(
        center.state,
        t("2026-11-23T16:00:00Z"),
        t("2026-11-24T16:00:00Z"),
        center.state.now,
        agent_id="a2",
    )
    assert rows(nxt)["a2"]["scheduled_s"] == 4 * H
    assert rows(nxt)["a2"]["on_duty_s"] == 4 * H - 300
    assert rows(nxt)["a2"]["utilization"] == (4 * H - 300) / (4 * H)


WINDOWS = {
    # (from, to, agent, scheduled, on duty, away)
    "inside a1's break": ("03:10", "03:20", "a1", 600, 0, 600),
    "across the end of the break": ("03:25", "03:35", "a1", 600, 300, 300),
    "across the late login": ("01:00", "01:30", "a1", 1800, 14 * 60 + 59.5, 0),
    "after a1's early logout, still its shift": ("08:40", "09:00", "a1", 1200, 0, 0),
    "a2 before its shift, logged in": ("11:50", "12:00", "a2", 0, 0, 0),
    "across UTC midnight, nothing scheduled": ("23:00", "25:00", "a2", 0, 0, 0),
}


@pytest.mark.parametrize(
    ("lo", "hi", "who", "sched", "duty", "away"), WINDOWS.values(), ids=WINDOWS.keys()
)
async def test_windows_that_cut_shifts(center, lo, hi, who, sched, duty, away) -> None:  # type: ignore[no-untyped-def]
    await _floor_day(center)

    def when(hhmm: str) -> int:
        h, m = (int(x) for x in hhmm.split(":"))
        return t("2026-11-23T00:00:00Z") + (h * 60 + m) * 60_000

    report = utilization_report(center.state, when(lo), when(hi), center.state.now, agent_id=who)
    (row,) = report.agents
    assert (row.scheduled_s, row.on_duty_s, row.away_s) == (sched, duty, away)
    assert row.utilization == (None if sched == 0 else duty / sched)


async def test_the_future_is_not_on_duty(center) -> None:  # type: ignore[no-untyped-def]
    await center.agent("a1")
    await center.shifts(("a1", t("2026-11-23T01:00:00Z"), t("2026-11-23T09:00:00Z")))
    await center.goto(t("2026-11-23T01:00:00Z"))
    await center.login("a1")
    await center.goto(t("2026-11-23T03:00:00Z"))
    report = utilization_report(
        center.state, t("2026-11-23T00:00:00Z"), t("2026-11-24T00:00:00Z"), center.state.now
    )
    assert (report.agents[0].scheduled_s, report.agents[0].on_duty_s) == (2 * H, 2 * H)


async def test_unknown_agent_and_team_filter(center) -> None:  # type: ignore[no-untyped-def]
    await center.agent("a1", team="t1")
    await center.agent("b1", team="t2")
    with pytest.raises(NotFound, match="agent 'zz' does not exist"):
        utilization_report(center.state, 0, 1, 1, agent_id="zz")
    only = utilization_report(center.state, 0, 1, 1, team="t2")
    assert [r.agent_id for r in only.agents] == ["b1"]
    assert utilization_report(center.state, 0, 1, 1, team="nobody").agents == []


# -- the month ---------------------------------------------------------------------------------


async def _month(center) -> None:  # type: ignore[no-untyped-def]
    """a1 completes 5 orders in November (local), 1 on December 1st 01:00 local."""
    await center.agent("a1", capacity=10)
    await center.agent("a2", capacity=10)
    await center.run(cmd.SetPayrollScheme("2026-11", "CNY", [2, 4], [100, 120, 140]))
    await center.run(cmd.SetPayrollScheme("2026-12", "CNY", [10], [200, 300]))
    await center.shifts(("a1", t("2026-11-30T10:00:00Z"), t("2026-11-30T18:00:00Z")))
    await center.goto(t("2026-11-30T10:00:00Z"))
    await center.login("a1")
    for i in range(6):
        await center.order(f"o{i}")
    for i in range(4):
        await center.complete(f"o{i}")
    await center.goto(t("2026-11-30T15:59:59Z"))  # 23:59:59 on November 30th, local
    await center.complete("o4")
    await center.goto(t("2026-11-30T17:00:00Z"))  # 01:00 on December 1st, local
    await center.complete("o5")
    await center.run(cmd.RecordQa("o0", True, "sup"))
    await center.run(cmd.RecordQa("o1", False, "sup"))
    await center.run(cmd.RecordQa("o1", True, "sup"))  # replaces the failed result
    await center.run(cmd.RecordQa("o2", False, "sup"))
    await center.run(cmd.RecordQa("o5", True, "sup"))  # December's work


async def test_november_payroll_by_hand(center) -> None:  # type: ignore[no-untyped-def]
    await _month(center)
    nov = payroll_report(center.state, "2026-11", center.state.now)
    a1, a2 = nov.agents
    assert (nov.month, nov.from_, nov.to) == (
        "2026-11",
        "2026-10-31T16:00:00Z",
        "2026-11-30T16:00:00Z",
    )
    assert a1.completed == 5
    # 2 at 100, 2 at 120, 1 at 140.
    assert [(x.from_, x.to, x.count, x.rate_cents, x.amount_cents) for x in a1.tiers] == [
        (1, 2, 2, 100, 200),
        (3, 4, 2, 120, 240),
        (5, None, 1, 140, 140),
    ]
    assert a1.payout_cents == 580
    assert (a1.qa_checked, a1.qa_passed, a1.accuracy) == (3, 2, 2 / 3)
    # Scheduled 10:00Z..16:00Z of the shift fall in November; on duty all that time.
    assert (a1.scheduled_s, a1.on_duty_s, a1.utilization) == (6 * H, 6 * H, 1.0)
    assert (a2.completed, a2.payout_cents, a2.utilization, a2.accuracy) == (0, 0, None, None)
    assert nov.totals.payout_cents == 580 and nov.totals.completed == 5
    assert [x.count for x in nov.totals.tiers] == [2, 2, 1]
    assert nov.scheme.thresholds == [2, 4]

    dec = payroll_report(center.state, "2026-12", center.state.now)
    assert dec.agents[0].completed == 1 and dec.agents[0].payout_cents == 200
    assert (dec.agents[0].qa_checked, dec.agents[0].qa_passed) == (1, 1)
    # A later month without its own version uses the latest one before it.
    assert payroll_report(center.state, "2027-03", center.state.now).scheme.effective_from == (
        "2026-12"
    )
    with pytest.raises(Conflict, match="no payroll scheme is in force in 2026-10") as exc:
        payroll_report(center.state, "2026-10", center.state.now)
    assert exc.value.code == "no_payroll_scheme"
    with pytest.raises(Invalid, match="month '2026-13' is not a month like '2026-11'"):
        payroll_report(center.state, "2026-13", center.state.now)


async def test_a_timezone_change_rebuckets_the_tallies(center) -> None:  # type: ignore[no-untyped-def]
    await _month(center)
    await center.settings(tz="UTC")  # 17:00Z on Nov 30th is November in UTC
    nov = payroll_report(center.state, "2026-11", center.state.now)
    assert nov.agents[0].completed == 6 and nov.agents[0].qa_checked == 4
    assert nov.from_ == "2026-11-01T00:00:00Z"
    await center.settings(tz="Asia/Shanghai")
    assert payroll_report(center.state, "2026-11", center.state.now).agents[0].completed == 5


async def test_scheme_versions_replace_and_refuse(center) -> None:  # type: ignore[no-untyped-def]
    first = await center.run(cmd.SetPayrollScheme("2026-11", "CNY", [2000, 2500], [1, 2, 3]))
    assert first.status == 201
    again = await center.run(cmd.SetPayrollScheme("2026-11", "CNY", [2000, 2500], [1, 2, 4]))
    assert again.status == 200 and again.body.rates_cents == [1, 2, 4]
    assert center.state.schemes["2026-11"].rates_cents == (1, 2, 4)


BAD = {
    "negative rate": (("2026-11", "CNY", [10], [100, -1]), "rates_cents[1]",
                      "rates_cents[1] -1 must be a whole number of cents 0..100000000"),
    "falling thresholds": (("2026-11", "CNY", [10, 5], [1, 2, 3]), "thresholds[1]",
                           "thresholds[1] 5 must be above thresholds[0] 10: thresholds rise"),
    "equal thresholds": (("2026-11", "CNY", [10, 10], [1, 2, 3]), "thresholds[1]",
                         "thresholds[1] 10 must be above thresholds[0] 10: thresholds rise"),
    "rate count": (("2026-11", "CNY", [10, 20], [1, 2]), "rates_cents",
                   "rates_cents has 2 rates; 2 thresholds need 3 (one per band)"),
    "zero threshold": (("2026-11", "CNY", [0], [1, 2]), "thresholds[0]",
                       "thresholds[0] 0 must be a whole number of orders 1..1000000000"),
    "bad month": (("2026-00", "CNY", [], [1]), "effective_from",
                  "effective_from '2026-00' is not a month like '2026-11'"),
    "bad currency": (("2026-11", "yuan", [], [1]), "currency",
                     "currency 'yuan' is not an ISO 4217 code like 'CNY'"),
}  # fmt: skip


@pytest.mark.parametrize(("args", "field", "message"), BAD.values(), ids=BAD.keys())
async def test_bad_schemes_are_422_naming_the_field(center, args, field, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(Invalid) as exc:
        await center.run(cmd.SetPayrollScheme(*args))
    assert (exc.value.field, exc.value.message) == (field, message)
    assert center.state.schemes == {}
