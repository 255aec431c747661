"""The live board feed behind `GET /v1/board/stream`: coalesced, bounded, snapshot on overflow.

The engine calls `BoardStream.on_record` for each durable record, in journal order.
That listener only marks which agents changed and folds the record into the
per-minute history: O(events), no encoding, no I/O. One broadcaster task (alive only
while someone watches) wakes on change, builds one `delta` from the dirty marks,
encodes it once and hands the same bytes to every subscriber; then it sleeps
`interval` (0.1 s), so a shift-change burst of thousands of events becomes at most
~10 updates a second, whatever the number of boards.

Each subscriber has a bounded queue. A client that falls behind (its queue full)
loses its queued deltas and is sent a fresh snapshot when it reads again: the
server never buffers without bound and the client never misses a change. Deltas
carry whole rows (seats, teams, queues...), so applying one twice is harmless.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Callable

import msgspec

from api.boardfeed import (
    MINUTE_MS,
    FloorDelta,
    FloorSnapshot,
    MinuteHistory,
    aggregates,
    seat_mark,
    seats,
)
from engine import events as ev
from engine.core import Center
from presence.timeline import TimeSplit

log = logging.getLogger("seatflow.board")

INTERVAL_S = 0.1  # at most ~10 updates a second
HEARTBEAT_S = 2.0  # with no change: refresh times, waits and near-shift-end marks
# Every seat re-sent with fresh utilization (it moves with time; between refreshes a
# changed seat reuses its last time split: the figure lags at most this long).
REFRESH_S = 5.0
QUEUE_LIMIT = 16  # messages a subscriber may have waiting before it gets a snapshot instead
MAX_DIRTY = 4096  # beyond this many changed agents, just re-send them all
KEEPALIVE_S = 15.0

_json = msgspec.json.Encoder()


def sse(event: str, payload: object) -> bytes:
    """One Server-Sent Event; msgspec's JSON has no raw newlines, so one data line."""
    return b"event: " + event.encode() + b"\ndata: " + _json.encode(payload) + b"\n\n"


def _never() -> bool:
    return False


class Subscriber:
    """One open stream: what waits to be sent, and whether it must start over."""

    __slots__ = ("limit", "queue", "wake", "needs_snapshot", "overflows")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.queue: deque[bytes] = deque()
        self.wake = asyncio.Event()
        self.needs_snapshot = True
        self.overflows = 0

    def offer(self, message: bytes) -> None:
        if self.needs_snapshot:
            return  # the snapshot it will get is newer than this delta
        if len(self.queue) >= self.limit:
            self.queue.clear()
            self.needs_snapshot = True
            self.overflows += 1
        else:
            self.queue.append(message)
        self.wake.set()


