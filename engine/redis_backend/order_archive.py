"""Archived orders' rows moved out of Redis memory into one SQLite file in --segments DIR.

On Redis an archived order's row is set in the hash `{center}:archive` by the APPEND
script of the record that writes it (engine.archive: `OrdersArchived`, a late QA result
on an archived order). Kept there, the hash grows by ~243 B per order forever. When the
owner's snapshot child trims the stream behind its snapshot (engine.redis_backend.trim),
it first moves the rows those trimmed records wrote out of the hash into `DIR/orders.sqlite3`,
`archive (id TEXT PRIMARY KEY, seq INTEGER, data BLOB)`: one file per center, so a
lookup is one indexed read however many trims there were. In order, each step durable
before the next:

1. READ (a script): only while the caller holds the lease, HMGET the ids and the seq
   of the stream's last record. The rows are the archive as of that seq (`as_of`):
   the hash changes only with stream records, so a read at a higher seq holds the same
   or a newer version of every row.
2. `store`: the rows go into the file in one transaction (synchronous=FULL, the
   directory fsynced): an upsert that replaces a row only with one read at a higher
   seq, so a late write of an older read (a demoted owner's child) never overwrites a
   newer one, whatever order the two processes commit in.
3. DROP (a script, fenced by the lease): HDEL each id whose hash row is still the bytes
   moved; a row rewritten meanwhile (a late QA result) stays, and a hash-first lookup
   returns it until a later trim moves it.

A kill at any step loses no row: before DROP the row is in the hash, after it in the
fsynced file. Two processes may write the file (a demoted owner's child, the new
owner's): SQLite's file lock serializes their transactions and the seq guard makes the
outcome the newest read's. Reads happen only under the lease, so an older owner's reads
all carry lower seqs than the next owner's. The file uses a rollback journal, not WAL:
WAL needs shared memory, which a network mount shared by several machines lacks.

Readers (the owner's prefetch, any process's `find_archived`) read the hash first, then
this file for ids the hash does not hold, on a worker thread: a read waits while a
writer commits.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import redis

from engine import events as ev
from engine.events import decode_record
from engine.redis_backend.keys import Keys

FILE = "orders.sqlite3"
FILE_MODE = 0o600
CHUNK = 1000  # ids per READ or DROP script: bounds a script's time inside Redis
BUSY_MS = 10_000

FENCED = -1

# KEYS: lease, journal, archive. ARGV: lease value, ids. {last seq, rows} or nil if the
# lease is not the caller's.
READ = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return false end
local top = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)
local last = 0
if #top > 0 then last = tonumber(string.match(top[1][1], '^0%-(%d+)$')) end
return {last, redis.call('HMGET', KEYS[3], unpack(ARGV, 2))}
"""

# KEYS: lease, archive, moved. ARGV: lease value, then (id, row) pairs. -1 if fenced,
# else how many rows left the hash (only those still holding the bytes moved).
DROP = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
local n = 0
for i = 2, #ARGV, 2 do
  if redis.call('HGET', KEYS[2], ARGV[i]) == ARGV[i + 1] then
    redis.call('HDEL', KEYS[2], ARGV[i])
    n = n + 1
  end
