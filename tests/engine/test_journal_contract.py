"""The `Journal` promises (engine/journal.py), checked once against each real backend.

SQLite and Redis make the same promises to the engine, so one suite runs on both instead
of two copies drifting apart. What only one backend has stays in its own file:
test_sqlite_journal.py (the data-dir lock, another process) and test_redis_stream.py
(fencing, the stream's own checks, followers' reads).
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, Protocol

import pytest
from redis_server import RedisServer
from redis_support import floor_script, play

from engine import commands as cmd
from engine.clock import Clock, ManualClock
from engine.core import Engine
from engine.events import OrderReceived, decode_record
from engine.fingerprint import fingerprint
from engine.journal import Journal, JournalError
from engine.redis_backend import stream
from engine.redis_backend.config import connect
from engine.redis_backend.keys import Keys
from engine.redis_backend.lease import Lease
from engine.redis_backend.node import load_engine
from engine.redis_backend.stream import MAX_BATCH, RedisJournal
from engine.sqlite_journal import JOURNAL_FILE, SqliteJournal

Records = list[tuple[int, bytes]]
T_NOV = 1_795_000_000_000  # 2026-11-18, and a time after November (Asia/Shanghai) ended
T_DEC = 1_796_400_000_000


class Backend(Protocol):
    """One real backend under test, with a log of this test's own."""

    max_batch: int | None  # records one durable write takes at most (None: no bound)
    failure_words: str  # what its JournalError says when the store fails

    async def open(self) -> Journal:
        """The journal a server would write, on this test's log (empty until written)."""
        ...

    def writes(self) -> int:
        """Durable writes the journal has made (SQLite's commits, Redis's APPEND scripts)."""
        ...

    def failed(self) -> bool:
        """Whether the journal holds on to a failure of its store."""
        ...

    async def read(self, after: int = 0) -> Records:
        """Every durable record with seq > after, as a reader of its own finds them."""
        ...

    async def recover(self, clock: Clock) -> tuple[Engine, int]:
        """A new engine rebuilt from the log, as a restarted server does, and records read."""
        ...

    async def archived(self, order_id: str) -> bytes | None:
        """An archive row as a reader of its own finds it (engine.archive)."""
        ...

    async def closed(self, month: str) -> bytes | None:
        """A closed month's frozen report as a reader of its own finds it."""
        ...

    async def break_store(self) -> None:
        """The store stops taking writes under the open journal."""
        ...

    async def restore(self) -> None:
        """The store can be read again (what it made durable before it broke is there)."""
        ...


class SqliteBackend:
    max_batch = None  # one transaction takes everything appended in a loop turn
    failure_words = "database or disk is full"

    def __init__(self, path: Path) -> None:
        self.path = path
        self._journal: SqliteJournal | None = None
        self._engines: list[Engine] = []

    async def open(self) -> SqliteJournal:
        self._journal = SqliteJournal(self.path)
        return self._journal

    @property
    def journal(self) -> SqliteJournal:
        assert self._journal is not None, "open() it first"
        return self._journal

    def writes(self) -> int:
        return self.journal.commits

    def failed(self) -> bool:
        return self.journal._error is not None

    async def read(self, after: int = 0) -> Records:
        reader = SqliteJournal(self.path)  # a connection of its own: only what is committed
        try:
            return list(reader.replay(after))
        finally:
            await reader.close()

    async def archived(self, order_id: str) -> bytes | None:
        reader = SqliteJournal(self.path)
        try:
            return reader.archived(order_id)
        finally:
            await reader.close()

    async def closed(self, month: str) -> bytes | None:
        reader = SqliteJournal(self.path)
        try:
            return reader.closed(month)
        finally:
            await reader.close()

    async def recover(self, clock: Clock) -> tuple[Engine, int]:
        engine = Engine(SqliteJournal(self.path), clock)
        self._engines.append(engine)
        return engine, engine.recover()

    async def break_store(self) -> None:
        # A full disk, for real: capped at its size, the next page the file needs is refused
        # (SQLITE_FULL). The cap is per connection, so it goes on the journal's own.
        db = self.journal._db
        pages = db.execute("PRAGMA page_count").fetchone()[0]
        db.execute(f"PRAGMA max_page_count = {pages}")

    async def restore(self) -> None:
        return None  # a new connection has no cap

    async def aclose(self) -> None:
        for engine in self._engines:
            await engine.close()
        if self._journal is not None:
            await self._journal.close()


