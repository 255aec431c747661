"""Order intake: one body or a batch item in, a checked `NewOrder` command out.

The digest that makes retries idempotent is blake2b-128 of
`[skill, priority, payload]` encoded with sorted keys, so key order in the
payload does not matter; the payload is kept as its JSON bytes.
"""

from __future__ import annotations

from hashlib import blake2b

import msgspec

from api.body import check_order_id, decode, validation_error
from api.schemas import MAX_BATCH, OrderIn, OrdersBatchIn
from engine.commands import NewOrder
from engine.errors import Invalid, SeatflowError
from engine.views import ErrorBody, ErrorInfo

_order = msgspec.json.Decoder(OrderIn)
_batch = msgspec.json.Decoder(OrdersBatchIn)
_sorted = msgspec.json.Encoder(order="sorted")


def new_order(o: OrderIn, prefix: str = "") -> NewOrder:
    check_order_id(o.id, f"{prefix}id")
    digest = blake2b(_sorted.encode([o.skill, o.priority, o.payload]), digest_size=16).digest()
    payload = None if o.payload is None else _sorted.encode(o.payload)
    return NewOrder(o.id, o.skill, o.priority, digest, payload)


def decode_order(data: bytes) -> NewOrder:
    return new_order(decode(_order, data))


def _decode_item(raw: msgspec.Raw, i: int) -> NewOrder:
    prefix = f"orders[{i}]"
    try:
        item = _order.decode(raw)
    except msgspec.ValidationError as exc:
        raise validation_error(exc, prefix) from None
    return new_order(item, prefix + ".")


def error_body(exc: SeatflowError) -> ErrorBody:
    return ErrorBody(ErrorInfo(exc.code, exc.message, exc.detail))


def decode_batch(data: bytes) -> tuple[list[NewOrder], list[int], list[ErrorBody | None]]:
    """The good orders, their positions, and a result slot per item (errors filled in)."""
    items = decode(_batch, data).orders
    if not 1 <= len(items) <= MAX_BATCH:
        raise Invalid("orders", f"orders must hold 1..{MAX_BATCH} orders, got {len(items)}")
    good: list[NewOrder] = []
    where: list[int] = []
    slots: list[ErrorBody | None] = [None] * len(items)
    for i, raw in enumerate(items):
        try:
            good.append(_decode_item(raw, i))
        except SeatflowError as exc:
            slots[i] = error_body(exc)
        else:
            where.append(i)
    return good, where, slots
