"""What floor managers and operators watch: the board snapshot and /metrics."""

from __future__ import annotations

import re

import httpx
import pytest

from .support import Server, at, error, future_day, login, make_key, ok, push, put_agent, set_clock

pytestmark = pytest.mark.e2e
SERIES_PARTS = ("_created", "_bucket", "_sum", "_count")


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