class RedisBackend:
    max_batch = MAX_BATCH  # records per APPEND script
    failure_words = "Redis"

    def __init__(self, server: RedisServer, keys: Keys) -> None:
        self.server = server
        self.keys = keys
        self.client, self._blocking = connect(server.url)  # the clients a node writes with
        self._journal: RedisJournal | None = None

    async def open(self) -> RedisJournal:
        value = await Lease(self.client, self.keys, "writer", ttl_ms=60_000).acquire()
        assert value is not None, "the center already has an owner"
        next_seq = await stream.last_seq(self.client, self.keys) + 1
        self._journal = RedisJournal(self.client, self.keys, value, next_seq)
        return self._journal

    @property
    def journal(self) -> RedisJournal:
        assert self._journal is not None, "open() it first"
        return self._journal

    def writes(self) -> int:
        return self.journal.batches

    def failed(self) -> bool:
        return self.journal.failed is not None  # the node reads this

    async def read(self, after: int = 0) -> Records:
        records: Records = []
        while batch := await stream.read_after(self.client, self.keys, after):
            records += batch
            after = batch[-1][0]
        return records

    async def archived(self, order_id: str) -> bytes | None:
        data = await self.client.hget(self.keys.archive, order_id)
        return None if data is None else bytes(data)

    async def closed(self, month: str) -> bytes | None:
        data = await self.client.hget(self.keys.closed, month)
        return None if data is None else bytes(data)

    async def recover(self, clock: Clock) -> tuple[Engine, int]:
        engine, from_seq = await load_engine(self.client, self.keys, clock)  # as a node loads
        return engine, engine.last_seq - from_seq

    async def break_store(self) -> None:
        self.server.kill9()  # Redis gone: every write finds the connection refused

    async def restore(self) -> None:
        self.server.start()  # same port and AOF (appendfsync always): what was acknowledged

    async def aclose(self) -> None:
        if self._journal is not None:
            await self._journal.close()
        await self.client.aclose()
        await self._blocking.aclose()


BACKENDS = ["sqlite", "redis"]


@pytest.fixture
async def sqlite_backend(tmp_path: Path) -> AsyncIterator[SqliteBackend]:
    backend = SqliteBackend(tmp_path / JOURNAL_FILE)
    try:
        yield backend
    finally:
        await backend.aclose()


@pytest.fixture
async def redis_backend(redis_server: RedisServer, keys: Keys) -> AsyncIterator[RedisBackend]:
    backend = RedisBackend(redis_server, keys)
    try:
        yield backend
    finally:
        await backend.aclose()


@pytest.fixture
async def killable_redis_backend(
    own_server: RedisServer, keys: Keys
) -> AsyncIterator[RedisBackend]:
    backend = RedisBackend(own_server, keys)
    try:
        yield backend
    finally:
        await backend.aclose()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> Backend:
    """Each backend in turn; Redis is the module's redis-server, a center per test."""
    found: Backend = request.getfixturevalue(f"{request.param}_backend")
    return found


@pytest.fixture(params=BACKENDS)
def breakable(request: pytest.FixtureRequest) -> Backend:
    """As `backend`, but Redis is a server of the test's own, since breaking it kills it."""
    name = {"sqlite": "sqlite_backend", "redis": "killable_redis_backend"}[request.param]
    found: Backend = request.getfixturevalue(name)
    return found


def writes_for(backend: Backend, n: int) -> int:
    """Durable writes that n records appended at once take: as few as the backend allows."""
    return 1 if backend.max_batch is None else math.ceil(n / backend.max_batch)


async def test_concurrent_appends_share_durable_writes_and_land_in_order(
    backend: Backend,
) -> None:
    journal = await backend.open()
    n = 2 * MAX_BATCH + 500  # more than one Redis script takes
    records = [f"record {i}".encode() for i in range(1, n + 1)]
    futures = [journal.append(r) for r in records]  # all placed before any is durable
    seqs = await asyncio.gather(*futures)
    assert seqs == list(range(1, n + 1))
    # SQLite: one transaction, one fsync; Redis: three scripts of at most 1,000. Not 2,500.
    assert backend.writes() == writes_for(backend, n) < n
    assert await backend.read() == list(zip(seqs, records, strict=True))
    assert await backend.read(after=n - 3) == [
        (n - 2, records[n - 3]), (n - 1, records[n - 2]), (n, records[n - 1]),
    ]  # fmt: skip


