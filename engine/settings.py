"""Center settings that change behaviour; journaled, so replay sees what was in force."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from engine.errors import Invalid
from engine.i18n import check_language

MAX_WINDOW_S = 24 * 3600
MAX_PLACES = 10
MAX_POINTS = 1000
MAX_BOTTOM_N = 1000
RESPONSE_TIMEOUT_MIN, RESPONSE_TIMEOUT_MAX = 10, 3600
MAX_WRAP_UP_S = 600
MAX_STICKY_WINDOW_S = 30 * 24 * 3600
RETENTION_DAYS_MIN, RETENTION_DAYS_MAX = 1, 400
DAY_MS = 24 * 3600 * 1000


@dataclass(slots=True, frozen=True)
class Settings:
    # Free self-logout when the shift in progress ends within this many seconds.
    logout_grace_s: int = 600
    # No new orders for an agent this close to its shift end while others have room.
    stop_new_before_end_s: int = 300
    # Months and days of reports are calendar periods in this zone.
    timezone: str = "Asia/Shanghai"
    # Weekly contest points for places 1, 2, 3, ... on each board.
    contest_points: tuple[int, ...] = (3, 2, 1)
    # Warnings list agents in the bottom N of a key KPI two months running.
    warning_bottom_n: int = 3
    # The language of payroll exports when a request names none (engine.i18n.LANGUAGES).
    language: str = "en"
    # An order assigned this long with no first response is taken back (0 = off).
    response_timeout_s: int = 0
    # After a completion the agent's slot stays taken this long (wrap-up).
    wrap_up_s: int = 0
    # A returning customer's order goes to its last agent within this window (0 = off).
    sticky_window_s: int = 0
    # Completed orders older than this leave the live state for the archive (issue 12).
    order_retention_days: int = 2

    def validated(self) -> Settings:
        for name in ("logout_grace_s", "stop_new_before_end_s"):
            value = getattr(self, name)
            if not 0 <= value <= MAX_WINDOW_S:
                raise Invalid(name, f"{name} {value} is out of range 0..{MAX_WINDOW_S}")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: "America" is a folder
            raise Invalid(
                "timezone", f"timezone {self.timezone!r} is not an IANA zone name"
            ) from None
        if not 1 <= len(self.contest_points) <= MAX_PLACES or not all(
            0 <= p <= MAX_POINTS for p in self.contest_points
        ):
            raise Invalid(
                "contest_points",
                f"contest_points {list(self.contest_points)} must be 1..{MAX_PLACES} "
                f"whole numbers of 0..{MAX_POINTS} points",
            )
        if not 1 <= self.warning_bottom_n <= MAX_BOTTOM_N:
            raise Invalid(
                "warning_bottom_n",
                f"warning_bottom_n {self.warning_bottom_n} is out of range 1..{MAX_BOTTOM_N}",
            )
        check_language(self.language, "language")
        t = self.response_timeout_s
        if t != 0 and not RESPONSE_TIMEOUT_MIN <= t <= RESPONSE_TIMEOUT_MAX:
            raise Invalid(
                "response_timeout_s",
                f"response_timeout_s {t} is out of range: 0 (off) or "
                f"{RESPONSE_TIMEOUT_MIN}..{RESPONSE_TIMEOUT_MAX}",
            )
        for name, top in (("wrap_up_s", MAX_WRAP_UP_S), ("sticky_window_s", MAX_STICKY_WINDOW_S)):
            value = getattr(self, name)
            if not 0 <= value <= top:
                raise Invalid(name, f"{name} {value} is out of range 0..{top}")
        days = self.order_retention_days
        if not RETENTION_DAYS_MIN <= days <= RETENTION_DAYS_MAX:
            raise Invalid(
                "order_retention_days",
                f"order_retention_days {days} is out of range "
                f"{RETENTION_DAYS_MIN}..{RETENTION_DAYS_MAX}",
            )
        return self

    @property
    def retention_ms(self) -> int:
        return self.order_retention_days * DAY_MS
