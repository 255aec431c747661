"""Retention: completed orders past `order_retention_days` leave memory for the archive.

The archive is a key-value store of order records (id -> the order as it last stood)
kept by the journal backend itself: its rows are written in the same durable write as
the record that changes them (`OrdersArchived`, and a late QA result on an archived
order), so the archive and the journal can never disagree, whatever crashes. The fold
never reads it: the events carry what state needs (engine.state), so replay is pure.
Handlers read it for ids not in memory that the archived-ids filter may hold (a new id
reads nothing: engine.archived_ids), so an archived id stays taken for the life of the
center (an idempotent retry, a 409 conflict) with no set of ids in memory.

`Recent` holds the rows of records not yet durable (and, for a grace period, of those
just written) so a lookup between an order leaving memory and its row landing still
finds it.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterable

import msgspec

from engine import commands as cmd
from engine import events as ev
from engine.changes import Changes, Reply
from engine.state import State
from router.order import COMPLETED, Order

# One sweep's record holds at most this many orders: a backlog (after a long pause, or
# a shorter window) is archived over several commands, each a few milliseconds.
SWEEP_LIMIT = 2000
# A sweep runs once the oldest completed order is this far past the window: one record
# per minute of completions rather than one per command.
SWEEP_SLACK_MS = 60_000
# How long a written row stays in `Recent` after it is durable: longer than any lookup
# that started before the write takes (a Redis owner's HMGET ahead of its commands,
# engine.redis_backend.prefetch, gives up within ~10 s: 2 s timeouts, one retry).
RECENT_GRACE_S = 60.0

_encode = msgspec.msgpack.Encoder().encode
_decode = msgspec.msgpack.Decoder(list).decode


def encode_order(order: Order) -> bytes:
    """The order's fields in declaration order: new fields go last with a default, so
    rows written by older code still decode."""
    return _encode(msgspec.structs.astuple(order))


def decode_order(data: bytes) -> Order:
    order = Order(*_decode(data))
    order.archived = True
    return order


def sweep_due(state: State, now: int) -> bool:
    """O(1): is the oldest completed order in memory well past the retention window?"""
    done = state.done
    if not done:
        return False
    order = state.orders.get(done[0])
    if order is None or order.completed_at is None:
        return True  # a stale entry: the sweep drops it
    return order.completed_at < now - state.settings.retention_ms - SWEEP_SLACK_MS


def due_orders(state: State, now: int, limit: int) -> list[Order]:
    """The completed orders past the window, oldest completion first, at most `limit`."""
    cutoff = now - state.settings.retention_ms
    picked: list[Order] = []
    for order_id in state.done:
        order = state.orders.get(order_id)
        if order is None or order.status != COMPLETED or order.completed_at is None:
            continue
        if order.completed_at >= cutoff or len(picked) >= limit:
            break
        picked.append(order)
    return picked


def archive_orders(ch: Changes, c: cmd.ArchiveOrders) -> Reply:
    """The sweep: rows written with its record, then the orders leave memory."""
    picked = due_orders(ch.state, ch.now, c.limit)
    if picked or sweep_due(ch.state, ch.now):  # stale entries alone: the fold drops them
        ch.write_archive([msgspec.structs.replace(o, archived=True) for o in picked])
        cutoff = ch.now - ch.state.settings.retention_ms
        ch.emit(ev.OrdersArchived([o.id for o in picked], cutoff))
    return Reply(200, len(picked))


def order_ids(command: cmd.Command) -> list[str]:
    """The order ids a command names (those that may be archived)."""
    if isinstance(command, cmd.SubmitOrders):
        return [o.id for o in command.orders]
    if isinstance(command, cmd.RecordQa | cmd.CompleteOrder | cmd.RecordResponse):
        return [command.order_id]
    return []


class Recent:
    """Archive rows written by records not yet durable, and for a while after."""

    __slots__ = ("_rows", "_expiry", "grace_s")

    def __init__(self, grace_s: float = RECENT_GRACE_S) -> None:
        self._rows: dict[str, Order] = {}
        self._expiry: deque[tuple[float, str, Order]] = deque()
        self.grace_s = grace_s

    def __len__(self) -> int:
        return len(self._rows)

    def hold(self, orders: Iterable[Order]) -> list[Order]:
        held = list(orders)
        for order in held:
            self._rows[order.id] = order
        return held

    def written(self, orders: list[Order]) -> None:
        """The record carrying `orders` is durable: they expire after the grace period."""
        until = time.monotonic() + self.grace_s
        self._expiry.extend((until, o.id, o) for o in orders)
        self._forget(time.monotonic())

    def get(self, order_id: str) -> Order | None:
        return self._rows.get(order_id)

    def _forget(self, now: float) -> None:
        expiry, rows = self._expiry, self._rows
        while expiry and expiry[0][0] <= now:
            _, order_id, order = expiry.popleft()
            if rows.get(order_id) is order:  # not written again since
                del rows[order_id]
