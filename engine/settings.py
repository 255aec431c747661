"""Center settings that change behaviour; journaled, so replay sees what was in force."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from engine.errors import Invalid

MAX_WINDOW_S = 24 * 3600


@dataclass(slots=True, frozen=True)
class Settings:
    # Free self-logout when the shift in progress ends within this many seconds.
    logout_grace_s: int = 600
    # No new orders for an agent this close to its shift end while others have room.
    stop_new_before_end_s: int = 300
    # Months and days of reports are calendar periods in this zone.
    timezone: str = "Asia/Shanghai"

    def validated(self) -> Settings:
        for name in ("logout_grace_s", "stop_new_before_end_s"):
            value = getattr(self, name)
            if not 0 <= value <= MAX_WINDOW_S:
                raise Invalid(name, f"{name} {value} is out of range 0..{MAX_WINDOW_S}")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise Invalid(
                "timezone", f"timezone {self.timezone!r} is not an IANA zone name"
            ) from None
        return self
