"""Snapshots: a process starts from the last one plus the stream after it, to the same state."""

from __future__ import annotations

import os

import pytest
import redis
from redis.asyncio import Redis
from redis_server import RedisServer
from redis_support import floor_script, more_orders, owned_engine, play, replayed

from engine import segments
from engine.checkpoint import encode
from engine.clock import ManualClock
from engine.fingerprint import fingerprint
from engine.journal import JournalError
from engine.redis_backend import snapshot, stream, trim
from engine.redis_backend.keys import Keys
from engine.redis_backend.node import load_engine
from engine.redis_backend.scripts import PUT_SNAPSHOT
from engine.redis_backend.stream import RedisJournal


def last(engine) -> bytes:
    """The record the engine appended last: a snapshot's header names its digest."""
    journal = engine.journal
    assert isinstance(journal, RedisJournal)
    return journal.appended_record


async def test_a_snapshot_saved_now_loads_back_to_the_replayed_state(
    redis_server: RedisServer, client: Redis, keys: Keys
) -> None:
    engine, value = await owned_engine(client, keys)
    await play(engine, floor_script(40))
    seq = engine.last_seq
    result = snapshot.save_now(redis_server.url, keys, engine.state, seq, last(engine), value)
    assert result == snapshot.STORED
    got = await snapshot.load(client, keys)
    assert got is not None and got[0] == seq
    assert fingerprint(got[1]) == fingerprint((await replayed(client, keys)).state)

    # More records after it: a process starts from the snapshot and reads only the rest.
    await play(engine, more_orders(40, 20))
    loaded, from_seq = await load_engine(client, keys, ManualClock(0))
    assert from_seq == seq < loaded.last_seq == engine.last_seq
    assert fingerprint(loaded.state) == fingerprint((await replayed(client, keys)).state)
    assert fingerprint(loaded.state) == fingerprint(engine.state)


async def test_a_snapshot_from_a_forked_child_loads_back_the_same(
    redis_server: RedisServer, client: Redis, keys: Keys
) -> None:
    engine, value = await owned_engine(client, keys)
    await play(engine, floor_script(40))
    seq = engine.last_seq
    pid = snapshot.fork_save(redis_server.url, keys, engine.state, seq, last(engine), value)
    # The parent goes on writing while the child encodes its copy-on-write state.
    await play(engine, more_orders(40, 10))
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    loaded, from_seq = await load_engine(client, keys, ManualClock(0))
    assert from_seq == seq and loaded.last_seq == engine.last_seq
    assert fingerprint(loaded.state) == fingerprint(engine.state)
    assert fingerprint(loaded.state) == fingerprint((await replayed(client, keys)).state)


async def test_a_snapshot_from_another_build_is_ignored(
    redis_server: RedisServer, client: Redis, keys: Keys, caplog: pytest.LogCaptureFixture
) -> None:
    engine, value = await owned_engine(client, keys)
    await play(engine, floor_script(20))
    seq = engine.last_seq
    assert snapshot.save_now(redis_server.url, keys, engine.state, seq, last(engine), value) == 1
    await client.hset(keys.snapshot, "format", "checkpoint-1/0000000000000000")
    with caplog.at_level("WARNING", logger="seatflow.redis"):
        assert await snapshot.load(client, keys) is None
    assert "another build" in caplog.text
    loaded, from_seq = await load_engine(client, keys, ManualClock(0))
    assert from_seq == 0 and loaded.last_seq == engine.last_seq  # a full replay
    assert fingerprint(loaded.state) == fingerprint(engine.state)


async def test_put_snapshot_refuses_a_changed_lease_or_a_record_not_yet_written(
    client: Redis, keys: Keys
) -> None:
    engine, value = await owned_engine(client, keys)
    await play(engine, floor_script(5))
    top = engine.last_seq
    put = client.register_script(PUT_SNAPSHOT)
    data = encode(engine.state, top, last(engine))

    async def store(seq: int, lease_value: str) -> int:
        fields = [seq, snapshot.snapshot_format(), 1, lease_value, data]
        return int(await put(keys=[keys.snapshot, keys.lease, keys.journal], args=fields))

    assert await store(top + 1, value) == snapshot.NOT_DURABLE_YET
    assert await store(top, f"99:{value}") == snapshot.LEASE_CHANGED
    assert await client.exists(keys.snapshot) == 0  # neither wrote anything
    assert await store(top, value) == snapshot.STORED
    assert await store(top - 1, value) == snapshot.OLDER  # never replaced by an older one
    assert int(await client.hget(keys.snapshot, "seq")) == top  # type: ignore[arg-type]
    # After a failover the old owner's late snapshot is refused, even for a later seq.
    await client.delete(keys.lease)
    assert await store(top, value) == snapshot.LEASE_CHANGED


