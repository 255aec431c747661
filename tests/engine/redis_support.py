"""Shared pieces of the Redis backend's in-process tests (tests/engine/test_redis_*.py).

One real redis-server per test module (`redis_server`), each test on a center of its
own (`keys`), so tests never see each other's streams, leases or snapshots. Records are
made by the real engine running real commands, so what the tests store and replay is
what a server would.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import inspect
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from redis.asyncio import Redis
from redis_server import RedisServer

from engine import commands as cmd
from engine.clock import ManualClock
from engine.core import Engine
from engine.events import ShiftSpec
from engine.fingerprint import fingerprint
from engine.journal import MemoryJournal
from engine.redis_backend import stream
from engine.redis_backend.keys import Keys
from engine.redis_backend.lease import Lease
from engine.redis_backend.node import RedisNode
from engine.redis_backend.stream import RedisJournal
from presence.timeutil import parse_time

T0 = parse_time("2026-11-23T00:00:00Z")
MIN = 60_000
HOUR = 60 * MIN
DAY = 24 * HOUR
SHIFT_START = T0 + 8 * HOUR


def new_center() -> str:
    return f"c-{secrets.token_hex(5)}"


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A real redis-server (AOF, appendfsync always) for the whole module."""
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    try:
        yield server
    finally:
        server.kill9()


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server of this test's own, for a test that kills it."""
    server = RedisServer(tmp_path / "redis").start()
    try:
        yield server
    finally:
        server.kill9()


@pytest.fixture
def keys() -> Keys:
    """A center nobody else in the run uses."""
    return Keys(new_center())


@pytest.fixture
async def client(redis_server: RedisServer) -> AsyncIterator[Redis]:
    c = Redis.from_url(redis_server.url)
    try:
        yield c
    finally:
        await c.aclose()


async def eventually(
    check: Callable[[], bool | Awaitable[bool]], timeout_s: float = 5.0, what: str = ""
) -> None:
    """Poll until check() holds; fail after the deadline (the deadline is the requirement)."""
    deadline = time.monotonic() + timeout_s
    while not await _holds(check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout_s:g} s: {what or check}")
        await asyncio.sleep(0.01)


async def _holds(result: bool | Awaitable[bool]) -> bool:
    return await result if inspect.isawaitable(result) else result


def order(order_id: str, skill: str = "pre", priority: int = 0) -> cmd.NewOrder:
    return cmd.NewOrder(order_id, skill, priority, hashlib.sha256(order_id.encode()).digest())


def agent(agent_id: str, capacity: int = 2) -> cmd.UpsertAgent:
    return cmd.UpsertAgent(agent_id, agent_id.upper(), "t1", ["pre"], capacity)


def floor_script(n_orders: int, agents: int = 4) -> list[cmd.Command]:
    """A small day: agents with shifts log in, orders arrive, each done six orders later."""
    ids = [f"a{i}" for i in range(agents)]
    script: list[cmd.Command] = [agent(a) for a in ids]
    script.append(cmd.AddShifts([ShiftSpec(a, SHIFT_START, SHIFT_START + 8 * HOUR) for a in ids]))
    script += [cmd.Login(a) for a in ids]
    return script + more_orders(0, n_orders)


def more_orders(first: int, n: int) -> list[cmd.Command]:
    """Orders o<first>.. arrive; each completes three orders later (never more than 4 open)."""
    script: list[cmd.Command] = []
    for i in range(first, first + n):
        script.append(cmd.SubmitOrders([order(f"o{i}")]))
        if i >= 3:
            script.append(cmd.CompleteOrder(f"o{i - 3}"))
    return script


async def retention_floor(node: RedisNode, n_orders: int) -> None:
    """On an owner: retention one day (UTC), a1 and a2 on shift and logged in, orders
    o0..o<n-1> of `more_orders` (all but the last three completed)."""
    settings = dataclasses.replace(node.state.settings, timezone="UTC", order_retention_days=1)
    await node.execute(cmd.ChangeSettings(*dataclasses.astuple(settings)))
    for agent_id in ("a1", "a2"):
        await node.execute(agent(agent_id))
    start = node.now()
    await node.execute(cmd.AddShifts([ShiftSpec(a, start, start + DAY // 3) for a in ("a1", "a2")]))
    for agent_id in ("a1", "a2"):
        await node.execute(cmd.Login(agent_id))
    for command in more_orders(0, n_orders):
        await node.execute(command)


async def play(engine: Engine, script: list[cmd.Command]) -> None:
    """Run each command a second after the last, from an hour into the shift."""
    clock = engine.clock
    assert isinstance(clock, ManualClock)
    for command in script:
        clock.set(max(clock.now_ms(), SHIFT_START + HOUR) + 1000)
        await engine.execute(command)


async def owned_engine(client: Redis, keys: Keys, node: str = "writer") -> tuple[Engine, str]:
    """An engine writing the center's stream under a lease of its own (no node around it)."""
    value = await Lease(client, keys, node, ttl_ms=60_000).acquire()
    assert value is not None, "the center already has an owner"
    next_seq = await stream.last_seq(client, keys) + 1
    engine = Engine(RedisJournal(client, keys, value, next_seq), ManualClock(SHIFT_START))
    engine.last_seq = next_seq - 1
    return engine, value


async def replayed(client: Redis, keys: Keys) -> Engine:
    """The center folded from the whole stream, record by record (no snapshot)."""
    engine = Engine(MemoryJournal(), ManualClock(0))
    engine.recover(await stream.read_after(client, keys, 0, 1_000_000))
    return engine


async def same_as_stream(client: Redis, keys: Keys, state_owner: Engine | RedisNode) -> bool:
    full = await replayed(client, keys)
    return fingerprint(state_owner.state) == fingerprint(full.state)


class Nodes:
    """RedisNodes in this event loop, each with its own manual clock; all closed at teardown."""

    def __init__(self, url: str, center: str) -> None:
        self.url = url
        self.center = center
        self._open: list[RedisNode] = []

    async def start(self, name: str, **options: object) -> RedisNode:
        options.setdefault("forward_timeout_s", 3.0)
        node = RedisNode(self.url, self.center, ManualClock(T0), node=name, **options)  # type: ignore[arg-type]
        self._open.append(node)
        await node.start()
        return node

    async def close(self, node: RedisNode) -> None:
        if node in self._open:
            self._open.remove(node)
            await node.close()

    async def close_all(self) -> None:
        for node in list(self._open):
            await self.close(node)


@pytest.fixture
async def nodes(redis_server: RedisServer, keys: Keys) -> AsyncIterator[Nodes]:
    group = Nodes(redis_server.url, keys.center)
    try:
        yield group
    finally:
        await group.close_all()


async def raises(awaitable: Awaitable[object], kind: type[BaseException]) -> BaseException:
    """The exception the awaitable raised, checked to be a `kind`."""
    with pytest.raises(kind) as info:
        await awaitable
    return info.value


def fresh_server(root: Path, **options: str) -> RedisServer:
    return RedisServer(root, **options).start()  # type: ignore[arg-type]
