"""The `seatflow` command: serve, create keys offline, replay the journal.

    seatflow serve [--host 127.0.0.1] [--port 8000] [--data ./seatflow-data]
                   [--clock real|manual] [--redis URL] [--access-log]
    seatflow keys create --role ROLE [--agent ID] [--data DIR]
    seatflow replay [--data DIR]
    seatflow payroll YYYY-MM [--data DIR] [--format table|csv|xlsx] [--output FILE]
    seatflow simulate ... | seatflow staffing ...   (bench/sim/cli.py)

`serve` and `keys create` take the data directory's lock (one writer per
journal); `replay` only reads, so it works beside a running server (SQLite WAL).
"""

from __future__ import annotations

import argparse
import asyncio
import faulthandler
import logging
import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

from engine import stores
from engine.clock import Clock, ManualClock, RealClock
from engine.commands import CreateKey
from engine.core import Center, Engine
from engine.errors import SeatflowError
from engine.payroll import cli as payroll_cli
from engine.sqlite_journal import DataDirLocked, SqliteJournal, lock_data_dir
from engine.timeutil import format_time

log = logging.getLogger("seatflow")

EXIT_USAGE = 2
KEYS_DEADLINE_S = 45.0


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="seatflow", description="Contact-center routing engine.")
    sub = p.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the HTTP server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--data", type=Path, default=Path("./seatflow-data"))
    serve.add_argument("--clock", choices=("real", "manual"), default="real")
    serve.add_argument(
        "--redis",
        metavar="URL",
        help="keep the center in Redis (redis://HOST:PORT/DB) instead of --data; "
        "any number of processes may serve one center",
    )
    serve.add_argument(
        "--center", default="default", help="the center's name in Redis (with --redis)"
    )
    serve.add_argument("--access-log", action="store_true", help="log every request")

    keys = sub.add_parser("keys", help="API keys")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True)
    create = keys_sub.add_parser("create", help="create a key offline (server stopped)")
    create.add_argument("--role", required=True)
    create.add_argument("--agent", metavar="ID", help="the agent a role 'agent' key is bound to")
    stores.add_arguments(create)

    replay = sub.add_parser("replay", help="rebuild state from the journal and summarize it")
    stores.add_arguments(replay)
    payroll_cli.add_parser(sub)

    from bench.sim.cli import add_commands  # simulate, staffing (their code is in bench/sim)

    add_commands(sub)
    return p


def _fail(message: str) -> int:
    print(f"seatflow: {message}", file=sys.stderr)
    return EXIT_USAGE


def _recover(engine: Engine) -> None:
    started = time.perf_counter()
    n = engine.recover()
    took = time.perf_counter() - started
    log.info("recovered %d journal records in %.3f s", n, took)


# -- serve --------------------------------------------------------------------------


def _clock(kind: str) -> Clock:
    # A manual clock starts at 0; _start_manual moves it after recovery.
    return ManualClock(0) if kind == "manual" else RealClock()


