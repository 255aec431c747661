"""Forwarded commands that Redis or a dying owner cut off mid-way are still answered.

A request or a reply is moved, never popped: what an owner took and did not answer
stays in the center's taken list, and what a process took from its replies list and
did not hand over stays in its own. These tests put items exactly where a cut-off move
leaves them and check that they are answered, well inside the forward timeout (before,
each waited that timeout out and got a 503).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import msgspec
from redis.asyncio import Redis
from redis_server import RedisServer
from redis_support import Nodes, agent, eventually

from engine.redis_backend.forward import Answer, Request
from engine.redis_backend.keys import Keys
from engine.redis_backend.node import Role

FORWARD_S = 10.0  # the servers' default: any answer must come well before it
GHOST = "999:ghost"  # the lease of an owner process that has just died


def request(keys: Keys, rid: str, agent_id: str, *, expired: bool = False) -> bytes:
    deadline = time.time_ns() // 1_000_000 + (-1 if expired else int(FORWARD_S * 1000))
    return msgspec.msgpack.encode(Request(rid, keys.replies("sender"), deadline, agent(agent_id)))


async def answers(client: Redis, keys: Keys, n: int) -> dict[str, Answer]:
    """The next n answers on the test sender's reply list, by request id."""
    got: dict[str, Answer] = {}
    while len(got) < n:
        item: Any = await client.blpop([keys.replies("sender")], timeout=FORWARD_S / 2)
        assert item is not None, f"only {len(got)} of {n} forwarded requests were answered"
        answer = msgspec.msgpack.decode(item[1], type=Answer)
        got[answer.id] = answer
    return got


async def test_what_a_dead_owner_took_is_served_by_the_next_owner(
    nodes: Nodes, client: Redis, keys: Keys
) -> None:
    await client.set(keys.lease, GHOST, px=60_000)
    node = await nodes.start("node-a", forward_timeout_s=FORWARD_S)
    assert node.role is Role.FOLLOWER
    # The ghost took two requests off the commands list, then died before answering.
    await client.rpush(keys.taken, request(keys, "s/1", "a1"))
    await client.rpush(keys.taken, request(keys, "s/2", "late", expired=True))
    await client.delete(keys.lease)  # its lease runs out
    got = await answers(client, keys, 1)
    assert got["s/1"].error is None and got["s/1"].status == 201  # created
    assert "a1" in node.state.agents
    await eventually(lambda: _empty(client, keys.taken), what="the taken list emptied")
    assert "late" not in node.state.agents, "a request past its deadline is dropped, not run"


async def test_a_request_whose_move_an_outage_cut_off_is_served_when_redis_is_back(
    own_server: RedisServer, keys: Keys
) -> None:
    nodes = Nodes(own_server.url, keys.center)
    client = Redis.from_url(own_server.url, socket_timeout=FORWARD_S)
    try:
        owner = await nodes.start("node-a", forward_timeout_s=FORWARD_S)
        await eventually(lambda: owner.role is Role.OWNER, what="the node owns the center")
        # Redis moved it to the taken list, then died before the owner heard of it.
        await client.rpush(keys.taken, request(keys, "s/1", "a1"))
        own_server.restart()
        await client.aclose()
        client = Redis.from_url(own_server.url, socket_timeout=FORWARD_S)  # the old one died
        got = await answers(client, keys, 1)
        assert got["s/1"].error is None
        assert "a1" in owner.state.agents
    finally:
        await nodes.close_all()
        await client.aclose()


async def test_a_reply_whose_move_an_outage_cut_off_reaches_its_waiter(
    own_server: RedisServer, keys: Keys
) -> None:
    nodes = Nodes(own_server.url, keys.center)
    client = Redis.from_url(own_server.url)
    try:
        await client.set(keys.lease, GHOST, px=60_000)  # an owner this test plays by hand
        node = await nodes.start("node-b", forward_timeout_s=FORWARD_S)
        waiting = asyncio.create_task(node.execute(agent("a1")))
        item: Any = await client.blpop([keys.commands], timeout=FORWARD_S / 2)
        assert item is not None, "the follower did not forward the command"
        sent = msgspec.msgpack.decode(item[1], type=Request)
        body = msgspec.json.encode({"id": "a1"})
        answer = Answer(sent.id, 0, 200, body)
        # The process's reader moved the answer to its own held list; the reply was lost.
        await client.rpush(keys.replies_taken("node-b"), msgspec.msgpack.encode(answer))
        own_server.restart()
        reply = await asyncio.wait_for(waiting, FORWARD_S / 2)
        assert reply.status == 200 and msgspec.json.encode(reply.body) == body
    finally:
        await nodes.close_all()
        await client.aclose()


async def _empty(client: Redis, key: str) -> bool:
    return await client.llen(key) == 0  # type: ignore[misc,no-any-return]


async def test_a_busy_owner_answers_every_forwarded_command_and_keeps_no_taken_ones(
    nodes: Nodes, client: Redis, keys: Keys
) -> None:
    owner = await nodes.start("node-a")
    await eventually(lambda: owner.role is Role.OWNER, what="the first node owns the center")
    follower = await nodes.start("node-b")
    await asyncio.gather(*(follower.execute(agent(f"a{i}")) for i in range(600)))
    assert {f"a{i}" for i in range(600)} <= set(owner.state.agents) == set(follower.state.agents)
    assert await client.llen(keys.taken) == 0  # type: ignore[misc]
    assert await client.llen(keys.commands) == 0  # type: ignore[misc]