class BoardStream:
    def __init__(
        self,
        engine: Center,
        *,
        interval: float = INTERVAL_S,
        heartbeat: float = HEARTBEAT_S,
        refresh: float = REFRESH_S,
        queue_limit: int = QUEUE_LIMIT,
    ) -> None:
        self.engine = engine
        self.interval = interval
        self.heartbeat = heartbeat
        self.refresh = refresh
        self.queue_limit = queue_limit
        self.history = MinuteHistory()
        self.subscribers: set[Subscriber] = set()
        self.deltas_sent = 0
        self.busy_s = 0.0  # time spent building, encoding and handing out deltas (benchmarks)
        self.snapshots_built = 0
        self._dirty: set[str] = set()
        self._all_dirty = False
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._splits: dict[str, TimeSplit] = {}
        self._marks: dict[str, tuple[str | None, bool]] = {}
        self._refreshed_at = 0.0
        self._sent_minute: int | None = None
        self._tick_no = 0
        self._snapshot: tuple[int, bytes] | None = None
        engine.listeners.append(self.on_record)

    # -- the engine listener (cheap) ------------------------------------------------

    def on_record(self, record: ev.Record) -> None:
        state = self.engine.state
        self.history.observe(record, len(state.queues))
        dirty = self._dirty
        for e in record.events:
            agent_id = getattr(e, "agent_id", None)
            if agent_id is not None:
                dirty.add(agent_id)
            elif type(e) is ev.LogoutDenied:
                request = state.requests.get(e.request_id)
                if request is not None:
                    dirty.add(request.agent_id)
            elif type(e) is ev.ShiftsAdded:
                dirty.update(s.agent_id for s in e.shifts)
            elif type(e) is ev.SettingsChanged:
                self._all_dirty = True
        if len(dirty) > MAX_DIRTY:
            dirty.clear()
            self._all_dirty = True
        self._changed.set()

    # -- subscribers ----------------------------------------------------------------

    def subscribe(self) -> Subscriber:
        sub = Subscriber(self.queue_limit)
        self.subscribers.add(sub)
        if self._task is None or self._task.done():
            # Nobody watched until now: what changed before is in the snapshot it gets.
            self._dirty.clear()
            self._all_dirty = False
            self._changed.clear()
            self._task = asyncio.get_running_loop().create_task(self._run())
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        self.subscribers.discard(sub)
        if not self.subscribers and self._task is not None:
            self._task.cancel()
            self._task = None

    async def messages(self, stopping: Callable[[], bool] = _never) -> AsyncIterator[bytes]:
        """What one client is sent: a snapshot, then deltas (a snapshot again after overflow).

        Subscribes when first iterated and unsubscribes when closed (the client went
        away). Ends when `stopping()` turns true (the server is shutting down), so
        open boards never hold a graceful shutdown up.
        """
        sub = self.subscribe()
        quiet_since = time.monotonic()
        try:
            while not stopping():
                if sub.needs_snapshot:
                    yield await self.snapshot_for(sub)
                    quiet_since = time.monotonic()
                if sub.queue:
                    yield sub.queue.popleft()
                    quiet_since = time.monotonic()
                    continue
                sub.wake.clear()
                try:
                    await asyncio.wait_for(sub.wake.wait(), 0.5)
                except TimeoutError:
                    if time.monotonic() - quiet_since >= KEEPALIVE_S:
                        yield b": keep-alive\n\n"
                        quiet_since = time.monotonic()
        finally:
            self.unsubscribe(sub)

    async def snapshot_for(self, sub: Subscriber) -> bytes:
        """A snapshot supersedes every delta queued before it: those are dropped."""
        if self._snapshot is None or self._snapshot[0] != self._tick_no:
            self._snapshot = (self._tick_no, sse("snapshot", self.build_snapshot()))
        data = self._snapshot[1]
        sub.queue.clear()
        sub.needs_snapshot = False
        await self.engine.durable()  # what it shows is durable before it is sent
        return data

    def build_snapshot(self) -> FloorSnapshot:
        state, now = self.engine.state, self.engine.now()
        self.snapshots_built += 1
        all_seats, splits = seats(state, now)
        self._splits = splits
        if not self._refreshed_at:
            self._refreshed_at = time.monotonic()
        if self._sent_minute is None:
            self._sent_minute = now // MINUTE_MS
        for s in all_seats:  # agents no delta has shown yet start from what this shows
            self._marks.setdefault(s.id, (s.shift_end, s.near_shift_end))
        agg = aggregates(state, now, splits)
        return FloorSnapshot(
            agg.now,
            all_seats,
            agg.queues,
            agg.teams,
            agg.skills,
            agg.pending_logout_requests,
            agg.totals,
            agg.handover_s,
            self.history.window(now),
        )

    # -- the broadcaster ------------------------------------------------------------

    async def _run(self) -> None:
        while self.subscribers:
            changed = True
            try:
                await asyncio.wait_for(self._changed.wait(), self.heartbeat)
            except TimeoutError:
                changed = False
            self._changed.clear()
            try:
                await self.tick(heartbeat=not changed)
            except asyncio.CancelledError:
                raise
            except Exception:  # a bug here must not end every board's updates for good
                log.exception("board stream update failed")
            await asyncio.sleep(self.interval)

    def _changed_marks(self, now: int) -> set[str]:
        """Agents whose shift-end mark moved with time alone (no event touched them)."""
        state, marks, out = self.engine.state, self._marks, set()
        for a in state.agents.values():
            mark = seat_mark(state, a, now)
            if marks.get(a.id) != mark:
                marks[a.id] = mark
                out.add(a.id)
        return out

    def build_delta(self, heartbeat: bool = False) -> FloorDelta | None:
        """Take the dirty marks and build one delta (the listener starts a new set).

        A heartbeat (no event since the last update) says something only if time alone
        changed what the board shows: a near-shift-end mark, a queue's wait, the minute,
        or the periodic refresh of every seat. Otherwise it is None: nothing is sent.
        """
        state, now = self.engine.state, self.engine.now()
        dirty, self._dirty = self._dirty, set()
        dirty |= self._changed_marks(now)
        clock = time.monotonic()
        refresh = clock - self._refreshed_at >= self.refresh
        if (
            heartbeat
            and not (dirty or refresh or len(state.queues))
            and self._sent_minute == (now // MINUTE_MS)
        ):
            return None
        if self._all_dirty or not self._splits or refresh:
            self._all_dirty, self._refreshed_at = False, clock
            changed, self._splits = seats(state, now)
        else:
            changed, splits = seats(state, now, dirty, self._splits)
            self._splits.update(splits)
        agg = aggregates(state, now, self._splits)
        history = self.history.window(now, self._sent_minute)
        self._sent_minute = now // MINUTE_MS
        return FloorDelta(
            agg.now,
            changed,
            agg.queues,
            agg.teams,
            agg.skills,
            agg.pending_logout_requests,
            agg.totals,
            agg.handover_s,
            history,
        )

    async def tick(self, heartbeat: bool = False) -> None:
        """Build, make durable, and hand one encoded delta to every subscriber."""
        started = time.perf_counter()
        delta = self.build_delta(heartbeat)
        if delta is None:
            return
        self._tick_no += 1
        data = sse("delta", delta)
        self.busy_s += time.perf_counter() - started
        await self.engine.durable()
        started = time.perf_counter()
        self.deltas_sent += 1
        for sub in list(self.subscribers):
            sub.offer(data)
        self.busy_s += time.perf_counter() - started
