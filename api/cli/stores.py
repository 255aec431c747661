"""Where a center's journal lives, for the commands that read it offline.

`--data DIR` (the embedded SQLite journal, the default) or `--redis URL --center NAME`.
`seatflow replay`, `payroll` and `keys create` take these arguments; `replay` and
`payroll` read through `read_engine`, so both work on either store. `payroll` of a
closed month reads its frozen report's row instead (`read_closed`), no state recovered.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.sqlite_journal import JOURNAL_FILE, SqliteJournal

if TYPE_CHECKING:
    from engine.clock import Clock
    from engine.core import Engine


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


async def _read_closed_redis(
    args: argparse.Namespace, month: str, language: bool
) -> tuple[bytes, str | None] | None:
    from engine.redis_backend import snapshot
    from engine.redis_backend.config import connect
    from engine.redis_backend.keys import Keys

    client, blocking = connect(args.redis)
    keys = Keys(args.center)
    try:
        report: Any = await client.hget(keys.closed, month)
        if report is None:
            return None
        settings = await snapshot.settings_now(client, keys) if language else None
        return bytes(report), None if settings is None else settings.language
    finally:
        await client.aclose()
        await blocking.aclose()


def read_closed(
    args: argparse.Namespace, month: str, language: bool
) -> tuple[bytes, str | None] | None:
    """A closed month's frozen report from its row beside the journal, and with `language`
    the center's language now (None if the store cannot say without the state), or None
    without a row: the month is open, or was closed by a build that wrote no rows. NoJournal
    if a data dir has no journal."""
    if args.redis:
        return asyncio.run(_read_closed_redis(args, month, language))
    from engine.checkpoint_files import CheckpointFiles, settings_now

    path = args.data / JOURNAL_FILE
    if not path.exists():
        raise NoJournal(f"no journal at {str(path)!r}")
    journal = SqliteJournal(path)
    try:
        report = journal.closed(month)
        if report is None:
            return None
        settings = settings_now(CheckpointFiles(args.data), journal) if language else None
        return report, None if settings is None else settings.language
    finally:
        asyncio.run(journal.close())


def read_history(args: argparse.Namespace, clock: Clock) -> Engine:
    """An engine rebuilt from the whole history: the segments, then the journal."""
    from engine import segments
    from engine.core import Engine

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
    from api.cli.common import recover
    from engine.core import Engine

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
