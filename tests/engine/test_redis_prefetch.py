"""A Redis owner reads the archive ahead of commands (engine/redis_backend/prefetch.py): the
commands that arrive together share one HMGET, still answer archived ids as they should,
run in the order they came, and a failed read fails them with nothing journaled."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Iterator

import pytest
from redis.asyncio import Redis
from redis_support import DAY, Nodes, agent, eventually, order, retention_floor

from engine import commands as cmd
from engine.errors import Unavailable
from engine.events import AgentUpserted, OrderReceived, decode_record
from engine.handlers import Reply
from engine.redis_backend import stream
from engine.redis_backend.keys import Keys
from engine.redis_backend.node import RedisNode, Role


async def hmget_calls(client: Redis) -> int:
    """HMGETs the redis-server has run so far (INFO commandstats)."""
    stats = await client.info("commandstats")
    return int(stats.get("cmdstat_hmget", {}).get("calls", 0))


def other_body(order_id: str) -> cmd.NewOrder:
    return cmd.NewOrder(
        order_id, "pre", 5, hashlib.sha256(b"another " + order_id.encode()).digest()
    )


@pytest.fixture
async def owner(nodes: Nodes) -> AsyncIterator[RedisNode]:
    """An owner of a center whose orders o0..o5 were completed and archived (retention: one
    day) by the owner before it."""
    node = await nodes.start("node-a")
    await eventually(lambda: node.role is Role.OWNER, what="the node owns the center")
    await retention_floor(node, 9)  # o0..o5 completed, o6..o8 open
    await node.set_clock(node.now() + 2 * DAY)  # the move sweeps o0..o5 out of memory
    assert node.state.counters.archived == 6 and "o0" not in node.state.orders
    await nodes.close(node)  # the next owner holds no rows of its own (engine.archive.Recent)
    node = await nodes.start("node-b")
    await eventually(lambda: node.role is Role.OWNER, what="the next node owns the center")
    assert node.engine.recent.get("o0") is None
    yield node


async def run_together(node: RedisNode, commands: list[cmd.Command]) -> list[Reply]:
    """All submitted in one event-loop turn, as concurrent HTTP requests are."""
    return await asyncio.gather(*(node.execute(c) for c in commands))


async def test_commands_arriving_together_share_one_hmget(owner: RedisNode, client: Redis) -> None:
    before = await hmget_calls(client)
    retries = [cmd.SubmitOrders([order(f"o{i}")]) for i in range(3)]  # archived, same body
    conflicts = [cmd.SubmitOrders([other_body(f"o{i}")]) for i in range(3, 6)]
    new = [cmd.SubmitOrders([order(f"n{i}")]) for i in range(30)]
    replies = await run_together(owner, [*retries, *conflicts, *new])
    assert await hmget_calls(client) - before == 1
    for reply in replies[:3]:
        assert reply.status == 200 and reply.body.archived and reply.body.status == "completed"
    for reply in replies[3:6]:
        assert reply.status == 409 and reply.body.error.code == "order_conflict"
    assert [r.status for r in replies[6:]] == [201] * 30
    assert owner.engine.prefetched == {}  # rows are dropped once their commands have run


async def test_commands_naming_only_ids_in_memory_read_nothing(
    owner: RedisNode, client: Redis
) -> None:
    before = await hmget_calls(client)
    replies = await run_together(
        owner,
        [
            cmd.SubmitOrders([order("o6")]),
            cmd.SubmitOrders([order("o7"), order("o8")]),
            agent("b1"),
        ],
    )
    assert [r.status for r in replies] == [200, 200, 201]
    assert await hmget_calls(client) == before


async def test_commands_run_in_the_order_they_came(
    owner: RedisNode, client: Redis, keys: Keys
) -> None:
    """One that needs no read does not overtake one waiting for its rows."""
    seq = owner.engine.last_seq
    await run_together(
        owner,
        [
            cmd.SubmitOrders([order("x1")]),
            agent("b1"),  # no order id: nothing to read
            cmd.SubmitOrders([order("x2")]),
            cmd.SubmitOrders([order("x1")]),  # the same id again: 200, after the first's 201
        ],
    )
    written = [decode_record(r).events for _, r in await stream.read_after(client, keys, seq)]
    firsts = [events[0] for events in written]
    assert [type(e) for e in firsts] == [OrderReceived, AgentUpserted, OrderReceived]
    assert [e.order_id for e in firsts if isinstance(e, OrderReceived)] == ["x1", "x2"]


@pytest.fixture
def hmget_refused(redis_server: object) -> Iterator[None]:
    """The redis-server refuses HMGET (an ACL), everything else as before."""
    import redis

    sync = redis.Redis(port=redis_server.port)  # type: ignore[attr-defined]
    sync.acl_setuser("default", enabled=True, commands=["-hmget"], reset=False)
    try:
        yield
    finally:
        sync.acl_setuser("default", enabled=True, commands=["+hmget"], reset=False)
        sync.close()


async def test_a_failed_read_fails_the_commands_that_needed_it_and_journals_nothing(
    owner: RedisNode, client: Redis, keys: Keys, hmget_refused: None
) -> None:
    """Only a command naming an id that may be archived needs the read: new ids, which the
    archived-ids filter rules out, are taken while the archive cannot be read."""
    top = await stream.last_seq(client, keys)
    commands: list[cmd.Command] = [
        cmd.SubmitOrders([order("o0")]),  # an archived id
        cmd.SubmitOrders([order("o1"), order("y0")]),  # an archived id among a new one
        cmd.SubmitOrders([order("y1")]),  # queued behind them only to keep the order
        agent("b1"),
        cmd.SubmitOrders([order("y2")]),
    ]
    got = await asyncio.gather(*(owner.execute(c) for c in commands), return_exceptions=True)
    for failed in got[:2]:
        assert isinstance(failed, Unavailable) and failed.code == "redis_unavailable"
        assert "Redis is unreachable" in failed.message and "hmget" in failed.message
    assert [r.status for r in got[2:] if isinstance(r, Reply)] == [201, 201, 201]
    written = [decode_record(r).events for _, r in await stream.read_after(client, keys, top)]
    firsts = [events[0] for events in written]
    assert [type(e) for e in firsts] == [OrderReceived, AgentUpserted, OrderReceived]
    assert [e.order_id for e in firsts if isinstance(e, OrderReceived)] == ["y1", "y2"]
    assert "y0" not in owner.state.orders and "o1" not in owner.state.orders
    assert owner.role is Role.OWNER and owner.engine.prefetched == {}


async def test_new_ids_read_nothing(owner: RedisNode, client: Redis) -> None:
    """A burst of new orders costs the archive nothing: the filter rules every id out."""
    before = await hmget_calls(client)
    replies = await run_together(owner, [cmd.SubmitOrders([order(f"n{i}")]) for i in range(50)])
    assert [r.status for r in replies] == [201] * 50
    assert await hmget_calls(client) == before
