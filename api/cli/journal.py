"""`seatflow journal archive|check`: move old journal records out to segment files.

    seatflow journal archive --before 2026-11-01 --segments /archive/center [--data DIR]
    seatflow journal check --segments /archive/center [--data DIR]

`archive` runs with the server stopped (it takes the data directory's lock): it
writes a checkpoint of the state as it stands, so start-up needs nothing older, then
moves every record before local midnight of `--before` (setting `timezone`) into
segment files of at most `--per-segment` records (engine.segments), each durable and
read back before its records leave the journal. `check` verifies every segment the
journal moved out, in order, against its digest. The whole history then replays with
`seatflow replay --segments DIR` (an audit of any period).
"""

from __future__ import annotations

import argparse
import asyncio
import os
from datetime import date
from pathlib import Path
from typing import Any

import msgspec

from api.cli.common import fail, recover
from engine import segments
from engine.calendar import date_start
from engine.clock import ManualClock
from engine.sqlite_journal import JOURNAL_FILE, DataDirLocked, SqliteJournal, lock_data_dir

PER_SEGMENT = 1_000_000

# A record's time, without decoding its events (a record is [at, events]).
_at = msgspec.msgpack.Decoder(tuple[int, msgspec.Raw]).decode


def add_parser(sub: Any) -> None:
    p = sub.add_parser("journal", help="move old journal records out to segment files")
    jsub = p.add_subparsers(dest="journal_command", required=True)
    archive = jsub.add_parser("archive", help="move records before a date to segments")
    archive.add_argument("--before", required=True, type=date.fromisoformat, metavar="YYYY-MM-DD")
    archive.add_argument("--per-segment", type=int, default=PER_SEGMENT, metavar="N")
    check = jsub.add_parser("check", help="verify the segments the journal moved out")
    for q in (archive, check):
        q.add_argument("--data", type=Path, default=Path("./seatflow-data"))
        q.add_argument("--segments", type=Path, required=True, metavar="DIR")
    archive.set_defaults(run=run_archive)
    check.set_defaults(run=run_check)


def run_archive(args: argparse.Namespace) -> int:
    if not (args.data / JOURNAL_FILE).exists():
        return fail(f"no journal at {str(args.data / JOURNAL_FILE)!r}")
    if args.per_segment < 1:
        return fail("--per-segment must be at least 1")
    try:
        lock = lock_data_dir(args.data)
    except DataDirLocked:
        return fail(f"the server is running on {str(args.data)!r}: stop it, archive, start it")
    try:
        return asyncio.run(_archive(args))
    except segments.SegmentError as exc:
        return fail(str(exc))
    finally:
        os.close(lock)


async def _archive(args: argparse.Namespace) -> int:
    from engine.checkpoint import encode
    from engine.checkpoint_files import CheckpointFiles
    from engine.core import Engine

    journal = SqliteJournal(args.data / JOURNAL_FILE)
    engine = Engine(journal, ManualClock(0))
    try:
        recover(engine, args.data)
        last = engine.last_seq
        record = journal.record(last)
        if record is None:
            return fail("the journal is empty: nothing to archive")
        CheckpointFiles(args.data).write(encode(engine.state, last, record), last)
        cutoff = date_start(args.before, engine.state.settings.timezone)
        moved = 0
        while True:
            batch = _records_before(
                journal, cutoff, min(last - 1, journal.first - 1 + args.per_segment)
            )
            if not batch:
                break
            segment = segments.write(args.segments, batch)
            journal.move_out(segment)
            moved += len(batch)
            print(f"{segment.name}: records {segment.first}..{segment.last}")
        if not moved:
            print(
                f"no records before {args.before} to move (the journal starts at {journal.first})"
            )
        else:
            print(f"moved {moved} records; the journal now starts at record {journal.first}")
        return 0
    finally:
        await engine.close()


def _records_before(journal: SqliteJournal, cutoff: int, top: int) -> list[tuple[int, bytes]]:
    """The journal's first records, up to seq `top`, that were written before `cutoff`."""
    batch: list[tuple[int, bytes]] = []
    for seq, data in journal.replay(journal.first - 1):
        if seq > top or _at(data)[0] >= cutoff:
            break
        batch.append((seq, bytes(data)))
    return batch


def run_check(args: argparse.Namespace) -> int:
    path = args.data / JOURNAL_FILE
    if not path.exists():
        return fail(f"no journal at {str(path)!r}")
    journal = SqliteJournal(path)
    try:
        moved, first = journal.moved_out(), journal.first
        n = sum(1 for _ in segments.history(args.segments, moved))
    except segments.SegmentError as exc:
        return fail(str(exc))
    finally:
        asyncio.run(journal.close())
    print(f"{len(moved)} segments, {n} records, whole; the journal goes on at record {first}")
    return 0
