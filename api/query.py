"""Times in query strings and bodies: RFC 3339 text to epoch ms, errors naming the field."""

from __future__ import annotations

from engine.errors import Invalid
from engine.timeutil import parse_time

FAR = 1 << 62


def time_field(text: str, field: str) -> int:
    try:
        return parse_time(text)
    except ValueError as exc:
        raise Invalid(field, f"{field}: {exc}") from None


def parse_bound(lo_text: str | None, hi_text: str | None) -> tuple[int, int]:
    """Optional `from`/`to` query bounds as a half-open window [lo, hi)."""
    lo = 0 if lo_text is None else time_field(lo_text, "from")
    hi = FAR if hi_text is None else time_field(hi_text, "to")
    if hi <= lo:
        raise Invalid("to", "to must be after from")
    return lo, hi
