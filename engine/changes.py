"""What a handler works with: `Changes`, the events of one command applied as emitted,
and `Reply`, its answer. Apart from the handlers so that each module of them
(engine.handlers, engine.routing, engine.lifecycle) shares one definition."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import msgspec

from engine import events as ev
from engine.state import State, apply

_json = msgspec.json.Encoder().encode


@dataclass(slots=True)
class Reply:
    """A handler's answer: an HTTP-like status, the body, and the body as JSON.

    `seal()` encodes the body; the engine seals every reply before it journals the
    record, so nothing about answering can fail once the record is in the journal.
    """

    status: int
    body: Any
    encoded: bytes = b""

    def seal(self) -> Reply:
        if not self.encoded:
            self.encoded = _json(self.body)
        return self


@dataclass(slots=True)
class Changes:
    """The events one command produced, each applied to state the moment it is emitted."""

    state: State
    now: int
    events: list[ev.Event] = field(default_factory=list)
    # Set once the first event starts to apply: from then on, failing changes state.
    touched: bool = False

    def emit(self, *events: ev.Event) -> None:
        for e in events:
            self.touched = True
            apply(self.state, e, self.now)
            self.events.append(e)
