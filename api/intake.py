"""Order intake: one body or a batch item in, a checked `NewOrder` command out.

The digest that makes retries idempotent is blake2b-128 of
`[skill, priority, payload]` encoded with sorted keys, so key order in the
payload does not matter; the payload is kept as its JSON bytes. An order with a
`customer_id` or `preferred_agent_id` digests `[skill, priority, payload,
customer_id, preferred_agent_id]` (orders without them keep the digest they
always had, so retries of orders journaled before still match).
"""

from __future__ import annotations

import re
from hashlib import blake2b

import msgspec

from api.body import (
    TooDeep,
    check_agent_id,
    check_new_order_id,
    decode,
    too_deep,
    validation_error,
)
from api.errors import MalformedJson
from api.schemas import MAX_BATCH, OrderIn, OrdersBatchIn
from engine.commands import NewOrder
from engine.errors import Invalid, SeatflowError
from engine.views import ErrorBody, ErrorInfo

_order = msgspec.json.Decoder(OrderIn)
_batch = msgspec.json.Decoder(OrdersBatchIn)
_sorted = msgspec.json.Encoder(order="sorted")


def new_order(o: OrderIn, prefix: str = "") -> NewOrder:
    check_new_order_id(o.id, f"{prefix}id")
    digested: list[object] = [o.skill, o.priority, o.payload]
    if o.customer_id is not None or o.preferred_agent_id is not None:
        if o.customer_id is not None:
            check_new_order_id(o.customer_id, f"{prefix}customer_id")
        if o.preferred_agent_id is not None:
            check_agent_id(o.preferred_agent_id, f"{prefix}preferred_agent_id")
        digested += [o.customer_id, o.preferred_agent_id]
    digest = blake2b(_sorted.encode(digested), digest_size=16).digest()
    payload = None if o.payload is None else _sorted.encode(o.payload)
    return NewOrder(o.id, o.skill, o.priority, digest, payload, o.customer_id, o.preferred_agent_id)


def decode_order(data: bytes) -> NewOrder:
    return new_order(decode(_order, data))


def _decode_item(raw: msgspec.Raw | bytes, i: int) -> NewOrder:
    prefix = f"orders[{i}]"
    try:
        item = _order.decode(raw)
    except msgspec.ValidationError as exc:
        raise validation_error(exc, prefix) from None
    except msgspec.DecodeError as exc:  # only from split_orders' items: the envelope parsed
        raise MalformedJson(f"{prefix} is not valid JSON: {exc}") from None
    except RecursionError:
        raise too_deep(prefix) from None
    return new_order(item, prefix + ".")


_ENVELOPE = re.compile(rb'\s*\{\s*"orders"\s*:\s*\[(?P<items>.*)\]\s*\}\s*', re.S)
_QUOTE, _BACKSLASH, _COMMA = 0x22, 0x5C, 0x2C
_OPEN, _CLOSE = frozenset(b"[{"), frozenset(b"]}")


def _top_level_commas(body: bytes) -> list[int] | None:
    """Where `body` (JSON values and commas) splits into values; None if it does not balance."""
    commas, depth, in_string, escaped = [], 0, False, False
    for i, c in enumerate(body):
        if in_string:
            escaped, in_string = (False, True) if escaped else (c == _BACKSLASH, c != _QUOTE)
        elif c == _QUOTE:
            in_string = True
        elif c in _OPEN:
            depth += 1
        elif c in _CLOSE:
            depth -= 1
        elif c == _COMMA and depth == 0:
            commas.append(i)
    return None if depth or in_string else commas


def split_orders(data: bytes) -> list[bytes] | None:
    """The raw items of `{"orders": [...]}`, split without recursion, or None if it is not
    that shape. Only for a batch msgspec cannot decode for its depth (so one too-deep
    item is an error at its place, not the whole batch's): a Python loop over the body."""
    m = _ENVELOPE.fullmatch(data)
    commas = None if m is None else _top_level_commas(m["items"])
    if m is None or commas is None:
        return None
    body = m["items"]
    if not commas and not body.strip():
        return []
    edges = [-1, *commas, len(body)]
    return [body[a + 1 : b] for a, b in zip(edges, edges[1:], strict=False)]


def error_body(exc: SeatflowError) -> ErrorBody:
    return ErrorBody(ErrorInfo(exc.code, exc.message, exc.detail))


def decode_batch(data: bytes) -> tuple[list[NewOrder], list[int], list[ErrorBody | None]]:
    """The good orders, their positions, and a result slot per item (errors filled in)."""
    items: list[msgspec.Raw] | list[bytes]
    try:
        items = decode(_batch, data).orders
    except TooDeep:
        split = split_orders(data)
        if split is None:
            raise
        items = split
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
