"""Orders through the real server: idempotent retries, batches, completion rules, views.

One server for the module. Each test builds its own agents (unique ids, a skill of
its own) and logs them all out when it ends, so no test's orders land on another's.
"""

from __future__ import annotations

import itertools
import re
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from .support import (
    Server,
    agent,
    at,
    error,
    future_day,
    holding,
    is_rfc3339_utc,
    login,
    make_key,
    ok,
    order,
    push,
    put_agent,
    set_clock,
)

pytestmark = pytest.mark.e2e

_ids = itertools.count(1)
ORDER_VIEW_FIELDS = {
    "id", "skill", "priority", "status", "agent_id", "created_at", "assigned_at", "completed_at",
}  # fmt: skip


@dataclass
class Desk:
    server: Server
    admin: httpx.Client
    platform: httpx.Client
    prefix: str
    skill: str
    agents: list[str] = field(default_factory=list)

    def id(self, name: str) -> str:
        return f"{self.prefix}-{name}"

    def staff(self, name: str, capacity: int = 3) -> httpx.Client:
        """A logged-in agent with this desk's skill; returns a client with its own key."""
        agent_id = self.id(name)
        put_agent(self.admin, agent_id, skills=[self.skill], capacity=capacity)
        login(self.admin, agent_id)
        self.agents.append(agent_id)
        return self.server.client(make_key(self.admin, "agent", agent_id))


@pytest.fixture(scope="module")
def module_keys(shared_server: Server) -> tuple[httpx.Client, httpx.Client]:
    admin = shared_server.client(shared_server.admin_key)
    set_clock(admin, at(future_day(), "09:00"))
    return admin, shared_server.client(make_key(admin, "platform"))


@pytest.fixture
def desk(shared_server: Server, module_keys: tuple[httpx.Client, httpx.Client]) -> Iterator[Desk]:
    admin, platform = module_keys
    n = next(_ids)
    d = Desk(shared_server, admin, platform, f"t{n}", f"skill-{n}")
    ok(admin.post("/v1/admin/clock", json={"advance_s": 60}))
    yield d
    # Finish the desk's work and send its agents home, so nothing lands on the next desk.
    for agent_id in d.agents:
        if shared_server.running:
            for order_id in agent(admin, agent_id)["open_orders"]:
                ok(admin.post(f"/v1/orders/{quote(order_id, safe='')}/complete"))
            ok(admin.post(f"/v1/agents/{agent_id}/force-logout"))


def test_retry_with_the_same_body_returns_the_current_view(desk: Desk) -> None:
    a = desk.staff("a")
    body = {"id": desk.id("o1"), "skill": desk.skill, "priority": 3, "payload": {"b": 1, "a": [1]}}
    created = ok(desk.platform.post("/v1/orders", json=body), 201)
    assert created["status"] == "assigned" and created["agent_id"] == desk.id("a"), created
    assert is_rfc3339_utc(created["created_at"]), created

    again = ok(desk.platform.post("/v1/orders", json=body), 200)
    assert {k: again[k] for k in ("id", "status", "agent_id", "created_at")} == {
        k: created[k] for k in ("id", "status", "agent_id", "created_at")
    }
    # The same body with its payload keys in another order is the same body.
    reordered = {**body, "payload": {"a": [1], "b": 1}}
    assert ok(desk.platform.post("/v1/orders", json=reordered), 200)["status"] == "assigned"

    # A retry after completion answers with the order as it is now.
    ok(a.post(f"/v1/orders/{desk.id('o1')}/complete"))
    later = ok(desk.platform.post("/v1/orders", json=body), 200)
    assert (later["status"], later["agent_id"]) == ("completed", desk.id("a")), later
    assert later["created_at"] == created["created_at"]

    # Omitted fields are their defaults: priority 0, payload null.
    short = {"id": desk.id("o2"), "skill": desk.skill}
    ok(desk.platform.post("/v1/orders", json=short), 201)
    full = {**short, "priority": 0, "payload": None}
    assert ok(desk.platform.post("/v1/orders", json=full), 200)["id"] == desk.id("o2")
    assert holding(desk.admin, desk.id("a")) == {desk.id("o2")}  # counted once

    # A batch retry of a single order is a retry too.
    results = ok(desk.platform.post("/v1/orders:batch", json={"orders": [full]}))["results"]
    assert [r.get("id") for r in results] == [desk.id("o2")], results