def _start_manual(engine: Engine) -> None:
    """Empty journal: the virtual clock starts at wall time (whole second); else where it was."""
    clock = engine.clock
    if isinstance(clock, ManualClock) and engine.state.now == 0:
        clock.set(RealClock().now_ms() // 1000 * 1000)


def serve(args: argparse.Namespace) -> int:
    lock: int | None = None
    if args.redis:
        factory = _redis_factory(args)
        if isinstance(factory, str):
            return _fail(factory)
    else:
        try:
            lock = lock_data_dir(args.data)
        except DataDirLocked as exc:
            return _fail(str(exc))
        factory = _sqlite_factory(args)
    import uvicorn
    from starlette.types import ASGIApp

    from api import create_app
    from api.auth import catch_up_for_new_keys
    from api.fastpath import with_fast_path

    admin_key = os.environ.get("SEATFLOW_ADMIN_KEY") or None
    if admin_key is None:
        log.warning(
            "SEATFLOW_ADMIN_KEY is not set: only keys created with 'seatflow keys create' work"
        )

    app = create_app(factory, admin_key=admin_key)
    # Order intake straight to its endpoints; the rest via the app.
    asgi: ASGIApp = with_fast_path(app)
    if args.redis:
        asgi = catch_up_for_new_keys(asgi, app)  # a key made on another process works here at once
    config = uvicorn.Config(
        asgi,
        host=args.host,
        port=args.port,
        loop="uvloop",
        http="httptools",
        access_log=args.access_log,
        log_level="info",
        lifespan="on",
        timeout_graceful_shutdown=10,  # a client that stopped reading cannot hold shutdown up
    )
    server = uvicorn.Server(config)
    app.state.stopping = lambda: server.should_exit  # open board streams end on shutdown
    try:
        server.run()
    finally:
        if lock is not None:
            os.close(lock)
    return 0


def _sqlite_factory(args: argparse.Namespace) -> Callable[[], Center]:
    def factory() -> Engine:
        engine = Engine(SqliteJournal.in_dir(args.data), _clock(args.clock))
        _recover(engine)
        _start_manual(engine)
        log.info("clock %s at %s", args.clock, format_time(engine.now()))
        payroll_cli.warm_kernel()
        return engine

    return factory


def _redis_factory(args: argparse.Namespace) -> Callable[[], Center] | str:
    """The node for --redis, or why it cannot be made (a bad URL or center name)."""
    from redis.asyncio.connection import parse_url

    from engine.redis_backend.keys import BadCenterName, Keys
    from engine.redis_backend.node import RedisNode

    try:
        parse_url(args.redis)
        Keys(args.center)
    except (ValueError, BadCenterName) as exc:
        return f"--redis {args.redis} --center {args.center}: {exc}"

    def factory() -> RedisNode:
        payroll_cli.warm_kernel()
        log.info("center %s in Redis at %s, clock %s", args.center, args.redis, args.clock)
        return RedisNode(args.redis, args.center, _clock(args.clock))

    return factory


# -- keys create --------------------------------------------------------------------


async def _create_key(data: Path, role: str, agent_id: str | None) -> str:
    from api.auth import hash_key, new_key

    # A manual clock, started as `serve --clock manual` starts it: creating a key
    # offline never moves a virtual (test) clock forward to wall time.
    engine = Engine(SqliteJournal.in_dir(data), ManualClock(0))
    try:
        _recover(engine)
        _start_manual(engine)
        key = new_key()
        await engine.execute(CreateKey(hash_key(key), role, agent_id))
        return key
    finally:
        await engine.close()


async def _create_key_in_redis(args: argparse.Namespace) -> str:
    """Through a node: written by this process if no server owns the center, else forwarded."""
    from api.auth import hash_key, new_key
    from engine.redis_backend.node import RedisNode

    node = RedisNode(args.redis, args.center, ManualClock(0))
    await node.start()
    try:
        key = new_key()
        await node.execute(CreateKey(hash_key(key), args.role, args.agent))
        return key
    finally:
        await node.close()


def keys_create(args: argparse.Namespace) -> int:
    if args.redis:
        # Should it ever hang (Redis stalls), say where, and stop, rather than wait forever.
        faulthandler.dump_traceback_later(KEYS_DEADLINE_S, exit=True)
        try:
            key = asyncio.run(_create_key_in_redis(args))
        except SeatflowError as exc:
            return _fail(exc.message)
        finally:
            faulthandler.cancel_dump_traceback_later()
        print(key)
        return 0
    try:
        lock = lock_data_dir(args.data)
    except DataDirLocked:
        return _fail(
            f"the server is running on {str(args.data)!r}; create keys with POST /v1/keys "
            "(admin key) instead"
        )
    try:
        key = asyncio.run(_create_key(args.data, args.role, args.agent))
    except SeatflowError as exc:
        return _fail(exc.message)
    finally:
        os.close(lock)
    print(key)
    return 0


# -- replay -------------------------------------------------------------------------


def _counts(values: Sequence[str] | Counter[str]) -> str:
    counts = values if isinstance(values, Counter) else Counter(values)
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "none"


def _summary(engine: Engine, records: int, took: float) -> list[str]:
    state = engine.state
    status = Counter("queued" if o.status == "routing" else o.status for o in state.orders.values())
    queues = [
        f"{'(no skill)' if skill is None else skill} {depth}"
        for skill, depth, _ in sorted(state.queues.depths(), key=lambda q: str(q[0]))
    ]
    pending = [r for r in state.requests.values() if r.status == "pending"]
    return [
        f"records        {records} replayed in {took:.3f} s",
        f"last event     {format_time(state.now) if records else 'none'}",
        f"agents         {len(state.agents)}: {_counts([a.state for a in state.agents.values()])}",
        f"orders         {len(state.orders)}: {_counts(status)}",
        f"queues         {', '.join(queues) or 'empty'}",
        f"logout pending {len(pending)}"
        + (f": {', '.join(f'{r.id} ({r.agent_id})' for r in pending)}" if pending else ""),
        f"keys           {len(state.keys)}",
    ]


def replay(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    try:
        engine = stores.read_engine(args, RealClock())
    except stores.NoJournal as exc:
        return _fail(str(exc))
    took = time.perf_counter() - started
    print(f"journal        {stores.describe(args)}")
    print("\n".join(_summary(engine, engine.last_seq, took)))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    args = _parser().parse_args(argv)
    if args.command == "serve":
        return serve(args)
    if args.command == "keys":
        return keys_create(args)
    if args.command == "payroll":
        return payroll_cli.run(args)
    if args.command in ("simulate", "staffing"):
        return int(args.run(args))
    return replay(args)


if __name__ == "__main__":
    sys.exit(main())
