"""Response time as a KPI (issue 14, item E): assignment to first response, per agent.

The same first responses feed utilization (any window), payroll rows (a month), the
two-month warnings (the slowest are the bottom) and the weekly contest (the fastest win).
"""

from __future__ import annotations

from engine.payroll.contests import contest, warnings
from engine.payroll.report import payroll_report, utilization_report
from presence.timeutil import parse_time

SEC = 1000
NOV = parse_time("2026-11-02T00:00:00Z")  # a Monday, W45 (Asia/Shanghai: 08:00 local)


async def answered(center, order_id: str, after_s: int) -> None:
    """Submit an order, answer it `after_s` seconds later, then complete it."""
    await center.order(order_id)
    center.clock.advance(after_s * SEC)
    await center.responded(order_id)
    await center.complete(order_id)


async def day_of_responses(center, fast_s: list[int], slow_s: list[int]) -> None:
    for i, (f, s) in enumerate(zip(fast_s, slow_s, strict=True)):
        await center.login("fast")
        await center.logout("slow")
        await answered(center, f"{center.state.now}-f{i}", f)
        await center.login("slow")
        await center.logout("fast")
        await answered(center, f"{center.state.now}-s{i}", s)


async def test_utilization_payroll_warnings_and_contests_read_the_same_responses(make_center):
    from engine import commands as cmd

    center = make_center(start=NOV - 31 * 24 * 3600 * SEC)  # October 2
    await center.run(cmd.SetPayrollScheme("2026-10", "CNY", [], [100]))
    await center.agent("fast", capacity=1)
    await center.agent("slow", capacity=1)
    await day_of_responses(center, [10, 20], [100, 300])  # October
    await center.goto(NOV)
    lo = center.state.now
    await day_of_responses(center, [4, 8], [60, 90])  # November, week 45
    hi = center.state.now + 1

    util = utilization_report(center.state, lo, hi, center.state.now)
    rows = {r.agent_id: r for r in util.agents}
    assert (rows["fast"].first_responses, rows["fast"].avg_first_response_s) == (2, 6.0)
    assert (rows["slow"].first_responses, rows["slow"].avg_first_response_s) == (2, 75.0)
    assert (util.totals.first_responses, util.totals.avg_first_response_s) == (4, 40.5)
    part = utilization_report(center.state, lo, lo + 5 * SEC, center.state.now)
    assert [r.first_responses for r in part.agents] == [1, 0]  # a window cuts by the second

    pay = {r.agent_id: r for r in payroll_report(center.state, "2026-11", center.state.now).agents}
    assert pay["fast"].avg_first_response_s == 6.0 and pay["slow"].avg_first_response_s == 75.0
    october = payroll_report(center.state, "2026-10", center.state.now)
    assert [r.avg_first_response_s for r in october.agents] == [15.0, 200.0]

    flagged = warnings(center.state, "2026-11", 1, center.state.now).warnings
    kpi = [w for w in flagged if w.kpi == "avg_first_response_s"]
    assert [(w.agent_id, w.this_month, w.previous_month) for w in kpi] == [("slow", 75.0, 200.0)]

    week = contest(center.state, "2026-W45", (3, 2, 1), center.state.now)
    assert [(p.id, p.value, p.place, p.points) for p in week.individual_first_response] == [
        ("fast", 6.0, 1, 3),
        ("slow", 75.0, 2, 2),
    ]


async def test_not_responding_time_is_not_on_duty(center):
    await center.lifecycle(timeout_s=60)
    await center.agent("a1", capacity=1)
    await center.shifts(("a1", center.at("00:00"), center.at("02:00")))
    await center.login("a1")
    await center.order("o1")
    await center.goto(center.at("00:01"))  # timed out: not responding from 00:01
    await center.goto(center.at("00:31"))
    await center.available("a1")
    await center.goto(center.at("01:00"))
    row = utilization_report(center.state, center.at("00:00"), center.at("01:00"),
                             center.state.now).agents[0]  # fmt: skip
    assert (row.on_duty_s, row.not_responding_s, row.outside_schedule_s) == (1800, 1800, 0)


async def test_a_timezone_change_keeps_the_response_kpi(center):
    await center.agent("a1", capacity=1)
    await center.login("a1")
    await answered(center, "o1", 30)
    before = payroll_report_or_none(center)
    await center.settings(tz="UTC")
    after = payroll_report_or_none(center)
    assert before == after == (1, 30.0)
    assert center.state.tallies.responses_between("a1", 0, center.state.now + 1) == (1, 30_000)


def payroll_report_or_none(center) -> tuple[int, float | None]:
    rows = utilization_report(center.state, 0, center.state.now + 1, center.state.now).agents
    return rows[0].first_responses, rows[0].avg_first_response_s
