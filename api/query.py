"""Times in query strings and bodies: RFC 3339 text to epoch ms, errors naming the field."""

from __future__ import annotations

from api.body import check_agent_id
from engine.errors import Invalid
from presence.timeutil import parse_time

FAR = 1 << 62


def time_field(text: str, field: str) -> int:
    try:
        return parse_time(text)
    except ValueError as exc:
        raise Invalid(field, f"{field}: {exc}") from None


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