def test_no_skill_defaults_to_null(desk: Desk) -> None:
    desk.staff("a")
    ok(desk.platform.post("/v1/orders", json={"id": desk.id("n1")}), 201)
    view = ok(desk.platform.post("/v1/orders", json={"id": desk.id("n1"), "skill": None}), 200)
    assert view["agent_id"] == desk.id("a"), view
    got = order(desk.admin, desk.id("n1"))
    assert (got["skill"], got["priority"]) == (None, 0), got


@pytest.mark.parametrize(
    "change",
    [{"skill": "other-skill"}, {"skill": None}, {"priority": 4}, {"payload": {"a": 2}},
     {"payload": None}],
    ids=["skill", "skill-null", "priority", "payload", "payload-null"],
)  # fmt: skip
def test_same_id_with_a_different_body_is_a_conflict(desk: Desk, change: dict[str, Any]) -> None:
    desk.staff("a")
    body = {"id": desk.id("c1"), "skill": desk.skill, "priority": 3, "payload": {"a": 1}}
    ok(desk.platform.post("/v1/orders", json=body), 201)
    before = order(desk.admin, desk.id("c1"))
    info = error(desk.platform.post("/v1/orders", json={**body, **change}), 409, "order_conflict")
    assert desk.id("c1") in info["message"], info
    assert order(desk.admin, desk.id("c1")) == before
    assert holding(desk.admin, desk.id("a")) == {desk.id("c1")}


def test_batch_answers_each_order_in_order(desk: Desk) -> None:
    desk.staff("a", capacity=10)
    s = desk.skill
    existing = {"id": desk.id("x0"), "skill": s, "priority": 1}
    ok(desk.platform.post("/v1/orders", json=existing), 201)
    items: list[Any] = [
        {"id": desk.id("b1"), "skill": s, "priority": 2},  # 0 new
        existing,  # 1 retry of an existing order
        {"id": desk.id("bad2"), "skill": s, "priority": 10},  # 2 out of range
        {"skill": s},  # 3 no id
        {"id": desk.id("b4"), "skill": s, "payload": {"k": "v"}},  # 4 new
        {"id": desk.id("b1"), "skill": s, "priority": 7},  # 5 conflicts with item 0
        {"id": desk.id("b1"), "skill": s, "priority": 2},  # 6 retry of item 0
        {"id": desk.id("bad7"), "skill": s, "priority": "high"},  # 7 wrong type
        {"id": desk.id("bad8"), "skill": s, "payload": "text"},  # 8 payload not an object
        {"id": desk.id("bad9"), "skill": s, "colour": "red"},  # 9 unknown field
        {"id": "", "skill": s},  # 10 empty id
        42,  # 11 not an object
        {"id": desk.id("bad12"), "skill": 5},  # 12 wrong type
        {"id": "x" * 129, "skill": s},  # 13 id too long
        {"id": desk.id("bad14"), "skill": s, "priority": -1},  # 14 out of range
    ]
    results = ok(desk.platform.post("/v1/orders:batch", json={"orders": items}))["results"]
    assert len(results) == len(items), results

    views = {i: results[i] for i in (0, 1, 4, 6)}
    for i, view in views.items():
        assert "error" not in view and ORDER_VIEW_FIELDS <= set(view), (i, view)
    assert [views[i]["id"] for i in (0, 1, 4, 6)] == [
        desk.id("b1"), desk.id("x0"), desk.id("b4"), desk.id("b1")
    ]  # fmt: skip
    assert views[0]["status"] == views[6]["status"] == "assigned"
    assert views[6]["created_at"] == views[0]["created_at"]

    bad_fields = {
        2: "orders[2].priority", 3: "orders[3].id", 7: "orders[7].priority",
        8: "orders[8].payload", 9: "orders[9].colour", 10: "orders[10].id",
        12: "orders[12].skill", 13: "orders[13].id", 14: "orders[14].priority",
    }  # fmt: skip
    for i, field_path in bad_fields.items():
        info = results[i].get("error")
        assert info is not None and set(results[i]) == {"error"}, (i, results[i])
        # roles.md: invalid_field, or a more specific snake_case code.
        assert re.fullmatch(r"[a-z][a-z_]*", info["code"]) and info["code"] != "order_conflict"
        assert info["detail"]["field"] == field_path, (i, info)
        assert isinstance(info["message"], str) and info["message"], (i, info)
    assert "priority" in results[2]["error"]["message"], results[2]
    assert "colour" in results[9]["error"]["message"], results[9]

    conflict = results[5].get("error")
    assert conflict is not None and conflict["code"] == "order_conflict", results[5]
    assert desk.id("b1") in conflict["message"], conflict
    not_object = results[11].get("error")
    assert not_object is not None and "orders[11]" in not_object["detail"]["field"], results[11]

    # Only the good ones exist; the bad ones left nothing behind.
    assert holding(desk.admin, desk.id("a")) == {desk.id("x0"), desk.id("b1"), desk.id("b4")}
    assert order(desk.admin, desk.id("b1"))["priority"] == 2
    for i in (2, 7, 8, 9, 12, 14):
        error(desk.admin.get(f"/v1/orders/{desk.id(f'bad{i}')}"), 404, "order_not_found")


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ({"orders": []}, "empty"),
        ({"orders": [{"id": f"lim-{i}"} for i in range(1001)]}, "over 1000"),
        ({"orders": {"id": "x"}}, "not a list"),
        ({}, "missing"),
    ],
    ids=["empty", "over-1000", "not-a-list", "missing"],
)
def test_batch_limits(desk: Desk, body: dict[str, Any], why: str) -> None:
    before = ok(desk.admin.get("/v1/board"))
    info = error(desk.platform.post("/v1/orders:batch", json=body), 422, "invalid_field")
    assert info["detail"]["field"] == "orders", info
    assert "orders" in info["message"], info
    error(desk.admin.get("/v1/orders/lim-0"), 404, "order_not_found")
    assert ok(desk.admin.get("/v1/board")) == before


