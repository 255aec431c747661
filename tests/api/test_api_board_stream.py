"""`GET /v1/board/stream` in process: coalescing, bounded per-client queues, snapshots.

The route is driven as ASGI by a small client whose `send` can be held, which is
exactly what a reader that stopped reading looks like to the app (the server's
`send` waits while the socket's buffer is full). The engine is the real one on a
MemoryJournal and a manual clock.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import pytest
from api_support import ADMIN_KEY, START

from api.app import create_app
from api.auth import hash_key
from api.board import build_board
from api.stream import BoardStream
from engine import commands as cmd
from engine.clock import ManualClock
from engine.core import Engine
from engine.journal import MemoryJournal
from presence.timeutil import parse_time

QUIET_S = 0.4  # longer than a few update intervals: the stream has caught up


class SseClient:
    """One stream request on the app; `hold()` stops reading, `release()` reads again."""

    def __init__(self, app: Any, key: str = ADMIN_KEY) -> None:
        self.app = app
        self.key = key
        self.status = 0
        self.headers: dict[bytes, bytes] = {}
        self.raw = b""
        self.events: list[tuple[str, dict[str, Any]]] = []
        self._reading = asyncio.Event()
        self._reading.set()
        self._gone = asyncio.Event()
        self._got = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def _receive(self) -> dict[str, Any]:
        await self._gone.wait()
        return {"type": "http.disconnect"}

    async def _send(self, message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.headers = dict(message["headers"])
            self._got.set()
            return
        await self._reading.wait()
        self.raw += message.get("body", b"")
        while b"\n\n" in self.raw:
            block, self.raw = self.raw.split(b"\n\n", 1)
            lines = block.decode().split("\n")
            name = next((ln[6:].strip() for ln in lines if ln.startswith("event:")), "message")
            data = [ln[5:].lstrip() for ln in lines if ln.startswith("data:")]
            if data:
                self.events.append((name, json.loads("\n".join(data))))
        self._got.set()

    def start(self) -> None:
        scope = {
            "type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1", "method": "GET", "scheme": "http",
            "path": "/v1/board/stream", "raw_path": b"/v1/board/stream", "query_string": b"",
            "root_path": "", "client": ("127.0.0.1", 5000), "server": ("seatflow", 80),
            "headers": [(b"host", b"seatflow"), (b"authorization", f"Bearer {self.key}".encode())],
        }  # fmt: skip
        self._task = asyncio.get_running_loop().create_task(
            self.app(scope, self._receive, self._send)
        )

    async def wait_for(self, count: int, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.events) < count:
            self._got.clear()
            left = deadline - time.monotonic()
            assert left > 0, f"only {len(self.events)} of {count} events: {self.events}"
            await asyncio.wait_for(self._got.wait(), left)

    async def quiet(self) -> None:
        """Wait until nothing new has arrived for QUIET_S."""
        while True:
            n = len(self.events)
            await asyncio.sleep(QUIET_S)
            if len(self.events) == n:
                return

    def hold(self) -> None:
        self._reading.clear()

    def release(self) -> None:
        self._reading.set()

    async def close(self) -> None:
        self._gone.set()
        self._reading.set()
        if self._task is not None:
            await asyncio.wait_for(self._task, 5)


@pytest.fixture
async def center() -> AsyncIterator[tuple[Any, Engine]]:
    engine = Engine(MemoryJournal(), ManualClock(parse_time(START)))
    app = create_app(engine, admin_key=ADMIN_KEY)
    yield app, engine


def fold(events: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """What a page shows after applying these events: seats by id, the latest aggregates."""
    board: dict[str, Any] = {}
    for name, data in events:
        if name == "snapshot":
            board = {**data, "agents": {a["id"]: a for a in data["agents"]}}
        else:
            assert name == "delta", name
            assert board, "a delta before any snapshot"
            seats = board["agents"]
            for a in data["agents"]:
                seats[a["id"]] = a
            board = {**data, "agents": seats}
    return board


def as_json(view: Any) -> Any:
    return json.loads(msgspec.json.encode(view))


def agents_of(i: int) -> cmd.UpsertAgent:
    return cmd.UpsertAgent(f"a{i:03d}", f"A{i}", ("north", "south")[i % 2], ["en"], 3)


def new_order(n: int) -> cmd.SubmitOrders:
    return cmd.SubmitOrders([cmd.NewOrder(f"o{n:05d}", "en", 0, n.to_bytes(16, "big"))])


async def test_the_stream_needs_a_staff_key(center: tuple[Any, Engine]) -> None:
    app, _ = center
    refused = SseClient(app, "nope")
    refused.start()
    assert refused._task is not None
    await asyncio.wait_for(refused._task, 5)
    assert refused.status == 401
    assert json.loads(refused.raw)["error"]["code"] == "unauthorized"

    c = SseClient(app)
    c.start()
    await c.wait_for(1)
    assert c.status == 200
    assert c.headers[b"content-type"].startswith(b"text/event-stream")
    assert c.headers[b"cache-control"] == b"no-cache"
    assert c.events[0][0] == "snapshot"
    await c.close()


async def test_a_burst_of_thousands_of_events_becomes_a_few_coalesced_updates(
    center: tuple[Any, Engine],
) -> None:
    app, engine = center
    stream: BoardStream = app.state.board_stream
    c = SseClient(app)
    c.start()
    await c.wait_for(1)
    assert c.events[0][0] == "snapshot" and c.events[0][1]["agents"] == []

    records = 0
    started = time.monotonic()
    commands: list[cmd.Command] = [agents_of(i) for i in range(400)]
    commands += [cmd.Login(f"a{i:03d}") for i in range(400)]
    commands += [new_order(n) for n in range(1500)]  # 1200 assigned, 300 queued
    commands += [cmd.CompleteOrder(f"o{n:05d}") for n in range(0, 1200, 2)]
    commands += [cmd.GoAway(f"a{i:03d}", "break") for i in range(0, 400, 10)]
    for command in commands:
        await engine.execute(command)
        records += 1
        await asyncio.sleep(0)  # let the stream run in between, as the server would
    elapsed = time.monotonic() - started
    await c.quiet()

    deltas = [e for e in c.events if e[0] == "delta"]
    assert records == 2940
    # At most one update per interval (0.1 s) while the burst ran, plus the last one after it.
    assert 1 <= len(deltas) <= elapsed / stream.interval + 2, (len(deltas), elapsed)
    assert len(deltas) <= records / 20, len(deltas)
    # Nothing was lost on the way: the folded stream is the board.
    shown = fold(c.events)
    board = as_json(build_board(engine.state, engine.now()))
    assert len(shown["agents"]) == 400
    for a in board["agents"]:
        seat = shown["agents"][a["id"]]
        assert {k: seat[k] for k in a} == a, (seat, a)
    assert shown["totals"] == board["totals"]
    assert shown["queues"] == board["queues"] == []  # the completions served the 300 queued
    assert shown["totals"]["orders_assigned"] == 1500
    await c.close()


async def test_a_client_that_stops_reading_gets_a_snapshot_not_a_backlog(
    center: tuple[Any, Engine],
) -> None:
    app, engine = center
    stream: BoardStream = app.state.board_stream
    stream.queue_limit = 4
    await engine.execute(agents_of(1))
    await engine.execute(cmd.Login("a001"))
    c = SseClient(app)
    c.start()
    await c.wait_for(1)
    (sub,) = stream.subscribers
    c.hold()
    for i in range(40):
        reason = f"break {i}"
        await engine.execute(cmd.GoAway("a001", reason))
        await stream.tick()
        await asyncio.sleep(0.001)
        assert len(sub.queue) <= 4, "the per-client queue must stay bounded"
    assert sub.overflows >= 1
    assert len(c.events) == 1, "nothing reached a client that does not read"
    c.release()
    await c.quiet()

    after = c.events[1:]
    # At most the message that was being written when it stopped, then a fresh snapshot.
    assert [name for name, _ in after][:2] in (["snapshot"], ["delta", "snapshot"]), after
    assert len(after) <= 3, [name for name, _ in after]
    snapshot = next(data for name, data in after if name == "snapshot")
    (seat,) = snapshot["agents"]
    assert (seat["state"], seat["reason"]) == ("away", "break 39")
    assert fold(c.events)["agents"]["a001"]["reason"] == "break 39"
    await c.close()
    assert stream.subscribers == set()


async def test_deltas_carry_whole_changed_seats_and_the_chart_minutes(
    center: tuple[Any, Engine],
) -> None:
    app, engine = center
    for i in (1, 2):
        await engine.execute(agents_of(i))
    await engine.execute(cmd.Login("a001"))
    c = SseClient(app)
    c.start()
    await c.wait_for(1)
    history = c.events[0][1]["history"]
    assert len(history) == 60 and history[-1]["minute"] == "2026-11-23T07:00:00Z", history[-3:]

    for n in range(3):
        await engine.execute(new_order(n))  # a001 takes all three (capacity 3)
    await engine.execute(new_order(3))  # queued
    await c.quiet()
    name, delta = c.events[-1]
    assert name == "delta"
    assert [(a["id"], a["load"]) for a in delta["agents"]] == [("a001", 3)]
    assert delta["queues"] == [{"skill": "en", "depth": 1, "oldest_wait_s": 0.0}]
    assert delta["history"][-1] == {"minute": "2026-11-23T07:00:00Z", "received": 4,
                                    "assigned": 3, "completed": 0, "queue_depth": 1}  # fmt: skip

    await engine.set_clock(parse_time("2026-11-23T07:03:10Z"))
    await engine.execute(cmd.CompleteOrder("o00000"))  # o00003 goes to a001 from the queue
    await c.quiet()
    minutes = {m["minute"]: m for m in fold(c.events)["history"]}
    assert minutes["2026-11-23T07:01:00Z"]["queue_depth"] == 1  # quiet minutes carry the depth
    assert minutes["2026-11-23T07:03:00Z"] == {"minute": "2026-11-23T07:03:00Z", "received": 0,
                                               "assigned": 1, "completed": 1,
                                               "queue_depth": 0}  # fmt: skip
    await c.close()


async def test_the_stream_ends_when_the_server_stops(center: tuple[Any, Engine]) -> None:
    app, _ = center
    stopping = False
    app.state.stopping = lambda: stopping
    c = SseClient(app)
    c.start()
    await c.wait_for(1)
    stopping = True
    assert c._task is not None
    await asyncio.wait_for(c._task, 3)  # the response ends by itself; shutdown is not held
    assert app.state.board_stream.subscribers == set()


async def test_an_open_stream_ends_when_its_key_is_revoked(center: tuple[Any, Engine]) -> None:
    app, engine = center
    digest = hash_key("sf_the-supervisors-board-key")
    await engine.execute(cmd.CreateKey(digest, "supervisor"))
    c = SseClient(app, "sf_the-supervisors-board-key")
    c.start()
    await c.wait_for(1)
    assert c.status == 200
    await engine.execute(cmd.RevokeKey(digest[:12], "admin"))
    assert c._task is not None
    await asyncio.wait_for(c._task, 3)  # ended by the server, the client still listening
    assert app.state.board_stream.subscribers == set()
    again = SseClient(app, "sf_the-supervisors-board-key")
    again.start()
    assert again._task is not None
    await asyncio.wait_for(again._task, 5)
    assert again.status == 401 and json.loads(again.raw)["error"]["code"] == "key_revoked"