async def test_a_snapshot_is_stored_in_chunks_and_a_damaged_one_is_ignored(
    redis_server: RedisServer, client: Redis, keys: Keys, caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """No value may pass Redis's 512 MB string limit: chunks (here of 1 KiB) make one
    snapshot of many fields; a changed chunk or one from another stream is never used."""
    monkeypatch.setattr(snapshot, "CHUNK", 1024)
    monkeypatch.setattr(snapshot.chunks, "__defaults__", (1024,))
    engine, value = await owned_engine(client, keys)
    await play(engine, floor_script(40))
    seq = engine.last_seq
    assert snapshot.save_now(redis_server.url, keys, engine.state, seq, last(engine), value) == 1
    n = int(await client.hget(keys.snapshot, "chunks"))  # type: ignore[arg-type]
    assert n > 3
    got = await snapshot.load(client, keys)
    assert got is not None and fingerprint(got[1]) == fingerprint(engine.state)

    original = await client.hget(keys.snapshot, "data:1")
    await client.hset(keys.snapshot, "data:1", b"x" * len(original))  # type: ignore[arg-type]
    with caplog.at_level("WARNING", logger="seatflow.redis"):
        assert await snapshot.load(client, keys) is None
    assert "damaged: its body does not match its digest" in caplog.text
    await client.hset(keys.snapshot, "data:1", original)  # type: ignore[arg-type]
    await client.hdel(keys.snapshot, f"data:{n - 1}")
    assert await snapshot.load(client, keys) is None
    assert "a chunk is missing" in caplog.text


async def test_a_snapshot_of_another_stream_is_ignored(
    redis_server: RedisServer, client: Redis, keys: Keys, caplog: pytest.LogCaptureFixture
) -> None:
    engine, value = await owned_engine(client, keys)
    await play(engine, floor_script(20))
    seq = engine.last_seq
    assert snapshot.save_now(redis_server.url, keys, engine.state, seq, b"another", value) == 1
    with caplog.at_level("WARNING", logger="seatflow.redis"):
        assert await snapshot.load(client, keys) is None
    assert f"not made from this stream (its record {seq} differs)" in caplog.text
    loaded, from_seq = await load_engine(client, keys, ManualClock(0))
    assert from_seq == 0 and fingerprint(loaded.state) == fingerprint(engine.state)


async def test_trimming_moves_records_to_a_segment_first_and_only_under_the_lease(
    redis_server: RedisServer, client: Redis, keys: Keys, tmp_path
) -> None:
    engine, value = await owned_engine(client, keys)
    await play(engine, floor_script(40))
    seq = engine.last_seq
    assert snapshot.save_now(redis_server.url, keys, engine.state, seq, last(engine), value) == 1
    everything = await stream.read_after(client, keys, 0, 100_000)
    sync = redis.Redis.from_url(redis_server.url)
    try:
        assert trim.move_before(sync, keys, seq, "1:someone-else", tmp_path) == trim.FENCED
        assert await stream.read_after(client, keys, 0, 100_000) == everything  # untouched
        assert trim.move_before(sync, keys, seq, value, tmp_path) == trim.TRIMMED
        listed = [trim.parse(item) for item in sync.lrange(keys.segments, 0, -1)]
    finally:
        sync.close()
    assert [(s.first, s.last) for s in listed] == [(1, seq - 1)]
    assert (await stream.read_after(client, keys, 0, 10))[0][0] == seq  # the snapshot's stays
    assert list(segments.history(tmp_path, listed)) == everything[: seq - 1]
    loaded, _ = await load_engine(client, keys, ManualClock(0))  # from the snapshot: the same
    assert fingerprint(loaded.state) == fingerprint(engine.state)
    await client.delete(keys.snapshot)
    with pytest.raises(JournalError, match="trimmed from the stream"):
        await load_engine(client, keys, ManualClock(0))
