"""A schema-driven fuzzer against the real server (issue 13, item 9).

schemathesis takes the server's OpenAPI document and sends every operation its
documented examples, its boundary cases (the coverage phase: each limit the document
states, at and past it) and generated requests, valid and invalid, with a key of each
role. Every answer must be no 5xx, a status the operation documents, with a documented
content type and a body matching its schema; a request that breaks the schema must be
refused (4xx). Then the server is killed and started again on its data: every view a
reader can take must be what it was.

It runs once, on the embedded store: what it exercises is the HTTP edge (decoding,
checks, answers), the same code on Redis, where the second `make test` pass would only
double its minute. SEATFLOW_FUZZ_EXAMPLES (default 100 generated cases per operation)
makes a longer run; SEATFLOW_SEED (random by default, printed) replays one.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from api.app import create_app
from engine.clock import ManualClock
from engine.core import Engine
from engine.journal import MemoryJournal

from .support import ON_REDIS, Server, add_shifts, at, future_day, login, ok, put_agent, set_clock

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(ON_REDIS, reason="the HTTP edge is fuzzed once, on the embedded store"),
]

EXAMPLES = int(os.environ.get("SEATFLOW_FUZZ_EXAMPLES", "100"))
SEED = int(os.environ.get("SEATFLOW_SEED") or random.SystemRandom().randrange(2**32))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
# What refusing a request that breaks the schema may answer: the API's 4xx (a list past
# its maxItems may also be past the 1 MiB body limit, which answers 413 before it is read).
REFUSALS = ["400", "401", "403", "404", "405", "409", "413", "422"]
AGENTS = ("fz-a1", "fz-a2", "fz-a3")
ORDERS = ("fz-o1", "fz-o2", "fz-o3")
ROLES = ("admin", "admin", "admin", "supervisor", "platform", "agent", "payroll")


@dataclass
class Floor:
    """The server under the fuzzer, its keys by role, and what the run saw."""

    server: Server
    keys: dict[str, str]
    requests: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    orders: set[str] = field(default_factory=set)
    agents: set[str] = field(default_factory=set)
    started: float = field(default_factory=time.monotonic)

    def saw(self, method: str, path: str, status: int, body: Any) -> None:
        self.requests += 1
        self.statuses[status] = self.statuses.get(status, 0) + 1
        views = body.get("results", [body]) if isinstance(body, dict) else []
        for view in views:
            if isinstance(view, dict) and {"id", "status", "priority"} <= set(view):
                self.orders.add(view["id"])  # an order view: the order exists
            if isinstance(view, dict) and {"id", "capacity", "open_orders"} <= set(view):
                self.agents.add(view["id"])


def _build_floor(server: Server) -> Floor:
    """Agents on shift (one holding orders, one with a pending logout request), keys."""
    admin = server.client(server.admin_key)
    day = future_day()
    set_clock(admin, at(day, "09:00"))
    for agent_id in AGENTS:
        put_agent(admin, agent_id, skills=["en", "de"], capacity=3)
    add_shifts(admin, *[(a, at(day, "08:00"), at(day, "16:00")) for a in AGENTS])
    for agent_id in AGENTS:
        login(admin, agent_id)
    for order_id in ORDERS:
        ok(admin.post("/v1/orders", json={"id": order_id, "skill": "en"}), 201)
    pending = ok(admin.post(f"/v1/agents/{AGENTS[2]}/logout"), 202)["logout_request"]["id"]
    assert pending == PENDING, pending
    keys = {"admin": server.admin_key}
    for role in ("supervisor", "platform", "payroll"):
        keys[role] = ok(admin.post("/v1/keys", json={"role": role}), 201)["key"]
    keys["agent"] = ok(admin.post("/v1/keys", json={"role": "agent", "agent_id": AGENTS[0]}),
                       201)["key"]  # fmt: skip
    return Floor(server, keys)


def _document() -> dict[str, Any]:
    """The document the server serves, made in-process for collection (the `floor` fixture
    checks that the running server serves exactly this one). schemathesis's lazy loader
    (`schemathesis.pytest.from_fixture`) would fetch it from the server instead, but it sets
    `Function._nodeid`, which pytest 9.2 no longer has."""
    return create_app(Engine(MemoryJournal(), ManualClock(0)), admin_key="x" * 16).openapi()


DOCUMENT = _document()
KEYS: dict[str, str] = {}  # role -> key, once the floor is built
PENDING = "lr-1"  # the floor's pending logout request: the center's first
KNOWN = {"agent_id": AGENTS, "order_id": ORDERS, "request_id": (PENDING, "lr-999")}
ROLE_HEADER = "X-Fuzz-Role"

schema = schemathesis.openapi.from_dict(
    DOCUMENT,
    config=schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "generation": {"max-examples": EXAMPLES, "mode": "all"},
            "phases": {"stateful": {"enabled": False}},
            "checks": {"negative_data_rejection": {"expected-statuses": REFUSALS}},
        }
    ),
).exclude(path="/v1/board/stream")  # never ends by itself; tests/e2e/test_board.py reads it


@schema.hook
def flatmap_headers(ctx: Any, headers: dict[str, Any] | None) -> Any:
    """A role for each case (its key is sent): a draw, so a failure replays with its key.
    Examples are drawn at collection, before the keys exist: the case carries the role."""
    return st.sampled_from(ROLES).map(lambda role: {**(headers or {}), ROLE_HEADER: role})


@schema.hook
def flatmap_path_parameters(ctx: Any, params: dict[str, Any] | None) -> Any:
    """Now and then an id that exists, so commands reach agents, orders and requests."""
    choices = [dict(params or {})]
    for name, ids in KNOWN.items():
        if params and name in params:
            choices += [{**params, name: i} for i in ids]
    return st.sampled_from(choices)


@pytest.fixture(scope="module")
def floor(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Floor]:
    print(f"random seed: {SEED} (rerun with SEATFLOW_SEED={SEED}), {EXAMPLES} examples")
    server = Server(tmp_path_factory.mktemp("fuzz"))
    try:
        server.start()
        assert httpx.get(f"{server.base_url}/openapi.json").json() == DOCUMENT
        built = _build_floor(server)
        KEYS.update(built.keys)
        yield built
    finally:
        server.close()


@schema.parametrize()
@settings(
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_no_answer_breaks_the_document(case: Any, floor: Floor) -> None:
    headers = dict(case.headers or {})
    role = headers.pop(ROLE_HEADER, "admin")  # coverage cases skip the hook: admin
    case.headers = {**headers, "Authorization": f"Bearer {KEYS[role]}"}
    try:
        response = case.call_and_validate(base_url=floor.server.base_url, checks=CHECKS, timeout=15)
    except Exception as exc:
        exc.add_note(f"random seed: {SEED} (rerun with SEATFLOW_SEED={SEED})")
        raise
    try:
        body = response.json()
    except ValueError:
        body = None
    floor.saw(case.method, case.path, response.status_code, body)


def _views(c: httpx.Client, floor: Floor) -> dict[str, tuple[int, Any]]:
    """Every view a reader can take of what the fuzzer left."""
    agents = [a["id"] for a in ok(c.get("/v1/agents"))["agents"]]
    paths = [
        "/v1/board", "/v1/settings", "/v1/admin/clock", "/v1/audit", "/v1/agents",
        "/v1/schedule", "/v1/logout-requests", "/v1/payroll/scheme", "/v1/utilization",
        *[f"/v1/agents/{a}" for a in sorted(agents)],
    ]  # fmt: skip
    seen: dict[str, tuple[int, Any]] = {}
    for path in paths:
        r = c.get(path)
        seen[path] = (r.status_code, r.json())
    for order_id in sorted(floor.orders | set(ORDERS)):
        r = c.get(f"/v1/orders/{quote(order_id, safe='')}")
        seen[f"order {order_id!r}"] = (r.status_code, r.json())
    return seen


def _doors(floor: Floor) -> dict[str, int]:
    """What each role's key gets at one door: 200 or 403 while valid, 401 once revoked."""
    return {
        role: floor.server.client(key).get(f"/v1/agents/{AGENTS[0]}").status_code
        for role, key in floor.keys.items()
    }


