"""Redis restarted under running nodes: 503s while it is down, then service by itself.

Each test has a redis-server of its own, since it kills it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis
from redis_server import RedisServer
from redis_support import Nodes, agent, eventually, new_center, raises, replayed

from engine import commands as cmd
from engine.errors import Unavailable
from engine.fingerprint import fingerprint
from engine.redis_backend.keys import Keys
from engine.redis_backend.node import RedisNode, Role

BACK_WITHIN_S = 8.0  # "serves again by itself within a few seconds" (lease TTL 2 s + reload)


@pytest.fixture
async def pair(own_server: RedisServer) -> AsyncIterator[tuple[Nodes, RedisNode, RedisNode]]:
    group = Nodes(own_server.url, new_center())
    try:
        owner = await group.start("node-a")
        await eventually(lambda: owner.role is Role.OWNER, what="the first node owns the center")
        follower = await group.start("node-b")
        yield group, owner, follower
    finally:
        await group.close_all()


def serving(*nodes: RedisNode) -> bool:
    roles = sorted(node.role for node in nodes)
    return roles == sorted([Role.OWNER] + [Role.FOLLOWER] * (len(nodes) - 1))


async def execute_when_back(node: RedisNode, command: cmd.Command) -> None:
    """Retry while the node answers 503, as a client would, up to the deadline."""
    deadline = time.monotonic() + BACK_WITHIN_S
    while True:
        try:
            await node.execute(command)
            return
        except Unavailable:
            if time.monotonic() > deadline:
                raise


async def test_commands_during_an_outage_get_503_and_every_acknowledged_one_survives(
    own_server: RedisServer, pair: tuple[Nodes, RedisNode, RedisNode]
) -> None:
    _, owner, follower = pair
    acknowledged = []
    for i, node in enumerate([owner, follower] * 3):
        await node.execute(agent(f"a{i}"))
        acknowledged.append(f"a{i}")
    own_server.kill9()
    for node in (owner, follower, owner):
        error = await raises(node.execute(agent("during")), Unavailable)
        assert isinstance(error, Unavailable) and error.status == 503
        assert error.code in ("redis_unavailable", "owner_changed"), error.code
    own_server.start()
    await eventually(lambda: serving(owner, follower), BACK_WITHIN_S, "one owner, one follower")
    for node in (owner, follower):
        await execute_when_back(node, agent(f"after-{node.node}"))
        acknowledged.append(f"after-{node.node}")
    for node in (owner, follower):
        await node.durable()
        assert set(acknowledged) <= set(node.state.agents)
    assert fingerprint(owner.state) == fingerprint(follower.state)
    client = Redis.from_url(own_server.url)
    try:
        full = await replayed(client, Keys(owner.keys.center))
        assert set(acknowledged) <= set(full.state.agents)
        assert fingerprint(full.state) == fingerprint(owner.state)
    finally:
        await client.aclose()


async def test_after_a_short_outage_the_owner_serves_forwarded_commands_again(
    own_server: RedisServer, pair: tuple[Nodes, RedisNode, RedisNode]
) -> None:
    _, owner, follower = pair
    await follower.execute(agent("before"))
    # Down for less than a lease: nothing is written meanwhile, the owner keeps its lease.
    own_server.kill9()
    await asyncio.sleep(0.3)  # the nodes' blocking reads and renewals meet a dead server
    own_server.start()
    await eventually(lambda: serving(owner, follower), BACK_WITHIN_S, "one owner, one follower")
    assert owner.role is Role.OWNER, "the outage was shorter than a lease: no failover"
    await execute_when_back(follower, agent("after"))
    assert {"before", "after"} <= set(follower.state.agents)
