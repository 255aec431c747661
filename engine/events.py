"""Events: the facts the engine journals. State is a fold of these, nothing else.

Each journal record is one `Record`: the time of the command and the events it
produced, in order. Events are msgspec tagged Structs encoded array-like in
MessagePack; new fields go at the end with a default so old journals still decode.
"""

from __future__ import annotations

import msgspec
from msgspec import Struct


class Event(Struct, tag=True, array_like=True):
    """Base of every journaled event; the tag is the class name. Never mutated once emitted."""


class AgentUpserted(Event):
    agent_id: str
    name: str
    team: str
    skills: tuple[str, ...]
    capacity: int


class ShiftSpec(Struct, array_like=True):
    agent_id: str
    start: int
    end: int


class ShiftsAdded(Event):
    shifts: tuple[ShiftSpec, ...]


class AgentLoggedIn(Event):
    agent_id: str


class AgentWentAway(Event):
    agent_id: str
    reason: str


class AgentBecameAvailable(Event):
    agent_id: str


class LogoutRequested(Event):
    """A self-logout the guard refused inside a shift: now pending for a supervisor."""

    request_id: str
    agent_id: str


class LogoutRepeated(Event):
    """Another logout attempt while a request is pending (kept for the audit trail)."""

    request_id: str
    agent_id: str


class LogoutDenied(Event):
    request_id: str
    by: str


class AgentLoggedOut(Event):
    """The agent went offline. `how` is 'self', 'approved' or 'forced'."""

    agent_id: str
    how: str
    request_id: str | None = None
    by: str | None = None


class OrderReceived(Event):
    order_id: str
    skill: str | None
    priority: int
    digest: bytes
    payload: bytes | None = None


class OrderAssigned(Event):
    order_id: str
    agent_id: str


class OrderQueued(Event):
    order_id: str


class OrderReleased(Event):
    """An open order taken back from an agent going offline; it is routed again."""

    order_id: str
    agent_id: str


class OrderCompleted(Event):
    order_id: str
    agent_id: str


class QaRecorded(Event):
    order_id: str
    passed: bool
    by: str


class KeyCreated(Event):
    key_hash: str
    role: str
    agent_id: str | None = None


class ClockSet(Event):
    """The manual clock was moved; journaled so a restart resumes at the same virtual time."""

    to: int


class SettingsChanged(Event):
    logout_grace_s: int
    stop_new_before_end_s: int
    timezone: str
    contest_points: tuple[int, ...] = (3, 2, 1)
    warning_bottom_n: int = 3


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
    | QaRecorded
    | KeyCreated
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
