"""The logout guard: a self-logout inside a shift waits for a supervisor.

Floor for every test: g1 (capacity 3) and g2 (capacity 1), with a skill of their
own, on shift 08:00-16:00Z, logged in at 10:00. The tests share one server: each
has its own day, and its own agent and order ids (`f.n("g1")`).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from .support import (
    Server,
    add_shifts,
    agent,
    at,
    audit_entries,
    error,
    future_day,
    holding,
    login,
    make_key,
    ok,
    order,
    push,
    put_agent,
    set_clock,
)

pytestmark = pytest.mark.e2e

_floors = itertools.count()


@dataclass
class Floor:
    day: date
    ns: str
    admin: httpx.Client
    sup: httpx.Client
    platform: httpx.Client
    g1: httpx.Client  # agent key bound to g1
    server: Server

    @property
    def skill(self) -> str:
        return f"{self.ns}chat"

    def n(self, name: str) -> str:
        """This floor's id for an agent or order name."""
        return f"{self.ns}{name}"

    def clock(self, hhmm: str) -> None:
        set_clock(self.admin, at(self.day, hhmm))

    def mine(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [r for r in rows if r["agent_id"].startswith(self.ns)]

    def pending(self) -> list[dict[str, Any]]:
        body = ok(self.sup.get("/v1/logout-requests", params={"status": "pending"}))
        return self.mine(body["logout_requests"])


@pytest.fixture(scope="module")
def keys(shared_server: Server) -> tuple[httpx.Client, httpx.Client, httpx.Client]:
    admin = shared_server.client(shared_server.admin_key)
    sup = shared_server.client(make_key(admin, "supervisor"))
    return admin, sup, shared_server.client(make_key(admin, "platform"))


@pytest.fixture
def floor(
    shared_server: Server, keys: tuple[httpx.Client, httpx.Client, httpx.Client]
) -> Iterator[Floor]:
    admin, sup, platform = keys
    k = next(_floors)
    day = future_day() + timedelta(days=k)
    ns = f"t{k}-"
    set_clock(admin, at(day, "07:00"))
    put_agent(admin, f"{ns}g1", skills=[f"{ns}chat"], capacity=3)
    put_agent(admin, f"{ns}g2", skills=[f"{ns}chat"], capacity=1)
    add_shifts(admin, *[(f"{ns}{a}", at(day, "08:00"), at(day, "16:00")) for a in ("g1", "g2")])
    g1 = shared_server.client(make_key(admin, "agent", f"{ns}g1"))
    f = Floor(day, ns, admin, sup, platform, g1, shared_server)
    f.clock("10:00")
    login(f.sup, f.n("g1"))
    login(f.sup, f.n("g2"))
    yield f
    if shared_server.running:  # settings are center-wide: back to the defaults
        ok(admin.put("/v1/settings", json={"logout_grace_s": 600, "stop_new_before_end_s": 300}))


def _fill(f: Floor) -> None:
    """p1 -> g1 (tie, smaller id), p2 -> g2, p3 (priority 2) -> g1, p4 -> g1 (now full)."""
    n = f.n
    assert push(f.platform, n("p1"), f.skill)["agent_id"] == n("g1")
    assert push(f.platform, n("p2"), f.skill)["agent_id"] == n("g2")
    assert push(f.platform, n("p3"), f.skill, priority=2)["agent_id"] == n("g1")
    assert push(f.platform, n("p4"), f.skill)["agent_id"] == n("g1")


def test_mid_shift_logout_waits_for_approval_then_reassigns(floor: Floor) -> None:
    f = floor
    n = f.n
    _fill(f)

    f.clock("10:05")
    held = ok(f.g1.post(f"/v1/agents/{n('g1')}/logout"), 202)
    request = held["logout_request"]
    assert held["state"] == "available"
    assert {k: request[k] for k in ("agent_id", "status", "requested_at")} == {
        "agent_id": n("g1"),
        "status": "pending",
        "requested_at": at(f.day, "10:05"),
    }, held
    request_id = request["id"]
    assert isinstance(request_id, str) and request_id

    # Still available, still receiving orders.
    g1 = agent(f.admin, n("g1"))
    assert (g1["state"], g1["load"]) == ("available", 3), g1
    ok(f.platform.post(f"/v1/orders/{n('p1')}/complete"))
    assert push(f.platform, n("p5"), f.skill)["agent_id"] == n("g1")

    # Asking again returns the same request.
    f.clock("10:06")
    again = ok(f.g1.post(f"/v1/agents/{n('g1')}/logout"), 202)
    assert again["state"] == "available"
    assert again["logout_request"]["id"] == request_id
    assert again["logout_request"]["requested_at"] == at(f.day, "10:05")
    pending = f.pending()
    assert [(r["id"], r["agent_id"], r["status"]) for r in pending] == [
        (request_id, n("g1"), "pending")
    ], pending
    board = ok(f.sup.get("/v1/board"))
    assert request_id in str(board["pending_logout_requests"]), board["pending_logout_requests"]

    # Everyone full: p6 (priority 1) and p7 (priority 0) wait.
    assert push(f.platform, n("p6"), f.skill, priority=1)["status"] == "queued"
    assert push(f.platform, n("p7"), f.skill)["status"] == "queued"

    f.clock("10:10")
    approved = ok(f.sup.post(f"/v1/logout-requests/{request_id}/approve"))
    assert (approved["id"], approved["agent_id"], approved["status"]) == (
        request_id, n("g1"), "approved"
    )  # fmt: skip
    g1 = agent(f.admin, n("g1"))
    assert (g1["state"], g1["load"], g1["open_orders"]) == ("offline", 0, []), g1
    assert g1["state_since"] == at(f.day, "10:10")
    assert f.pending() == []
    approved_list = ok(f.sup.get("/v1/logout-requests", params={"status": "approved"}))
    assert request_id in [r["id"] for r in approved_list["logout_requests"]]

    # g1's p3 (priority 2), p4 and p5 (priority 0, arrived 10:00) went back to routing
    # with their original priority and arrival: g2 (capacity 1) now takes the queue
    # one completion at a time, priority first, then arrival.
    for order_id, arrived in ((n("p3"), "10:00"), (n("p4"), "10:00"), (n("p5"), "10:05")):
        view = order(f.admin, order_id)
        assert (view["status"], view["agent_id"]) == ("queued", None), view
        assert view["created_at"] == at(f.day, arrived), view
    assert order(f.admin, n("p3"))["priority"] == 2
    served = []
    current = n("p2")
    for _ in range(5):
        ok(f.platform.post(f"/v1/orders/{current}/complete"))
        (current,) = holding(f.admin, n("g2"))
        served.append(current)
    assert served == [n("p3"), n("p6"), n("p4"), n("p5"), n("p7")]

    actions = [(e["action"], e["request_id"]) for e in audit_entries(f.sup, n("g1"))]
    assert actions == [
        ("logout_requested", request_id),
        ("logout_repeated", request_id),
        ("logout_approved", request_id),
    ], actions
    approval = audit_entries(f.sup, n("g1"))[-1]
    assert approval["at"] == at(f.day, "10:10")
    assert approval["by"].startswith("supervisor:") and len(approval["by"]) == 19, approval


def test_a_decided_request_cannot_be_decided_again(floor: Floor) -> None:
    f = floor
    n = f.n
    request_id = ok(f.g1.post(f"/v1/agents/{n('g1')}/logout"), 202)["logout_request"]["id"]
    ok(f.sup.post(f"/v1/logout-requests/{request_id}/approve"))
    again = f.sup.post(f"/v1/logout-requests/{request_id}/approve")
    info = error(again, 409, "request_not_pending")
    assert request_id in info["message"] and "approved" in info["message"], info
    error(f.sup.post(f"/v1/logout-requests/{request_id}/deny"), 409, "request_not_pending")
    error(f.sup.post("/v1/logout-requests/no-such-request/approve"), 404, "request_not_found")
    assert agent(f.admin, n("g1"))["state"] == "offline"


def test_denied_request_keeps_the_agent_working(floor: Floor) -> None:
    f = floor
    n = f.n
    f.clock("11:00")
    first = ok(f.g1.post(f"/v1/agents/{n('g1')}/logout"), 202)["logout_request"]["id"]
    f.clock("11:02")
    denied = ok(f.sup.post(f"/v1/logout-requests/{first}/deny"))
    assert (denied["id"], denied["status"], denied["agent_id"]) == (first, "denied", n("g1"))
    error(f.sup.post(f"/v1/logout-requests/{first}/approve"), 409, "request_not_pending")

    g1 = agent(f.admin, n("g1"))
    assert g1["state"] == "available", g1
    assert push(f.platform, n("d1"), f.skill)["agent_id"] == n("g1")  # still receiving orders
    assert f.pending() == []
    denied_list = ok(f.sup.get("/v1/logout-requests", params={"status": "denied"}))
    assert [r["id"] for r in f.mine(denied_list["logout_requests"])] == [first]

    # A new attempt after a denial is a new request.
    f.clock("11:30")
    second = ok(f.g1.post(f"/v1/agents/{n('g1')}/logout"), 202)["logout_request"]
    assert second["id"] != first and second["status"] == "pending"
    assert second["requested_at"] == at(f.day, "11:30")
    actions = [(e["action"], e["request_id"], e["at"]) for e in audit_entries(f.sup, n("g1"))]
    assert actions == [
        ("logout_requested", first, at(f.day, "11:00")),
        ("logout_denied", first, at(f.day, "11:02")),
        ("logout_requested", second["id"], at(f.day, "11:30")),
    ], actions


def test_force_logout_is_immediate_and_reassigns(floor: Floor) -> None:
    f = floor
    n = f.n
    assert push(f.platform, n("f1"), f.skill, priority=1)["agent_id"] == n("g1")
    assert push(f.platform, n("f2"), f.skill)["agent_id"] == n("g2")  # g2 now full
    assert push(f.platform, n("f3"), f.skill, priority=4)["agent_id"] == n("g1")
    put_agent(f.admin, n("g2"), skills=[f.skill], capacity=5)  # room for g1's work
    pending_id = ok(f.g1.post(f"/v1/agents/{n('g1')}/logout"), 202)["logout_request"]["id"]

    f.clock("12:00")
    done = ok(f.admin.post(f"/v1/agents/{n('g1')}/force-logout"))
    assert done == {"state": "offline", "reassigned": [n("f3"), n("f1")]}, done
    assert holding(f.admin, n("g2")) == {n("f1"), n("f2"), n("f3")}
    g1 = agent(f.admin, n("g1"))
    assert (g1["state"], g1["load"]) == ("offline", 0), g1
    # The held request is no longer waiting for anyone.
    assert f.pending() == []

    # Forcing an offline agent changes nothing.
    again = ok(f.sup.post(f"/v1/agents/{n('g1')}/force-logout"))
    assert again == {"state": "offline", "reassigned": []}, again
    forced = [e for e in audit_entries(f.sup, n("g1")) if e["action"] == "logout_forced"]
    assert [(e["at"], e["by"]) for e in forced] == [(at(f.day, "12:00"), "admin")], forced
    assert forced[0]["request_id"] in (pending_id, None)
    error(f.sup.post(f"/v1/agents/{n('ghost')}/force-logout"), 404, "agent_not_found")


def test_logout_with_no_shift_in_progress_is_allowed_at_once(floor: Floor) -> None:
    f = floor
    n = f.n
    put_agent(f.admin, n("late"), skills=[f.skill])
    put_agent(f.admin, n("free"), skills=[f.skill])  # no shift at all
    add_shifts(f.admin, (n("late"), at(f.day, "14:00"), at(f.day, "22:00")))
    as_late = f.server.client(make_key(f.admin, "agent", n("late")))
    login(as_late, n("late"))
    login(f.sup, n("free"))
    put_agent(f.admin, n("g1"), skills=[f.skill], capacity=1)
    put_agent(f.admin, n("g2"), skills=[f.skill], capacity=1)
    assert push(f.platform, n("n1"), f.skill)["agent_id"] == n("free")  # 0 load, never assigned
    assert push(f.platform, n("n2"), f.skill)["agent_id"] == n("g1")
    assert push(f.platform, n("n3"), f.skill)["agent_id"] == n("g2")
    assert push(f.platform, n("n4"), f.skill)["agent_id"] == n("late")

    f.clock("10:30")
    done = ok(as_late.post(f"/v1/agents/{n('late')}/logout"))  # its shift starts at 14:00
    assert done == {"state": "offline", "reassigned": [n("n4")]}, done
    assert order(f.admin, n("n4"))["agent_id"] == n("free")
    done = ok(f.sup.post(f"/v1/agents/{n('free')}/logout"))
    assert done["state"] == "offline" and done["reassigned"] == [n("n1"), n("n4")], done
    for order_id in (n("n1"), n("n4")):
        assert order(f.admin, order_id)["status"] == "queued"
    assert f.pending() == []
    assert [e["action"] for e in audit_entries(f.sup, n("late"))] == ["logout"]


def test_logout_inside_the_grace_window_is_allowed(floor: Floor) -> None:
    f = floor
    n = f.n
    # A wider grace window (setting logout_grace_s) frees an agent earlier.
    f.clock("14:30")  # 90 minutes before the end: held
    held_g2 = ok(f.sup.post(f"/v1/agents/{n('g2')}/logout"), 202)["logout_request"]["id"]
    settings = ok(f.admin.put("/v1/settings", json={"logout_grace_s": 3600}))
    assert settings["logout_grace_s"] == 3600
    assert settings["stop_new_before_end_s"] == 300  # untouched by a partial PUT
    assert ok(f.sup.get("/v1/settings"))["logout_grace_s"] == 3600
    f.clock("15:05")  # 55 minutes before the end: inside the one-hour window
    assert ok(f.sup.post(f"/v1/agents/{n('g2')}/logout")) == {"state": "offline", "reassigned": []}
    ok(f.admin.put("/v1/settings", json={"logout_grace_s": 600}))

    f.clock("15:49")  # 11 minutes before the end: held
    held_g1 = ok(f.g1.post(f"/v1/agents/{n('g1')}/logout"), 202)["logout_request"]["id"]
    assert held_g1 != held_g2
    f.clock("15:51")  # 9 minutes before the end: inside the default 10-minute window
    done = ok(f.g1.post(f"/v1/agents/{n('g1')}/logout"))
    assert done == {"state": "offline", "reassigned": []}, done
    assert f.pending() == [], "a held request must not outlive the logout"
    actions = [(e["agent_id"], e["action"]) for e in f.mine(audit_entries(f.sup))]
    assert actions == [
        (n("g2"), "logout_requested"),
        (n("g2"), "logout"),
        (n("g1"), "logout_requested"),
        (n("g1"), "logout"),
    ], actions
