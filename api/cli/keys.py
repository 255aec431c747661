"""`seatflow keys create`: an API key, offline (server stopped) or through Redis."""

from __future__ import annotations

import argparse
import asyncio
import faulthandler
import os
from pathlib import Path
from typing import Any

from api.auth import hash_key, new_key
from api.cli import stores
from api.cli.common import fail, recover
from engine.clock import ManualClock, start_manual
from engine.commands import CreateKey
from engine.core import Engine
from engine.errors import SeatflowError
from engine.sqlite_journal import DataDirLocked, SqliteJournal, lock_data_dir

KEYS_DEADLINE_S = 45.0


def add_parser(sub: Any) -> None:
    keys = sub.add_parser("keys", help="API keys")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True)
    create = keys_sub.add_parser("create", help="create a key offline (server stopped)")
    create.add_argument("--role", required=True)
    create.add_argument("--agent", metavar="ID", help="the agent a role 'agent' key is bound to")
    stores.add_arguments(create)
    create.set_defaults(run=run)


async def _create_key(data: Path, role: str, agent_id: str | None) -> str:
    # A manual clock, started as `serve --clock manual` starts it: creating a key
    # offline never moves a virtual (test) clock forward to wall time.
    engine = Engine(SqliteJournal.in_dir(data), ManualClock(0))
    try:
        recover(engine)
        start_manual(engine.clock, engine.state.now)
        key = new_key()
        await engine.execute(CreateKey(hash_key(key), role, agent_id))
        return key
    finally:
        await engine.close()


async def _create_key_in_redis(args: argparse.Namespace) -> str:
    """Through a node: written by this process if no server owns the center, else forwarded."""
    from engine.redis_backend.node import RedisNode

    node = RedisNode(args.redis, args.center, ManualClock(0))
    await node.start()
    try:
        key = new_key()
        await node.execute(CreateKey(hash_key(key), args.role, args.agent))
        return key
    finally:
        await node.close()


def run(args: argparse.Namespace) -> int:
    if args.redis:
        # Should it ever hang (Redis stalls), say where, and stop, rather than wait forever.
        faulthandler.dump_traceback_later(KEYS_DEADLINE_S, exit=True)
        try:
            key = asyncio.run(_create_key_in_redis(args))
        except SeatflowError as exc:
            return fail(exc.message)
        finally:
            faulthandler.cancel_dump_traceback_later()
        print(key)
        return 0
    try:
        lock = lock_data_dir(args.data)
    except DataDirLocked:
        return fail(
            f"the server is running on {str(args.data)!r}; create keys with POST /v1/keys "
            "(admin key) instead"
        )
    try:
        key = asyncio.run(_create_key(args.data, args.role, args.agent))
    except SeatflowError as exc:
        return fail(exc.message)
    finally:
        os.close(lock)
    print(key)
    return 0
