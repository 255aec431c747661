"""Where a center's journal lives, for the commands that read it offline.

`--data DIR` (the embedded SQLite journal, the default) or `--redis URL --center NAME`.
`seatflow replay`, `payroll` and `keys create` take these arguments; `replay` and
`payroll` read through `read_engine`, so both work on either store.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
from pathlib import Path

from api.cli.common import recover
from engine import segments
from engine.clock import Clock
from engine.core import Engine
from engine.sqlite_journal import JOURNAL_FILE, SqliteJournal


class NoJournal(Exception):
    pass


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", type=Path, default=Path("./seatflow-data"))
    p.add_argument("--redis", metavar="URL", help="the center is in Redis (redis://HOST:PORT/DB)")
    p.add_argument("--center", default="default", help="the center's name in Redis")


def describe(args: argparse.Namespace) -> str:
    if args.redis:
        return f"center {args.center} at {args.redis}"
    return str(args.data / JOURNAL_FILE)


def read_history(args: argparse.Namespace, clock: Clock) -> Engine:
    """An engine rebuilt from the whole history: the segments, then the journal."""
    if args.redis:
        from engine.redis_backend.node import read_history as redis_history

        return asyncio.run(redis_history(args.redis, args.center, clock, args.segments))
    path = args.data / JOURNAL_FILE
    if not path.exists():
        raise NoJournal(f"no journal at {str(path)!r}")
    journal = SqliteJournal(path)
    engine = Engine(journal, clock)
    try:
        moved = journal.moved_out()
        engine.recover(
            itertools.chain(
                segments.history(args.segments, moved), journal.replay(journal.first - 1)
            )
        )
    finally:
        asyncio.run(engine.close())
    return engine


def read_engine(args: argparse.Namespace, clock: Clock) -> Engine:
    """An engine recovered from the store; NoJournal if a data dir has none."""
    if args.redis:
        from engine.redis_backend.node import read_center

        return asyncio.run(read_center(args.redis, args.center, clock))
    path = args.data / JOURNAL_FILE
    if not path.exists():
        raise NoJournal(f"no journal at {str(path)!r}")
    engine = Engine(SqliteJournal(path), clock)
    try:
        recover(engine, args.data)
    finally:
        asyncio.run(engine.close())
    return engine
