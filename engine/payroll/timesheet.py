"""Time accounting for reports: presence.timeline.split_time per agent over a window,
plus the logout audit counted in the same window.

`now` is passed in (the live engine's clock, or the journal's last time offline):
the window is clipped there, since nobody is on duty in the future. This is what
workforce-management tools call schedule adherence / conformance.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass

from engine.payroll.views import TimeRow, TimeSum, avg_seconds, ratio, seconds
from engine.state import State
from presence.agent import Agent
from presence.timeline import TimeSplit, split_time

# audit action -> index in AgentTime.logouts
_COUNTED = {"logout_requested": 0, "logout_denied": 1, "logout_approved": 2, "logout_forced": 3}


@dataclass(slots=True)
class AgentTime:
    agent: Agent
    split: TimeSplit
    # logout requests, denials, approvals, forced logouts inside the window
    logouts: tuple[int, int, int, int]
    # first responses given inside the window, and their total ms since assignment
    responses: tuple[int, int] = (0, 0)


def audit_counts(state: State, lo: int, hi: int) -> dict[str, list[int]]:
    """Per agent [requests, denials, approvals, forced] at lo <= at < hi; the audit is in
    time order, so the window starts by bisection."""
    audit = state.audit
    counts: dict[str, list[int]] = {}
    for i in range(bisect_left(audit, lo, key=lambda e: e.at), len(audit)):
        entry = audit[i]
        if entry.at >= hi:
            break
        slot = _COUNTED.get(entry.action)
        if slot is not None:
            counts.setdefault(entry.agent_id, [0, 0, 0, 0])[slot] += 1
    return counts


def agent_times(
    state: State, agents: Iterable[Agent], lo: int, hi: int, now: int
) -> list[AgentTime]:
    top = min(hi, now)
    logouts = audit_counts(state, lo, hi)
    zero = [0, 0, 0, 0]
    return [
        AgentTime(
            a,
            split_time(state.transitions.get(a.id, ()), state.roster.of(a.id), lo, top),
            tuple(logouts.get(a.id, zero)),  # type: ignore[arg-type]
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
