"""The journal's vocabulary: every event of every layer, and the record that carries them.

State is a fold of these events, nothing else. Presence and routing events are
declared by the layers that decide them (presence.events, router.events) and gathered
here; the engine's own facts (intake, completion, QA, keys, clock, settings, payroll
schemes) are declared below. Each journal record is one `Record`: the time of the
command and the events it produced, in order.
"""

from __future__ import annotations

import msgspec
from msgspec import Struct

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
    ShiftsAdded,
    ShiftSpec,
    WrapUpEnded,
)
from router.events import OrderAssigned, OrderQueued, OrderReleased


class OrderReceived(Event):
    order_id: str
    skill: str | None
    priority: int
    digest: bytes
    payload: bytes | None = None
    customer_id: str | None = None  # added 2026-12 (issue 14)
    preferred_agent_id: str | None = None  # added 2026-12 (issue 14)


class OrderCompleted(Event):
    order_id: str
    agent_id: str
    # The agent's slot stays taken in wrap-up until then (epoch ms; 0: no wrap-up).
    wrap_until: int = 0  # added 2026-12 (issue 14)


class OrderResponded(Event):
    """The agent's first reply reached the customer (POST /v1/orders/{id}/responded)."""

    order_id: str
    agent_id: str


class QaRecorded(Event):
    order_id: str
    passed: bool
    by: str
    # Added 2026-12 (issue 12): a result for an archived order carries what the fold
    # needs of it (its agent, its completion, the result it replaces): replay never
    # reads the archive.
    archived: bool = False
    agent_id: str | None = None
    completed_at: int | None = None
    before: bool | None = None


class PresenceFolded(Event):
    """Presence history before `before` (a local midnight) was folded into the day book
    (engine.history): computed from state, so replay folds it the same way."""

    before: int


class OrdersArchived(Event):
    """Completed orders past the retention window left memory; their rows were written
    to the archive in the same durable write as this record (engine.archive)."""

    order_ids: list[str]
    # Completed before this time (epoch ms): response times before its local day are
    # kept per day only (engine.payroll.tallies).
    before: int


class KeyCreated(Event):
    key_hash: str
    role: str
    agent_id: str | None = None


class PayrollMonthClosed(Event):
    """A payroll month frozen: `report` is its payroll report as paid (JSON), kept as is."""

    month: str
    by: str
    report: bytes


class KeyRevoked(Event):
    """From this record on the key is refused (401 `key_revoked`); it stays listed."""

    key_hash: str
    by: str


class ClockSet(Event):
    """The manual clock was moved; journaled so a restart resumes at the same virtual time."""

    to: int


class SettingsChanged(Event):
    logout_grace_s: int
    stop_new_before_end_s: int
    timezone: str
    contest_points: tuple[int, ...] = (3, 2, 1)
    warning_bottom_n: int = 3
    language: str = "en"  # added 2026-12: older records replay as English
    # added 2026-12 (issue 14): older records replay with the lifecycle off
    response_timeout_s: int = 0
    wrap_up_s: int = 0
    sticky_window_s: int = 0
    order_retention_days: int = 2  # added 2026-12 (issue 12): the default before it


class PayrollSchemeSet(Event):
    """A version of the tiered piece rate, in force from month `effective_from` ("YYYY-MM")."""

    effective_from: str
    currency: str
    thresholds: tuple[int, ...]
    rates_cents: tuple[int, ...]


AnyEvent = (
    AgentUpserted
    | ShiftsAdded
    | AgentLoggedIn
    | AgentWentAway
    | AgentBecameAvailable
    | LogoutRequested
    | LogoutRepeated
    | LogoutDenied
    | AgentLoggedOut
    | OrderReceived
    | OrderAssigned
    | OrderQueued
    | OrderReleased
    | OrderCompleted
    | OrderResponded
    | ResponseTimedOut
    | WrapUpEnded
    | QaRecorded
    | OrdersArchived
    | PresenceFolded
    | KeyCreated
    | KeyRevoked
    | PayrollMonthClosed
    | ClockSet
    | SettingsChanged
    | PayrollSchemeSet
)


class Record(Struct, array_like=True):
    """One journal record: the events of one command, all at time `at` (epoch ms)."""

    at: int
    events: list[AnyEvent]


_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(Record)


def encode_record(record: Record) -> bytes:
    return _encoder.encode(record)


def decode_record(data: bytes) -> Record:
    return _decoder.decode(data)


__all__ = [
    "AgentBecameAvailable",
    "AgentLoggedIn",
    "AgentLoggedOut",
    "AgentUpserted",
    "AgentWentAway",
    "AnyEvent",
    "ClockSet",
    "Event",
    "KeyCreated",
    "KeyRevoked",
    "LogoutDenied",
    "LogoutRepeated",
    "LogoutRequested",
    "OrderAssigned",
    "OrderCompleted",
    "OrderQueued",
    "OrderReceived",
    "OrderReleased",
    "PayrollMonthClosed",
    "OrderResponded",
    "OrdersArchived",
    "PayrollSchemeSet",
    "PresenceFolded",
    "QaRecorded",
    "Record",
    "ResponseTimedOut",
    "SettingsChanged",
    "ShiftSpec",
    "ShiftsAdded",
    "WrapUpEnded",
    "decode_record",
    "encode_record",
]
