"""The assignment lifecycle on the real server (SQLite; on Redis when SEATFLOW_TEST_REDIS=1).

A manual clock moved past a response timeout takes the order back as of the move, and
a restart (SIGKILL) comes back with the same state and the timers still to come; on
the real clock the server takes an unanswered order back by itself, with no request.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from .support import Server, at, future_day, login, make_key, ok, push, put_agent, set_clock

pytestmark = pytest.mark.e2e


def views(admin: httpx.Client) -> dict[str, Any]:
    paths = ["/v1/agents", "/v1/audit", "/v1/board", "/v1/settings",
             *[f"/v1/orders/o{i}" for i in range(1, 4)]]  # fmt: skip
    return {p: ok(admin.get(p)) for p in paths}


def test_a_clock_move_takes_unanswered_orders_back_and_a_restart_keeps_it(server: Server):
    admin = server.client(server.admin_key)
    platform = server.client(make_key(admin, "platform"))
    day = future_day()
    set_clock(admin, at(day, "09:00"))
    ok(admin.put("/v1/settings", json={"response_timeout_s": 60, "wrap_up_s": 30}))
    for a in ("a1", "a2"):
        put_agent(admin, a, skills=["en"], capacity=2)
        login(admin, a)
    assert push(platform, "o1", "en")["agent_id"] == "a1"
    assert push(platform, "o2", "en")["agent_id"] == "a2"
    ok(platform.post("/v1/orders/o2/responded"))
    set_clock(admin, at(day, "09:00:30"))
    assert push(platform, "o3", "en")["agent_id"] == "a1"  # due 09:01:30
    set_clock(admin, at(day, "09:05"))  # o1 (due 09:01) and o3 (09:01:30), as of 09:05
    o1 = ok(admin.get("/v1/orders/o1"))
    assert (o1["agent_id"], o1["reassignments"]) == ("a2", 1)
    assert ok(admin.get("/v1/agents/a1"))["state"] == "not_responding"
    moved = [e for e in ok(admin.get("/v1/audit"))["audit"] if e["action"] == "response_timeout"]
    assert [(e["order_id"], e["at"]) for e in moved] == [
        ("o1", at(day, "09:05")),
        ("o3", at(day, "09:05")),
    ]
    ok(platform.post("/v1/orders/o2/complete"))  # a2 wraps up until 09:05:30
    assert ok(admin.get("/v1/agents/a2"))["wrapping"] == 1
    before = views(admin)
    server.restart(kill=True)
    assert views(admin) == before
    # The timers still to come came back with the state: o1 and o3 now wait on a2.
    set_clock(admin, at(day, "09:07"))
    a2 = ok(admin.get("/v1/agents/a2"))
    assert (a2["state"], a2["wrapping"]) == ("not_responding", 0)


def test_on_the_real_clock_the_server_takes_an_order_back_by_itself(tmp_path: Path):
    srv = Server(tmp_path, clock="real")
    try:
        srv.start()
        admin = srv.client(srv.admin_key)
        ok(admin.put("/v1/settings", json={"response_timeout_s": 10}))
        for a in ("a1", "a2"):
            put_agent(admin, a, skills=["en"], capacity=2)
        login(admin, "a1")
        platform = srv.client(make_key(admin, "platform"))
        assert push(platform, "o1", "en")["agent_id"] == "a1"
        login(admin, "a2")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and ok(admin.get("/v1/orders/o1"))["agent_id"] == "a1":
            time.sleep(0.25)
        o1 = ok(admin.get("/v1/orders/o1"))
        assert (o1["agent_id"], o1["reassignments"]) == ("a2", 1), o1
        assert ok(admin.get("/v1/agents/a1"))["state"] == "not_responding"
    finally:
        srv.close()
