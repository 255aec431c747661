"""The live board snapshot (`GET /v1/board`): pure over state and the current time.

Per agent its presence, load and today's utilization; per skill queue its depth
and how long its oldest order has waited; per team head counts and load; the
logout requests waiting for a supervisor; and center totals.
"""

from __future__ import annotations

from typing import Protocol

from msgspec import Struct

from engine.reports import utilization_today
from engine.state import State
from engine.views import LogoutRequestView, request_view
from presence.agent import AVAILABLE, AWAY, NOT_RESPONDING, Agent
from presence.requests import PENDING
from presence.timeutil import format_time


class BoardAgent(Struct):
    id: str
    name: str
    team: str
    state: str
    load: int
    capacity: int
    state_since: str
    utilization_today: float | None


class BoardQueue(Struct):
    skill: str | None
    depth: int
    oldest_wait_s: float


class BoardTeam(Struct):
    team: str
    available: int = 0
    away: int = 0
    offline: int = 0
    load: int = 0
    capacity: int = 0
    not_responding: int = 0


class BoardTotals(Struct):
    agents: int
    available: int
    away: int
    offline: int
    load: int
    capacity: int
    queued: int
    pending_logout_requests: int
    orders_received: int
    orders_assigned: int
    orders_completed: int
    # Agents that left an order unanswered past response_timeout_s (API.md 1.1).
    not_responding: int = 0
    # Slots held in wrap-up after completions (setting wrap_up_s); `load` counts them.
    wrapping: int = 0


class Board(Struct):
    now: str
    agents: list[BoardAgent]
    queues: list[BoardQueue]
    teams: list[BoardTeam]
    pending_logout_requests: list[LogoutRequestView]
    totals: BoardTotals


def _agent(state: State, a: Agent) -> BoardAgent:
    return BoardAgent(
        a.id,
        a.name,
        a.team,
        a.state,
        a.load,
        a.capacity,
        format_time(a.state_since),
        utilization_today(state, a.id),
    )


def queue_rows(state: State, now: int) -> list[BoardQueue]:
    out = []
    for skill, depth, _ in state.queues.depths():
        oldest = min(state.orders[o].created_at for o in state.queues.ordered(skill))
        out.append(BoardQueue(skill, depth, max(0, now - oldest) / 1000))
    out.sort(key=lambda q: (q.skill is not None, q.skill or ""))
    return out


class SeatCounts(Protocol):
    """A row of head counts by presence state, with the seats' load and capacity."""

    available: int
    away: int
    offline: int
    not_responding: int
    load: int
    capacity: int


def count_seat(row: SeatCounts, a: Agent) -> None:
    """Count one seat into a row: teams, skills and the center's totals all count alike."""
    if a.state == AVAILABLE:
        row.available += 1
    elif a.state == AWAY:
        row.away += 1
    elif a.state == NOT_RESPONDING:
        row.not_responding += 1
    else:
        row.offline += 1
    row.load += a.load
    row.capacity += a.capacity


def _teams(agents: list[Agent]) -> list[BoardTeam]:
    teams: dict[str, BoardTeam] = {}
    for a in agents:
        t = teams.get(a.team)
        if t is None:
            t = teams[a.team] = BoardTeam(a.team)
        count_seat(t, a)
    return sorted(teams.values(), key=lambda t: t.team)


def build_totals(state: State, pending_logout_requests: int) -> BoardTotals:
    """Center totals (also sent by the board stream in every update)."""
    seats = BoardTeam("")
    for a in state.agents.values():
        count_seat(seats, a)
    c = state.counters
    return BoardTotals(
        agents=len(state.agents),
        available=seats.available,
        away=seats.away,
        offline=seats.offline,
        load=seats.load,
        capacity=seats.capacity,
        queued=len(state.queues),
        pending_logout_requests=pending_logout_requests,
        orders_received=c.received,
        orders_assigned=c.assigned,
        orders_completed=c.completed,
        not_responding=seats.not_responding,
        wrapping=sum(len(a.wrap_ends) for a in state.agents.values()),
    )


def build_board(state: State, now: int) -> Board:
    agents = sorted(state.agents.values(), key=lambda a: a.id)
    pending = sorted(
        (r for r in state.requests.values() if r.status == PENDING), key=lambda r: r.requested_at
    )
    return Board(
        format_time(now),
        [_agent(state, a) for a in agents],
        queue_rows(state, now),
        _teams(agents),
        [request_view(r) for r in pending],
        build_totals(state, len(pending)),
    )
