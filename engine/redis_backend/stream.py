"""The journal on a Redis Stream: entry id `0-<seq>`, the encoded record in field `r`.

`RedisJournal` is the owner's side of the engine's journal seam. Appends are batched
while one write is in flight (group commit, as the SQLite journal does) and each batch
is one fenced APPEND script. A record's future resolves once Redis has answered, which
with `appendfsync always` means the record is fsynced (config.py says what the other
settings give). The first failed write fails every later one: the stream never gets a
gap, and the engine's state, which is ahead of it, is thrown away and rebuilt by the node.
"""

from __future__ import annotations

import asyncio
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError, ResponseError

from engine.journal import Closed, JournalError, Rows
from engine.redis_backend.keys import Keys
from engine.redis_backend.scripts import APPEND

Entries = list[tuple[int, bytes]]
Pending = tuple[bytes, "asyncio.Future[int]", Rows, Closed]
MAX_BATCH = 1000  # records per APPEND: bounds one script's time inside Redis


def entry_seq(entry_id: bytes | str) -> int:
    text = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    return int(text.partition("-")[2])


def _entries(raw: list[Any]) -> Entries:
    return [(entry_seq(entry_id), fields[b"r"]) for entry_id, fields in raw]


async def read_after(client: Redis, keys: Keys, after: int, count: int = 5000) -> Entries:
    """Up to `count` records with seq > after, in order."""
    raw: Any = await client.xrange(keys.journal, min=f"0-{after + 1}", max="+", count=count)
    return _entries(raw)


async def tail(client: Redis, keys: Keys, after: int, block_ms: int, count: int = 5000) -> Entries:
    """Records with seq > after, waiting up to block_ms for the first one."""
    raw: Any = await client.xread({keys.journal: f"0-{after}"}, count=count, block=block_ms)
    return _entries(raw[0][1]) if raw else []


async def first_seq(client: Redis, keys: Keys) -> int:
    """The seq the stream starts at (after trimming, engine.redis_backend.trim), 0 if empty."""
    head: Any = await client.xrange(keys.journal, count=1)
    return entry_seq(head[0][0]) if head else 0


async def last_seq(client: Redis, keys: Keys) -> int:
    top: Any = await client.xrevrange(keys.journal, count=1)
    return entry_seq(top[0][0]) if top else 0


class Fenced(JournalError):
    """This engine's lease is gone: another owner may be writing."""


class RedisJournal:
    def __init__(self, client: Redis, keys: Keys, lease_value: str, next_seq: int) -> None:
        self._client = client
        self._keys = keys
        self._lease_value = lease_value
        self._append = client.register_script(APPEND)
        self._next = next_seq  # seq of the first record of the next batch written
        self.appended = next_seq - 1  # seq of the last record appended, durable or not
        self.appended_record = b""  # that record (a snapshot's header names its digest)
        self._pending: list[Pending] = []
        self._last: asyncio.Future[int] | None = None
        self._writer: asyncio.Task[None] | None = None
        self.failed: JournalError | None = None
        self.batches = 0

    def append(self, record: bytes, rows: Rows = (), closed: Closed = ()) -> asyncio.Future[int]:
        fut: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._last = fut
        if self.failed is not None:
            fut.set_exception(self.failed)
            return fut
        self.appended += 1
        self.appended_record = record
        self._pending.append((record, fut, rows, closed))
        if self._writer is None:
            self._writer = asyncio.get_running_loop().create_task(self._write())
        return fut

    async def _write(self) -> None:
        try:
            while self._pending:
                batch = self._pending[:MAX_BATCH]
                del self._pending[:MAX_BATCH]
                first = self._next
                rows = [x for _, _, rs, _ in batch for row in rs for x in row]
                closed = [x for _, _, _, cs in batch for row in cs for x in row]
                keys = self._keys
                try:
                    await self._append(
                        keys=[keys.lease, keys.journal, keys.archive, keys.closed],
                        args=[
                            self._lease_value,
                            first,
                            len(batch),
                            *(r for r, _, _, _ in batch),
                            len(rows) // 2,
                            *rows,
                            *closed,
                        ],
                    )
                except (RedisError, OSError) as exc:
                    self.fail(_journal_error(exc), batch)
                    return
                self._next = first + len(batch)
                self.batches += 1
                for i, (_, fut, _, _) in enumerate(batch):
                    if not fut.done():
                        fut.set_result(first + i)
        finally:
            self._writer = None

    def fail(self, error: JournalError, batch: list[Pending] | None = None) -> None:
        """Fail every record not yet durable, and every later append."""
        self.failed = error
        for _, fut, _, _ in [*(batch or []), *self._pending]:
            if not fut.done():
                fut.set_exception(error)
        self._pending.clear()

    async def flush(self) -> None:
        if self._last is not None:
            await asyncio.shield(self._last)

    async def close(self) -> None:
        try:
            await self.flush()
        except JournalError:
            pass


def _journal_error(exc: BaseException) -> JournalError:
    if isinstance(exc, ResponseError) and str(exc).startswith("FENCED"):
        return Fenced(str(exc))
    if isinstance(exc, ResponseError) and str(exc).startswith("SEQ"):
        return JournalError(f"the stream moved on without this engine: {exc}")
    return JournalError(f"Redis: {exc}")
