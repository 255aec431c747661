"""The role matrix of roles.md: every role against every route, through the real server.

"yes" means the role gets past authorization: any answer but 401/403 (a domain
404/409/422 is fine, a 5xx is not). "no" means 403 `forbidden`. With no key
every route but the public ones answers 401 `unauthorized`.

Agents: `rx` is the agent the agent key is bound to ("own"), `ry` is another agent.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from .support import (
    Server,
    add_shifts,
    at,
    future_day,
    login,
    make_key,
    ok,
    push,
    put_agent,
    set_clock,
)

pytestmark = pytest.mark.e2e

ROLES = ("admin", "supervisor", "platform", "agent", "payroll", "none")
_n = itertools.count(1)


@dataclass
class Ctx:
    server: Server
    clients: dict[str, httpx.Client]

    @property
    def admin(self) -> httpx.Client:
        return self.clients["admin"]

    def order_of(self, agent_id: str) -> str:
        """A fresh order assigned to this agent (each agent has a skill of its own)."""
        login(self.admin, agent_id)
        if ok(self.admin.get(f"/v1/agents/{agent_id}"))["state"] == "away":
            ok(self.admin.post(f"/v1/agents/{agent_id}/available"))
        order_id = f"r-{agent_id}-{next(_n)}"
        assert push(self.clients["platform"], order_id, f"skill-{agent_id}")["agent_id"] == agent_id
        return order_id

    def pending_request(self) -> str:
        """A fresh pending logout request of rw (on shift all day)."""
        login(self.admin, "rw")
        return str(ok(self.admin.post("/v1/agents/rw/logout"), 202)["logout_request"]["id"])


Make = Callable[[Ctx], tuple[str, Any]]
YES_ADMIN = {"admin"}
YES_SUP = {"admin", "supervisor"}
EVERYONE = set(ROLES)
REPORTS = {"admin", "supervisor", "payroll"}


def _fixed(path: str, body: Any = None) -> Make:
    return lambda ctx: (path, body)


# (name, method, make path and body, roles allowed)
ROUTES: list[tuple[str, str, Make, set[str]]] = [
    ("healthz", "GET", _fixed("/healthz"), EVERYONE),
    ("board page", "GET", _fixed("/board"), EVERYONE),
    ("create key", "POST", _fixed("/v1/keys", {"role": "payroll"}), YES_ADMIN),
    ("move clock", "POST", _fixed("/v1/admin/clock", {"advance_s": 0}), YES_ADMIN),
    ("put settings", "PUT", _fixed("/v1/settings", {"logout_grace_s": 600}), YES_ADMIN),
    ("get clock", "GET", _fixed("/v1/admin/clock"), YES_SUP),
    ("get settings", "GET", _fixed("/v1/settings"), YES_SUP),
    ("put new agent", "PUT",
     lambda c: (f"/v1/agents/rnew-{next(_n)}", {"name": "N", "team": "t", "capacity": 1}),
     YES_SUP),
    ("put own agent", "PUT",
     _fixed("/v1/agents/rx", {"name": "X", "team": "t", "skills": ["skill-rx"],
                              "capacity": 50}), YES_SUP),
    ("get own agent", "GET", _fixed("/v1/agents/rx"), YES_SUP | {"agent"}),
    ("get other agent", "GET", _fixed("/v1/agents/ry"), YES_SUP),
    ("list agents", "GET", _fixed("/v1/agents"), YES_SUP),
    ("put schedule", "PUT", _fixed("/v1/schedule", {"shifts": []}), YES_SUP),
    ("get schedule", "GET", _fixed("/v1/schedule"), YES_SUP),
    *[
        (f"{action} {who}", "POST", _fixed(f"/v1/agents/{agent_id}/{action}", body),
         YES_SUP | ({"agent"} if agent_id == "rx" else set()))
        for action, body in (("login", None), ("away", {"reason": "coffee"}),
                             ("available", None), ("logout", None))
        for who, agent_id in (("own", "rx"), ("other", "ry"))
    ],
    ("force-logout own", "POST", _fixed("/v1/agents/rx/force-logout"), YES_SUP),
    ("force-logout other", "POST", _fixed("/v1/agents/rz/force-logout"), YES_SUP),
    ("list logout requests", "GET", _fixed("/v1/logout-requests?status=pending"), YES_SUP),
    ("approve", "POST", lambda c: (f"/v1/logout-requests/{c.pending_request()}/approve", None),
     YES_SUP),
    ("deny", "POST", lambda c: (f"/v1/logout-requests/{c.pending_request()}/deny", None),
     YES_SUP),
    ("audit", "GET", _fixed("/v1/audit"), YES_SUP),
    ("post order", "POST",
     lambda c: ("/v1/orders", {"id": f"r-new-{next(_n)}", "skill": "nobody"}),
     {"admin", "platform"}),
    ("post batch", "POST",
     lambda c: ("/v1/orders:batch", {"orders": [{"id": f"r-new-{next(_n)}", "skill": "nobody"}]}),
     {"admin", "platform"}),
    ("get own order", "GET", lambda c: (f"/v1/orders/{c.order_of('rx')}", None),
     {"admin", "supervisor", "platform", "agent"}),
    ("get other order", "GET", lambda c: (f"/v1/orders/{c.order_of('ry')}", None),
     {"admin", "supervisor", "platform"}),
    ("get queued order", "GET", _fixed("/v1/orders/r-waiting"),
     {"admin", "supervisor", "platform"}),
    ("complete own order", "POST", lambda c: (f"/v1/orders/{c.order_of('rx')}/complete", None),
     {"admin", "platform", "agent"}),
    ("complete other order", "POST",
     lambda c: (f"/v1/orders/{c.order_of('ry')}/complete", None), {"admin", "platform"}),
    ("qa", "POST", _fixed("/v1/orders/r-done/qa", {"passed": True}), YES_SUP),
    ("board", "GET", _fixed("/v1/board"), YES_SUP),
    ("board stream", "GET", _fixed("/v1/board/stream"), YES_SUP),
    ("metrics", "GET", _fixed("/metrics"), YES_SUP),
    ("utilization", "GET", _fixed("/v1/utilization"), REPORTS),
    ("put payroll scheme", "PUT",
     _fixed("/v1/payroll/scheme", {"effective_from": "2026-01", "thresholds": [10],
                                   "rates_cents": [100, 120]}), {"admin", "payroll"}),
    ("get payroll schemes", "GET", _fixed("/v1/payroll/scheme"), REPORTS),
    ("payroll month", "GET", _fixed("/v1/payroll/2026-11"), REPORTS),
    ("payroll month csv", "GET", _fixed("/v1/payroll/2026-11?format=csv"), REPORTS),
    ("payroll baseline", "POST", _fixed("/v1/payroll/baseline", {"months": ["2026-11"]}),
     REPORTS),
    ("contests", "GET", _fixed("/v1/contests/2026-W48"), REPORTS),
    ("warnings", "GET", _fixed("/v1/warnings/2026-11"), REPORTS),
]  # fmt: skip
PUBLIC = {"healthz", "board page"}


@pytest.fixture(scope="module")
def ctx(shared_server: Server) -> Ctx:
    srv = shared_server
    admin = srv.client(srv.admin_key)
    day = future_day()
    set_clock(admin, at(day, "10:00"))
    for agent_id in ("rx", "ry", "rz", "rw"):
        put_agent(admin, agent_id, skills=[f"skill-{agent_id}"], capacity=50)
    add_shifts(admin, ("rw", at(day, "00:00"), at(day, "23:00")))
    clients = {
        role: srv.client(make_key(admin, role)) for role in ("supervisor", "platform", "payroll")
    }
    clients["agent"] = srv.client(make_key(admin, "agent", "rx"))
    clients["admin"] = admin
    clients["none"] = srv.client(None)
    c = Ctx(srv, clients)
    assert push(clients["platform"], "r-waiting", "nobody")["status"] == "queued"
    login(admin, "ry")
    assert push(clients["platform"], "r-done", "skill-ry")["agent_id"] == "ry"
    ok(admin.post("/v1/orders/r-done/complete"))
    return c


def _send(c: httpx.Client, method: str, path: str, body: Any, stream: bool) -> tuple[int, str]:
    if not stream:
        r = c.request(method, path, json=body)
        return r.status_code, r.text
    # An event stream never ends: read the status line and headers, then hang up.
    with c.stream(method, path, timeout=10.0) as r:
        text = r.read().decode() if r.status_code >= 400 else ""
        return r.status_code, text


CASES = [
    pytest.param(name, role, id=f"{name}-{role}".replace(" ", "_"))
    for name, *_ in ROUTES
    for role in ROLES
]


@pytest.mark.parametrize(("route", "role"), CASES)
def test_role_matrix(ctx: Ctx, route: str, role: str) -> None:
    ((_, method, make, allowed),) = [r for r in ROUTES if r[0] == route]
    path, body = make(ctx)
    status, text = _send(ctx.clients[role], method, path, body, stream=route == "board stream")
    where = f"{role} {method} {path} -> {status} {text[:300]}"
    if role == "none" and route not in PUBLIC:
        expected = (401, "unauthorized")
    elif role in allowed:
        assert status not in (401, 403, 405) and status < 500, f"{where}: expected access"
        if status == 404:  # a domain 404 names what is missing; an unknown route does not
            assert json.loads(text)["error"]["code"] != "not_found", f"{where}: no such route"
        if route in PUBLIC:
            assert status == 200, where
        return
    else:
        expected = (403, "forbidden")
    assert status == expected[0], f"{where}: expected {expected}"
    assert json.loads(text)["error"]["code"] == expected[1], where
