"""Request bodies: read raw (with the 1 MiB limit), decode with reused typed decoders.

msgspec errors become the API's errors: not JSON (or not the object a route
needs) is 400 `malformed_json`; a wrong type, a missing or an unknown field is 422
`invalid_field` whose detail names the field in path form (`shifts[0].start`).
"""

from __future__ import annotations

import re
from typing import TypeVar

import msgspec
from starlette.requests import Request

from api.errors import BodyTooLarge, MalformedJson
from engine.errors import Invalid

MAX_BODY = 1 << 20  # 1 MiB

T = TypeVar("T")

_AT = re.compile(r"^(?P<msg>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.S)
_NAMED = re.compile(r"^Object (?:contains unknown|missing required) field `(?P<name>[^`]*)`$")


async def read_body(request: Request) -> bytes:
    """The whole body, refusing (413) past MAX_BODY by the header or by counting bytes."""
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > MAX_BODY:
        raise BodyTooLarge(f"request body of {length} bytes is over the limit of {MAX_BODY} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise BodyTooLarge(f"request body is over the limit of {MAX_BODY} bytes")
        chunks.append(chunk)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def join_path(prefix: str, path: str) -> str:
    """`orders[3]` + `.priority` -> `orders[3].priority`; `` + `.id` -> `id`."""
    return (prefix + path).lstrip(".")


def validation_error(exc: msgspec.ValidationError, prefix: str = "") -> Invalid | MalformedJson:
    """Turn msgspec's message into an error that names the field in path form."""
    m = _AT.match(str(exc))
    msg = m.group("msg") if m else str(exc)
    path = (m.group("path") if m else None) or ""
    named = _NAMED.match(msg)
    if named:
        field = join_path(prefix, f"{path}.{named.group('name')}")
        kind = "unknown field" if "unknown" in msg else "missing required field"
        return Invalid(field, f"{kind} {field!r}")
    field = join_path(prefix, path)
    if not field:
        return MalformedJson(f"request body must be a JSON object: {msg[0].lower()}{msg[1:]}")
    return Invalid(field, f"{field}: {msg}")


def decode(decoder: msgspec.json.Decoder[T], data: bytes) -> T:
    """Decode a whole body; raises MalformedJson (400) or Invalid (422)."""
    if not data:
        raise MalformedJson("request body is empty; a JSON object is required")
    try:
        return decoder.decode(data)
    except msgspec.ValidationError as exc:
        raise validation_error(exc) from None
    except msgspec.DecodeError as exc:
        raise MalformedJson(f"request body is not valid JSON: {exc}") from None
    except RecursionError:
        raise too_deep("request body") from None


class TooDeep(MalformedJson):
    """Valid JSON, maybe, but nested deeper than msgspec decodes (it stops near 1,000)."""


def too_deep(what: str) -> TooDeep:
    return TooDeep(f"{what} is JSON nested too deeply to decode (about 1,000 levels at most)")


async def read_json(request: Request, decoder: msgspec.json.Decoder[T]) -> T:
    return decode(decoder, await read_body(request))


# -- ids in paths and bodies -----------------------------------------------------------

MAX_ID = 128
# fullmatch, not ^...$: "$" also matches before a final newline, so "a1\n" would pass.
# The texts are public: api.patterns states the same rules in the OpenAPI document.
AGENT_ID_CHARS = r"[A-Za-z0-9][A-Za-z0-9._:@-]*"
_AGENT_ID = re.compile(AGENT_ID_CHARS)
# A new order's id is ASCII printable, U+0020..U+007E (API.md 1.1, "Hardening"). Ids an
# older journal holds may be any printable text: a lookup checks only the length, and an
# id no order has (control characters included) is just unknown, a 404.
NEW_ORDER_ID_CHARS = r"[ -~]*"
_NEW_ORDER_ID = re.compile(NEW_ORDER_ID_CHARS)


def check_agent_id(agent_id: str, field: str = "agent_id") -> str:
    if not 1 <= len(agent_id) <= MAX_ID or not _AGENT_ID.fullmatch(agent_id):
        raise Invalid(
            field,
            f"{field} {agent_id[: MAX_ID + 1]!r} must be 1..{MAX_ID} characters of letters, digits "
            "and . _ : @ - starting with a letter or digit",
        )
    return agent_id


def check_order_id(order_id: str, field: str = "order_id") -> str:
    """An order id to look up: 1..MAX_ID characters of any kind (older ids may be any)."""
    if not 1 <= len(order_id) <= MAX_ID:
        raise Invalid(field, f"{field} must be 1..{MAX_ID} characters, got {len(order_id)}")
    return order_id


def check_new_order_id(order_id: str, field: str = "id") -> str:
    """The id of an order being submitted: ASCII printable, 1..MAX_ID characters."""
    check_order_id(order_id, field)
    if not _NEW_ORDER_ID.fullmatch(order_id):
        raise Invalid(
            field,
            f"{field} {order_id!r} must be ASCII printable text: letters, digits, space and "
            "punctuation (U+0020..U+007E)",
        )
    return order_id
