"""State snapshots in Redis, so a process starts from the last snapshot plus the tail.

A snapshot is the pickled `State` after record `seq`. It is taken by the owner in a
forked child (copy-on-write, as Redis's own BGSAVE does): pickling a day of a 400-seat
center takes about a second, which must not stall routing. The format string carries a
hash of the code that defines the state, so a snapshot made by another build of seatflow
is ignored (a full replay) rather than unpickled into classes that have changed.

Pickle runs code from the data it loads: a snapshot is only as trusted as the Redis
server, the same trust the journal already places in it.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import time
from functools import cache
from pathlib import Path
from typing import Any

import redis
from redis.asyncio import Redis

from engine.redis_backend.keys import Keys
from engine.redis_backend.scripts import PUT_SNAPSHOT
from engine.state import State

log = logging.getLogger("seatflow.redis")

_CODE = ("engine", "presence", "router")
STORED, OLDER, NOT_DURABLE_YET, LEASE_CHANGED = 1, 0, -1, -2


@cache
def snapshot_format() -> str:
    """`state-v1/<hash of the engine, presence and router sources>`."""
    root = Path(__file__).resolve().parents[2]
    h = hashlib.sha256()
    for package in _CODE:
        for path in sorted((root / package).rglob("*.py")):
            h.update(path.relative_to(root).as_posix().encode())
            h.update(path.read_bytes())
    return f"state-v1/{h.hexdigest()[:16]}"


async def load(client: Redis, keys: Keys) -> tuple[int, State] | None:
    """The stored snapshot, or None if there is none or another build made it."""
    fields: Any = await client.hgetall(keys.snapshot)
    if not fields:
        return None
    seq, fmt = int(fields[b"seq"]), fields[b"format"].decode()
    if fmt != snapshot_format():
        log.warning("ignoring the snapshot at seq %d: made by another build (%s)", seq, fmt)
        return None
    state = pickle.loads(fields[b"data"])
    if not isinstance(state, State):
        log.warning("ignoring the snapshot at seq %d: not a State", seq)
        return None
    return seq, state


def put(client: redis.Redis, keys: Keys, seq: int, data: bytes, lease_value: str) -> int:
    """Store a pickled state (sync client); waits up to 10 s for record seq to be durable."""
    script = client.register_script(PUT_SNAPSHOT)
    deadline = time.monotonic() + 10.0
    while True:
        result = int(
            script(
                keys=[keys.snapshot, keys.lease, keys.journal],
                args=[seq, snapshot_format(), data, lease_value],
            )
        )
        if result != NOT_DURABLE_YET or time.monotonic() > deadline:
            return result
        time.sleep(0.05)


def fork_save(url: str, keys: Keys, state: State, seq: int, lease_value: str) -> int:
    """Write a snapshot from a forked child; returns its pid (exit 0: stored or older)."""
    snapshot_format()  # computed before forking: the child only pickles and sends
    pid = os.fork()
    if pid:
        return pid
    code = 1
    try:
        data = pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)
        client = redis.Redis.from_url(url, socket_timeout=30)
        code = 0 if put(client, keys, seq, data, lease_value) >= 0 else 3
    except BaseException:  # noqa: BLE001 - a child must never return into the server
        code = 2
    finally:
        os._exit(code)


def save_now(url: str, keys: Keys, state: State, seq: int, lease_value: str) -> int:
    """Write a snapshot from this process (shutdown, when nothing else runs)."""
    data = pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)
    client = redis.Redis.from_url(url, socket_timeout=30)
    try:
        return put(client, keys, seq, data, lease_value)
    finally:
        client.close()
