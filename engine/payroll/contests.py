"""Weekly contests and the two-month warning list, from the floor's own practice.

Contest (an ISO week, local days of the center): four boards — top individual
volume (completed orders), top team volume, top individual utilization, and the
fastest first response (lowest `avg_first_response_s`: assignment to first reply). Places use
competition ranking (equal values share a place: 1, 2, 2, 4); place p earns
`points[p-1]` (setting `contest_points`, default 3, 2, 1). Agents with nothing
completed are not on the volume board; agents with nothing scheduled are not on
the utilization board; agents who gave no first response are not on the response board.

Warnings (a month): for each key KPI — monthly volume, QA accuracy, utilization,
average first response — the agents in the bottom N (setting `warning_bottom_n`) of
this month and also of the month before. Ties at the cut are all in. An agent is
ranked on volume if it was present (something scheduled or completed), on accuracy
if QA checked any of its work, on utilization if anything was scheduled, on first
response if it gave any. For first response the bottom is the slowest (highest).
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
from engine.payroll.views import avg_seconds
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
    # Lowest average first response first (seconds); added with issue 14.
    individual_first_response: list[Placed] = []


def rank(
    items: Sequence[tuple[str, str | None, float]], points: Sequence[int], *, lowest: bool = False
) -> list[Placed]:
    """Highest value first (`lowest`: lowest first), ties share a place (1, 2, 2, 4); then by id."""
    ordered = sorted(items, key=lambda x: (x[2] if lowest else -x[2], x[0]))
    out: list[Placed] = []
    for i, (key, team, value) in enumerate(ordered):
        place = out[-1].place if out and out[-1].value == value else i + 1
        earned = points[place - 1] if place <= len(points) else 0
        out.append(Placed(key, team, value, place, earned))
    return out


def avg_response(state: State, agent_id: str, first_day: int, end_day: int) -> float | None:
    """The agent's average first response (s) over local days [first_day, end_day)."""
    n, ms = state.tallies.responses(agent_id, first_day, end_day)
    return avg_seconds(ms, n)


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
    fast = {a: avg_response(state, a, first, last) for a in by_id}
    response_board = rank(
        [(a, by_id[a].team, v) for a, v in fast.items() if v is not None], points, lowest=True
    )
    totals: dict[str, int] = {}
    for p in (*individual, *util_board, *response_board):
        if p.points:
            totals[p.id] = totals.get(p.id, 0) + p.points
    return ContestView(
        week_text(monday), tz, format_time(lo), format_time(hi), individual, team_board,
        util_board, dict(sorted(totals.items())),
        {p.id: p.points for p in team_board if p.points}, response_board,
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


KPIS = ("volume", "accuracy", "utilization", "avg_first_response_s")
# KPIs where a higher value is worse: their bottom N are the highest.
HIGHER_IS_WORSE = frozenset({"avg_first_response_s"})


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
        avg = avg_response(state, a, span.first_day, span.end_day)
        if avg is not None:
            out["avg_first_response_s"][a] = avg
    return out


def warnings(state: State, month: str, bottom_n: int, now: int) -> WarningsView:
    this = month_of(state, month)
    before = month_span(state, previous_month(parse_month(this.text)))
    now_kpis, prev_kpis = _kpis(state, this, now), _kpis(state, before, now)
    found: list[KpiWarning] = []
    for kpi in KPIS:
        sign = -1 if kpi in HIGHER_IS_WORSE else 1
        flagged = bottom({a: sign * v for a, v in now_kpis[kpi].items()}, bottom_n) & bottom(
            {a: sign * v for a, v in prev_kpis[kpi].items()}, bottom_n
        )
        for a in sorted(flagged):
            agent = state.agents[a]
            found.append(
                KpiWarning(a, agent.name, agent.team, kpi, now_kpis[kpi][a], prev_kpis[kpi][a])
            )
    return WarningsView(this.text, before.text, bottom_n, found)
