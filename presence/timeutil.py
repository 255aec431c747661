"""Times on the wire are RFC 3339 strings; inside they are integer epoch milliseconds.

Integers keep folds exact (utilization to the second, no float drift) and make
comparisons cheap on the routing hot path.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from functools import lru_cache

MS = 1000
# Times seatflow takes from outside lie in [TIME_MIN, TIME_MAX): 1970-01-01 .. 2200-01-01 UTC.
TIME_MIN = 0
TIME_MAX = 7_258_118_400_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MS = timedelta(milliseconds=1)
# RFC 3339 date-time; the offset is checked separately for a more helpful message.
_RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?(?P<offset>[Zz]|[+-]\d{2}:\d{2})?",
    re.ASCII,  # digits are ASCII digits, not any script's
)


def parse_time(text: str) -> int:
    """Parse an RFC 3339 time with an explicit offset into epoch milliseconds.

    Raises ValueError with a message naming the bad text; callers add the field name.
    """
    bad = f"{text!r} is not an RFC 3339 time like '2026-11-23T08:00:00Z'"
    match = _RFC3339.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise ValueError(bad)
    if match["offset"] is None:
        raise ValueError(f"{text!r} has no UTC offset; add 'Z' or '+08:00'")
    fraction = match[1] or ""
    # fromisoformat takes at most 6 fraction digits; milliseconds are all we keep.
    iso = text[:19] + fraction[:7] + ("+00:00" if match["offset"] in "Zz" else match["offset"])
    try:
        return (datetime.fromisoformat(iso) - _EPOCH) // _ONE_MS
    except (ValueError, OverflowError):  # 0001-01-01T00:00:00+01:00 is before year 1 in UTC
        raise ValueError(bad) from None


@lru_cache(maxsize=256)
def _date(days: int) -> str:
    return (_EPOCH + timedelta(days=days)).strftime("%Y-%m-%d")


def format_time(ms: int) -> str:
    """Format epoch milliseconds as RFC 3339 UTC, with milliseconds only when non-zero.

    Every order view formats two or three times; strftime per call was a third of
    the cost of taking an order, so the date part is cached per day.
    """
    secs, rem = divmod(ms, MS)
    days, secs = divmod(secs, 86400)
    hours, secs = divmod(secs, 3600)
    minutes, secs = divmod(secs, 60)
    base = f"{_date(days)}T{hours:02d}:{minutes:02d}:{secs:02d}"
    return f"{base}.{rem:03d}Z" if rem else f"{base}Z"


def format_opt(ms: int | None) -> str | None:
    return None if ms is None else format_time(ms)
