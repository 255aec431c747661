"""The engine: the single writer of a center's state, in front of its journal.

    execute(command)
      now = clock (never behind the last record)
      advance state to now              (handover re-ranking)
      handler: check, then emit events  (each applied to state at once)
      journal.append(record)            (its place in the log fixed now)
      await durable                     (group commit)
      -> reply

Everything between reading the clock and appending is synchronous, so on one
event loop commands are applied one at a time in journal order: a single writer
without a lock. A reply is sent only after its record is durable; a reply that
reflects earlier, still pending records (an idempotent retry, a read) waits for
those too. If the journal fails, in-memory state is ahead of the log: the engine
refuses every further command (503) until restarted, and replay restores the
durable state.
"""

from __future__ import annotations

import gc
import logging
from typing import cast

from engine.clock import Clock, ManualClock
from engine.commands import Command, SetClock
from engine.errors import Conflict, Unavailable
from engine.events import AnyEvent, Record, decode_record, encode_record
from engine.handlers import Reply, Tx, handle
from engine.journal import Journal, JournalError
from engine.state import State, apply_record

log = logging.getLogger("seatflow.engine")


class Engine:
    def __init__(self, journal: Journal, clock: Clock) -> None:
        self.journal = journal
        self.clock = clock
        self.state = State()
        self.last_seq = 0
        self.failure: str | None = None

    def recover(self) -> int:
        """Rebuild state from the journal; returns the number of records replayed.

        Replay decides nothing, so the routing index is rebuilt once at the end rather
        than kept up to date per event, and the cyclic GC is paused: everything built
        here is long-lived, and is then frozen out of later collections.
        """
        n = 0
        state = self.state
        gc_was_enabled = gc.isenabled()
        gc.disable()
        state.index.suspend()
        try:
            for seq, data in self.journal.replay(self.last_seq):
                apply_record(state, decode_record(data))
                self.last_seq = seq
                n += 1
        finally:
            state.index.rebuild()
            if gc_was_enabled:
                gc.enable()
        gc.freeze()
        if isinstance(self.clock, ManualClock) and self.clock.now_ms() < state.now:
            self.clock.set(state.now)
        return n

    def now(self) -> int:
        t = self.clock.now_ms()
        return t if t > self.state.now else self.state.now

    @property
    def ready(self) -> bool:
        return self.failure is None

    def _check_ready(self) -> None:
        if self.failure is not None:
            raise Unavailable(
                f"the journal failed ({self.failure}); restart seatflow to recover",
                code="journal_failed",
            )

    async def execute(self, command: Command, *, at: int | None = None) -> Reply:
        self._check_ready()
        now = self.now() if at is None else at
        self.state.advance(now)
        tx = Tx(self.state, now)
        try:
            reply = handle(tx, command)
        finally:
            # Events already applied are journaled even if the handler then failed,
            # so state stays the fold of the journal.
            pending = None
            if tx.events:
                record = Record(now, cast(list[AnyEvent], tx.events))
                pending = self.journal.append(encode_record(record))
        try:
            if pending is not None:
                self.last_seq = await pending
            else:
                await self.journal.flush()
        except JournalError as exc:
            self.failure = str(exc)
            log.error("journal failed, refusing further commands: %s", exc)
            self._check_ready()
        return reply

    async def durable(self) -> None:
        """Wait until all state a reader might see is durable (read-your-acks)."""
        self._check_ready()
        try:
            await self.journal.flush()
        except JournalError as exc:
            self.failure = str(exc)
            self._check_ready()

    async def set_clock(self, to: int) -> Reply:
        if not isinstance(self.clock, ManualClock):
            raise Conflict(
                "the clock is real; start the server with --clock manual to move it",
                code="clock_not_manual",
            )
        if to < self.state.now:
            raise Conflict(
                "the clock cannot go back before the last recorded event", code="clock_backwards"
            )
        self.clock.set(to)
        return await self.execute(SetClock(to), at=to)

    async def run_until_idle(self) -> None:
        """Drain: wait until every appended record is durable (tests, the simulator)."""
        await self.durable()

    async def close(self) -> None:
        await self.journal.close()
