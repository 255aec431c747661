"""What a handler works with: `Changes`, the events of one command applied as emitted,
and `Reply`, its answer. Apart from the handlers so that each module of them
(engine.handlers, engine.routing, engine.lifecycle) shares one definition."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine import events as ev
from engine.state import State, apply


@dataclass(slots=True)
class Reply:
    """A handler's answer: an HTTP-like status and the body to encode."""

    status: int
    body: Any


@dataclass(slots=True)
class Changes:
    """The events one command produced, each applied to state the moment it is emitted."""

    state: State
    now: int
    events: list[ev.Event] = field(default_factory=list)

    def emit(self, *events: ev.Event) -> None:
        for e in events:
            apply(self.state, e, self.now)
            self.events.append(e)