async def test_appends_while_a_write_is_in_flight_join_the_next_write(backend: Backend) -> None:
    journal = await backend.open()
    first = journal.append(b"first")
    await asyncio.sleep(0)  # the first write goes: SQLite commits it, Redis sends it
    rest = [journal.append(f"r{i}".encode()) for i in range(50)]
    assert await asyncio.gather(first, *rest) == list(range(1, 52))
    assert backend.writes() == 2
    await journal.flush()
    assert [seq for seq, _ in await backend.read()] == list(range(1, 52))


async def test_flush_waits_for_appends_in_flight(backend: Backend) -> None:
    journal = await backend.open()
    pending = journal.append(b"x")
    await journal.flush()
    assert isinstance(pending, asyncio.Future) and pending.done()
    assert await backend.read() == [(1, b"x")]
    # Also for one already in a write and one waiting for the next.
    sent = journal.append(b"y")
    await asyncio.sleep(0)
    waiting = journal.append(b"z")
    await journal.flush()
    assert all(isinstance(f, asyncio.Future) and f.done() for f in (sent, waiting))
    assert await backend.read() == [(1, b"x"), (2, b"y"), (3, b"z")]


def received(data: bytes) -> str:
    """The order a SubmitOrders record took in."""
    event = decode_record(data).events[0]
    assert isinstance(event, OrderReceived)
    return event.order_id


async def test_concurrent_commands_are_grouped_and_replay_in_order(backend: Backend) -> None:
    journal = await backend.open()
    engine = Engine(journal, ManualClock(1_000))
    await engine.execute(cmd.UpsertAgent("a1", "A", "t", ["pre"], 50))
    await engine.execute(cmd.Login("a1"))
    writes_before = backend.writes()
    n = 100

    async def submit(i: int) -> int:
        order = cmd.NewOrder(f"o{i}", "pre", 0, b"d%d" % i)
        return (await engine.execute(cmd.SubmitOrders([order]))).status

    assert await asyncio.gather(*(submit(i) for i in range(n))) == [201] * n
    assert backend.writes() - writes_before < n
    assert engine.last_seq == n + 2
    assert [received(data) for _, data in await backend.read(after=2)] == [
        f"o{i}" for i in range(n)
    ]
    assert list(engine.state.agents["a1"].open_orders) == [f"o{i}" for i in range(50)]


async def busy_day(center: Any) -> None:
    """A little of everything: agents, shifts, orders, a held logout, a release."""
    await center.agent("a1", skills=("pre", "post"), capacity=2)
    await center.agent("a2", capacity=1)
    await center.shifts(("a1", center.at("08:00"), center.at("16:00")))
    await center.goto(center.at("09:00"))
    await center.login("a1", "a2")
    await center.orders(*(center.new_order(f"o{i}", "pre", i % 3) for i in range(5)))
    await center.complete("o0")
    await center.logout("a1")
    await center.force("a2")
    await center.settings(grace_s=120)
    await center.goto(center.at("15:59"))


async def floor_day(center: Any) -> None:
    """Four agents on shift, 30 orders routed and each completed three orders later."""
    await play(center.engine, floor_script(30))


DAYS: dict[str, tuple[Callable[[Any], Awaitable[None]], int]] = {
    # Each day, and the records it writes at least (one per command).
    "busy_day": (busy_day, 12),
    "floor_day": (floor_day, 66),
}


@pytest.mark.parametrize("day", list(DAYS))
async def test_an_engine_on_the_journal_replays_to_the_same_state(
    backend: Backend, make_center: Callable[..., Any], day: str
) -> None:
    play_day, at_least = DAYS[day]
    center = make_center(journal=await backend.open())
    await play_day(center)
    live = fingerprint(center.state)
    records = await backend.read()
    assert [seq for seq, _ in records] == list(range(1, len(records) + 1))
    assert center.engine.last_seq == len(records) >= at_least
    await center.engine.close()

    engine, replayed = await backend.recover(ManualClock())  # a restart: a new engine
    assert replayed == len(records)
    assert engine.last_seq == len(records)
    assert fingerprint(engine.state) == live
    assert engine.clock.now_ms() == center.clock.now_ms()  # the manual clock resumes


