"""Calendar periods of the center: local days, months and ISO weeks in its time zone.

Tallies are keyed by the local date's ordinal (`date.toordinal()`), so a month or a
week is a range of ordinals; the matching time window (epoch ms) comes from
`day_start`, which handles zones whose midnight is skipped or repeated.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from engine.errors import Invalid


def day_start(now_ms: int, timezone: str) -> int:
    """Epoch ms of local midnight, in `timezone`, of the day that contains `now_ms`.

    fold=0 picks the first midnight where clocks fall back across it (America/Havana
    repeats 00:00..01:00), even when `now_ms` lies in the repeated hour; where midnight
    is skipped it maps to the moment the day begins.
    """
    local = datetime.fromtimestamp(now_ms / 1000, UTC).astimezone(ZoneInfo(timezone))
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0, fold=0)
    return int(midnight.timestamp()) * 1000


# fullmatch and ASCII digits: "$" would let a final newline in, \d alone any script's digits.
YEAR_MIN, YEAR_END = 1970, 2200  # months and weeks as times: [1970-01-01, 2200-01-01)
_MONTH = re.compile(r"(\d{4})-(\d{2})", re.ASCII)
_WEEK = re.compile(r"(\d{4})-W(\d{2})", re.ASCII)


def parse_month(text: str, field: str = "month") -> date:
    """'2026-11' -> date(2026, 11, 1); a 422 naming `field` otherwise."""
    m = _MONTH.fullmatch(text)
    if m is None or not 1 <= int(m[2]) <= 12 or not YEAR_MIN <= int(m[1]) < YEAR_END:
        raise Invalid(field, f"{field} {text[:40]!r} is not a month like '2026-11'")
    return date(int(m[1]), int(m[2]), 1)


def next_month(first: date) -> date:
    return date(first.year + first.month // 12, first.month % 12 + 1, 1)


def previous_month(first: date) -> date:
    return date(first.year - (first.month == 1), (first.month - 2) % 12 + 1, 1)


def month_text(first: date) -> str:
    return f"{first.year:04d}-{first.month:02d}"


def parse_week(text: str, field: str = "week") -> date:
    """'2026-W48' -> the Monday of that ISO week; a 422 naming `field` otherwise."""
    m = _WEEK.fullmatch(text)
    if m is not None and YEAR_MIN <= int(m[1]) < YEAR_END:
        try:
            return date.fromisocalendar(int(m[1]), int(m[2]), 1)
        except ValueError:
            pass
    raise Invalid(field, f"{field} {text[:40]!r} is not an ISO week like '2026-W48'")


def week_text(monday: date) -> str:
    year, week, _ = monday.isocalendar()
    return f"{year:04d}-W{week:02d}"


def date_start(d: date, timezone: str) -> int:
    """Epoch ms at which local date `d` begins in `timezone` (noon is always inside it)."""
    noon = datetime(d.year, d.month, d.day, 12, tzinfo=ZoneInfo(timezone))
    return day_start(int(noon.timestamp()) * 1000, timezone)


def window(first: date, end: date, timezone: str) -> tuple[int, int]:
    """[start of `first`, start of `end`) as epoch ms: local dates first .. end - 1."""
    return date_start(first, timezone), date_start(end, timezone)


class LocalDays:
    """Epoch ms -> local date ordinal, O(1): the day last asked for is remembered.

    Events arrive in time order, so nearly every lookup hits the remembered day.
    """

    __slots__ = ("timezone", "_zone", "_lo", "_hi", "_ordinal")

    def __init__(self, timezone: str) -> None:
        self.timezone = timezone
        self._zone = ZoneInfo(timezone)
        self._lo = self._hi = 0
        self._ordinal = 0

    def start(self, ordinal: int) -> int:
        """Epoch ms at which the local day with this date ordinal begins."""
        return date_start(date.fromordinal(ordinal), self.timezone)

    def ordinal(self, ms: int) -> int:
        if self._lo <= ms < self._hi:
            return self._ordinal
        local = datetime.fromtimestamp(ms / 1000, UTC).astimezone(self._zone)
        d = local.date()
        lo = day_start(ms, self.timezone)
        hi = date_start(d + timedelta(days=1), self.timezone)
        if lo <= ms < hi:  # always, but a cache must never answer wrong
            self._lo, self._hi, self._ordinal = lo, hi, d.toordinal()
        return d.toordinal()
