"""Presence events: the facts of who is on the floor, journaled by the engine.

`Event` is the base of every journaled event, of every layer: msgspec tagged Structs
(the tag is the class name) encoded array-like in MessagePack. The base lives in the
bottom layer so that presence, router and engine each declare the events they decide;
engine.events gathers them into the journal's one union. New fields go at the end with
a default so old journals still decode; a class's name is its tag, never renamed.
"""

from __future__ import annotations

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


class ResponseTimedOut(Event):
    """The agent left order `order_id` unanswered past the response timeout: it goes
    `not_responding` (if it is not already) and the order is taken back (OrderReleased)."""

    agent_id: str
    order_id: str


class WrapUpEnded(Event):
    """The agent's `slots` earliest wrap-up slots ended: their capacity is free again."""

    agent_id: str
    slots: int
