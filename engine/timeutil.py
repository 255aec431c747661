"""Times on the wire are RFC 3339 strings; inside they are integer epoch milliseconds.

Integers keep folds exact (utilization to the second, no float drift) and make
comparisons cheap on the routing hot path.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

MS = 1000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MS = timedelta(milliseconds=1)


def parse_time(text: str) -> int:
    """Parse an RFC 3339 time with an explicit offset into epoch milliseconds.

    Raises ValueError with a message naming the bad text; callers add the field name.
    """
    if not isinstance(text, str) or len(text) < 20:
        raise ValueError(f"{text!r} is not an RFC 3339 time like '2026-11-23T08:00:00Z'")
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"{text!r} is not an RFC 3339 time like '2026-11-23T08:00:00Z'"
        ) from None
    if dt.tzinfo is None:
        raise ValueError(f"{text!r} has no UTC offset; add 'Z' or '+08:00'")
    return (dt - _EPOCH) // _ONE_MS


def format_time(ms: int) -> str:
    """Format epoch milliseconds as RFC 3339 UTC, with milliseconds only when non-zero."""
    secs, rem = divmod(ms, MS)
    base = datetime.fromtimestamp(secs, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{base}.{rem:03d}Z" if rem else f"{base}Z"


def format_opt(ms: int | None) -> str | None:
    return None if ms is None else format_time(ms)
