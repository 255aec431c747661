"""Injected clocks. The core never reads time itself; the engine asks its clock.

`RealClock` is wall time. `ManualClock` only moves when told to (tests, demos,
simulations of whole days in seconds).
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    manual: bool

    def now_ms(self) -> int: ...


class RealClock:
    manual = False

    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000


class ManualClock:
    manual = True

    def __init__(self, start_ms: int = 0) -> None:
        self._now = start_ms

    def now_ms(self) -> int:
        return self._now

    def set(self, ms: int) -> None:
        self._now = ms

    def advance(self, ms: int) -> None:
        self._now += ms


def start_manual(clock: Clock, last_recorded: int, start_ms: int | None = None) -> bool:
    """Start a manual clock on a new journal: at `start_ms`, else at wall time (whole second).

    A journal with history keeps its time: the engine's clock never shows a time
    before its last record (Engine.follow_clock). Returns whether the clock was started.
    """
    if not isinstance(clock, ManualClock) or last_recorded != 0:
        return False
    clock.set(start_ms if start_ms is not None else RealClock().now_ms() // 1000 * 1000)
    return True
