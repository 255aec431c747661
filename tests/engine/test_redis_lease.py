"""One owner per center: the lease, its fencing tokens, and what frees it."""

from __future__ import annotations

import asyncio
import time

from redis.asyncio import Redis

from engine.redis_backend.keys import Keys
from engine.redis_backend.lease import Lease, token_of

TTL_MS = 200


async def test_a_free_center_is_leased_to_one_node_only(client: Redis, keys: Keys) -> None:
    a, b = Lease(client, keys, "node-a", TTL_MS), Lease(client, keys, "node-b", TTL_MS)
    value = await a.acquire()
    assert value is not None
    token, _, node = value.partition(":")
    assert node == "node-a" and int(token) >= 1
    assert await b.acquire() is None
    assert await a.acquire() is None  # not even to its holder: a lease is taken once
    assert (await client.get(keys.lease)) == value.encode()


async def test_tokens_grow_with_every_lease_granted(client: Redis, keys: Keys) -> None:
    leases = [Lease(client, keys, f"node-{i}", TTL_MS) for i in range(3)]
    tokens = []
    for lease in leases * 2:
        value = await lease.acquire()
        assert value is not None and value.endswith(f":{lease.node}")
        tokens.append(token_of(value))
        assert await lease.release(value)
    assert tokens == sorted(set(tokens)), tokens  # strictly increasing, no value reused


async def test_renewing_keeps_the_lease_past_its_ttl(client: Redis, keys: Keys) -> None:
    a, b = Lease(client, keys, "node-a", TTL_MS), Lease(client, keys, "node-b", TTL_MS)
    value = await a.acquire()
    assert value is not None
    end = time.monotonic() + 3 * TTL_MS / 1000
    while time.monotonic() < end:
        assert await a.renew(value)
        assert await b.acquire() is None
        await asyncio.sleep(TTL_MS / 4000)


async def test_an_unrenewed_lease_expires_and_the_next_owner_gets_a_higher_token(
    client: Redis, keys: Keys
) -> None:
    a, b = Lease(client, keys, "node-a", TTL_MS), Lease(client, keys, "node-b", TTL_MS)
    old = await a.acquire()
    assert old is not None
    deadline = time.monotonic() + 2.0
    while (new := await b.acquire()) is None:
        assert time.monotonic() < deadline, "the lease did not expire"
        await asyncio.sleep(0.02)
    assert token_of(new) > token_of(old)
    # The old holder cannot renew or release what is no longer its lease.
    assert not await a.renew(old)
    assert not await a.release(old)
    assert (await client.get(keys.lease)) == new.encode()


async def test_only_the_holder_releases(client: Redis, keys: Keys) -> None:
    a, b = Lease(client, keys, "node-a", 60_000), Lease(client, keys, "node-b", 60_000)
    value = await a.acquire()
    assert value is not None
    assert not await b.release(f"{token_of(value)}:node-b")  # same token, other node
    assert not await b.release(f"{token_of(value) + 1}:node-a")  # another token
    assert (await client.get(keys.lease)) == value.encode()
    assert await a.release(value)
    assert await client.exists(keys.lease) == 0
    # Released: the center is free at once, no TTL to wait for.
    assert await b.acquire() is not None
