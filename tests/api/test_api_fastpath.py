"""The intake fast path answers exactly as the FastAPI routes behind it.

Two twin floors get the same requests in the same order: one through `FastPath`
in front of its app (what `seatflow serve` runs), one through the FastAPI app
alone. Status, every header and the body bytes must match, and so must the
journals. A recorder around the fast path proves which requests it served itself
(Starlette's router never saw them) and which it handed to the app.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from api_support import ADMIN_KEY, START, bearer
from starlette.types import Receive, Scope, Send

from api.app import create_app
from api.auth import hash_key
from api.body import MAX_BODY
from api.fastpath import FastPath, with_fast_path
from engine import commands as cmd
from engine.clock import ManualClock
from engine.core import Engine
from engine.journal import MemoryJournal
from presence.timeutil import parse_time

SUPERVISOR = bearer("sup-key-0001")
PLATFORM = bearer("plat-key-0001")
ADMIN = bearer(ADMIN_KEY)


def order(order_id: str, **kw: Any) -> bytes:
    return json.dumps({"id": order_id, "skill": "pre", "priority": 0, **kw}).encode()


async def stream(size: int, chunk: int = 64 * 1024) -> AsyncIterator[bytes]:
    """A body with no Content-Length: only counting the bytes can refuse it."""
    sent = 0
    while sent < size:
        n = min(chunk, size - sent)
        sent += n
        yield b"x" * n


# (what, method, path, headers, body, served by the fast path)
CASES: list[tuple[str, str, str, dict[str, str], Any, bool]] = [
    ("new order 201", "POST", "/v1/orders", PLATFORM, order("o1"), True),
    ("same again 200", "POST", "/v1/orders", PLATFORM, order("o1"), True),
    ("admin may submit", "POST", "/v1/orders", ADMIN, order("o2", payload={"c": 1}), True),
    ("other body 409", "POST", "/v1/orders", PLATFORM, order("o1", priority=2), True),
    ("bad type 422", "POST", "/v1/orders", PLATFORM, order("o3", priority="high"), True),
    ("unknown field 422", "POST", "/v1/orders", PLATFORM, order("o4", color="red"), True),
    ("missing id 422", "POST", "/v1/orders", PLATFORM, b'{"skill":null}', True),
    ("empty id 422", "POST", "/v1/orders", PLATFORM, order(""), True),
    ("malformed 400", "POST", "/v1/orders", PLATFORM, b'{"id": "o5",', True),
    ("empty body 400", "POST", "/v1/orders", PLATFORM, b"", True),
    ("not an object 400", "POST", "/v1/orders", PLATFORM, b"[1, 2]", True),
    ("no key 401", "POST", "/v1/orders", {}, order("o6"), True),
    ("unknown key 401", "POST", "/v1/orders", bearer("nobody"), order("o6"), True),
    ("basic scheme 401", "POST", "/v1/orders", {"Authorization": "Basic eDp5"}, order("o6"), True),
    ("supervisor 403", "POST", "/v1/orders", SUPERVISOR, order("o6"), True),
    (
        "413 by header",
        "POST",
        "/v1/orders",
        {**PLATFORM, "Content-Length": str(MAX_BODY + 1)},
        b"x" * (MAX_BODY + 1),
        True,
    ),
    ("413 by stream", "POST", "/v1/orders", PLATFORM, "stream", True),
    (
        "batch with bad items",
        "POST",
        "/v1/orders:batch",
        PLATFORM,
        json.dumps(
            {
                "orders": [
                    {"id": "b1", "skill": None, "priority": 0},
                    {"id": "b2", "priority": "x"},
                    {"id": "o1", "skill": "post", "priority": 1},
                    {"id": "b3", "skill": "pre", "priority": 0, "extra": 1},
                    {"id": "b4", "skill": "post", "priority": 1},
                ]
            }
        ).encode(),
        True,
    ),
    (
        "batch of one",
        "POST",
        "/v1/orders:batch",
        PLATFORM,
        b'{"orders": [{"id": "b5", "skill": "pre", "priority": 0}]}',
        True,
    ),
    ("empty batch 422", "POST", "/v1/orders:batch", PLATFORM, b'{"orders": []}', True),
    ("batch malformed 400", "POST", "/v1/orders:batch", PLATFORM, b"{", True),
    ("batch supervisor 403", "POST", "/v1/orders:batch", SUPERVISOR, b'{"orders":[]}', True),
    ("batch 413 by stream", "POST", "/v1/orders:batch", PLATFORM, "stream", True),
    # Not the fast path's: handed to the app as they are.
    ("read an order", "GET", "/v1/orders/o1", PLATFORM, None, False),
    ("GET on intake 405", "GET", "/v1/orders", PLATFORM, None, False),
    ("trailing slash", "POST", "/v1/orders/", PLATFORM, order("o7"), False),
    ("complete 409", "POST", "/v1/orders/o1/complete", PLATFORM, None, False),
    ("healthz", "GET", "/healthz", {}, None, False),
]


@dataclass
class Twin:
    client: httpx.AsyncClient
    journal: MemoryJournal


class Recorder:
    """The ASGI app the client calls: remembers the last http scope after the call."""

    def __init__(self, app: FastPath) -> None:
        self.app = app
        self.scope: Scope = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.scope = scope
        await self.app(scope, receive, send)


async def _floor() -> tuple[Engine, MemoryJournal]:
    journal = MemoryJournal()
    engine = Engine(journal, ManualClock(parse_time(START)))
    for key, role in ((SUPERVISOR, "supervisor"), (PLATFORM, "platform")):
        token = key["Authorization"].removeprefix("Bearer ")
        await engine.execute(cmd.CreateKey(hash_key(token), role))
    return engine, journal


async def _send(client: httpx.AsyncClient, case: tuple[Any, ...]) -> httpx.Response:
    _, method, path, headers, body, _ = case
    content = stream(MAX_BODY + 10) if body == "stream" else body
    return await client.request(method, path, headers=headers, content=content)


def _same(fast: httpx.Response, plain: httpx.Response, what: str) -> None:
    assert fast.status_code == plain.status_code, (what, fast.text, plain.text)
    assert fast.headers.multi_items() == plain.headers.multi_items(), what
    assert fast.content == plain.content, what


async def test_fast_path_answers_as_the_routes_do_and_writes_the_same_journal() -> None:
    fast_engine, fast_journal = await _floor()
    plain_engine, plain_journal = await _floor()
    recorder = Recorder(with_fast_path(create_app(fast_engine, admin_key=ADMIN_KEY)))
    plain_app = create_app(plain_engine, admin_key=ADMIN_KEY)
    base = "http://seatflow"
    async with (
        httpx.AsyncClient(transport=httpx.ASGITransport(app=recorder), base_url=base) as fast,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=plain_app), base_url=base) as plain,
    ):
        seen: dict[str, int] = {}
        for case in CASES:
            what, served = case[0], case[5]
            a, b = await _send(fast, case), await _send(plain, case)
            _same(a, b, what)
            seen[what] = a.status_code
            # Starlette's router marks every scope it routes; the fast path's never get there.
            assert ("router" not in recorder.scope) is served, what
            assert recorder.scope.get("app") is recorder.app.app, what
    assert fast_journal.records == plain_journal.records
    # The table covers what it says it covers.
    firsts = ("new order 201", "same again 200", "other body 409")
    assert [seen[w] for w in firsts] == [201, 200, 409]
    assert seen["no key 401"] == seen["unknown key 401"] == 401
    assert seen["413 by header"] == seen["413 by stream"] == seen["batch 413 by stream"] == 413
    assert seen["supervisor 403"] == 403 and seen["malformed 400"] == 400


async def test_401_from_the_fast_path_names_the_scheme_and_the_reason() -> None:
    engine, _ = await _floor()
    app = with_fast_path(create_app(engine, admin_key=ADMIN_KEY))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://seatflow") as client:
        r = await client.post("/v1/orders", content=order("x1"))
        big = await client.post("/v1/orders", headers=PLATFORM, content=stream(MAX_BODY + 1))
        bad = await client.post("/v1/orders", headers=PLATFORM, content=order("x2", priority="p"))
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == "Bearer"
    assert r.headers["content-type"] == "application/json"
    assert r.json() == {
        "error": {
            "code": "unauthorized",
            "message": "missing 'Authorization: Bearer <key>' header",
            "detail": None,
        }
    }
    assert big.status_code == 413
    assert big.json()["error"]["message"] == (f"request body is over the limit of {MAX_BODY} bytes")
    assert bad.status_code == 422
    assert bad.json()["error"]["code"] == "invalid_field"
    assert bad.json()["error"]["detail"] == {"field": "priority"}
    assert "x2" not in engine.state.orders


@pytest.mark.parametrize("path", ["/v1/orders", "/v1/orders:batch"])
async def test_unexpected_error_is_the_apps_500_body_and_is_raised_for_the_log(path: str) -> None:
    """Before the lifespan has opened the engine there is none: an unexpected AttributeError."""

    def never() -> Engine:
        raise RuntimeError("the lifespan is not run here")

    fast = with_fast_path(create_app(never, admin_key=ADMIN_KEY))
    plain = create_app(never, admin_key=ADMIN_KEY)
    answers = []
    for app in (fast, plain):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://seatflow") as client:
            answers.append(await client.post(path, headers=PLATFORM, content=order("e1")))
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://seatflow"
        ) as client:
            with pytest.raises(AttributeError, match="engine"):
                await client.post(path, headers=PLATFORM, content=order("e1"))
    _same(answers[0], answers[1], "500")
    assert answers[0].status_code == 500
    assert answers[0].json()["error"] == {
        "code": "internal_error",
        "message": "internal server error; see the server log",
        "detail": None,
    }
