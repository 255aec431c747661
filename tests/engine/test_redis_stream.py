"""The journal on a Redis Stream: group commit, and the fencing that keeps one writer."""

from __future__ import annotations

import asyncio

from redis.asyncio import Redis
from redis_support import floor_script, owned_engine, play, replayed

from engine.fingerprint import fingerprint
from engine.journal import JournalError
from engine.redis_backend import stream
from engine.redis_backend.keys import Keys
from engine.redis_backend.lease import Lease
from engine.redis_backend.stream import MAX_BATCH, Fenced, RedisJournal


async def lease_value(client: Redis, keys: Keys, node: str = "n1") -> str:
    value = await Lease(client, keys, node, ttl_ms=60_000).acquire()
    assert value is not None
    return value


async def test_concurrent_appends_share_writes_and_land_in_order(client: Redis, keys: Keys) -> None:
    journal = RedisJournal(client, keys, await lease_value(client, keys), 1)
    records = [f"record {i}".encode() for i in range(1, 2 * MAX_BATCH + 501)]
    futures = [journal.append(r) for r in records]  # all issued before any write answers
    seqs = await asyncio.gather(*futures)
    assert seqs == list(range(1, len(records) + 1))
    # 2,500 records, at most 1,000 per script: three writes, not 2,500.
    assert journal.batches == 3
    assert await stream.read_after(client, keys, 0, 10_000) == list(zip(seqs, records, strict=True))
    assert await stream.last_seq(client, keys) == len(records)
    # Reading from the middle, and tailing: only what comes after.
    assert await stream.read_after(client, keys, 2497) == [
        (2498, records[2497]), (2499, records[2498]), (2500, records[2499]),
    ]  # fmt: skip
    assert await stream.tail(client, keys, 2499, block_ms=10) == [(2500, records[2499])]
    assert await stream.tail(client, keys, 2500, block_ms=10) == []


async def test_appends_while_a_write_is_in_flight_join_the_next_batch(
    client: Redis, keys: Keys
) -> None:
    journal = RedisJournal(client, keys, await lease_value(client, keys), 1)
    first = journal.append(b"first")
    await asyncio.sleep(0)  # the writer takes "first" and sends it
    rest = [journal.append(f"r{i}".encode()) for i in range(50)]
    assert await asyncio.gather(first, *rest) == list(range(1, 52))
    assert journal.batches == 2
    await journal.flush()
    assert [seq for seq, _ in await stream.read_after(client, keys, 0)] == list(range(1, 52))


async def test_an_engine_on_the_stream_replays_to_the_same_state(client: Redis, keys: Keys) -> None:
    engine, _ = await owned_engine(client, keys)
    await play(engine, floor_script(30))
    assert engine.last_seq == await stream.last_seq(client, keys) > 30
    assert fingerprint((await replayed(client, keys)).state) == fingerprint(engine.state)


async def test_a_journal_with_a_stale_lease_cannot_write(client: Redis, keys: Keys) -> None:
    old = await lease_value(client, keys, "old-owner")
    stale = RedisJournal(client, keys, old, 1)
    assert await stale.append(b"while still owner") == 1
    # The old owner pauses past its lease; another node takes the center and writes.
    await client.delete(keys.lease)
    new = await lease_value(client, keys, "new-owner")
    assert await RedisJournal(client, keys, new, 2).append(b"new owner's") == 2
    # The old owner wakes up and writes: refused, every pending record fails, nothing lands.
    futures = [stale.append(f"late {i}".encode()) for i in range(5)]
    results = await asyncio.gather(*futures, return_exceptions=True)
    assert all(isinstance(r, Fenced) for r in results)
    assert old in str(results[0])
    # Later appends fail at once with the same error: the stream can never get a gap.
    later = await asyncio.gather(stale.append(b"later"), return_exceptions=True)
    assert isinstance(later[0], Fenced)
    assert await stream.read_after(client, keys, 0) == [
        (1, b"while still owner"),
        (2, b"new owner's"),
    ]


async def test_a_batch_that_does_not_follow_the_stream_is_refused(
    client: Redis, keys: Keys
) -> None:
    value = await lease_value(client, keys)
    assert await RedisJournal(client, keys, value, 1).append(b"one") == 1
    # A writer that believes the stream is longer (a gap) or shorter (a batch sent again).
    for next_seq in (5, 1):
        journal = RedisJournal(client, keys, value, next_seq)
        futures = [journal.append(b"x"), journal.append(b"y")]
        results = await asyncio.gather(*futures, return_exceptions=True)
        assert all(isinstance(r, JournalError) and not isinstance(r, Fenced) for r in results)
        assert "ends at 1" in str(results[0])
    assert await stream.read_after(client, keys, 0) == [(1, b"one")]


async def test_a_write_to_an_unreachable_redis_fails_its_records(keys: Keys) -> None:
    nowhere = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)
    try:
        journal = RedisJournal(nowhere, keys, "1:n1", 1)
        result = await asyncio.gather(journal.append(b"r"), return_exceptions=True)
        assert isinstance(result[0], JournalError) and "Redis" in str(result[0])
        assert journal.failed is not None
    finally:
        await nowhere.aclose()
