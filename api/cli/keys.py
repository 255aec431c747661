"""`seatflow keys create | list | revoke`: API keys, offline (server stopped) or through Redis.

Offline, the data directory must not be in use (a running server owns its journal:
use the HTTP routes then). On Redis the command goes through a node: written by
this process if no server owns the center, else forwarded to the owner, so it works
while servers run. `create` prints the key alone on stdout (for `KEY=$(...)`) and its
public id on stderr; `list` prints one key per line, never the keys themselves.
"""

from __future__ import annotations

import argparse
import asyncio
import faulthandler
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from api.cli import stores
from api.cli.common import fail, recover, shown
from engine.clock import ManualClock
from engine.sqlite_journal import DataDirLocked, lock_data_dir
from presence.timeutil import format_time

# The key tooling (api.auth, and with it starlette) and the engine load in the commands
# that use them: building the parser for `seatflow payroll` must not (api.cli.common).
if TYPE_CHECKING:
    from engine.commands import Command
    from engine.keys import ApiKey

KEYS_DEADLINE_S = 45.0
# Who revoked a key from the command line, as the key list shows it.
CLI_BY = "cli"


def add_parser(sub: Any) -> None:
    keys = sub.add_parser("keys", help="API keys")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True)
    create = keys_sub.add_parser("create", help="create a key")
    create.add_argument("--role", required=True)
    create.add_argument("--agent", metavar="ID", help="the agent a role 'agent' key is bound to")
    stores.add_arguments(create)
    create.set_defaults(run=run_create)
    listing = keys_sub.add_parser("list", help="list the keys issued (ids, never the keys)")
    stores.add_arguments(listing)
    listing.set_defaults(run=run_list)
    revoke = keys_sub.add_parser("revoke", help="revoke a key by its public id, at once")
    revoke.add_argument("key_id", metavar="ID")
    stores.add_arguments(revoke)
    revoke.set_defaults(run=run_revoke)


async def _execute_offline(data: Path, command: Command) -> None:
    # A manual clock, started as `serve --clock manual` starts it: changing keys
    # offline never moves a virtual (test) clock forward to wall time.
    from engine.clock import start_manual
    from engine.core import Engine
    from engine.sqlite_journal import SqliteJournal

    engine = Engine(SqliteJournal.in_dir(data), ManualClock(0))
    try:
        recover(engine, data)
        start_manual(engine.clock, engine.state.now)
        await engine.execute(command)
    finally:
        await engine.close()


async def _execute_in_redis(args: argparse.Namespace, command: Command) -> None:
    from engine.redis_backend.node import RedisNode

    node = RedisNode(args.redis, args.center, ManualClock(0))
    await node.start()
    try:
        await node.execute(command)
    finally:
        await node.close()


def _execute(args: argparse.Namespace, command: Command) -> int | None:
    """Run one key command on the store; an exit code when it failed, else None."""
    from engine.errors import SeatflowError

    if args.redis:
        # Should it ever hang (Redis stalls), say where, and stop, rather than wait forever.
        faulthandler.dump_traceback_later(KEYS_DEADLINE_S, exit=True)
        try:
            asyncio.run(_execute_in_redis(args, command))
        except SeatflowError as exc:
            return fail(exc.message)
        finally:
            faulthandler.cancel_dump_traceback_later()
        return None
    try:
        lock = lock_data_dir(args.data)
    except DataDirLocked:
        return fail(
            f"the server is running on {str(args.data)!r}; use the /v1/keys routes (admin key) "
            "instead"
        )
    try:
        asyncio.run(_execute_offline(args.data, command))
    except SeatflowError as exc:
        return fail(exc.message)
    finally:
        os.close(lock)
    return None


def run_create(args: argparse.Namespace) -> int:
    from api.auth import hash_key, new_key
    from engine.commands import CreateKey
    from engine.keys import key_id

    key = new_key()
    digest = hash_key(key)
    failed = _execute(args, CreateKey(digest, args.role, args.agent))
    if failed is not None:
        return failed
    print(key)
    print(
        f"key id {key_id(digest)}: revoke it with 'seatflow keys revoke {key_id(digest)}'",
        file=sys.stderr,
    )
    return 0


def run_revoke(args: argparse.Namespace) -> int:
    from engine.commands import RevokeKey

    failed = _execute(args, RevokeKey(args.key_id, CLI_BY))
    if failed is not None:
        return failed
    print(f"key {shown(args.key_id)} revoked")
    return 0


def key_line(k: ApiKey) -> str:
    """One key as `keys list` prints it: id, role, agent, created, revoked."""
    revoked = (
        "-" if k.revoked_at is None else f"revoked {format_time(k.revoked_at)} by {k.revoked_by}"
    )
    agent = shown(k.agent_id) if k.agent_id is not None else "-"
    return f"{k.id}  {k.role:<10}  {agent:<16}  created {format_time(k.created_at)}  {revoked}"


def run_list(args: argparse.Namespace) -> int:
    try:
        engine = stores.read_engine(args, ManualClock(0))
    except stores.NoJournal as exc:
        return fail(str(exc))
    for k in engine.state.keys.values():
        print(key_line(k))
    return 0
