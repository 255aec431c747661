"""Keys and the role matrix of docs/api-notes.md, route by route, role by role."""

from __future__ import annotations

from typing import Any

import pytest
from api_support import ADMIN, START, Api, bearer, error

from api.auth import hash_key

ROLES = ("admin", "supervisor", "platform", "agent_own", "agent_other", "payroll")
STAFF = {"admin", "supervisor"}

# (method, path, body, roles allowed). Paths name agent a1 (the "own" agent) and order o1,
# which is assigned to a1. Allowed calls may still fail later (409 etc.), never 401/403.
MATRIX: list[tuple[str, str, Any, set[str]]] = [
    ("POST", "/v1/keys", {"role": "platform"}, {"admin"}),
    ("GET", "/v1/keys", None, {"admin"}),
    ("DELETE", "/v1/keys/0123456789ab", None, {"admin"}),
    ("POST", "/v1/admin/clock", {"advance_s": 1}, {"admin"}),
    ("PUT", "/v1/settings", {}, {"admin"}),
    ("GET", "/v1/admin/clock", None, STAFF),
    ("GET", "/v1/settings", None, STAFF),
    ("PUT", "/v1/agents/a1", {"name": "A", "team": "t", "capacity": 2}, STAFF),
    ("GET", "/v1/agents/a1", None, STAFF | {"agent_own"}),
    ("GET", "/v1/agents", None, STAFF),
    ("PUT", "/v1/schedule", {"shifts": []}, STAFF),
    ("GET", "/v1/schedule", None, STAFF),
    ("POST", "/v1/agents/a1/login", None, STAFF | {"agent_own"}),
    ("POST", "/v1/agents/a1/away", {"reason": "lunch"}, STAFF | {"agent_own"}),
    ("POST", "/v1/agents/a1/available", None, STAFF | {"agent_own"}),
    ("POST", "/v1/agents/a1/logout", None, STAFF | {"agent_own"}),
    ("POST", "/v1/agents/a1/force-logout", None, STAFF),
    ("GET", "/v1/logout-requests", None, STAFF),
    ("POST", "/v1/logout-requests/lr-9/approve", None, STAFF),
    ("POST", "/v1/logout-requests/lr-9/deny", None, STAFF),
    ("GET", "/v1/audit", None, STAFF),
    ("POST", "/v1/orders", {"id": "o-new"}, {"admin", "platform"}),
    ("POST", "/v1/orders:batch", {"orders": [{"id": "o-new"}]}, {"admin", "platform"}),
    ("GET", "/v1/orders/o1", None, STAFF | {"platform", "agent_own"}),
    ("POST", "/v1/orders/o1/complete", None, {"admin", "platform", "agent_own"}),
    ("POST", "/v1/orders/o1/qa", {"passed": True}, STAFF),
    ("GET", "/v1/board", None, STAFF),
    ("GET", "/metrics", None, STAFF),
]


async def _floor(api: Api) -> dict[str, dict[str, str]]:
    """Agents a1 (holding order o1) and a2, and a key per role."""
    await api.agent("a1")
    await api.agent("a2")
    await api.ok("POST", "/v1/agents/a1/login")
    await api.ok("POST", "/v1/orders", json={"id": "o1"})
    return {
        "admin": ADMIN,
        "supervisor": await api.key("supervisor"),
        "platform": await api.key("platform"),
        "agent_own": await api.key("agent", "a1"),
        "agent_other": await api.key("agent", "a2"),
        "payroll": await api.key("payroll"),
    }


@pytest.mark.parametrize(("method", "path", "body", "allowed"), MATRIX)
@pytest.mark.parametrize("role", ROLES)
async def test_role_matrix(
    api: Api, method: str, path: str, body: Any, allowed: set[str], role: str
) -> None:
    keys = await _floor(api)
    r = await api.call(method, path, key=keys[role], json=body)
    if role in allowed:
        assert r.status_code not in (401, 403), r.text
    else:
        err = error(r, 403, "forbidden")
        assert any(
            words in err["message"]
            for words in (
                "may not use",
                "bound to agent 'a2', not 'a1'",
                "is not assigned to agent 'a2'",
            )
        ), err


