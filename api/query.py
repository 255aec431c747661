"""Times in query strings and bodies: RFC 3339 text to epoch ms, errors naming the field."""

from __future__ import annotations

from api.body import check_agent_id
from engine.errors import Invalid
from presence.timeutil import TIME_MAX, TIME_MIN, format_time, parse_time

FAR = 1 << 62


def time_field(text: str, field: str) -> int:
    """A time from a body, a query or the test clock: RFC 3339, inside [1970, 2200)."""
    try:
        at = parse_time(text)
    except ValueError as exc:
        raise Invalid(field, f"{field}: {exc}") from None
    return in_range(at, field, text)


def in_range(at: int, field: str, text: object) -> int:
    """A 422 for a time outside what seatflow keeps (and can format): 1970 .. 2200."""
    if not TIME_MIN <= at < TIME_MAX:
        first, end = format_time(TIME_MIN)[:10], format_time(TIME_MAX)[:10]
        raise Invalid(field, f"{field} {str(text)[:40]!r} is outside {first} .. {end}")
    return at


def parse_bound(
    lo_text: str | None, hi_text: str | None, default_lo: int = 0, default_hi: int = FAR
) -> tuple[int, int]:
    """Optional `from`/`to` query bounds as a half-open window [lo, hi)."""
    lo = default_lo if lo_text is None else time_field(lo_text, "from")
    hi = default_hi if hi_text is None else time_field(hi_text, "to")
    if hi <= lo:
        raise Invalid("to", "to must be after from")
    return lo, hi


def agent_window(
    agent_id: str | None,
    lo_text: str | None,
    hi_text: str | None,
    default_lo: int = 0,
    default_hi: int = FAR,
) -> tuple[int, int]:
    """The `?agent_id=&from=&to=` filter of list and report routes, checked: [lo, hi)."""
    if agent_id is not None:
        check_agent_id(agent_id)
    return parse_bound(lo_text, hi_text, default_lo, default_hi)
