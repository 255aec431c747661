"""Restart: a server stopped (SIGTERM) or killed (SIGKILL) comes back with the same center.

Every view a user can read is recorded before the stop and compared after the
restart on the same data directory; keys still authenticate; routing after the
restart uses the restored loads and idle times.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
from typing import Any

import httpx
import pytest

from .support import (
    ON_REDIS,
    SEATFLOW,
    Server,
    add_shifts,
    at,
    error,
    free_port,
    future_day,
    login,
    make_key,
    ok,
    push,
    put_agent,
    set_clock,
)

pytestmark = pytest.mark.e2e

AGENTS = ("a1", "a2", "a3", "a4", "a5")
ORDERS = tuple(f"o{i}" for i in range(1, 12))


def views(admin: httpx.Client, day: Any) -> dict[str, Any]:
    """Everything a reader can see of the center."""
    paths = [
        "/v1/board", "/v1/settings", "/v1/admin/clock", "/v1/audit", "/v1/agents",
        f"/v1/schedule?from={at(day, '00:00')}&to={at(day, '00:00', days=2)}",
        *[f"/v1/logout-requests?status={s}" for s in ("pending", "approved", "denied", "closed")],
        *[f"/v1/agents/{a}" for a in AGENTS],
        *[f"/v1/orders/{o}" for o in ORDERS],
    ]  # fmt: skip
    seen = {}
    for path in paths:
        r = admin.get(path)
        seen[path] = (r.status_code, r.json())
    return seen


def _build(server: Server, admin: httpx.Client, day: Any) -> dict[str, httpx.Client]:
    keys = {role: server.client(make_key(admin, role)) for role in ("supervisor", "platform",
                                                                     "payroll")}  # fmt: skip
    sup, platform = keys["supervisor"], keys["platform"]
    set_clock(admin, at(day, "08:30"))
    for agent_id, team, skills, capacity in [
        ("a1", "north", ["en"], 2), ("a2", "north", ["en"], 2), ("a3", "south", ["en"], 3),
        ("a4", "south", ["fr"], 1), ("a5", "south", ["en"], 1),
    ]:  # fmt: skip
        put_agent(sup, agent_id, team=team, skills=skills, capacity=capacity)
    keys["agent"] = server.client(make_key(admin, "agent", "a5"))
    add_shifts(
        sup,
        *[(a, at(day, "08:00"), at(day, "16:00")) for a in ("a1", "a2", "a3", "a5")],
        ("a4", at(day, "12:00"), at(day, "20:00")),
    )
    set_clock(admin, at(day, "09:00"))
    for agent_id in ("a1", "a2", "a3", "a5"):
        login(sup, agent_id)

    def push_at(hhmm: str, order_id: str, skill: str | None, priority: int = 0) -> Any:
        set_clock(admin, at(day, hhmm))
        return push(platform, order_id, skill, priority, {"n": order_id})["agent_id"]

    assert push_at("09:01", "o1", "en") == "a1"
    assert push_at("09:02", "o2", "en") == "a2"
    assert push_at("09:03", "o3", "en") == "a3"
    assert push_at("09:04", "o4", "en") == "a5"
    set_clock(admin, at(day, "09:05"))
    ok(sup.post("/v1/agents/a3/away", json={"reason": "lunch"}))
    assert push_at("09:06", "o5", "fr", 3) is None
    assert push_at("09:07", "o6", None, 1) == "a1"  # a1 and a2 at 1/2: a1 idle longer
    set_clock(admin, at(day, "09:08"))
    ok(platform.post("/v1/orders/o2/complete"))
    ok(sup.post("/v1/orders/o2/qa", json={"passed": True}))
    assert push_at("09:09", "o7", "en") == "a2"
    assert push_at("09:09", "o8", "en") == "a2"
    assert push_at("09:10", "o9", "en", 7) is None
    ok(keys["agent"].post("/v1/agents/a5/logout"), 202)
    set_clock(admin, at(day, "09:11"))
    ok(keys["agent"].post("/v1/agents/a5/logout"), 202)  # repeated
    denied = ok(sup.post("/v1/agents/a2/logout"), 202)["logout_request"]["id"]
    ok(sup.post(f"/v1/logout-requests/{denied}/deny"))
    ok(admin.put("/v1/settings", json={"logout_grace_s": 900}))
    set_clock(admin, at(day, "09:30"))
    ok(platform.post("/v1/orders/o1/complete"))  # a1 takes the waiting o9 (en, p7)
    assert ok(admin.get("/v1/orders/o9"))["agent_id"] == "a1"
    return keys


def _keys_still_work(keys: dict[str, httpx.Client]) -> None:
    assert ok(keys["agent"].get("/v1/agents/a5"))["id"] == "a5"
    error(keys["agent"].get("/v1/agents/a1"), 403, "forbidden")  # still bound to a5
    assert ok(keys["platform"].get("/v1/orders/o4"))["agent_id"] == "a5"
    assert ok(keys["supervisor"].get("/v1/board"))["now"]
    error(keys["payroll"].get("/v1/board"), 403, "forbidden")  # known key, wrong role


def test_restart_after_sigterm_and_sigkill_keeps_everything(
    server: Server, admin: httpx.Client
) -> None:
    day = future_day()
    keys = _build(server, admin, day)
    before = views(admin, day)
    assert before["/v1/agents/a3"][1]["state"] == "away"
    assert before["/v1/orders/o5"][1]["status"] == "queued"
    assert len(before["/v1/logout-requests?status=pending"][1]["logout_requests"]) == 1

    # uvicorn re-raises the signal after its graceful shutdown, so -SIGTERM is clean too.
    assert server.stop() in (0, -signal.SIGTERM), f"exit on SIGTERM\n{server.stderr()}"
    server.start()
    after = views(admin, day)
    for path in before:
        assert after[path] == before[path], f"{path} changed across a SIGTERM restart"
    _keys_still_work(keys)

    # The restored center keeps working: loads and idle times survived.
    set_clock(admin, at(day, "09:40"))
    ok(keys["platform"].post("/v1/orders/o6/complete"))  # a1: 1/2, last assigned 09:30
    ok(keys["platform"].post("/v1/orders/o7/complete"))  # a2: 1/2, last assigned 09:09
    assert push(keys["platform"], "o10", "en")["agent_id"] == "a2"  # idle longest
    assert push(keys["platform"], "o11", "en")["agent_id"] == "a1"
    set_clock(admin, at(day, "09:45"))
    ok(keys["supervisor"].post("/v1/agents/a3/available"))

    before = views(admin, day)
    server.kill9()
    server.start()
    after = views(admin, day)
    for path in before:
        assert after[path] == before[path], f"{path} changed across a SIGKILL restart"
    _keys_still_work(keys)
    assert after["/v1/admin/clock"][1]["now"] == at(day, "09:45")
    error(admin.post("/v1/admin/clock", json={"set": at(day, "09:44")}), 409, "clock_backwards")


def test_restart_of_an_empty_center(server: Server, admin: httpx.Client) -> None:
    server.restart(kill=True)
    assert ok(admin.get("/healthz")) == {"status": "ok"}
    assert ok(admin.get("/v1/admin/clock"))["mode"] == "manual"
    error(admin.get("/v1/agents/a1"), 404, "agent_not_found")


@pytest.mark.skipif(
    ON_REDIS, reason="one writer per data dir is SQLite's rule; on Redis a second process follows"
)
def test_a_second_server_on_the_same_data_is_refused(server: Server, admin: httpx.Client) -> None:
    """Two writers on one journal would fork it: the second process must not start."""
    put_agent(admin, "solo")
    port = free_port()
    second = subprocess.run(
        [SEATFLOW, "serve", "--host", "127.0.0.1", "--port", str(port),
         "--data", str(server.data_dir), "--clock", "manual"],
        capture_output=True, text=True, timeout=30,
        env={**os.environ, "SEATFLOW_ADMIN_KEY": "another-admin-key-0123"},
    )  # fmt: skip
    assert second.returncode != 0, second.stderr
    assert "in use" in second.stderr or "lock" in second.stderr.lower(), second.stderr
    assert ok(admin.get("/v1/agents/solo"))["id"] == "solo"  # the first one is unharmed


def test_keys_are_stored_only_as_hashes(server: Server, admin: httpx.Client) -> None:
    put_agent(admin, "h1")
    keys = [make_key(admin, role) for role in ("supervisor", "platform", "payroll")]
    keys.append(make_key(admin, "agent", "h1"))
    server.stop()
    stored = server.stored_bytes()
    for key in (*keys, server.admin_key):
        assert key.encode() not in stored, "a key is stored in plain text"
    for key in keys:
        assert hashlib.sha256(key.encode()).hexdigest().encode() in stored


def test_a_revoked_key_stays_refused_after_a_restart(server: Server, admin: httpx.Client) -> None:
    made = ok(admin.post("/v1/keys", json={"role": "supervisor"}), 201)
    kept = make_key(admin, "platform")
    ok(admin.delete(f"/v1/keys/{made['id']}"))
    server.stop()
    server.start()
    r = server.client(made["key"]).get("/v1/agents")
    assert r.status_code == 401 and r.json()["error"]["code"] == "key_revoked", r.text
    assert server.client(kept).post("/v1/orders", json={"id": "after"}).status_code == 201
    listed = {k["id"]: k for k in ok(server.client(server.admin_key).get("/v1/keys"))["keys"]}
    assert listed[made["id"]]["revoked_at"] is not None