@pytest.mark.parametrize(("method", "path", "body", "allowed"), MATRIX)
async def test_every_route_needs_a_key(
    api: Api, method: str, path: str, body: Any, allowed: set[str]
) -> None:
    r = await api.call(method, path, key={}, json=body)
    err = error(r, 401, "unauthorized")
    assert r.headers["www-authenticate"] == "Bearer"
    assert "Authorization" in err["message"]


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("Bearer nobody-issued-this", "unknown API key"),
        ("Basic dXNlcjpwdw==", "must be 'Bearer <key>'"),
        ("Bearer ", "must be 'Bearer <key>'"),
    ],
)
async def test_bad_keys_are_401(api: Api, header: str, message: str) -> None:
    r = await api.call("GET", "/v1/agents", key={"Authorization": header})
    err = error(r, 401, "unauthorized")
    assert message in err["message"]
    assert r.headers["www-authenticate"] == "Bearer"


async def test_bearer_scheme_is_case_insensitive(api: Api) -> None:
    r = await api.call(
        "GET", "/v1/agents", key={"Authorization": f"bearer {ADMIN['Authorization'][7:]}"}
    )
    assert r.status_code == 200


async def test_agent_key_is_refused_for_another_agents_presence(api: Api) -> None:
    keys = await _floor(api)
    r = await api.call("POST", "/v1/agents/a2/login", key=keys["agent_own"])
    err = error(r, 403, "forbidden")
    assert err["message"] == "this key is bound to agent 'a1', not 'a2'"
    assert api.engine.state.agents["a2"].state == "offline"


async def test_created_key_is_shown_once_and_stored_hashed(api: Api) -> None:
    r = await api.call("POST", "/v1/keys", json={"role": "supervisor"})
    assert r.status_code == 201
    body = r.json()
    assert body["role"] == "supervisor" and body["agent_id"] is None
    assert body["key"] not in api.engine.state.keys
    assert body["key"].encode() not in b"".join(api.journal.records)
    assert (await api.call("GET", "/v1/board", key=bearer(body["key"]))).status_code == 200


async def test_key_role_and_agent_binding_are_checked(api: Api) -> None:
    await api.agent("a1")
    err = error(await api.call("POST", "/v1/keys", json={"role": "boss"}), 422, "invalid_field")
    assert err["detail"] == {"field": "role"}
    assert err["message"] == "role 'boss' is not one of admin, supervisor, platform, agent, payroll"
    err = error(await api.call("POST", "/v1/keys", json={"role": "agent"}), 422, "invalid_field")
    assert err["message"] == "a key with role 'agent' needs an agent_id"
    r = await api.call("POST", "/v1/keys", json={"role": "agent", "agent_id": "ghost"})
    assert error(r, 404, "agent_not_found")["message"] == "agent 'ghost' does not exist"
    r = await api.call("POST", "/v1/keys", json={"role": "platform", "agent_id": "a1"})
    assert error(r, 422, "invalid_field")["detail"] == {"field": "agent_id"}
    assert api.engine.state.keys == {}


async def test_by_records_who_decided(api: Api) -> None:
    await api.agent("a1")
    sup = await api.key("supervisor")
    await api.ok("POST", "/v1/agents/a1/login")
    r = await api.call("POST", "/v1/agents/a1/force-logout", key=sup)
    assert r.status_code == 200
    entry = api.engine.state.audit[-1]
    digest = next(h for h, k in api.engine.state.keys.items() if k.role == "supervisor")
    assert entry.by == f"supervisor:{digest[:8]}"
    await api.ok("POST", "/v1/agents/a1/login")
    await api.ok("POST", "/v1/agents/a1/force-logout")
    assert api.engine.state.audit[-1].by == "admin"


