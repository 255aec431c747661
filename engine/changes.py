"""What a handler works with: `Changes`, the events of one command applied as emitted,
and `Reply`, its answer. Apart from the handlers so that each module of them
(engine.handlers, engine.routing, engine.lifecycle) shares one definition."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import msgspec

from engine import events as ev
from engine.state import State, apply
from router.order import Order

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
    # An order past the retention window by id (engine.archive), or None: the archive
    # as of this command, rows it writes included.
    archive: Callable[[str], Order | None] = lambda _: None
    # Order rows this command writes to the archive, with its record.
    archive_writes: list[Order] = field(default_factory=list)
    # (month, frozen report) of the months this command closes, written with its record.
    closed_writes: list[tuple[str, bytes]] = field(default_factory=list)

    def find(self, order_id: str) -> Order | None:
        """The order in memory, else in the archive (archived=True), else None."""
        order = self.state.orders.get(order_id)
        if order is not None:
            return order
        for written in reversed(self.archive_writes):
            if written.id == order_id:
                return written
        return self.archive(order_id)

    def write_archive(self, orders: list[Order]) -> None:
        self.archive_writes.extend(orders)

    def emit(self, *events: ev.Event) -> None:
        for e in events:
            self.touched = True
            apply(self.state, e, self.now)
            self.events.append(e)
