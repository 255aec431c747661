"""Journal segments: old records moved out of the live journal, still whole and readable.

The journal is the audit ledger and may grow for years, but nothing on the hot path
or at start-up reads its old part: start-up goes from the newest checkpoint. An
operator can therefore move old records out (`seatflow journal archive`), say one
segment per month, to cheaper storage. A segment is a SQLite file with the journal's
own table, `journal (seq, data)`, plus one `segment` row naming its first and last seq
and the SHA-256 over its records, so a copy can be checked anywhere with no seatflow
code (`sqlite3 FILE 'select * from segment'`). It is written whole or not at all
(temporary name, fsync, rename, fsync of the directory) before any record leaves the
journal, and the journal keeps a row per segment moved out, so the chain is known.

Replaying the whole history (an audit, `seatflow replay --segments DIR`) reads the
segments in order, then the journal; a gap or a damaged segment is an error, never a
silently shorter history.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

FILE_MODE = 0o600


class SegmentError(Exception):
    """A segment is missing, damaged, or does not continue the one before it."""


@dataclass(frozen=True, slots=True)
class Segment:
    name: str
    first: int
    last: int
    sha256: str


def digest(records: Iterable[tuple[int, bytes]]) -> tuple[str, int, int, int]:
    """(SHA-256 over seq and record, count, first seq, last seq) of records in order."""
    h, n, first, last = hashlib.sha256(), 0, 0, 0
    for seq, data in records:
        if n == 0:
            first = seq
        h.update(seq.to_bytes(8, "big") + len(data).to_bytes(4, "big") + data)
        n, last = n + 1, seq
    return h.hexdigest(), n, first, last


def name_of(first: int, last: int) -> str:
    return f"journal-{first:012d}-{last:012d}.sqlite3"


def write(directory: Path, records: list[tuple[int, bytes]]) -> Segment:
    """The records as a segment file in `directory`, durable before this returns."""
    if not records:
        raise SegmentError("no records to write")
    sha, n, first, last = digest(records)
    if last - first + 1 != n:
        raise SegmentError(f"records {first}..{last} are not contiguous ({n} of them)")
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    final = directory / name_of(first, last)
    tmp = final.with_suffix(".tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE))
    db = sqlite3.connect(tmp, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode=DELETE")
        db.execute("PRAGMA synchronous=FULL")
        db.execute("BEGIN")
        db.execute("CREATE TABLE journal (seq INTEGER PRIMARY KEY, data BLOB NOT NULL)")
        db.execute("CREATE TABLE segment (first INTEGER, last INTEGER, sha256 TEXT)")
        db.executemany("INSERT INTO journal (seq, data) VALUES (?, ?)", records)
        db.execute("INSERT INTO segment VALUES (?, ?, ?)", (first, last, sha))
        db.execute("COMMIT")
    finally:
        db.close()
    _fsync(tmp)
    os.replace(tmp, final)
    _fsync(directory)
    segment = check(final)  # read back from disk before anything leaves the journal
    if segment.sha256 != sha:
        raise SegmentError(f"{final.name} reads back differently from what was written")
    return segment


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def records(path: Path) -> Iterator[tuple[int, bytes]]:
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        cur = db.execute("SELECT seq, data FROM journal ORDER BY seq")
        while rows := cur.fetchmany(4096):
            for seq, data in rows:
                yield seq, bytes(data)
    finally:
        db.close()


def check(path: Path) -> Segment:
    """The segment in `path`, its records verified against its own digest."""
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            row = db.execute("SELECT first, last, sha256 FROM segment").fetchone()
        finally:
            db.close()
        if row is None:
            raise SegmentError(f"{path.name} names no records")
        first, last, sha = row
        got, n, lo, hi = digest(records(path))
    except sqlite3.Error as exc:
        raise SegmentError(f"{path.name} cannot be read: {exc}") from None
    if (got, lo, hi, n) != (sha, first, last, last - first + 1):
        raise SegmentError(f"{path.name} is damaged: its records do not match its digest")
    return Segment(path.name, first, last, sha)


def history(directory: Path, expected: list[Segment]) -> Iterator[tuple[int, bytes]]:
    """Every record of the segments the journal moved out, in order, each verified."""
    seq = 0
    for want in expected:
        path = directory / want.name
        if not path.exists():
            raise SegmentError(f"segment {want.name} is not in {str(directory)!r}")
        got = check(path)
        if got != want:
            raise SegmentError(f"{want.name} is not the segment the journal moved out")
        if got.first != seq + 1:
            raise SegmentError(f"{want.name} starts at {got.first}, not {seq + 1}")
        yield from records(path)
        seq = got.last
