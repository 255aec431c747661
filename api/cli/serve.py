"""`seatflow serve`: the HTTP server on the embedded store, or on Redis with --redis."""

from __future__ import annotations

import argparse
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from api.cli import payroll
from api.cli.common import fail
from engine.clock import ManualClock, RealClock, start_manual
from engine.sqlite_journal import DataDirLocked, SqliteJournal, lock_data_dir
from presence.timeutil import format_time

# The web stack and the engine load in `run` (api.cli.common): `seatflow payroll` builds
# this parser too. Hence the defaults below are resolved there.
if TYPE_CHECKING:
    from engine.clock import Clock
    from engine.core import Center, Engine

log = logging.getLogger("seatflow")


def add_parser(sub: Any) -> None:
    serve = sub.add_parser("serve", help="run the HTTP server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--data", type=Path, default=Path("./seatflow-data"))
    serve.add_argument("--clock", choices=("real", "manual"), default="real")
    serve.add_argument(
        "--start",
        metavar="TIME",
        help="with --clock manual: the clock's first time on a new journal, e.g. "
        "2026-11-23T07:00:00Z (default: now); a journal with history goes on from its last event",
    )
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
    serve.add_argument(
        "--header-timeout", type=float, metavar="S",
        help="cut off a client whose request headers take longer than this (408; default 10)",
    )  # fmt: skip
    serve.add_argument(
        "--checkpoint-every", type=int, metavar="RECORDS",
        help="write a checkpoint of the state after this many new journal records (or 10 "
        "minutes with at least one), so a restart replays only what follows (default 50000)",
    )  # fmt: skip
    serve.add_argument(
        "--segments", type=Path, metavar="DIR",
        help="with --redis: after each snapshot, move the stream's older records to journal "
        "segment files in DIR, and the archived orders' rows they wrote to DIR/orders.sqlite3, "
        "then trim them from Redis (storage every node can write; give every node the same DIR)",
    )  # fmt: skip
    serve.set_defaults(run=run)


def _clock(kind: str) -> Clock:
    # A manual clock starts at 0; engine.clock.start_manual moves it after recovery.
    return ManualClock(0) if kind == "manual" else RealClock()


def _start_ms(args: argparse.Namespace) -> int | str | None:
    """--start as epoch ms, or why it cannot be used."""
    from api.query import time_field
    from engine.errors import Invalid

    if args.start is None:
        return None
    if args.clock != "manual":
        return "--start needs --clock manual (the real clock cannot be set)"
    try:
        return time_field(args.start, "--start")  # the HTTP edge's rule: RFC 3339, 1970..2200
    except Invalid as exc:
        return exc.message


def _start_clock(engine: Engine, start_ms: int | None) -> None:
    if not start_manual(engine.clock, engine.state.now, start_ms) and start_ms is not None:
        log.info(
            "--start %s: the journal already goes to %s; the clock goes on from there",
            format_time(start_ms),
            format_time(engine.state.now),
        )


MIN_ADMIN_KEY = 16  # characters: the key that can do everything must not be guessable


def _admin_key() -> str | None:
    """SEATFLOW_ADMIN_KEY, or None; raises ValueError saying why a key is refused."""
    key = os.environ.get("SEATFLOW_ADMIN_KEY") or None
    if key is not None and len(key) < MIN_ADMIN_KEY:
        raise ValueError(
            f"SEATFLOW_ADMIN_KEY is {len(key)} characters; an admin key needs at least "
            f"{MIN_ADMIN_KEY} (make one with: python3 -c "
            "'import secrets; print(secrets.token_urlsafe(24))')"
        )
    return key


def _defaults(args: argparse.Namespace) -> None:
    from api.transport import HEAD_TIMEOUT_S
    from engine.checkpoint_files import EVERY_RECORDS

    if args.header_timeout is None:
        args.header_timeout = HEAD_TIMEOUT_S
    if args.checkpoint_every is None:
        args.checkpoint_every = EVERY_RECORDS


def run(args: argparse.Namespace) -> int:
    _defaults(args)
    start = _start_ms(args)
    if isinstance(start, str):
        return fail(start)
    if not 1 <= args.checkpoint_every <= 100_000_000:
        return fail(f"--checkpoint-every {args.checkpoint_every} is out of range: 1..100000000")
    if not 0 < args.header_timeout <= 3600:
        return fail(f"--header-timeout {args.header_timeout:g} is out of range: (0, 3600] seconds")
    try:
        admin_key = _admin_key()
    except ValueError as exc:
        return fail(str(exc))
    args.start_ms = start
    lock: int | None = None
    if args.redis:
        factory = _redis_factory(args)
        if isinstance(factory, str):
            return fail(factory)
    else:
        if args.segments is not None:
            return fail(
                "--segments is for --redis; an embedded journal moves records out with "
                "'seatflow journal archive'"
            )
        try:
            lock = lock_data_dir(args.data)
        except DataDirLocked as exc:
            return fail(str(exc))
        factory = _sqlite_factory(args)
    import uvicorn
    from starlette.types import ASGIApp

    from api.app import create_app
    from api.auth import keys_current_everywhere
    from api.fastpath import with_fast_path
    from api.transport import GuardedHttpTools

    if admin_key is None:
        log.warning(
            "SEATFLOW_ADMIN_KEY is not set: only keys created with 'seatflow keys create' work"
        )

    app = create_app(factory, admin_key=admin_key)
    # Order intake straight to its endpoints; the rest via the app.
    asgi: ASGIApp = with_fast_path(app)
    if args.redis:
        asgi = keys_current_everywhere(asgi, app)  # keys made or revoked elsewhere count at once
    # httptools, with limits on every request's head (api.transport): 431 past 64 KiB,
    # 408 when it comes too slowly.
    protocol = type("Http", (GuardedHttpTools,), {"head_timeout_s": args.header_timeout})
    config = uvicorn.Config(
        asgi,
        host=args.host,
        port=args.port,
        loop="uvloop",
        http=protocol,
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
    from engine import checkpoint_files
    from engine.checkpoint_files import CheckpointFiles
    from engine.core import Engine
    from engine.timers import TimerDriver

    def factory() -> Engine:
        engine = Engine(SqliteJournal.in_dir(args.data), _clock(args.clock))
        files = CheckpointFiles(args.data)
        covered, _, _ = checkpoint_files.recover(engine, files)
        _start_clock(engine, args.start_ms)
        keeper = checkpoint_files.Checkpointer(
            engine, files, covered, every_records=args.checkpoint_every
        )
        keeper.start()
        engine.closers.append(keeper.stop)
        engine.checkpoint_age = keeper.age_s
        log.info("clock %s at %s", args.clock, format_time(engine.now()))
        payroll.warm_kernel()
        TimerDriver(engine).start()  # lifecycle timers on the real clock (a manual one: moves)
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
        payroll.warm_kernel()
        log.info("center %s in Redis at %s, clock %s", args.center, args.redis, args.clock)
        return RedisNode(
            args.redis, args.center, _clock(args.clock), start_ms=args.start_ms,
            snapshot_every=args.checkpoint_every, segments_dir=args.segments,
        )  # fmt: skip

    return factory
