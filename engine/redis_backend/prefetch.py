"""A Redis owner's archive rows, read ahead of the commands that name them: one HMGET a turn.

The engine decides synchronously (engine.core), so the archive rows it may need for the
order ids a command names that are not in memory are read before the command runs, into
`Engine.prefetched`; only ids the archived-ids filter may hold (engine.archived_ids), so a
new order's id reads nothing. One HMGET per command cost a pool connection and ~120 µs of client
CPU per order (bench/RESULTS.md, issue 12); here, as the journal batches its APPENDs,
the ids of every command that arrives while no read is in flight go in one HMGET:

    wanted(command): ids not in memory, maybe archived (none, nobody ahead: run at once)
    hold(ids) --> queue --first of the turn--> reader task
    reader: one HMGET for the queued ids -> rows into engine.prefetched -> wake each, in order
    (commands arriving meanwhile queue for the next HMGET, sent once these are woken)

Command order: whatever is queued, woken or about to resume goes first. A command is
woken only after every command queued before it, and a command needing no read runs at
once only when none is waiting; else it queues too (adding nothing to the read). So
commands run in the order they reached `hold`, as they do on SQLite.

A row stays in `prefetched` while any command holding its id is in flight (counted).
Rows written by commands in flight are in `engine.recent` from their append until 60 s
after they are durable, and `Engine.archived` reads those first: a command woken with a
row read before an earlier command rewrote it still sees the newer one. A failed HMGET
fails every command of its batch with 503 `redis_unavailable`; none of them has run.

Rows older than the last trim have moved from the hash to the order archive in
--segments DIR (engine.redis_backend.order_archive): ids the HMGET does not find are
looked up there, on a worker thread (a read may wait for a writer's commit), before
the batch is woken. A row leaves the hash only once it is in the file, so an id in
neither was never archived.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

from redis.asyncio import Redis
from redis.exceptions import RedisError

from engine.archive import order_ids
from engine.commands import Command
from engine.core import Engine
from engine.errors import Unavailable
from engine.redis_backend.config import raw, unreachable
from engine.redis_backend.order_archive import DiskArchive


@dataclass(slots=True)
class _Waiter:
    engine: Engine
    ids: list[str]
    woken: asyncio.Future[None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class ArchivePrefetch:
    def __init__(self, client: Redis, key: str, disk: DiskArchive | None = None) -> None:
        self._client = client
        self._key = key
        self._disk = disk  # rows moved out of the hash (None: nothing moves, no --segments)
        self._queue: list[_Waiter] = []  # for the next HMGET, in arrival order
        self._reader: asyncio.Task[None] | None = None
        self._in_line = 0  # commands queued, or woken and not yet resumed
        self._holders: Counter[str] = Counter()  # an id two commands name stays for both
        self.reads = 0  # HMGETs sent

    def wanted(self, engine: Engine, command: Command) -> list[str] | None:
        """The ids to read before the command runs, or None when it may run at once: nothing
        to read and nobody ahead (most intake: a new id is certainly not archived). Then
        the caller skips `hold` and its await altogether."""
        state = engine.state
        may_hold = state.archived_ids.may_hold
        ids = [
            i for i in order_ids(command)
            if i not in state.orders and engine.recent.get(i) is None and may_hold(i)
        ]  # fmt: skip
        return ids if ids or self._in_line else None

    async def hold(self, engine: Engine, ids: list[str]) -> list[str]:
        """Return once the command naming `ids` (from `wanted`) may run, their rows in
        `engine.prefetched`; the ids held, for `release` after it has run. Raises
        `Unavailable` if the read failed."""
        waiter = _Waiter(engine, ids)
        self._holders.update(ids)
        self._queue.append(waiter)
        self._in_line += 1
        if self._reader is None:
            self._reader = asyncio.get_running_loop().create_task(self._read())
        try:
            await waiter.woken
        except BaseException:
            self.release(engine, ids)
            raise
        finally:
            self._in_line -= 1
        return ids

    def release(self, engine: Engine, ids: list[str]) -> None:
        holders = self._holders
        for order_id in ids:
            holders[order_id] -= 1
            if holders[order_id] <= 0:
                del holders[order_id]
                engine.prefetched.pop(order_id, None)

    async def _read(self) -> None:
        """Batch after batch while commands queue: read, then wake them in order."""
        batch: list[_Waiter] = []
        try:
            while self._queue:
                batch, self._queue = self._queue, []
                wanted = list(dict.fromkeys(i for w in batch for i in w.ids))
                if wanted:
                    self.reads += 1
                    try:
                        rows = await self._rows(wanted)
                    except (RedisError, OSError) as exc:
                        # Those that needed the read fail; those queued behind only for order run.
                        _fail([w for w in batch if w.ids], partial(unreachable, exc))
                    except sqlite3.Error as exc:
                        _fail([w for w in batch if w.ids], partial(_disk_failed, exc))
                    else:
                        for w in batch:
                            for order_id in w.ids:
                                if order_id in rows:
                                    w.engine.prefetched[order_id] = rows[order_id]
                for w in batch:
                    if not w.woken.done():  # done: failed, or its caller went away (cancelled)
                        w.woken.set_result(None)
        except BaseException:  # cancelled (the loop closing): nobody is left waiting forever
            _fail([*batch, *self._queue], lambda: Unavailable("the archive read stopped; retry"))
            self._queue = []
            raise
        finally:
            self._reader = None

    async def _rows(self, wanted: list[str]) -> dict[str, bytes]:
        """The hash's rows, then the order archive's for the ids the hash lacks."""
        found = await self._client.hmget(self._key, wanted)
        rows = {i: raw(d) for i, d in zip(wanted, found, strict=True) if d}
        if self._disk is not None and len(rows) < len(wanted):
            missing = [i for i in wanted if i not in rows]
            rows.update(await asyncio.to_thread(self._disk.get_many, missing))
        return rows


def _disk_failed(exc: BaseException) -> Unavailable:
    return Unavailable(f"the order archive in --segments DIR cannot be read ({exc}); retry")


def _fail(waiters: list[_Waiter], error: Callable[[], Unavailable]) -> None:
    for w in waiters:
        if not w.woken.done():
            w.woken.set_exception(error())  # one exception object per command raising it
