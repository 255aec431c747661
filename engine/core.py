"""The engine: the single writer of a center's state, in front of its journal.

    execute(command)
      now = clock (never behind the last record)
      advance state to now              (handover re-ranking)
      timers due by now fire            (engine.timers: a record of their own, first)
      orders past retention leave       (engine.archive: likewise, when due)
      handler: check, then emit events  (decided by presence and router, applied at once)
      seal the reply, encode the record (everything that can fail is done by now)
      journal.append(record)            (its place in the log fixed now)
      await durable                     (group commit)
      -> reply

Everything between reading the clock and appending is synchronous, so on one
event loop commands are applied one at a time in journal order: a single writer
without a lock. A command either succeeds with a reply that can no longer fail, or
changes nothing: it is refused before any event, or — a bug that failed after state
changed — state is rebuilt from the journal (tests/engine/test_execute_faults.py
injects a failure at every step). A reply is sent only after its record is durable;
a reply that reflects earlier, still pending records (an idempotent retry, a read)
waits for those too. If the journal fails after the append, in-memory state is ahead
of the log: the engine refuses every further command (503) until restarted, and
replay restores the durable state.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from typing import Protocol, cast

from engine.archive import Recent, decode_order, encode_order, sweep_due
from engine.clock import Clock, ManualClock
from engine.commands import ArchiveOrders, Command, FireTimers, FoldPresence, SetClock
from engine.errors import Conflict, Unavailable
from engine.events import AnyEvent, Record, decode_record, encode_record
from engine.handlers import Changes, Reply, handle
from engine.history import fold_due
from engine.journal import Journal, JournalError, LocalJournal
from engine.state import State, apply_record
from presence.timeutil import format_time
from router.order import Order

log = logging.getLogger("seatflow.engine")

# Called with each record once it is durable, in journal order (the live board feed).
# Listeners must be cheap (mark dirty, append to a bounded buffer): they run on the
# event loop between commands. One that raises is logged and never breaks the engine.
Listener = Callable[[Record], None]


class Stoppable(Protocol):
    """What the engine stops at close: the real clock's timer driver (engine.timers)."""

    def stop(self) -> None: ...