end
if n > 0 then redis.call('SET', KEYS[3], '1') end
return n
"""

SCHEMA = """
CREATE TABLE IF NOT EXISTS archive (id TEXT PRIMARY KEY, seq INTEGER NOT NULL, data BLOB NOT NULL)
"""
UPSERT = """
INSERT INTO archive (id, seq, data) VALUES (?, ?, ?)
ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, data = excluded.data
WHERE excluded.seq > archive.seq
"""

Row = tuple[str, int, bytes]  # order id, seq the row was read as of, the row


def rows_written(records: Iterable[tuple[int, bytes]]) -> list[str]:
    """The order ids whose archive rows these records wrote (engine.archive's writers:
    the sweep's `OrdersArchived`, a QA result on an archived order), each once."""
    ids: dict[str, None] = {}
    for _, data in records:
        for event in decode_record(data).events:
            if isinstance(event, ev.OrdersArchived):
                ids.update(dict.fromkeys(event.order_ids))
            elif isinstance(event, ev.QaRecorded) and event.archived:
                ids[event.order_id] = None
    return list(ids)


def read_rows(
    client: redis.Redis, keys: Keys, lease_value: str, ids: Sequence[str]
) -> list[Row] | None:
    """The hash's rows of `ids` (those it holds), each with the seq it is as of; None if
    the caller no longer holds the lease."""
    script = client.register_script(READ)
    rows: list[Row] = []
    for i in range(0, len(ids), CHUNK):
        part = list(ids[i : i + CHUNK])
        got: Any = script(keys=[keys.lease, keys.journal, keys.archive], args=[lease_value, *part])
        if got is None:
            return None
        as_of, found = int(got[0]), got[1]
        rows += [(o, as_of, bytes(d)) for o, d in zip(part, found, strict=True) if d is not None]
    return rows


def drop_rows(client: redis.Redis, keys: Keys, lease_value: str, rows: Sequence[Row]) -> int:
    """HDEL the rows still as moved; FENCED if the lease is no longer the caller's."""
    script = client.register_script(DROP)
    dropped = 0
    for i in range(0, len(rows), CHUNK):
        args: list[str | bytes] = [lease_value]
        for order_id, _, data in rows[i : i + CHUNK]:
            args += [order_id, data]
        n = int(script(keys=[keys.lease, keys.archive, keys.archive_moved], args=args))
        if n < 0:
            return FENCED
        dropped += n
    return dropped


def move(
    client: redis.Redis, keys: Keys, lease_value: str, directory: Path, ids: Sequence[str]
) -> int:
    """Move the rows of `ids` from the hash to the file: read, store (fsynced), drop.
    The number of rows that left the hash, or FENCED."""
    rows = read_rows(client, keys, lease_value, ids)
    if rows is None:
        return FENCED
    if not rows:
        return 0
    store(directory, rows)
    return drop_rows(client, keys, lease_value, rows)


def _connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    db.execute(f"PRAGMA busy_timeout={BUSY_MS}")
    db.execute("PRAGMA journal_mode=DELETE")
    db.execute("PRAGMA synchronous=FULL")
    return db


def store(directory: Path, rows: Iterable[Row]) -> None:
    """Upsert the rows in one transaction, durable (file and directory fsynced) on return."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = directory / FILE
    if not path.exists():
        with contextlib.suppress(FileExistsError):
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    db = _connect(path)
    try:
        db.execute("BEGIN IMMEDIATE")
        db.execute(SCHEMA)
        db.executemany(UPSERT, rows)
        db.execute("COMMIT")  # synchronous=FULL: the journal and the file fsynced
    finally:
        db.close()
    fd = os.open(directory, os.O_RDONLY)  # the file's own directory entry, the first time
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class DiskArchive:
    """The read side of `DIR/orders.sqlite3`: rows by id, nothing while no row has moved.

    One connection, used by one thread at a time (the lock): callers run `get_many` on
    a worker thread (asyncio.to_thread), as a read may wait for a writer's commit."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / FILE
        self._db: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        self.reads = 0

    def get_many(self, ids: Sequence[str]) -> dict[str, bytes]:
        with self._lock:
            if self._db is None:
                if not self.path.exists():
                    return {}
                self._db = _connect(self.path)
            self.reads += 1
            found: dict[str, bytes] = {}
            try:
                for i in range(0, len(ids), 500):  # under SQLite's bound-parameter limit
                    part = list(ids[i : i + 500])
                    marks = ",".join("?" * len(part))
                    cur = self._db.execute(
                        f"SELECT id, data FROM archive WHERE id IN ({marks})", part
                    )
                    found.update((order_id, bytes(data)) for order_id, data in cur)
            except sqlite3.OperationalError as exc:
                if "no such table" in str(exc):
                    return {}  # created, its first transaction not committed yet: nothing moved
                raise
            return found

    def get(self, order_id: str) -> bytes | None:
        return self.get_many([order_id]).get(order_id)

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None
