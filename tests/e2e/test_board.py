"""What floor managers and operators watch: the board page, its event stream, /metrics."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import httpx
import pytest

from .support import Server, at, error, future_day, login, make_key, ok, push, put_agent, set_clock

pytestmark = pytest.mark.e2e
SERIES_PARTS = ("_created", "_bucket", "_sum", "_count")


def _events(lines: Iterator[str]) -> Iterator[tuple[str, str]]:
    """(event name, data) per Server-Sent Event; comments and keep-alives skipped."""
    name, data = "message", list[str]()
    for line in lines:
        if line == "":
            if data:
                yield name, "\n".join(data)
            name, data = "message", []
        elif line.startswith(":"):
            continue
        elif line.startswith("event:"):
            name = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].lstrip())


def test_board_page_is_public_html(server: Server) -> None:
    r = httpx.get(f"{server.base_url}/board", timeout=10)
    assert r.status_code == 200, r.text[:300]
    assert r.headers["content-type"].startswith("text/html"), r.headers
    assert re.search(r"<html|<!doctype html", r.text, re.I), r.text[:300]
    assert "/v1/board" in r.text, "the page should read the board API"


def test_board_stream_sends_a_snapshot_then_deltas(server: Server, admin: httpx.Client) -> None:
    set_clock(admin, at(future_day(), "09:00"))
    put_agent(admin, "s1", skills=["en"])
    sup = server.client(make_key(admin, "supervisor"))
    with sup.stream("GET", "/v1/board/stream", timeout=httpx.Timeout(10.0, read=5.0)) as r:
        assert r.status_code == 200, r.read()
        assert r.headers["content-type"].startswith("text/event-stream"), r.headers
        events = _events(r.iter_lines())
        name, data = next(events)
        assert name == "snapshot", (name, data)
        snapshot = json.loads(data)
        assert [a["state"] for a in snapshot["agents"] if a["id"] == "s1"] == ["offline"]

        login(admin, "s1")
        name, data = next(events)
        assert name == "delta", (name, data)
        assert "s1" in data and "available" in data, data


def test_metrics_count_orders_and_agents(server: Server, admin: httpx.Client) -> None:
    set_clock(admin, at(future_day(), "09:00"))
    put_agent(admin, "m1", skills=["en"], capacity=1)
    login(admin, "m1")
    platform = server.client(make_key(admin, "platform"))
    push(platform, "q1", "en")
    push(platform, "q2", "en")
    push(platform, "q3", "fr")
    ok(platform.post("/v1/orders/q1/complete"))  # m1 takes q2

    r = admin.get("/metrics")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain"), r.headers
    text = r.text
    assert re.search(r"^# TYPE \S+ histogram$", text, re.M), "no assignment latency histogram"

    def value(*words: str) -> float:
        """The sum of the samples whose metric name holds all these words."""
        total, seen = 0.0, False
        for m in re.finditer(r"^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)$", text, re.M):
            name = m.group(1)
            if all(w in name for w in words) and not name.endswith(SERIES_PARTS):
                total, seen = total + float(m.group(3)), True
        assert seen, f"no metric named with {words}:\n{text[:2000]}"
        return total

    assert value("order", "received") == 3
    assert value("order", "completed") == 1
    assert value("order", "assigned") == 2
    by_state = re.findall(r'^\w*agent\w*\{[^}]*state="(\w+)"[^}]*\}\s+(\S+)$', text, re.M)
    assert ("available", "1.0") in [(s, str(float(v))) for s, v in by_state], by_state
    error(server.client(make_key(admin, "platform")).get("/metrics"), 403, "forbidden")
