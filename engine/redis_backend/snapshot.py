"""State snapshots in Redis, so a process starts from the last snapshot plus the tail.

A snapshot is a checkpoint (engine/checkpoint.py: the state's fingerprint as typed
MessagePack, never pickle, so loading one runs no code) of the state after record
`seq`. It is taken by the owner in a forked child (copy-on-write, as Redis's own
BGSAVE does): encoding a big state takes seconds, which must not stall routing.

It is stored as a hash `{seq, format, chunks, data:0 .. data:N-1}` in chunks of
64 MB, so no single value meets Redis's 512 MB limit on a string. `format` names the
checkpoint format and the code's state shape: a snapshot of another build is ignored
without being read (a full replay instead). The checkpoint's header holds the
SHA-256 of stream record `seq`: a snapshot is used only with the stream it was made
from, and a damaged one (its body digest) never.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Any

import redis
from redis.asyncio import Redis

from engine.checkpoint import (
    FORMAT,
    CheckpointError,
    decode,
    decode_settings,
    encode,
    record_digest,
    settings_after,
    shape,
)
from engine.redis_backend import stream, trim
from engine.redis_backend.keys import Keys
from engine.redis_backend.scripts import PUT_SNAPSHOT
from engine.settings import Settings
from engine.state import State

log = logging.getLogger("seatflow.redis")

STORED, OLDER, NOT_DURABLE_YET, LEASE_CHANGED = 1, 0, -1, -2
CHUNK = 64 * 1024 * 1024


def snapshot_format() -> str:
    """`checkpoint-<format>/<state shape>`: what a build can read back."""
    return f"checkpoint-{FORMAT}/{shape()}"


def chunks(data: bytes, size: int = CHUNK) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)] or [b""]


async def load(client: Redis, keys: Keys) -> tuple[int, State] | None:
    """The stored snapshot, or None if there is none, another build made it, or it is bad."""
    fields: Any = await client.hmget(keys.snapshot, ["seq", "format", "chunks"])
    if fields[0] is None:
        return None
    seq, fmt, n = int(fields[0]), (fields[1] or b"").decode(), int(fields[2] or 0)
    if fmt != snapshot_format():
        log.warning("ignoring the snapshot at seq %d: made by another build (%s)", seq, fmt)
        return None
    parts: Any = await client.hmget(keys.snapshot, [f"data:{i}" for i in range(n)])
    try:
        if any(p is None for p in parts):
            raise CheckpointError("a chunk is missing")
        header, state = decode(b"".join(parts))
        record = await stream.read_after(client, keys, seq - 1, 1)
        if not record or record[0][0] != seq or record_digest(record[0][1]) != header.record_sha256:
            raise CheckpointError(f"not made from this stream (its record {seq} differs)")
    except CheckpointError as exc:
        log.warning("ignoring the snapshot at seq %d: %s", seq, exc)
        return None
    return seq, state


async def settings_now(client: Redis, keys: Keys) -> Settings | None:
    """The center's settings as its state has them now, without loading the state: the
    snapshot's (checked as `load` checks it), then the changes in the stream after it. A
    stream that still starts at record 1 needs no snapshot; else None without one."""
    settings, seq = Settings(), 0
    fields: Any = await client.hmget(keys.snapshot, ["seq", "format", "chunks"])
    if fields[0] is not None and (fields[1] or b"").decode() == snapshot_format():
        n = int(fields[2] or 0)
        parts: Any = await client.hmget(keys.snapshot, [f"data:{i}" for i in range(n)])
        try:
            if any(p is None for p in parts):
                raise CheckpointError("a chunk is missing")
            header, settings = decode_settings(b"".join(parts))
            record = await stream.read_after(client, keys, header.seq - 1, 1)
            if (
                not record
                or record[0][0] != header.seq
                or record_digest(record[0][1]) != header.record_sha256
            ):
                raise CheckpointError(
                    f"not made from this stream (its record {header.seq} differs)"
                )
            seq = header.seq
        except CheckpointError as exc:
            log.warning("ignoring the snapshot: %s", exc)
            settings = Settings()
    if seq == 0 and await stream.first_seq(client, keys) > 1:
        return None  # trimmed, and nothing covers what was
    while batch := await stream.read_after(client, keys, seq, 10_000):
        settings = settings_after(settings, batch)
        seq = batch[-1][0]
    return settings


def put(client: redis.Redis, keys: Keys, seq: int, data: bytes, lease_value: str) -> int:
    """Store a snapshot (sync client); waits up to 10 s for record seq to be durable."""
    script = client.register_script(PUT_SNAPSHOT)
    parts = chunks(data)
    deadline = time.monotonic() + 10.0
    while True:
        result = int(
            script(
                keys=[keys.snapshot, keys.lease, keys.journal],
                args=[seq, snapshot_format(), len(parts), lease_value, *parts],
            )
        )
        if result != NOT_DURABLE_YET or time.monotonic() > deadline:
            return result
        time.sleep(0.05)


def fork_save(
    url: str,
    keys: Keys,
    state: State,
    seq: int,
    record: bytes,
    lease_value: str,
    segments_dir: Path | None = None,
) -> int:
    """Write a snapshot from a forked child; returns its pid (exit 0: stored or older).

    With `segments_dir`, the child then moves the records before it out of the stream
    (engine.redis_backend.trim)."""
    snapshot_format()  # computed before forking: the child only encodes and sends
    pid = os.fork()
    if pid:
        return pid
    code = 1
    try:
        data = encode(state, seq, record)
        client = redis.Redis.from_url(url, socket_timeout=30)
        stored = put(client, keys, seq, data, lease_value)
        code = 0 if stored >= 0 else 3
        if stored == STORED and segments_dir is not None:
            code = 0 if trim.move_before(client, keys, seq, lease_value, segments_dir) > 0 else 4
    except BaseException:  # noqa: BLE001 - a child must never return into the server
        code = 2
    finally:
        os._exit(code)


def save_now(url: str, keys: Keys, state: State, seq: int, record: bytes, lease_value: str) -> int:
    """Write a snapshot from this process (shutdown, when nothing else runs)."""
    data = encode(state, seq, record)
    client = redis.Redis.from_url(url, socket_timeout=30)
    try:
        return put(client, keys, seq, data, lease_value)
    finally:
        client.close()
