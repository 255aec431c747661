"""Helpers of the in-process API tests: the real app on a real Engine.

Imported as `api_support` (tests/api is on sys.path under pytest's prepend mode);
the package is imported as `api.app`, since under pytest `api` can resolve to a
namespace package spanning tests/api and the real api/.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx

from api.app import create_app
from engine.clock import ManualClock
from engine.core import Engine
from engine.journal import Journal, MemoryJournal
from presence.timeutil import parse_time

ADMIN_KEY = "test-admin-key"
START = "2026-11-23T07:00:00Z"


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


ADMIN = bearer(ADMIN_KEY)


@dataclass
class Api:
    """A client on the app plus the engine and journal behind it."""

    client: httpx.AsyncClient
    engine: Engine
    journal: MemoryJournal

    async def call(
        self, method: str, path: str, key: dict[str, str] | None = None, **kw: Any
    ) -> httpx.Response:
        return await self.client.request(method, path, headers=ADMIN if key is None else key, **kw)

    async def ok(self, method: str, path: str, **kw: Any) -> Any:
        r = await self.call(method, path, **kw)
        assert r.status_code < 300, r.text
        return r.json()

    async def key(self, role: str, agent_id: str | None = None) -> dict[str, str]:
        body = await self.ok("POST", "/v1/keys", json={"role": role, "agent_id": agent_id})
        return bearer(body["key"])

    async def agent(self, agent_id: str, skills: list[str] | None = None, capacity: int = 2) -> Any:
        body = {
            "name": agent_id.upper(),
            "team": "north",
            "skills": skills or [],
            "capacity": capacity,
        }
        return await self.ok("PUT", f"/v1/agents/{agent_id}", json=body)

    async def clock(self, to: str) -> None:
        await self.ok("POST", "/v1/admin/clock", json={"set": to})


def error(r: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """Assert the error status and code; return the error object for message/detail checks."""
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error"}, body
    assert body["error"]["code"] == code, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body["error"]


async def make_api(journal: Journal | None = None) -> AsyncIterator[Api]:
    """The in-process API on `journal` (default: in memory), its engine closed after."""
    journal = MemoryJournal() if journal is None else journal
    engine = Engine(journal, ManualClock(parse_time(START)))
    app = create_app(engine, admin_key=ADMIN_KEY)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://seatflow") as client:
        yield Api(client, engine, journal)  # type: ignore[arg-type]
    await engine.close()


def _columns_of(line: str) -> list[tuple[int, int, str]]:
    """Each character of `line` with the terminal columns it covers, [start, end): written
    apart from api.cli.table so the tests check its widths rather than repeat them."""
    out, col = [], 0
    for c in line:
        w = 0 if unicodedata.category(c) in ("Mn", "Me") else (
            2 if unicodedata.east_asian_width(c) in ("W", "F") else 1
        )  # fmt: skip
        out.append((col, col + w, c))
        col += w
    return out


def table_cells(text: str) -> list[list[str]]:
    """The lines of a `seatflow payroll` table (headings, rows, totals) cut into cells at
    the terminal columns of the rule under the headings, padding kept. Fails when a
    character stands outside every column: a row out of line with the headings."""
    lines = text.splitlines()
    rule = lines[2]
    spans = [m.span() for m in re.finditer("─+", rule)]  # the rule is one column a character
    rows = []
    for line in lines[1:]:
        if line == rule:
            continue
        cells = [""] * len(spans)
        at = 0
        for start, end, c in _columns_of(line):
            if start == end:  # a combining mark: on the character before it
                cells[at] += c
                continue
            inside = [i for i, (a, b) in enumerate(spans) if a <= start and end <= b]
            if not inside:
                assert c == " ", f"{c!r} at columns {start}-{end} outside every column: {line!r}"
                continue
            at = inside[0]
            cells[at] += c
        rows.append(cells)
    return rows
