"""Checkpoints of an embedded (SQLite) center: files in its data directory.

`<data>/checkpoints/checkpoint-<seq>.sfck`, 0600 in a 0700 directory like the journal.
Written by a forked child (copy-on-write, as Redis's BGSAVE): encoding a big state
takes a second or more, which must not stall routing. A file appears whole or not at
all (written to a temporary name, fsynced, renamed, the directory fsynced), so a kill
at any moment leaves the older checkpoints intact; the newest three are kept.

Start-up takes the newest checkpoint that is whole, made by this build and made from
this journal (engine/checkpoint.py), and replays the journal after it; if none is,
it replays the whole journal: never a wrong state, at worst a slower start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from engine.checkpoint import (
    CheckpointError,
    Header,
    decode,
    decode_settings,
    encode,
    read_header,
    record_digest,
    settings_after,
)
from engine.settings import Settings
from engine.sqlite_journal import DIR_MODE, FILE_MODE, SqliteJournal
from engine.state import State

if TYPE_CHECKING:  # not at run time: `seatflow payroll` reads settings without the engine
    from engine.core import Engine

T = TypeVar("T")
log = logging.getLogger("seatflow.checkpoint")

DIRECTORY = "checkpoints"
SUFFIX = ".sfck"
KEEP = 3
EVERY_RECORDS = 50_000  # records since the last checkpoint that make the next one due
EVERY_S = 600.0  # or this long, with at least one new record
POLL_S = 1.0
SETTLE_TRIES = 1000


class CheckpointFiles:
    def __init__(self, data: Path) -> None:
        self.dir = data / DIRECTORY

    def paths(self) -> list[Path]:
        """Checkpoint files, newest (highest seq) first."""
        if not self.dir.is_dir():
            return []
        found = []
        for p in self.dir.iterdir():
            stem = p.name.removeprefix("checkpoint-").removesuffix(SUFFIX)
            if p.name.endswith(SUFFIX) and stem.isascii() and stem.isdigit():
                found.append((int(stem), p))
        return [p for _, p in sorted(found, reverse=True)]

    def write(self, data: bytes, seq: int) -> Path:
        """Store a checkpoint durably, whole or not at all; keep the newest KEEP."""
        self.dir.mkdir(mode=DIR_MODE, exist_ok=True)
        final = self.dir / f"checkpoint-{seq:012d}{SUFFIX}"
        tmp = self.dir / f".{final.name}.{os.getpid()}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, final)
        dir_fd = os.open(self.dir, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
        for old in self.paths()[KEEP:]:
            with contextlib.suppress(OSError):
                old.unlink()
        return final


def _made_from(journal: SqliteJournal, header: Header) -> None:
    """CheckpointError unless the checkpoint was made from this journal."""
    record = journal.record(header.seq)
    if record is None:
        raise CheckpointError(f"not made from this journal (its record {header.seq} is missing)")
    if record_digest(record) != header.record_sha256:
        raise CheckpointError(f"not made from this journal (its record {header.seq} differs)")


def _newest_usable(
    files: CheckpointFiles, journal: SqliteJournal, read: Callable[[bytes], tuple[Header, T]]
) -> tuple[Header, T] | None:
    """`read` of the newest checkpoint made from this journal that reads, or None: a
    damaged or foreign one is logged and the next older one tried."""
    for path in files.paths():
        try:
            data = path.read_bytes()
            _made_from(journal, read_header(data))
            return read(data)
        except (OSError, CheckpointError) as exc:
            log.warning("ignoring checkpoint %s: %s", path.name, exc)
    return None


def newest_valid(files: CheckpointFiles, journal: SqliteJournal) -> tuple[Header, State] | None:
    """The newest checkpoint this journal can go on from, as (header, state), or None."""
    return _newest_usable(files, journal, decode)


def settings_now(files: CheckpointFiles, journal: SqliteJournal) -> Settings | None:
    """The center's settings as its state has them now, without recovering the state: the
    newest usable checkpoint's, then the changes in the journal after it. A journal that
    still starts at record 1 needs no checkpoint; else None without one."""
    found = _newest_usable(files, journal, decode_settings)
    if found is not None:
        header, settings = found
        return settings_after(settings, journal.replay(header.seq))
    if journal.first == 1:
        return settings_after(Settings(), journal.replay(0))
    return None


def recover(engine: Engine, files: CheckpointFiles) -> tuple[int, int, float]:
    """Start from the newest usable checkpoint, then the journal after it.

    Returns (the checkpoint's seq or 0, records replayed after it, seconds taken).
    """
    journal = engine.journal
    assert isinstance(journal, SqliteJournal)
    started = time.perf_counter()
    found = newest_valid(files, journal)
    at = 0
    if found is not None:
        header, state = found
        engine.state, engine.last_seq, at = state, header.seq, header.seq
    n = engine.recover()
    took = time.perf_counter() - started
    log.info("checkpoint at seq %d, replayed %d records in %.3f s", at, n, took)
    engine.reload = lambda: recover(engine, files)[1]  # a rebuild starts here too
    return at, n, took


class Checkpointer:
    """Writes a checkpoint when one is due, from a forked child, never on the event loop.

    Due after `every_records` new records, or `every_s` seconds with at least one. Only
    at a moment when every appended record is durable and state is exactly their fold
    (the journal has nothing pending). A child that fails is logged and the next one
    tried later: intake never waits for a checkpoint, nor fails with one.
    """

    def __init__(
        self,
        engine: Engine,
        files: CheckpointFiles,
        covered: int,
        every_records: int = EVERY_RECORDS,
        every_s: float = EVERY_S,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine = engine
        self.files = files
        self.every_records = every_records
        self.every_s = every_s
        self._monotonic = monotonic
        self.seq = covered  # what the newest checkpoint covers (0: none)
        newest = files.paths()
        # Wall time of the newest checkpoint file, for its age in /metrics.
        self.written_at: float | None = None
        if covered and newest:
            with contextlib.suppress(OSError):
                self.written_at = newest[0].stat().st_mtime
        self._since = monotonic()
        self._child: tuple[int, int] | None = None  # (pid, seq)
        self._task: asyncio.Task[None] | None = None
        self.failures = 0

    def age_s(self) -> float | None:
        """Seconds since the newest checkpoint was written (None: there is none)."""
        return None if self.written_at is None else max(0.0, time.time() - self.written_at)

    def due(self) -> bool:
        journal = self.engine.journal
        assert isinstance(journal, SqliteJournal)
        new = journal.last - self.seq
        if new <= 0 or self._child is not None:
            return False
        return new >= self.every_records or self._monotonic() - self._since >= self.every_s

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(POLL_S)
            self.reap()
            # Under load the journal is settled only between a commit and the next append:
            # look again at each turn of the loop, for a while, until one is.
            for _ in range(SETTLE_TRIES):
                if not self.due() or self.fork() is not None:
                    break
                await asyncio.sleep(0)

    def _settled(self) -> tuple[int, bytes] | None:
        """(seq, record seq) if state is now exactly the fold of records 1..seq, and newer
        than the last checkpoint; None while records wait to be written (engine.last_seq
        may still trail the journal, its commands not yet resumed: that does not matter)."""
        journal = self.engine.journal
        assert isinstance(journal, SqliteJournal)
        seq = journal.settled()
        if seq is None or not self.engine.ready or seq <= self.seq:
            return None
        record = journal.record(seq)
        return None if record is None else (seq, record)

    def fork(self) -> int | None:
        """Start a child writing the state as of now; None if this is not a settled moment."""
        engine, settled = self.engine, self._settled()
        if settled is None:
            return None
        seq, record = settled
        pid = os.fork()
        if pid == 0:  # the child: encode, write, leave; never return into the server
            code = 1
            try:
                self.files.write(encode(engine.state, seq, record), seq)
                code = 0
            except BaseException:  # noqa: BLE001
                code = 2
            finally:
                os._exit(code)
        self._child = (pid, seq)
        return pid

    def reap(self, wait: bool = False) -> None:
        if self._child is None:
            return
        pid, seq = self._child
        done, status = os.waitpid(pid, 0 if wait else os.WNOHANG)
        if done == 0:
            return
        self._child = None
        self._since = self._monotonic()
        if os.waitstatus_to_exitcode(status) == 0:
            self.seq, self.written_at = seq, time.time()
            log.info("checkpoint at seq %d written", seq)
        else:
            self.failures += 1
            log.error(
                "writing the checkpoint at seq %d failed (exit %d); retrying later",
                seq, os.waitstatus_to_exitcode(status),
            )  # fmt: skip

    async def stop(self) -> None:
        """At shutdown: wait for a running child, then checkpoint what is left, here."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.reap(wait=True)
        with contextlib.suppress(Exception):
            await self.engine.journal.flush()
        settled = self._settled()
        if settled is None:
            return
        seq, record = settled
        try:
            self.files.write(encode(self.engine.state, seq, record), seq)
        except OSError as exc:
            log.error("writing the checkpoint at seq %d at shutdown failed: %s", seq, exc)
            return
        self.seq, self.written_at = seq, time.time()
        log.info("checkpoint at seq %d written at shutdown", seq)
