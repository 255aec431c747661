"""The embedded journal: a SQLite file in WAL mode, appended with group commit.

Appends queue in memory. The first append of a loop turn schedules one commit
for the turn (`call_soon`): everything the turn's requests appended is written in
one transaction on the event loop's own thread and committed with
synchronous=FULL (the WAL is fsynced), then every waiter is resolved. While the
loop is in that commit, new requests wait in the sockets and make up the next
turn's batch, so under load many requests share one fsync (Redis does the same
with `appendfsync always`). No writer thread: handing each batch to one and
back cost two thread wake-ups per commit, which on a busy machine put the
scheduler's latency into every acknowledgement (bench/RESULTS.md S5).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import sqlite3
from collections.abc import Awaitable, Iterator
from pathlib import Path

from engine.journal import Closed, JournalError, Rows
from engine.segments import Segment

JOURNAL_FILE = "journal.sqlite3"
LOCK_FILE = "seatflow.lock"
# The journal holds who worked when and what they are paid: its owner's eyes only.
DIR_MODE, FILE_MODE = 0o700, 0o600
SQLITE_SIDE_FILES = ("-wal", "-shm")


def private_dir(data: Path) -> Path:
    """The data directory, made (or tightened to) readable by its owner only."""
    data.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    os.chmod(data, DIR_MODE)
    return data


class DataDirLocked(Exception):
    """Another seatflow process holds this data directory."""


def lock_data_dir(data: Path) -> int:
    """Take the data directory for this process; the lock dies with the process."""
    private_dir(data)
    fd = os.open(data / LOCK_FILE, os.O_RDWR | os.O_CREAT, FILE_MODE)
    os.fchmod(fd, FILE_MODE)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise DataDirLocked(
            f"data directory {str(data)!r} is in use by another seatflow process"
        ) from None
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    return fd


class SqliteJournal:
    def __init__(self, path: Path) -> None:
        self.path = path
        # SQLite gives its -wal and -shm files the database file's mode: make that 0600 first.
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE))
        for p in (path, *(Path(f"{path}{side}") for side in SQLITE_SIDE_FILES)):
            if p.exists():  # files of an older seatflow were 0644; a reader who is not
                with contextlib.suppress(PermissionError):  # their owner cannot tighten them
                    os.chmod(p, FILE_MODE)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS journal (seq INTEGER PRIMARY KEY, data BLOB NOT NULL)"
        )
        # Orders past the retention window (engine.archive): written with their record.
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS archive (id TEXT PRIMARY KEY, data BLOB NOT NULL) "
            "WITHOUT ROWID"
        )
        # Closed payroll months' frozen reports (engine.payroll.closing): written with the
        # close's record, so `seatflow payroll` of a closed month reads one row.
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS closed (month TEXT PRIMARY KEY, report BLOB NOT NULL) "
            "WITHOUT ROWID"
        )
        # Records moved out to segment files (engine.segments), oldest first.
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS moved_out (first INTEGER PRIMARY KEY, last INTEGER NOT "
            "NULL, name TEXT NOT NULL, sha256 TEXT NOT NULL)"
        )
        row = self._db.execute("SELECT max(seq) FROM journal").fetchone()
        self._last = row[0] or 0
        self._pending: list[bytes] = []
        self._rows: list[tuple[str, bytes]] = []
        self._closed: list[tuple[str, bytes]] = []
        self._waiters: list[asyncio.Future[int]] = []
        self._commit_scheduled = False
        # Archive lookups this loop turn, and whether they share a read transaction.
        self._reads_this_turn = 0
        self._reading = False
        self._error: BaseException | None = None
        self.commits = 0

    @classmethod
    def in_dir(cls, data: Path) -> SqliteJournal:
        return cls(private_dir(data) / JOURNAL_FILE)

    def replay(self, after: int = 0) -> Iterator[tuple[int, bytes]]:
        cur = self._db.execute("SELECT seq, data FROM journal WHERE seq > ? ORDER BY seq", (after,))
        while rows := cur.fetchmany(4096):
            yield from rows

    def record(self, seq: int) -> bytes | None:
        """One durable record, or None if the journal has none at `seq`."""
        row = self._db.execute("SELECT data FROM journal WHERE seq = ?", (seq,)).fetchone()
        return None if row is None else bytes(row[0])

    def archived(self, order_id: str) -> bytes | None:
        """The archive row of an order. Every new order asks, so under load a loop turn's
        lookups share one read transaction: outside one, each SELECT takes and drops a WAL
        read mark (two fcntl locks) of its own (bench/RESULTS.md, issue 12 hot path). Rows
        written after it began are not missed: the engine holds them in `archive.Recent`."""
        self._share_read()
        row = self._db.execute("SELECT data FROM archive WHERE id = ?", (order_id,)).fetchone()
        return None if row is None else bytes(row[0])

    def _share_read(self) -> None:
        """From a turn's second lookup on, open the turn's read transaction (one lookup
        alone would pay BEGIN and COMMIT for nothing)."""
        if self._reads_this_turn == 1 and not self._db.in_transaction:
            self._db.execute("BEGIN")
            self._reading = True
        elif self._reads_this_turn == 0:
            try:
                asyncio.get_running_loop().call_soon(self._end_read)
            except RuntimeError:  # no loop (a command-line read): each its own transaction
                return
        self._reads_this_turn += 1

    def _end_read(self) -> None:
        """End the turn's read transaction, so the WAL can be checkpointed behind it."""
        self._reads_this_turn = 0
        if self._reading:
            self._reading = False
            self._db.execute("COMMIT")

    def closed(self, month: str) -> bytes | None:
        row = self._db.execute("SELECT report FROM closed WHERE month = ?", (month,)).fetchone()
        return None if row is None else bytes(row[0])

    def moved_out(self) -> list[Segment]:
        """The segments moved out of this journal, in order (the first records of history)."""
        rows = self._db.execute("SELECT name, first, last, sha256 FROM moved_out ORDER BY first")
        return [Segment(*row) for row in rows]

    @property
    def first(self) -> int:
        """The seq the records this journal still holds start at (1 unless moved out)."""
        moved = self._db.execute("SELECT max(last) FROM moved_out").fetchone()[0]
        return (moved or 0) + 1

    def move_out(self, segment: Segment) -> None:
        """Delete the records a durable segment holds, and remember the segment: one
        transaction, so the journal either still has them or names where they went."""
        if segment.first != self.first or segment.last >= self._last:
            raise JournalError(
                f"segment {segment.first}..{segment.last} does not start this journal's records "
                f"({self.first}..{self._last}) and leave its last one"
            )
        db = self._db
        self._end_read()
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute("DELETE FROM journal WHERE seq <= ?", (segment.last,))
            db.execute(
                "INSERT INTO moved_out (first, last, name, sha256) VALUES (?, ?, ?, ?)",
                (segment.first, segment.last, segment.name, segment.sha256),
            )
            db.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                db.execute("ROLLBACK")
            raise

    @property
    def last(self) -> int:
        """The seq of the last durable record."""
        return self._last

    def settled(self) -> int | None:
        """The last record's seq while nothing is waiting to be written, else None."""
        if self._pending or self._waiters or self._error is not None:
            return None
        return self._last

    def append(self, record: bytes, rows: Rows = (), closed: Closed = ()) -> Awaitable[int]:
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[int] = loop.create_future()
        if self._error is not None:
            fut.set_exception(JournalError(f"journal failed earlier: {self._error}"))
            return fut
        self._pending.append(record)
        if rows:
            self._rows.extend(rows)
        if closed:
            self._closed.extend(closed)
        self._waiters.append(fut)
        if not self._commit_scheduled:
            self._commit_scheduled = True
            loop.call_soon(self._commit)
        return fut

    async def flush(self) -> None:
        if self._waiters:
            await asyncio.shield(self._waiters[-1])
        # A batch may have failed without a waiter of ours: never report durable
        # what was lost (an idempotent retry would acknowledge a lost order).
        if self._error is not None:
            raise JournalError(f"journal failed earlier: {self._error}")

    def _commit(self) -> None:
        """Write and fsync everything appended this turn, then resolve its waiters."""
        self._commit_scheduled = False
        batch, waiters, rows, closed = self._pending, self._waiters, self._rows, self._closed
        self._pending, self._waiters, self._rows, self._closed = [], [], [], []
        first = self._last + 1
        try:
            self._write(first, batch, rows, closed)
        except Exception as exc:  # disk full, I/O error: nothing in batch is durable
            self._error = exc
            err = JournalError(f"journal write failed: {exc}")
            for w in waiters:
                if not w.done():
                    w.set_exception(err)
            return
        self._last = first + len(batch) - 1
        for i, w in enumerate(waiters):
            if not w.done():
                w.set_result(first + i)

    def _write(self, first: int, batch: list[bytes], rows: Rows = (), closed: Closed = ()) -> None:
        db = self._db
        self._end_read()  # a read of this turn began before the commit: the write sees all
        db.execute("BEGIN")
        try:
            db.executemany(
                "INSERT INTO journal (seq, data) VALUES (?, ?)",
                zip(range(first, first + len(batch)), batch, strict=True),
            )
            if rows:  # in the batch's order: a later row of an id replaces an earlier one
                db.executemany("INSERT OR REPLACE INTO archive (id, data) VALUES (?, ?)", rows)
            if closed:
                db.executemany(
                    "INSERT OR REPLACE INTO closed (month, report) VALUES (?, ?)", closed
                )
            db.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                db.execute("ROLLBACK")
            raise
        self.commits += 1

    async def close(self) -> None:
        with contextlib.suppress(JournalError):  # a failed journal still closes
            await self.flush()
        self._end_read()
        self._db.close()
