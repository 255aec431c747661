"""Request bodies and the list envelopes the API adds around engine views.

Bodies forbid unknown fields, so a typo such as `capcity` is a 422, not a
silently ignored field. The same Structs generate the OpenAPI schemas.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType

from api.body import MAX_ID
from engine.i18n import LANGUAGES
from engine.settings import (
    MAX_BOTTOM_N,
    MAX_PLACES,
    MAX_STICKY_WINDOW_S,
    MAX_WINDOW_S,
    MAX_WRAP_UP_S,
    RESPONSE_TIMEOUT_MAX,
    RESPONSE_TIMEOUT_MIN,
)
from engine.views import AgentView, AuditView, KeyInfoView, LogoutRequestView
from presence.guard import MAX_NAME
from router.order import PRIORITY_MAX, PRIORITY_MIN

MAX_BATCH = 1000  # orders in one POST /v1/orders:batch


class Body(Struct, forbid_unknown_fields=True):
    """Base of every request body."""


class AgentIn(Body):
    name: Annotated[str, Meta(description="1..200 characters")]
    team: Annotated[str, Meta(description="1..200 characters")]
    capacity: Annotated[int, Meta(description="open orders at once, 1..50")]
    skills: Annotated[list[str], Meta(description="up to 50 skills, each 1..200 characters")] = []


class ShiftIn(Body):
    agent_id: str
    start: Annotated[str, Meta(description="RFC 3339 time, e.g. 2026-11-23T08:00:00Z")]
    end: Annotated[str, Meta(description="RFC 3339 time, after start, at most 24 h later")]


class ShiftsIn(Body):
    shifts: list[ShiftIn]


class AwayIn(Body):
    reason: Annotated[str, Meta(description=f"why the agent steps away, 1..{MAX_NAME} characters")]


OrderId = Annotated[
    str, Meta(min_length=1, max_length=MAX_ID, description="any printable text, unique per order")
]
Skill = Annotated[str, Meta(min_length=1, max_length=MAX_NAME)]
Priority = Annotated[
    int, Meta(ge=PRIORITY_MIN, le=PRIORITY_MAX, description="higher is served first")
]


class OrderIn(Body):
    id: OrderId
    skill: Skill | None = None
    priority: Priority = 0
    payload: dict[str, Any] | None = None
    customer_id: (
        Annotated[
            str,
            Meta(min_length=1, max_length=MAX_ID, description="the customer (sticky routing)"),
        ]
        | None
    ) = None
    preferred_agent_id: Annotated[
        str | None, Meta(description="a dedicated agent, tried first; unknown: routed by load")
    ] = None


class OrdersBatchIn(Body):
    # Items stay raw so that one bad order is an error at its position, not a 422 for all.
    orders: list[msgspec.Raw]


class OrdersBatchDoc(Body):
    """What the batch body looks like (for the docs); decoding uses OrdersBatchIn."""

    orders: Annotated[list[OrderIn], Meta(min_length=1, max_length=MAX_BATCH)]


class QaIn(Body):
    passed: bool


class KeyIn(Body):
    role: Annotated[str, Meta(description="admin, supervisor, platform, agent or payroll")]
    agent_id: Annotated[str | None, Meta(description="required for role agent only")] = None


class ClockIn(Body):
    set: Annotated[str | UnsetType, Meta(description="RFC 3339 time to jump to")] = UNSET
    advance_s: Annotated[int | float | UnsetType, Meta(description="seconds forward, >= 0")] = UNSET


class SettingsIn(Body):
    logout_grace_s: Annotated[int | UnsetType, Meta(description=f"0..{MAX_WINDOW_S}")] = UNSET
    stop_new_before_end_s: Annotated[int | UnsetType, Meta(description=f"0..{MAX_WINDOW_S}")] = (
        UNSET
    )
    timezone: Annotated[str | UnsetType, Meta(description="IANA zone name")] = UNSET
    contest_points: Annotated[
        list[int] | UnsetType,
        Meta(description=f"points of places 1, 2, 3, ... (1..{MAX_PLACES} values)"),
    ] = UNSET
    warning_bottom_n: Annotated[int | UnsetType, Meta(description=f"1..{MAX_BOTTOM_N}")] = UNSET
    language: Annotated[
        str | UnsetType, Meta(description=f"exports' default language: {', '.join(LANGUAGES)}")
    ] = UNSET
    response_timeout_s: Annotated[
        int | UnsetType,
        Meta(description=f"0 (off) or {RESPONSE_TIMEOUT_MIN}..{RESPONSE_TIMEOUT_MAX}"),
    ] = UNSET
    wrap_up_s: Annotated[int | UnsetType, Meta(description=f"0..{MAX_WRAP_UP_S}")] = UNSET
    sticky_window_s: Annotated[
        int | UnsetType, Meta(description=f"0 (off)..{MAX_STICKY_WINDOW_S}")
    ] = UNSET


# -- envelopes -----------------------------------------------------------------------


class AgentList(Struct):
    agents: list[AgentView]


class KeyList(Struct):
    keys: list[KeyInfoView]


class LogoutRequestList(Struct):
    logout_requests: list[LogoutRequestView]


class AuditList(Struct):
    audit: list[AuditView]


class Health(Struct):
    status: str
