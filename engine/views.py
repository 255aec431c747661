"""What the API answers: msgspec Structs built from state, also the OpenAPI schemas."""

from __future__ import annotations

from typing import Any

from msgspec import Struct

from engine.keys import ApiKey
from engine.settings import Settings
from presence.agent import Agent
from presence.requests import LogoutRequest
from presence.timeutil import format_opt, format_time
from router.order import SHOWN_STATUS, Order


class ErrorInfo(Struct):
    code: str
    message: str
    detail: Any = None


class ErrorBody(Struct):
    error: ErrorInfo


class AgentView(Struct):
    id: str
    name: str
    team: str
    skills: list[str]
    capacity: int
    state: str
    load: int
    open_orders: list[str]
    state_since: str
    reason: str | None
    pending_logout_request: str | None
    # Slots held in wrap-up after a completion (setting wrap_up_s); `load` counts them.
    wrapping: int


class OrderView(Struct, omit_defaults=True):
    id: str
    skill: str | None
    priority: int
    status: str
    agent_id: str | None
    created_at: str
    assigned_at: str | None
    completed_at: str | None
    # The assignment lifecycle (API.md 1.1): the customer's first reply, how often the
    # order was taken back from an agent, who the customer is and whom it prefers, and
    # how its last assignment was decided (null until it is assigned).
    first_response_at: str | None
    reassignments: int
    customer_id: str | None
    preferred_agent_id: str | None
    # The preferred agent did not exist when the order came: routed by the rules.
    preferred_agent_unknown: bool
    routed_by: str | None
    # Past the retention window (API.md 1.1, years of operation); omitted while false.
    archived: bool = False


class LogoutRequestView(Struct):
    id: str
    agent_id: str
    status: str
    requested_at: str
    attempts: int
    decided_at: str | None
    decided_by: str | None


class StateView(Struct):
    state: str


class LogoutDone(Struct):
    state: str
    reassigned: list[str]


class LogoutPending(Struct):
    state: str
    logout_request: LogoutRequestView


class ShiftView(Struct):
    agent_id: str
    start: str
    end: str


class ScheduleView(Struct):
    shifts: list[ShiftView]


class BatchResult(Struct):
    results: list[OrderView | ErrorBody]


class KeyView(Struct):
    """The answer to creating a key: the only time the key itself is ever shown."""

    key: str
    id: str
    role: str
    agent_id: str | None


class KeyInfoView(Struct):
    """A key as listed: its public id and life, never the key."""

    id: str
    role: str
    agent_id: str | None
    created_at: str
    revoked_at: str | None
    revoked_by: str | None


def key_info_view(k: ApiKey) -> KeyInfoView:
    return KeyInfoView(
        k.id, k.role, k.agent_id, format_time(k.created_at), format_opt(k.revoked_at), k.revoked_by
    )


class ClockView(Struct):
    now: str
    mode: str


class SettingsView(Struct):
    logout_grace_s: int
    stop_new_before_end_s: int
    timezone: str
    contest_points: list[int]
    warning_bottom_n: int
    language: str
    response_timeout_s: int
    wrap_up_s: int
    sticky_window_s: int
    order_retention_days: int


class AuditView(Struct):
    at: str
    agent_id: str
    action: str
    request_id: str | None
    by: str | None
    order_id: str | None = None  # response_timeout: the order left unanswered


def agent_view(a: Agent) -> AgentView:
    return AgentView(
        a.id,
        a.name,
        a.team,
        list(a.skills),
        a.capacity,
        a.state,
        a.load,
        list(a.open_orders),
        format_time(a.state_since),
        a.reason,
        a.pending_request,
        len(a.wrap_ends),
    )


def order_view(o: Order) -> OrderView:
    return OrderView(
        o.id,
        o.skill,
        o.priority,
        SHOWN_STATUS[o.status],
        o.agent_id,
        format_time(o.created_at),
        format_opt(o.assigned_at),
        format_opt(o.completed_at),
        format_opt(o.first_response_at),
        o.reassignments,
        o.customer_id,
        o.preferred_agent_id,
        o.preferred_unknown,
        o.routed_by,
        o.archived,
    )


def request_view(r: LogoutRequest) -> LogoutRequestView:
    return LogoutRequestView(
        r.id,
        r.agent_id,
        r.status,
        format_time(r.requested_at),
        r.attempts,
        format_opt(r.decided_at),
        r.decided_by,
    )


def settings_view(s: Settings) -> SettingsView:
    return SettingsView(
        s.logout_grace_s,
        s.stop_new_before_end_s,
        s.timezone,
        list(s.contest_points),
        s.warning_bottom_n,
        s.language,
        s.response_timeout_s,
        s.wrap_up_s,
        s.sticky_window_s,
        s.order_retention_days,
    )