class Engine:
    def __init__(self, journal: Journal, clock: Clock) -> None:
        self.journal = journal
        self.clock = clock
        self.state = State()
        self.last_seq = 0
        self.failure: str | None = None
        self._restoring = False
        self.listeners: list[Listener] = []
        # Seconds since the newest checkpoint was written, where checkpoints are kept.
        self.checkpoint_age: Callable[[], float | None] | None = None
        # Run at close, last added first, before the journal closes (a checkpointer).
        self.closers: list[Callable[[], Awaitable[None]]] = []
        # Rebuilds state from scratch (after an internal error): from the newest checkpoint
        # where checkpoints are kept (engine.checkpoint_files), else a full replay.
        self.reload: Callable[[], int] = self.recover
        # Records appended while listeners exist, waiting to become durable, in order.
        self._undelivered: deque[tuple[asyncio.Future[int], Record]] = deque()
        # Fires lifecycle timers on a real clock when no request comes (engine.timers).
        self.driver: Stoppable | None = None
        # The archive (engine.archive): rows in flight, and the store's rows by id. A
        # Redis owner reads its store ahead of each command into `prefetched`.
        self.recent = Recent()
        self.prefetched: dict[str, bytes] = {}
        self._read_archive: Callable[[str], bytes | None] = (
            journal.archived if isinstance(journal, LocalJournal) else self.prefetched.get
        )

    def recover(self, records: Iterable[tuple[int, bytes]] | None = None) -> int:
        """Rebuild state from the journal (or the given (seq, record) pairs); returns their number.

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
            if records is None:
                if not isinstance(self.journal, LocalJournal):
                    raise TypeError(f"{type(self.journal).__name__} is read by its node")
                first = getattr(self.journal, "first", 1)
                if self.last_seq + 1 < first:
                    raise JournalError(
                        f"records {self.last_seq + 1}..{first - 1} were moved out to journal "
                        "segments: start from a checkpoint at or after record "
                        f"{first - 1}, or replay with the segments (seatflow replay --segments)"
                    )
                records = self.journal.replay(self.last_seq)
            for seq, data in records:
                apply_record(state, decode_record(data))
                self.last_seq = seq
                n += 1
        finally:
            state.index.rebuild()
            if gc_was_enabled:
                gc.enable()
        gc.freeze()
        self.follow_clock()
        return n

    def archived(self, order_id: str) -> Order | None:
        """An order past the retention window (archived=True), or None: rows of records
        still being written first."""
        order = self.recent.get(order_id)
        if order is not None:
            return order
        if not self.state.archived_ids.may_hold(order_id):
            return None  # never archived: nothing to read (engine.archived_ids)
        data = self._read_archive(order_id)
        return None if data is None else decode_order(data)

    async def find_archived(self, order_id: str) -> Order | None:
        return self.archived(order_id)

    def follow_clock(self) -> None:
        """A manual clock never shows a time before the last recorded event."""
        if isinstance(self.clock, ManualClock) and self.clock.now_ms() < self.state.now:
            self.clock.set(self.state.now)

    def notify(self, record: Record) -> None:
        """Hand a durable record to the listeners; one that raises is logged, never fatal."""
        for listener in self.listeners:
            try:
                listener(record)
            except Exception:
                log.exception("engine listener %r failed; the engine goes on", listener)

    def now(self) -> int:
        t = self.clock.now_ms()
        return t if t > self.state.now else self.state.now

    @property
    def ready(self) -> bool:
        return self.failure is None

    def _check_ready(self) -> None:
        if self._restoring:
            raise Unavailable(
                f"seatflow is rebuilding its state after {self.failure}; retry in a moment",
                code="restoring",
            )
        if self.failure is not None:
            raise Unavailable(
                f"the journal failed ({self.failure}); restart seatflow to recover",
                code="journal_failed",
            )

    async def execute(self, command: Command, *, at: int | None = None) -> Reply:
        self._check_ready()
        now = self.now() if at is None else at
        if not isinstance(command, FireTimers | ArchiveOrders | FoldPresence):
            if self.state.deadlines.due(now):
                # Lifecycle timers due by now fire first, in a record of their own, through
                # the same guarded path (a manual clock's move fires them as of the move).
                await self._run(FireTimers(), now)
            if sweep_due(self.state, now):  # likewise the retention sweep, one chunk
                await self._run(ArchiveOrders(), now)
            if fold_due(self.state, now):  # and a local midnight's presence fold
                await self._run(FoldPresence(), now)
        return await self._run(command, now)

    async def _run(self, command: Command, now: int) -> Reply:
        """Everything up to the journal's append runs at once: one writer, no lock."""
        changes = Changes(self.state, now, archive=self.archived)
        # Running at a time the clock does not show yet (the test clock being moved): the
        # advance itself is then a change, undone should the command fail.
        ahead = now > self.clock.now_ms()
        advanced = False
        try:
            # Everything that can fail runs before the append: the handler's checks and
            # decisions, the reply encoded (sealed), the record encoded. A failure here
            # changes nothing: refused before any event, or state rebuilt (a bug).
            self.state.advance(now)
            advanced = True
            reply = handle(changes, command).seal()
            record = Record(now, cast(list[AnyEvent], changes.events)) if changes.events else None
            data = None if record is None else encode_record(record)
            rows = [(o.id, encode_order(o)) for o in changes.archive_writes]
        except Exception as exc:
            if changes.touched or not advanced or ahead:
                await self._restore(command, exc)
            raise
        pending = None
        if record is not None and data is not None:
            try:
                closed = changes.closed_writes
                pending = (
                    self.journal.append(data, rows, closed)
                    if rows or closed
                    else self.journal.append(data)
                )
            except Exception as exc:  # refused at once: the record is not in the journal
                await self._restore(command, exc)
                raise Unavailable(
                    f"the journal refused the record ({exc}); nothing was changed, retry",
                    code="journal_failed",
                ) from exc
            if rows:
                pending = self._hold(pending, changes.archive_writes)
            if self.listeners:
                pending = self._watch(pending, record)
        # From here on only the journal can fail, and then the engine refuses everything
        # until restarted (replay restores the durable state).
        try:
            if pending is not None:
                # Shielded: a caller that goes away (client hang-up) must not cancel the
                # journal's own future; the record is written and delivered regardless.
                self.last_seq = await asyncio.shield(pending)
            else:
                await self.journal.flush()
        except JournalError as exc:
            self.failure = str(exc)
            log.error("journal failed, refusing further commands: %s", exc)
            self._check_ready()
        return reply

    async def _restore(self, command: Command, exc: BaseException) -> None:
        """A command failed after it changed state and before its record was appended (a bug,
        never bad input): state is rebuilt from the journal, so it changed nothing after all.

        Meanwhile the engine answers 503 `restoring`. On Redis the node throws this copy
        away and reloads it from the stream instead (the engine stays failed for it).
        """
        name = type(command).__name__
        log.error(
            "%s failed after changing state (%s: %s); rebuilding the state from the journal",
            name, type(exc).__name__, exc,
        )  # fmt: skip
        self.failure = f"an internal error in {name}"
        self._restoring = True
        if not isinstance(self.journal, LocalJournal):
            return
        try:
            await self.journal.flush()  # earlier commands' records, still being written
            self.state, self.last_seq = State(), 0
            n = self.reload()
        except Exception as again:
            self._restoring = False
            self.failure = f"rebuilding the state after an internal error in {name} failed: {again}"
            log.exception("rebuilding the state failed; restart seatflow")
            return
        self._restoring = False
        self.failure = None
        log.warning("state rebuilt from %d journal records after the error in %s", n, name)

    def _hold(self, pending: Awaitable[int], orders: list[Order]) -> asyncio.Future[int]:
        """Archive rows stay readable from memory until durable, and a while after."""
        held = self.recent.hold(orders)
        fut = asyncio.ensure_future(pending)
        fut.add_done_callback(lambda _: self.recent.written(held))
        return fut

    def _watch(self, pending: Awaitable[int], record: Record) -> asyncio.Future[int]:
        """Queue the record for the listeners; delivered when it (and all before it) is durable.

        The callback is added before the command awaits, so listeners see a record
        before its reply is sent.
        """
        fut = asyncio.ensure_future(pending)
        self._undelivered.append((fut, record))
        fut.add_done_callback(self._deliver)
        return fut

    def _deliver(self, _: object = None) -> None:
        queue = self._undelivered
        while queue and queue[0][0].done():
            fut, record = queue.popleft()
            # A failed (or, defensively, cancelled) write is not known durable: never shown.
            if fut.cancelled() or fut.exception() is not None:
                continue
            self.notify(record)

    async def durable(self) -> None:
        """Wait until all state a reader might see is durable (read-your-acks)."""
        self._check_ready()
        try:
            await self.journal.flush()
        except JournalError as exc:
            self.failure = str(exc)
            self._check_ready()

    async def catch_up(self) -> None:
        """Nothing to do: a process's own engine is the source of its state."""

    async def set_clock(self, to: int) -> Reply:
        if not isinstance(self.clock, ManualClock):
            raise Conflict(
                "the clock is real; start the server with --clock manual to move it",
                code="clock_not_manual",
            )
        if to < self.state.now:
            last = format_time(self.state.now)
            raise Conflict(
                f"the clock cannot go back to {format_time(to)}: the last recorded event is at "
                f"{last}",
                code="clock_backwards",
                detail={"last_recorded_at": last},
            )
        reply = await self.execute(SetClock(to), at=to)
        self.clock.set(to)  # moved once its record is durable: a refused move moves nothing
        return reply

    async def close(self) -> None:
        for closer in reversed(self.closers):
            try:
                await closer()
            except Exception:
                log.exception("closing %r failed; closing the journal all the same", closer)
        if self.driver is not None:
            self.driver.stop()
        await self.journal.close()


class Center(Protocol):
    """What the API needs of a center: an `Engine` here, or a `RedisNode` in front of one."""

    clock: Clock
    listeners: list[Listener]

    @property
    def state(self) -> State: ...

    @property
    def ready(self) -> bool: ...

    @property
    def failure(self) -> str | None: ...

    def now(self) -> int: ...

    async def execute(self, command: Command, *, at: int | None = None) -> Reply: ...

    async def durable(self) -> None: ...

    async def catch_up(self) -> None: ...

    async def find_archived(self, order_id: str) -> Order | None: ...

    async def set_clock(self, to: int) -> Reply: ...

    async def close(self) -> None: ...
