"""When lifecycle timers fire: before every command, and on a real clock by themselves.

Deadlines (engine.deadlines) are due at a time; what firing does is decided by
engine.lifecycle and journaled as events, so replay applies it and never runs a
timer. Two ways they fire, both through the single writer:

- before every command: `Engine.execute` runs `FireTimers` first when anything is
  due by the command's time, in a record of its own, at that time, through the same
  guarded path as any command. A manual clock moves only by commands, so its timers
  fire as of the move that passes them (`POST /v1/admin/clock` included).
- `TimerDriver`: on a real clock, a call_later for the earliest deadline runs
  `FireTimers` when it comes due, with no request needed. Re-armed from the
  engine's records (a listener), so it follows new deadlines; one pending
  handle, O(1) per record. Only a writer runs one: the SQLite server's engine, or
  the Redis owner's (a follower only applies the journal).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from engine.changes import Reply
from engine.commands import Command, FireTimers
from engine.errors import SeatflowError
from engine.events import Record

if TYPE_CHECKING:  # engine.core constructs no driver itself: no cycle at run time
    from engine.core import Engine

log = logging.getLogger("seatflow.timers")


class TimerDriver:
    def __init__(
        self, engine: Engine, execute: Callable[[Command], Awaitable[Reply]] | None = None
    ) -> None:
        self.engine = engine
        # How to run FireTimers: the engine itself, or a Redis owner's guarded path.
        self._execute = execute or engine.execute
        self._handle: asyncio.TimerHandle | None = None
        self._armed_for: int | None = None
        self._task: asyncio.Task[None] | None = None
        self._running = False
        self.fired = 0

    def start(self) -> None:
        """Arm for the earliest deadline; a manual clock needs none (its moves fire them)."""
        if self.engine.clock.manual or self._running:
            return
        self._running = True
        self.engine.driver = self
        self.engine.listeners.append(self._on_record)
        self.arm()

    def stop(self) -> None:
        self._running = False
        if self._handle is not None:
            self._handle.cancel()
        self._handle = self._armed_for = None
        if self._on_record in self.engine.listeners:
            self.engine.listeners.remove(self._on_record)
        if self.engine.driver is self:
            self.engine.driver = None

    def _on_record(self, record: Record) -> None:
        self.arm()

    def arm(self) -> None:
        """Wake at the earliest deadline (unless already waking no later than that)."""
        if not self._running or self._task is not None:
            return
        due = self.engine.state.deadlines.next_due()
        if due is None or (self._armed_for is not None and self._armed_for <= due):
            return
        if self._handle is not None:
            self._handle.cancel()
        delay_s = max(0, due - self.engine.now()) / 1000
        self._armed_for = due
        self._handle = asyncio.get_running_loop().call_later(delay_s, self._wake)

    def _wake(self) -> None:
        self._handle = self._armed_for = None
        if self._running and self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._fire())

    async def _fire(self) -> None:
        engine = self.engine
        try:
            if engine.ready and engine.state.deadlines.due(engine.now()):
                await self._execute(FireTimers())
                self.fired += 1
        except SeatflowError as exc:  # the journal failed: the engine refuses from now on
            log.error("lifecycle timers could not fire: %s", exc.message)
        finally:
            self._task = None
            self.arm()
