"""Weekly contests and the two-month warning list, from the floor's own practice.

Contest (an ISO week, local days of the center): three boards — top individual
volume (completed orders), top team volume, top individual utilization. Places use
competition ranking (equal values share a place: 1, 2, 2, 4); place p earns
`points[p-1]` (setting `contest_points`, default 3, 2, 1). Agents with nothing
completed are not on the volume board; agents with nothing scheduled are not on
the utilization board.

Warnings (a month): for each key KPI — monthly volume, QA accuracy, utilization —
the agents in the bottom N (setting `warning_bottom_n`) of this month and also of
the month before. Ties at the cut are all in. An agent is ranked on volume if it
was present (something scheduled or completed), on accuracy if QA checked any of
its work, on utilization if anything was scheduled.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import msgspec
from msgspec import Struct

from engine.calendar import (
    parse_month,
    parse_week,
    previous_month,
    week_text,
    window,
)
from engine.payroll.report import Month, month_of, month_span
from engine.payroll.timesheet import agent_times
from engine.state import State
from presence.timeutil import format_time


class Placed(Struct):
    id: str
    team: str | None
    value: float
    place: int
    points: int


class ContestView(Struct):
    week: str
    timezone: str
    from_: str = msgspec.field(name="from")
    to: str
    individual_volume: list[Placed]
    team_volume: list[Placed]
    individual_utilization: list[Placed]
    points: dict[str, int]
    team_points: dict[str, int]


def rank(items: Sequence[tuple[str, str | None, float]], points: Sequence[int]) -> list[Placed]:
    """Highest value first, ties share a place (1, 2, 2, 4); then by id."""
    ordered = sorted(items, key=lambda x: (-x[2], x[0]))
    out: list[Placed] = []
    for i, (key, team, value) in enumerate(ordered):
        place = out[-1].place if out and out[-1].value == value else i + 1
        earned = points[place - 1] if place <= len(points) else 0
        out.append(Placed(key, team, value, place, earned))
    return out


def contest(state: State, week: str, points: Sequence[int], now: int) -> ContestView:
    monday = parse_week(week)
    end = monday + timedelta(days=7)
    tz = state.settings.timezone
    lo, hi = window(monday, end, tz)
    agents = sorted(state.agents.values(), key=lambda a: a.id)
    first, last = monday.toordinal(), end.toordinal()
    volume = {a.id: state.tallies.sums(a.id, first, last)[0] for a in agents}
    teams: dict[str, int] = {}
    for a in agents:
        teams[a.team] = teams.get(a.team, 0) + volume[a.id]
    util = {
        t.agent.id: t.split.utilization
        for t in agent_times(state, agents, lo, hi, now)
        if t.split.utilization is not None
    }
    by_id = {a.id: a for a in agents}
    individual = rank([(a, by_id[a].team, float(n)) for a, n in volume.items() if n > 0], points)
    team_board = rank([(t, None, float(n)) for t, n in teams.items() if n > 0], points)
    util_board = rank([(a, by_id[a].team, u) for a, u in util.items()], points)
    totals: dict[str, int] = {}
    for p in (*individual, *util_board):
        if p.points:
            totals[p.id] = totals.get(p.id, 0) + p.points
    return ContestView(
        week_text(monday), tz, format_time(lo), format_time(hi), individual, team_board,
        util_board, dict(sorted(totals.items())),
        {p.id: p.points for p in team_board if p.points},
    )  # fmt: skip


# -- warnings --------------------------------------------------------------------------------


class KpiWarning(Struct):
    agent_id: str
    name: str
    team: str
    kpi: str
    this_month: float
    previous_month: float


class WarningsView(Struct):
    month: str
    previous_month: str
    bottom_n: int
    warnings: list[KpiWarning]


KPIS = ("volume", "accuracy", "utilization")


def bottom(values: dict[str, float], n: int) -> set[str]:
    """Ids whose value is among the n lowest (everyone tied with the n-th is in)."""
    if n <= 0 or not values:
        return set()
    ordered = sorted(values.values())
    cut = ordered[min(n, len(ordered)) - 1]
    return {k for k, v in values.items() if v <= cut}


def _kpis(state: State, span: Month, now: int) -> dict[str, dict[str, float]]:
    agents = sorted(state.agents.values(), key=lambda a: a.id)
    out: dict[str, dict[str, float]] = {k: {} for k in KPIS}
    for t in agent_times(state, agents, span.lo, span.hi, now):
        a = t.agent.id
        completed, checked, passed = state.tallies.sums(a, span.first_day, span.end_day)
        if completed or t.split.scheduled_ms:
            out["volume"][a] = completed
        if checked:
            out["accuracy"][a] = passed / checked
        if t.split.utilization is not None:
            out["utilization"][a] = t.split.utilization
    return out


def warnings(state: State, month: str, bottom_n: int, now: int) -> WarningsView:
    this = month_of(state, month)
    before = month_span(state, previous_month(parse_month(this.text)))
    now_kpis, prev_kpis = _kpis(state, this, now), _kpis(state, before, now)
    found: list[KpiWarning] = []
    for kpi in KPIS:
        flagged = bottom(now_kpis[kpi], bottom_n) & bottom(prev_kpis[kpi], bottom_n)
        for a in sorted(flagged):
            agent = state.agents[a]
            found.append(
                KpiWarning(a, agent.name, agent.team, kpi, now_kpis[kpi][a], prev_kpis[kpi][a])
            )
    return WarningsView(this.text, before.text, bottom_n, found)