def test_completion_rules(desk: Desk) -> None:
    as_a = desk.staff("a", capacity=2)
    as_b = desk.staff("b", capacity=1)
    s = desk.skill
    assert push(desk.platform, desk.id("k1"), s)["agent_id"] == desk.id("a")
    assert push(desk.platform, desk.id("k2"), s)["agent_id"] == desk.id("b")
    assert push(desk.platform, desk.id("k3"), s)["agent_id"] == desk.id("a")
    assert push(desk.platform, desk.id("k4"), s)["status"] == "queued"

    # Agents read their own orders only.
    assert order(as_a, desk.id("k1"))["agent_id"] == desk.id("a")
    error(as_b.get(f"/v1/orders/{desk.id('k1')}"), 403, "forbidden")
    error(as_b.get(f"/v1/orders/{desk.id('k4')}"), 403, "forbidden")

    # Another agent may not complete it; nothing changes.
    error(as_b.post(f"/v1/orders/{desk.id('k1')}/complete"), 403, "forbidden")
    assert order(desk.admin, desk.id("k1"))["status"] == "assigned"

    moved = ok(desk.admin.post("/v1/admin/clock", json={"advance_s": 30}))
    done = ok(as_a.post(f"/v1/orders/{desk.id('k1')}/complete"))  # the assigned agent
    assert (done["id"], done["status"]) == (desk.id("k1"), "completed"), done
    assert order(desk.admin, desk.id("k4"))["agent_id"] == desk.id("a")  # room -> queue served
    done = ok(desk.platform.post(f"/v1/orders/{desk.id('k2')}/complete"))  # the platform
    assert done["status"] == "completed"

    info = error(desk.platform.post(f"/v1/orders/{desk.id('k1')}/complete"), 409,
                 "order_not_assigned")  # fmt: skip
    assert desk.id("k1") in info["message"] and "completed" in info["message"], info
    assert push(desk.platform, desk.id("k5"), "nobody-has-this")["status"] == "queued"
    info = error(desk.platform.post(f"/v1/orders/{desk.id('k5')}/complete"), 409,
                 "order_not_assigned")  # fmt: skip
    assert "queued" in info["message"], info
    error(desk.platform.post(f"/v1/orders/{desk.id('nope')}/complete"), 404, "order_not_found")
    k1 = order(desk.admin, desk.id("k1"))
    assert (k1["status"], k1["completed_at"]) == ("completed", moved["now"]), k1


def test_another_agents_finished_or_waiting_order_is_forbidden_before_conflict(
    desk: Desk,
) -> None:
    """roles.md: 403 is checked before 409, so a stranger learns nothing about the order."""
    as_a = desk.staff("a", capacity=1)
    as_b = desk.staff("b", capacity=1)
    assert push(desk.platform, desk.id("w1"), desk.skill)["agent_id"] == desk.id("a")
    ok(as_a.post(f"/v1/orders/{desk.id('w1')}/complete"))
    error(as_b.post(f"/v1/orders/{desk.id('w1')}/complete"), 403, "forbidden")
    assert push(desk.platform, desk.id("w2"), "nobody-has-this")["status"] == "queued"
    error(as_b.post(f"/v1/orders/{desk.id('w2')}/complete"), 403, "forbidden")