async def test_a_store_that_stops_taking_writes_fails_them_and_every_later_one(
    breakable: Backend,
) -> None:
    backend = breakable
    journal = await backend.open()
    assert await journal.append(b"durable") == 1
    await backend.break_store()
    big = b"x" * 64_000  # needs new pages: SQLite's file cannot grow
    results = await asyncio.gather(*(journal.append(big) for _ in range(5)), return_exceptions=True)
    assert all(isinstance(r, JournalError) for r in results), results
    assert backend.failure_words in str(results[0])
    assert backend.failed()
    # Later appends fail at once: nothing can land behind a lost record.
    later = journal.append(b"later")
    assert isinstance(later, asyncio.Future) and later.done()
    assert isinstance(later.exception(), JournalError)
    # flush never reports durable what was lost (an idempotent retry would be acknowledged).
    with pytest.raises(JournalError):
        await journal.flush()
    await journal.close()  # a failed journal still closes
    await backend.restore()
    assert await backend.read() == [(1, b"durable")]


async def test_archive_rows_are_durable_with_their_record_and_only_with_it(
    breakable: Backend,
) -> None:
    backend = breakable
    journal = await backend.open()
    first = journal.append(b"r1", [("o1", b"v1"), ("o2", b"v1")])
    second = journal.append(b"r2", [("o1", b"v2")])  # the same write: the later row wins
    assert await asyncio.gather(first, second) == [1, 2]
    assert (await backend.archived("o1"), await backend.archived("o2")) == (b"v2", b"v1")
    await backend.break_store()
    big = b"x" * 64_000
    lost = journal.append(big, [("o3", b"lost"), ("o1", b"lost")])
    with pytest.raises(JournalError):
        await lost
    await journal.close()
    await backend.restore()
    assert await backend.read() == [(1, b"r1"), (2, b"r2")]
    assert (await backend.archived("o1"), await backend.archived("o3")) == (b"v2", None)


async def test_closed_rows_are_durable_with_their_record_and_only_with_it(
    breakable: Backend,
) -> None:
    """A closed month's row is written in the same durable write as its record: a reader
    finds both or neither, and archive rows of the same batch beside them."""
    backend = breakable
    journal = await backend.open()
    first = journal.append(b"r1", [("o1", b"v1")], [("2026-01", b"january")])
    second = journal.append(b"r2", (), [("2026-02", b"february")])
    assert await asyncio.gather(first, second) == [1, 2]
    assert await backend.closed("2026-01") == b"january"
    assert await backend.closed("2026-02") == b"february"
    assert await backend.archived("o1") == b"v1"
    assert await backend.closed("2026-03") is None
    await backend.break_store()
    big = b"x" * 64_000
    lost = journal.append(big, [("o2", b"lost")], [("2026-03", b"lost")])
    with pytest.raises(JournalError):
        await lost
    await journal.close()
    await backend.restore()
    assert await backend.read() == [(1, b"r1"), (2, b"r2")]
    assert (await backend.closed("2026-03"), await backend.archived("o2")) == (None, None)


async def test_closing_a_month_writes_its_frozen_report_beside_the_record(
    backend: Backend,
) -> None:
    """The engine hands the close's frozen report to the journal with its record: the row
    is the report the state holds, and the restarted engine's."""
    engine = Engine(await backend.open(), ManualClock(T_NOV))
    await engine.execute(cmd.SetPayrollScheme("2026-11", "CNY", [10], [100, 200]))
    await engine.execute(cmd.UpsertAgent("a1", "Ann", "north", ["pre"], 2))
    engine.clock.set(T_DEC)
    await engine.execute(cmd.ClosePayrollMonth("2026-11", "payroll"))
    report = engine.state.closed_months["2026-11"].report
    assert await backend.closed("2026-11") == report
    again = await engine.execute(cmd.ClosePayrollMonth("2026-11", "payroll"))  # a no-op
    assert again.status == 200 and await backend.closed("2026-11") == report
    restarted, _ = await backend.recover(ManualClock(T_DEC))
    assert restarted.state.closed_months["2026-11"].report == report
