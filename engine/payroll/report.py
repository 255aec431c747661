"""The reports themselves: utilization over any window, and the monthly payroll.

Both only read state. The monthly payroll takes each agent's completed count from
the tallies (a month is its local calendar days, setting `timezone`), pays it
through the kernel over all agents at once, and adds the month's time accounting
and QA from the same state, so the live engine and a replayed journal agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import msgspec
import numpy as np

from engine.calendar import month_text, next_month, parse_month, window
from engine.errors import Conflict, NotFound
from engine.history import check_window
from engine.payroll.closing import LATE_QA, first_open_after
from engine.payroll.kernel import tier_counts
from engine.payroll.scheme import Scheme, scheme_for
from engine.payroll.timesheet import AgentTime, agent_times, by_team, time_row, time_sum
from engine.payroll.views import (
    Adjustment,
    PayrollReport,
    PayrollRow,
    PayrollTotals,
    TierView,
    UtilizationReport,
    avg_seconds,
    ratio,
    scheme_view,
    seconds,
)
from engine.state import State
from presence.agent import Agent
from presence.timeutil import format_time


def select_agents(state: State, agent_id: str | None, team: str | None) -> list[Agent]:
    """Agents by id; one (404 if unknown) or one team's (none if nobody is in it)."""
    if agent_id is not None:
        agent = state.agents.get(agent_id)
        if agent is None:
            raise NotFound(f"agent {agent_id!r} does not exist", code="agent_not_found")
        chosen = [agent] if team is None or agent.team == team else []
    else:
        chosen = [a for a in state.agents.values() if team is None or a.team == team]
    return sorted(chosen, key=lambda a: a.id)


def utilization_report(
    state: State, lo: int, hi: int, now: int, agent_id: str | None = None, team: str | None = None
) -> UtilizationReport:
    check_window(state, lo, hi)
    times = agent_times(state, select_agents(state, agent_id, team), lo, hi, now)
    return UtilizationReport(
        format_time(lo), format_time(hi), state.settings.timezone,
        [time_row(t) for t in times], by_team(times), time_sum(None, times),
    )  # fmt: skip


# -- the month -------------------------------------------------------------------------------


@dataclass(slots=True)
class Month:
    """A calendar month of the center: its text, window (epoch ms) and day ordinals."""

    text: str
    lo: int
    hi: int
    first_day: int
    end_day: int


def month_of(state: State, text: str, field: str = "month") -> Month:
    return month_span(state, parse_month(text, field))


def month_span(state: State, first: date) -> Month:
    """The month that starts on `first`, also one before the months taken from outside (the
    month before 1970-01 for its warnings: nothing is recorded in it)."""
    end = next_month(first)
    lo, hi = window(first, end, state.settings.timezone)
    return Month(month_text(first), lo, hi, first.toordinal(), end.toordinal())


def scheme_in_force(state: State, month: str) -> Scheme:
    scheme = scheme_for(state.schemes, month)
    if scheme is None:
        raise Conflict(
            f"no payroll scheme is in force in {month}; PUT /v1/payroll/scheme with an "
            f"effective_from of {month} or earlier first",
            code="no_payroll_scheme",
        )
    return scheme


def _tiers(scheme: Scheme, counts: list[int]) -> list[TierView]:
    return [
        TierView(lo, hi, n, rate, n * rate)
        for (lo, hi, rate), n in zip(scheme.bands(), counts, strict=True)
    ]


def _row(
    t: AgentTime,
    tally: tuple[int, int, int],
    responses: tuple[int, int],
    tiers: list[TierView],
    pay: int,
) -> PayrollRow:
    a, s = t.agent, t.split
    completed, checked, passed = tally
    return PayrollRow(
        a.id, a.name, a.team, completed, tiers, pay,
        seconds(s.scheduled_ms), seconds(s.on_duty_ms), s.utilization,
        checked, passed, ratio(passed, checked), t.logouts[0], t.logouts[3],
        responses[0], avg_seconds(responses[1], responses[0]),
    )  # fmt: skip


def _totals(
    scheme: Scheme,
    rows: list[PayrollRow],
    times: list[AgentTime],
    bands: np.ndarray,
    responses: list[tuple[int, int]],
) -> PayrollTotals:
    sched = sum(t.split.scheduled_ms for t in times)
    duty = sum(t.split.on_duty_ms for t in times)
    checked = sum(r.qa_checked for r in rows)
    passed = sum(r.qa_passed for r in rows)
    n_responses = sum(n for n, _ in responses)
    return PayrollTotals(
        len(rows), sum(r.completed for r in rows),
        _tiers(scheme, [int(n) for n in bands.sum(axis=0)]) if len(rows) else _tiers(
            scheme, [0] * len(scheme.rates_cents)),
        sum(r.payout_cents for r in rows), seconds(sched), seconds(duty), ratio(duty, sched),
        checked, passed, ratio(passed, checked),
        sum(r.logout_requests for r in rows), sum(r.forced_logouts for r in rows),
        n_responses, avg_seconds(sum(ms for _, ms in responses), n_responses),
    )  # fmt: skip


_frozen = msgspec.json.Decoder(PayrollReport)


def payroll_report(state: State, month_text_: str, now: int) -> PayrollReport:
    """Every agent's month: completed, pay per band, time on duty, QA, logouts; totals.

    A closed month answers its frozen report; an open one carries the adjustments of
    closed months before it that it is the first open month after.
    """
    month = month_of(state, month_text_)
    closed = state.closed_months.get(month.text)
    if closed is not None:
        return _frozen.decode(closed.report)
    scheme = scheme_in_force(state, month.text)
    agents = sorted(state.agents.values(), key=lambda a: a.id)
    tallies = [state.tallies.sums(a.id, month.first_day, month.end_day) for a in agents]
    responses = [state.tallies.responses(a.id, month.first_day, month.end_day) for a in agents]
    counts = np.fromiter((t[0] for t in tallies), dtype=np.int64, count=len(tallies))
    bands, payouts = tier_counts(counts, scheme.thresholds, scheme.rates_cents)
    times = agent_times(state, agents, month.lo, month.hi, now)
    band_rows = bands.tolist()
    pays = payouts.tolist()
    rows = [
        _row(t, tally, responses[i], _tiers(scheme, band_rows[i]), pays[i])
        for i, (t, tally) in enumerate(zip(times, tallies, strict=True))
    ]
    if state.late:
        _carry(state, month.text, rows)
    return PayrollReport(
        month.text, state.settings.timezone, format_time(month.lo), format_time(month.hi),
        scheme_view(scheme), rows, _totals(scheme, rows, times, bands, responses),
    )  # fmt: skip


def _carry(state: State, month: str, rows: list[PayrollRow]) -> None:
    """Late news of closed months whose first open month is this one, on their agents' rows.

    A late QA result changes no pay (pay follows completed orders): its adjustment counts
    the QA results that arrived late, for 0 cents.
    """
    by_agent = {r.agent_id: r for r in rows}
    for (closed, agent_id), (results, _passed) in sorted(state.late.items()):
        row = by_agent.get(agent_id)
        if row is not None and first_open_after(state.closed_months, closed) == month:
            row.adjustments.append(Adjustment(closed, LATE_QA, results, 0))