def test_after_the_fuzz_a_restart_replays_the_same_center(floor: Floor) -> None:
    """SIGKILL after the run, start on the same data: every view is what it was."""
    if floor.requests == 0:
        pytest.fail("run with test_no_answer_breaks_the_document: nothing was fuzzed")
    took = time.monotonic() - floor.started
    print(
        f"fuzz: {floor.requests} requests in {took:.1f} s; statuses "
        f"{sorted(floor.statuses.items())}; {len(floor.orders)} orders, {len(floor.agents)} agents"
    )
    admin = floor.server.client(floor.server.admin_key)
    before = _views(admin, floor)
    doors = _doors(floor)
    assert before["/v1/agents"][0] == 200 and before[f"order {ORDERS[0]!r}"][0] == 200
    floor.server.restart(kill=True)
    after = _views(admin, floor)
    changed = [k for k in before if before[k] != after[k]]
    assert changed == [], {k: (before[k], after[k]) for k in changed[:3]}
    assert _doors(floor) == doors  # each key as it was: valid, or revoked by the fuzzer
    floor.server.stop()
    replay = floor.server.replay()
    assert replay.returncode == 0, replay.stderr
    agents = len(before["/v1/agents"][1]["agents"])
    assert f"agents         {agents}:" in replay.stdout, replay.stdout
