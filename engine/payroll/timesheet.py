"""Time accounting for reports: presence.timeline.split_time per agent over a window,
plus the logout audit counted in the same window.

`now` is passed in (the live engine's clock, or the journal's last time offline):
the window is clipped there, since nobody is on duty in the future. This is what
workforce-management tools call schedule adherence / conformance.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from engine.history import time_between
from engine.payroll.views import TimeRow, TimeSum, avg_seconds, ratio, seconds
from engine.state import State
from presence.agent import Agent
from presence.timeline import TimeSplit


@dataclass(slots=True)
class AgentTime:
    agent: Agent
    split: TimeSplit
    # logout requests, denials, approvals, forced logouts inside the window
    logouts: tuple[int, int, int, int]
    # first responses given inside the window, and their total ms since assignment
    responses: tuple[int, int] = (0, 0)


def agent_times(
    state: State, agents: Iterable[Agent], lo: int, hi: int, now: int
) -> list[AgentTime]:
    """Whole folded days from the day book, the rest from raw history (engine.history)."""
    agents = list(agents)
    times = time_between(state, (a.id for a in agents), lo, hi, now)
    return [
        AgentTime(
            a,
            times[a.id][0],
            tuple(times[a.id][1]),  # type: ignore[arg-type]
            state.tallies.responses_between(a.id, lo, hi),
        )
        for a in agents
    ]


def time_row(t: AgentTime) -> TimeRow:
    s, a = t.split, t.agent
    return TimeRow(
        a.id, a.name, a.team,
        seconds(s.scheduled_ms), seconds(s.on_duty_ms), seconds(s.away_ms),
        seconds(s.outside_schedule_ms), s.utilization, *t.logouts,
        seconds(s.not_responding_ms), t.responses[0], avg_seconds(t.responses[1], t.responses[0]),
    )  # fmt: skip


def time_sum(team: str | None, times: list[AgentTime]) -> TimeSum:
    sched = sum(t.split.scheduled_ms for t in times)
    duty = sum(t.split.on_duty_ms for t in times)
    n = sum(t.responses[0] for t in times)
    requests, denials, approvals, forced = (sum(t.logouts[i] for t in times) for i in range(4))
    return TimeSum(
        team, len(times), seconds(sched), seconds(duty),
        seconds(sum(t.split.away_ms for t in times)),
        seconds(sum(t.split.outside_schedule_ms for t in times)),
        ratio(duty, sched), requests, denials, approvals, forced,
        seconds(sum(t.split.not_responding_ms for t in times)),
        n, avg_seconds(sum(t.responses[1] for t in times), n),
    )  # fmt: skip


def by_team(times: list[AgentTime]) -> list[TimeSum]:
    teams: dict[str, list[AgentTime]] = {}
    for t in times:
        teams.setdefault(t.agent.team, []).append(t)
    return [time_sum(team, teams[team]) for team in sorted(teams)]
