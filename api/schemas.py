"""Request bodies and the list envelopes the API adds around engine views.

Bodies forbid unknown fields, so a typo such as `capcity` is a 422, not a
silently ignored field. The same Structs generate the OpenAPI schemas.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType

from api.body import MAX_ID
from api.patterns import AGENT_ID, NEW_ORDER_ID, TIME, Schema, one_of
from engine.handlers import ROLES
from engine.i18n import LANGUAGES
from engine.settings import (
    MAX_BOTTOM_N,
    MAX_PLACES,
    MAX_POINTS,
    MAX_STICKY_WINDOW_S,
    MAX_WINDOW_S,
    MAX_WRAP_UP_S,
    RESPONSE_TIMEOUT_MAX,
    RESPONSE_TIMEOUT_MIN,
    RETENTION_DAYS_MAX,
    RETENTION_DAYS_MIN,
)
from engine.views import AgentView, AuditView, KeyInfoView, LogoutRequestView
from presence.agent import CAPACITY_MAX, CAPACITY_MIN
from presence.guard import MAX_NAME, MAX_SKILLS
from presence.timeutil import TIME_MAX, TIME_MIN
from router.order import PRIORITY_MAX, PRIORITY_MIN

MAX_BATCH = 1000  # orders in one POST /v1/orders:batch
MAX_SHIFTS = 10_000  # shifts in one PUT /v1/schedule


def stated(schema: Schema | None = None, /, **keywords: Any) -> Meta:
    """Limits the server checks with its own code, stated for the OpenAPI document.

    msgspec writes `extra_json_schema` into the schema and never enforces it, so the
    422 for a value out of range stays the server's own (api.body, engine, presence),
    whose message names the culprit ("capacity 99 for agent 'a4' is out of range
    1..50"); tests/api/test_api_limits.py holds the two to the same bounds.
    """
    return Meta(extra_json_schema={**(schema or {}), **keywords})


Text = Annotated[str, stated(minLength=1, maxLength=MAX_NAME)]
AgentId = Annotated[str, stated(AGENT_ID)]
Time = Annotated[str, stated(TIME)]


class Body(Struct, forbid_unknown_fields=True):
    """Base of every request body."""


class AgentIn(Body):
    name: Text
    team: Text
    capacity: Annotated[
        int, stated(minimum=CAPACITY_MIN, maximum=CAPACITY_MAX, description="open orders at once")
    ]
    skills: Annotated[list[Text], stated(maxItems=MAX_SKILLS)] = []


class ShiftIn(Body):
    agent_id: AgentId
    start: Time
    end: Annotated[str, stated(TIME, description="after start, at most 24 h later")]


class ShiftsIn(Body):
    shifts: Annotated[list[ShiftIn], stated(maxItems=MAX_SHIFTS)]


class AwayIn(Body):
    reason: Annotated[Text, Meta(description="why the agent steps away")]


OrderId = Annotated[
    str,
    Meta(
        min_length=1,  # enforced by decoding, as before 1.1; the characters by api.intake
        max_length=MAX_ID,
        description=NEW_ORDER_ID["description"],
        extra_json_schema={"pattern": NEW_ORDER_ID["pattern"]},
    ),
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
    customer_id: Annotated[OrderId | None, stated(description="the customer (sticky routing)")] = (
        None
    )
    preferred_agent_id: Annotated[
        AgentId | None,
        stated(description="a dedicated agent, tried first; unknown: routed by load"),
    ] = None


class OrdersBatchIn(Body):
    # Items stay raw so that one bad order is an error at its position, not a 422 for all.
    orders: list[msgspec.Raw]


class QaIn(Body):
    passed: bool


class KeyIn(Body):
    role: Annotated[str, stated(one_of(ROLES))]
    agent_id: Annotated[AgentId | None, Meta(description="required for role agent only")] = None


class ClockIn(Body):
    # Exactly one of the two (else a 422 on `set`); api.openapi adds this to the schema.
    __schema_extra__: ClassVar[Schema] = {"minProperties": 1, "maxProperties": 1}

    set: Annotated[str | UnsetType, stated(TIME, description="the time to jump to")] = UNSET
    advance_s: Annotated[
        int | float | UnsetType,
        stated(
            minimum=0,
            exclusiveMaximum=(TIME_MAX - TIME_MIN) // 1000,
            description="seconds forward; the new time must stay inside the range of times",
        ),
    ] = UNSET


Window = Annotated[int, stated(minimum=0, maximum=MAX_WINDOW_S)]


class SettingsIn(Body):
    logout_grace_s: Window | UnsetType = UNSET
    stop_new_before_end_s: Window | UnsetType = UNSET
    timezone: Annotated[str | UnsetType, stated(minLength=1, description="IANA zone name")] = UNSET
    contest_points: Annotated[
        list[Annotated[int, stated(minimum=0, maximum=MAX_POINTS)]] | UnsetType,
        stated(minItems=1, maxItems=MAX_PLACES, description="points of places 1, 2, 3, ..."),
    ] = UNSET
    warning_bottom_n: Annotated[int | UnsetType, stated(minimum=1, maximum=MAX_BOTTOM_N)] = UNSET
    language: Annotated[
        str | UnsetType, stated(one_of(LANGUAGES), description="exports' default language")
    ] = UNSET
    response_timeout_s: Annotated[
        int | UnsetType,
        stated(
            minimum=0,
            maximum=RESPONSE_TIMEOUT_MAX,
            description=f"0 (off) or {RESPONSE_TIMEOUT_MIN}..{RESPONSE_TIMEOUT_MAX} (semantic: "
            f"1..{RESPONSE_TIMEOUT_MIN - 1} is refused)",
        ),
    ] = UNSET
    wrap_up_s: Annotated[int | UnsetType, stated(minimum=0, maximum=MAX_WRAP_UP_S)] = UNSET
    sticky_window_s: Annotated[
        int | UnsetType, stated(minimum=0, maximum=MAX_STICKY_WINDOW_S, description="0: off")
    ] = UNSET
    order_retention_days: Annotated[
        int | UnsetType,
        stated(
            minimum=RETENTION_DAYS_MIN,
            maximum=RETENTION_DAYS_MAX,
            description="completed orders older than this are archived: still readable",
        ),
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
