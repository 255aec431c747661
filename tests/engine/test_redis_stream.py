"""What only the Redis journal has: fencing that keeps one writer, the stream's own checks,
and the reads followers make of it.

The promises every journal makes (group commit, order, flush, replay, an unreachable
store) are checked on SQLite and Redis alike in test_journal_contract.py.
"""

from __future__ import annotations

import asyncio

from redis.asyncio import Redis

from engine.journal import JournalError
from engine.redis_backend import stream
from engine.redis_backend.keys import Keys
from engine.redis_backend.lease import Lease
from engine.redis_backend.stream import Fenced, RedisJournal


async def lease_value(client: Redis, keys: Keys, node: str = "n1") -> str:
    value = await Lease(client, keys, node, ttl_ms=60_000).acquire()
    assert value is not None
    return value


async def test_followers_read_the_stream_after_any_seq_and_tail_it(
    client: Redis, keys: Keys
) -> None:
    assert await stream.last_seq(client, keys) == 0
    assert await stream.tail(client, keys, 0, block_ms=10) == []
    journal = RedisJournal(client, keys, await lease_value(client, keys), 1)
    records = [f"record {i}".encode() for i in range(1, 6)]
    await asyncio.gather(*(journal.append(r) for r in records))
    assert await stream.last_seq(client, keys) == 5
    # Reading from the middle, a chunk at a time, and tailing: only what comes after.
    assert await stream.read_after(client, keys, 2) == [
        (3, records[2]), (4, records[3]), (5, records[4]),
    ]  # fmt: skip
    assert await stream.read_after(client, keys, 0, count=2) == [(1, records[0]), (2, records[1])]
    assert await stream.tail(client, keys, 4, block_ms=10) == [(5, records[4])]
    assert await stream.tail(client, keys, 5, block_ms=10) == []


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
    assert stale.failed is results[0]  # the node reads it: a lost lease, not a broken Redis
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
