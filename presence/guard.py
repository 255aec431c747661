"""Presence decisions, the logout guard among them: state and time in, events out."""

from __future__ import annotations

from presence.agent import AVAILABLE, AWAY, CAPACITY_MAX, CAPACITY_MIN, OFFLINE, Agent
from presence.errors import Conflict, Invalid
from presence.events import (
    AgentBecameAvailable,
    AgentLoggedIn,
    AgentLoggedOut,
    AgentUpserted,
    AgentWentAway,
    Event,
    LogoutDenied,
    LogoutRepeated,
    LogoutRequested,
    ResponseTimedOut,
    WrapUpEnded,
)
from presence.requests import PENDING, LogoutRequest
from presence.roster import Roster

MAX_NAME = 200
MAX_SKILLS = 50


def check_agent(
    agent_id: str, name: str, team: str, skills: list[str], capacity: int
) -> AgentUpserted:
    """Validate an agent record, naming the field and the agent in every message."""
    if not 1 <= len(name) <= MAX_NAME:
        raise Invalid("name", f"name of agent {agent_id!r} must be 1..{MAX_NAME} characters")
    if not 1 <= len(team) <= MAX_NAME:
        raise Invalid("team", f"team of agent {agent_id!r} must be 1..{MAX_NAME} characters")
    if len(skills) > MAX_SKILLS:
        raise Invalid("skills", f"agent {agent_id!r} has more than {MAX_SKILLS} skills")
    for i, skill in enumerate(skills):
        if not 1 <= len(skill) <= MAX_NAME:
            raise Invalid(
                f"skills[{i}]", f"skill of agent {agent_id!r} must be 1..{MAX_NAME} characters"
            )
    if not CAPACITY_MIN <= capacity <= CAPACITY_MAX:
        raise Invalid(
            "capacity",
            f"capacity {capacity} for agent {agent_id!r} is out of range "
            f"{CAPACITY_MIN}..{CAPACITY_MAX}",
        )
    return AgentUpserted(agent_id, name, team, tuple(sorted(set(skills))), capacity)


def login(agent: Agent) -> list[Event]:
    return [] if agent.state == AVAILABLE else [AgentLoggedIn(agent.id)]


def away(agent: Agent, reason: str) -> list[Event]:
    if agent.state == OFFLINE:
        raise Conflict(f"agent {agent.id!r} is offline; log in first", code="agent_offline")
    if not 1 <= len(reason) <= MAX_NAME:
        raise Invalid(
            "reason", f"away reason for agent {agent.id!r} must be 1..{MAX_NAME} characters"
        )
    if agent.state == AWAY and agent.reason == reason:
        return []
    return [AgentWentAway(agent.id, reason)]


def available(agent: Agent) -> list[Event]:
    if agent.state == OFFLINE:
        raise Conflict(f"agent {agent.id!r} is offline; log in first", code="agent_offline")
    return [] if agent.state == AVAILABLE else [AgentBecameAvailable(agent.id)]


def guard_allows(roster: Roster, agent_id: str, now: int, grace_ms: int) -> bool:
    """Free logout with no shift in progress, or within the grace window before its end."""
    shift = roster.in_progress(agent_id, now)
    return shift is None or shift[1] - now <= grace_ms


def logout(
    agent: Agent, roster: Roster, now: int, grace_ms: int, new_request_id: str
) -> list[Event]:
    """A self-logout: allowed, or held as a pending request (the same one if one is pending)."""
    if agent.state == OFFLINE:
        return []
    if guard_allows(roster, agent.id, now, grace_ms):
        return [AgentLoggedOut(agent.id, "self", request_id=agent.pending_request)]
    if agent.pending_request is not None:
        return [LogoutRepeated(agent.pending_request, agent.id)]
    return [LogoutRequested(new_request_id, agent.id)]


def _pending(request: LogoutRequest) -> None:
    if request.status != PENDING:
        raise Conflict(
            f"logout request {request.id!r} is already {request.status}", code="request_not_pending"
        )


def approve(request: LogoutRequest, by: str) -> list[Event]:
    _pending(request)
    return [AgentLoggedOut(request.agent_id, "approved", request_id=request.id, by=by)]


def deny(request: LogoutRequest, by: str) -> list[Event]:
    _pending(request)
    return [LogoutDenied(request.id, by)]


def force_logout(agent: Agent, by: str) -> list[Event]:
    if agent.state == OFFLINE:
        return []
    return [AgentLoggedOut(agent.id, "forced", request_id=agent.pending_request, by=by)]


def response_timeout(agent: Agent, order_id: str) -> list[Event]:
    """The agent let `order_id` go unanswered too long: it is marked not responding.

    It keeps its other open orders (each has its own timeout) and gets no new ones
    until it is made `available` again. Offline agents hold no orders, so never time out.
    """
    return [] if agent.state == OFFLINE else [ResponseTimedOut(agent.id, order_id)]


def wrap_up_ended(agent: Agent, now: int) -> list[Event]:
    """The agent's wrap-up slots that have ended by `now` (their ends are ascending)."""
    ended = 0
    for end in agent.wrap_ends:
        if end > now:
            break
        ended += 1
    return [WrapUpEnded(agent.id, ended)] if ended else []