def test_order_view_fields_and_times(desk: Desk) -> None:
    as_a = desk.staff("a")
    clock = ok(desk.admin.get("/v1/admin/clock"))
    assert clock["mode"] == "manual" and is_rfc3339_utc(clock["now"]), clock
    created = push(desk.platform, desk.id("v1"), desk.skill, priority=9, payload={"chat": 7})
    assert set(created) >= {"id", "status", "agent_id", "created_at"}
    view = order(desk.admin, desk.id("v1"))
    assert ORDER_VIEW_FIELDS <= set(view), view
    assert view == {
        **{k: view[k] for k in set(view) - ORDER_VIEW_FIELDS},
        "id": desk.id("v1"), "skill": desk.skill, "priority": 9, "status": "assigned",
        "agent_id": desk.id("a"), "created_at": clock["now"], "assigned_at": clock["now"],
        "completed_at": None,
    }  # fmt: skip

    moved = ok(desk.admin.post("/v1/admin/clock", json={"advance_s": 90}))
    ok(as_a.post(f"/v1/orders/{desk.id('v1')}/complete"))
    view = order(as_a, desk.id("v1"))
    assert (view["status"], view["completed_at"]) == ("completed", moved["now"]), view
    assert agent(desk.admin, desk.id("a"))["load"] == 0

    # Order ids are any ASCII printable text, slashes, spaces and URL characters included.
    odd = desk.id("chat/42 uni ?#%20&")
    created = ok(desk.platform.post("/v1/orders", json={"id": odd, "skill": desk.skill}), 201)
    assert created["id"] == odd
    assert order(desk.admin, quote(odd, safe="/"))["id"] == odd


def test_concurrent_retries_create_one_order(desk: Desk) -> None:
    """Eight platform connections send the same orders at the same moment."""
    desk.staff("a", capacity=20)
    key = make_key(desk.admin, "platform")
    ids = [desk.id(f"race{i}") for i in range(6)]
    barrier = threading.Barrier(8)

    def send(_: int) -> list[tuple[int, str | None]]:
        with httpx.Client(base_url=desk.server.base_url, timeout=15.0,
                          headers={"Authorization": f"Bearer {key}"}) as c:  # fmt: skip
            barrier.wait()
            out = []
            for order_id in ids:
                r = c.post("/v1/orders", json={"id": order_id, "skill": desk.skill})
                out.append((r.status_code, r.json().get("agent_id")))
            return out

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(send, range(8)))
    for i, order_id in enumerate(ids):
        statuses = sorted(a[i][0] for a in answers)
        assert statuses == [200] * 7 + [201], (order_id, statuses)
        assert {a[i][1] for a in answers} == {desk.id("a")}
    assert holding(desk.admin, desk.id("a")) == set(ids)


def test_more_capacity_serves_the_queue_at_once(desk: Desk) -> None:
    desk.staff("a", capacity=1)
    s = desk.skill
    assert push(desk.platform, desk.id("q1"), s)["agent_id"] == desk.id("a")
    for name, priority in (("q2", 0), ("q3", 4), ("q4", 0)):
        assert push(desk.platform, desk.id(name), s, priority)["status"] == "queued"
    body = {"name": "Agent A", "team": "north", "skills": [s], "capacity": 3}
    updated = ok(desk.admin.put(f"/v1/agents/{desk.id('a')}", json=body), 200)
    assert (updated["capacity"], updated["name"]) == (3, "Agent A"), updated
    # Room for two more: the priority-4 order, then the older of the priority-0 ones.
    assert holding(desk.admin, desk.id("a")) == {desk.id("q1"), desk.id("q3"), desk.id("q2")}
    assert order(desk.admin, desk.id("q4"))["status"] == "queued"
    # Less capacity than load: nothing is taken away, nothing new comes.
    ok(desk.admin.put(f"/v1/agents/{desk.id('a')}", json={**body, "capacity": 1}), 200)
    assert agent(desk.admin, desk.id("a"))["load"] == 3
    ok(desk.platform.post(f"/v1/orders/{desk.id('q1')}/complete"))
    assert order(desk.admin, desk.id("q4"))["status"] == "queued"