async def test_no_admin_key_configured_means_only_issued_keys(api: Api) -> None:
    import httpx

    from api.app import create_app

    app = create_app(api.engine, admin_key=None)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        r = await c.get("/v1/agents", headers=ADMIN)
    error(r, 401, "unauthorized")


# -- the key lifecycle: public ids, list, revoke -------------------------------------


async def test_a_key_has_a_public_id_and_is_listed_without_the_key(api: Api) -> None:
    await api.agent("a1")
    made = await api.ok("POST", "/v1/keys", json={"role": "agent", "agent_id": "a1"})
    assert set(made) == {"key", "id", "role", "agent_id"}
    assert len(made["id"]) == 12 and made["id"] not in made["key"]
    listed = (await api.ok("GET", "/v1/keys"))["keys"]
    assert listed == [
        {
            "id": made["id"],
            "role": "agent",
            "agent_id": "a1",
            "created_at": START,
            "revoked_at": None,
            "revoked_by": None,
        }
    ]
    assert made["key"] not in str(listed)


async def test_a_revoked_key_is_refused_at_once_and_stays_listed(api: Api) -> None:
    made = await api.ok("POST", "/v1/keys", json={"role": "supervisor"})
    key = bearer(made["key"])
    assert (await api.call("GET", "/v1/agents", key=key)).status_code == 200
    await api.clock("2026-11-23T08:00:00Z")

    revoked = await api.ok("DELETE", f"/v1/keys/{made['id']}")
    assert revoked["revoked_at"] == "2026-11-23T08:00:00Z"
    assert revoked["revoked_by"] == "admin"
    for method, path in (("GET", "/v1/agents"), ("POST", "/v1/agents/a1/login")):
        r = await api.call(method, path, key=key)
        err = error(r, 401, "key_revoked")
        assert err["message"] == f"API key {made['id']} was revoked at 2026-11-23T08:00:00Z"
        assert r.headers["www-authenticate"] == "Bearer"
    assert (await api.ok("GET", "/v1/keys"))["keys"] == [revoked]


async def test_revoking_twice_changes_nothing_and_an_unknown_id_is_404(api: Api) -> None:
    made = await api.ok("POST", "/v1/keys", json={"role": "platform"})
    first = await api.ok("DELETE", f"/v1/keys/{made['id']}")
    await api.clock("2026-11-23T09:00:00Z")
    records = len(api.journal.records)
    assert await api.ok("DELETE", f"/v1/keys/{made['id']}") == first  # same revoked_at
    err = error(await api.call("DELETE", "/v1/keys/ffffffffffff"), 404, "key_not_found")
    assert err["message"] == "key 'ffffffffffff' does not exist"
    assert len(api.journal.records) == records


async def test_a_revoked_key_stays_revoked_after_a_restart(api: Api) -> None:
    from engine.clock import ManualClock
    from engine.core import Engine
    from engine.journal import MemoryJournal

    made = await api.ok("POST", "/v1/keys", json={"role": "supervisor"})
    await api.ok("DELETE", f"/v1/keys/{made['id']}")
    journal = MemoryJournal()
    journal.records = list(api.journal.records)
    again = Engine(journal, ManualClock(0))
    again.recover()
    assert again.state.keys == api.engine.state.keys
    key = again.state.keys[hash_key(made["key"])]
    assert key.revoked_at is not None and key.revoked_by == "admin"


async def test_revoking_a_key_is_audited_by_who_did_it(api: Api) -> None:
    admin2 = await api.ok("POST", "/v1/keys", json={"role": "admin"})
    victim = await api.ok("POST", "/v1/keys", json={"role": "platform"})
    r = await api.call("DELETE", f"/v1/keys/{victim['id']}", key=bearer(admin2["key"]))
    assert r.json()["revoked_by"] == f"admin:{admin2['id'][:8]}"
    # An admin key may revoke itself; the next call with it is refused.
    await api.ok("DELETE", f"/v1/keys/{admin2['id']}", key=bearer(admin2["key"]))
    r = await api.call("GET", "/v1/keys", key=bearer(admin2["key"]))
    error(r, 401, "key_revoked")
