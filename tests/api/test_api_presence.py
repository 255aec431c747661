"""Presence, the logout guard, schedule, audit and the test clock, over HTTP."""

from __future__ import annotations

from api_support import Api, error

SHIFT = {"agent_id": "a1", "start": "2026-11-23T08:00:00Z", "end": "2026-11-23T16:00:00Z"}


async def test_agent_record_and_views(api: Api) -> None:
    r = await api.call(
        "PUT",
        "/v1/agents/a1",
        json={"name": "Ann", "team": "north", "skills": ["b", "a", "a"], "capacity": 3},
    )
    assert r.status_code == 201
    assert r.json() == {
        "id": "a1",
        "name": "Ann",
        "team": "north",
        "skills": ["a", "b"],
        "capacity": 3,
        "state": "offline",
        "load": 0,
        "open_orders": [],
        "state_since": "2026-11-23T07:00:00Z",
        "reason": None,
        "pending_logout_request": None,
        "wrapping": 0,
    }
    r = await api.call("PUT", "/v1/agents/a1", json={"name": "Ann", "team": "south", "capacity": 3})
    assert r.status_code == 200 and r.json()["team"] == "south" and r.json()["skills"] == []
    await api.agent("a0")
    listed = await api.ok("GET", "/v1/agents")
    assert [a["id"] for a in listed["agents"]] == ["a0", "a1"]
    assert [a["id"] for a in (await api.ok("GET", "/v1/agents?team=south"))["agents"]] == ["a1"]


async def test_presence_cycle(api: Api) -> None:
    await api.agent("a1")
    assert await api.ok("POST", "/v1/agents/a1/login") == {"state": "available"}
    assert await api.ok("POST", "/v1/agents/a1/away", json={"reason": "lunch"}) == {"state": "away"}
    view = await api.ok("GET", "/v1/agents/a1")
    assert view["state"] == "away" and view["reason"] == "lunch"
    r = await api.call("POST", "/v1/agents/a1/away", content=b"")
    assert (
        error(r, 400, "malformed_json")["message"]
        == "request body is empty; a JSON object is required"
    )
    assert await api.ok("POST", "/v1/agents/a1/available") == {"state": "available"}
    assert await api.ok("POST", "/v1/agents/a1/logout") == {"state": "offline", "reassigned": []}


async def test_logout_guard_holds_a_mid_shift_logout_for_approval(api: Api) -> None:
    await api.agent("a1", capacity=2)
    await api.agent("a2", capacity=2)
    await api.ok("PUT", "/v1/schedule", json={"shifts": [SHIFT]})
    await api.ok("POST", "/v1/agents/a1/login")
    await api.clock("2026-11-23T10:00:00Z")
    await api.ok("POST", "/v1/orders", json={"id": "o1"})
    agent_key = await api.key("agent", "a1")
    r = await api.call("POST", "/v1/agents/a1/logout", key=agent_key)
    assert r.status_code == 202
    pending = {
        "state": "available",
        "logout_request": {
            "id": "lr-1",
            "agent_id": "a1",
            "status": "pending",
            "requested_at": "2026-11-23T10:00:00Z",
            "attempts": 1,
            "decided_at": None,
            "decided_by": None,
        },
    }
    assert r.json() == pending
    again = await api.call("POST", "/v1/agents/a1/logout", key=agent_key)
    assert again.status_code == 202 and again.json()["logout_request"]["id"] == "lr-1"
    inbox = await api.ok("GET", "/v1/logout-requests?status=pending")
    assert [x["id"] for x in inbox["logout_requests"]] == ["lr-1"]
    await api.ok("POST", "/v1/agents/a2/login")
    approved = await api.ok("POST", "/v1/logout-requests/lr-1/approve")
    assert approved["status"] == "approved" and approved["decided_by"] == "admin"
    assert (await api.ok("GET", "/v1/orders/o1"))["agent_id"] == "a2"
    r = await api.call("POST", "/v1/logout-requests/lr-1/deny")
    assert (
        error(r, 409, "request_not_pending")["message"]
        == "logout request 'lr-1' is already approved"
    )
    audit = await api.ok("GET", "/v1/audit?agent_id=a1")
    assert [e["action"] for e in audit["audit"]] == [
        "logout_requested",
        "logout_repeated",
        "logout_approved",
    ]
    assert (await api.ok("GET", "/v1/audit?from=2026-11-23T11:00:00Z"))["audit"] == []


async def test_force_logout_reassigns(api: Api) -> None:
    await api.agent("a1")
    await api.ok("POST", "/v1/agents/a1/login")
    await api.ok("POST", "/v1/orders", json={"id": "o1"})
    done = await api.ok("POST", "/v1/agents/a1/force-logout")
    assert done == {"state": "offline", "reassigned": ["o1"]}
    assert (await api.ok("GET", "/v1/orders/o1"))["status"] == "queued"


async def test_schedule_lists_shifts_in_a_window(api: Api) -> None:
    await api.agent("a1")
    await api.agent("a2")
    late = {
        **SHIFT,
        "agent_id": "a2",
        "start": "2026-11-23T16:00:00Z",
        "end": "2026-11-24T00:00:00Z",
    }
    added = await api.ok("PUT", "/v1/schedule", json={"shifts": [SHIFT, late]})
    assert added == {"shifts": [SHIFT, late]}
    assert await api.ok("GET", "/v1/schedule") == {"shifts": [SHIFT, late]}
    window = "from=2026-11-23T16:00:00Z&to=2026-11-23T17:00:00Z"
    assert await api.ok("GET", f"/v1/schedule?{window}") == {"shifts": [late]}
    assert await api.ok("GET", "/v1/schedule?agent_id=a1") == {"shifts": [SHIFT]}
    # Offsets are accepted and answered in UTC.
    body = {
        "shifts": [
            {
                "agent_id": "a1",
                "start": "2026-11-25T08:00:00+08:00",
                "end": "2026-11-25T16:00:00+08:00",
            }
        ]
    }
    assert (await api.ok("PUT", "/v1/schedule", json=body))["shifts"][0][
        "start"
    ] == "2026-11-25T00:00:00Z"


async def test_manual_clock_moves_and_real_clock_refuses(api: Api) -> None:
    assert await api.ok("GET", "/v1/admin/clock") == {
        "now": "2026-11-23T07:00:00Z",
        "mode": "manual",
    }
    assert await api.ok("POST", "/v1/admin/clock", json={"advance_s": 90}) == {
        "now": "2026-11-23T07:01:30Z",
        "mode": "manual",
    }
    import httpx
    from api_support import ADMIN

    from api.app import create_app
    from engine.clock import RealClock
    from engine.core import Engine
    from engine.journal import MemoryJournal

    app = create_app(Engine(MemoryJournal(), RealClock()), admin_key="test-admin-key")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        r = await c.post("/v1/admin/clock", json={"advance_s": 1}, headers=ADMIN)
        assert (await c.get("/v1/admin/clock", headers=ADMIN)).json()["mode"] == "real"
    err = error(r, 409, "clock_not_manual")
    assert err["message"] == "the clock is real; start the server with --clock manual to move it"


async def test_history_past_the_raw_week_is_kept_per_day(api: Api) -> None:
    """A week on, the first day is folded: its whole-day report stands, a window inside it
    and raw listings before the horizon are 422 history_by_day, a shift there is refused."""
    await api.agent("a1")
    await api.ok("PUT", "/v1/schedule", json={"shifts": [SHIFT]})
    await api.ok("POST", "/v1/agents/a1/login")
    start, end = SHIFT["start"][:10], "2026-11-24"
    tz = (await api.ok("GET", "/v1/settings"))["timezone"]
    day = f"from={start}T00:00:00Z&to={end}T00:00:00Z"
    if tz != "UTC":
        await api.ok("PUT", "/v1/settings", json={"timezone": "UTC"})
    await api.clock("2026-11-24T00:00:00Z")
    before = await api.ok("GET", f"/v1/utilization?{day}")
    assert before["totals"]["on_duty_s"] == 8 * 3600
    await api.clock("2026-12-02T09:00:00Z")
    await api.ok(
        "PUT", "/v1/agents/a2", json={"name": "B", "team": "north", "skills": [], "capacity": 1}
    )
    after = await api.ok("GET", f"/v1/utilization?{day}")
    assert [r for r in after["agents"] if r["agent_id"] == "a1"] == before["agents"]
    inside = f"from={start}T09:00:00Z&to={end}T00:00:00Z"
    error(await api.call("GET", f"/v1/utilization?{inside}"), 422, "history_by_day")
    error(await api.call("GET", f"/v1/schedule?from={start}T00:00:00Z"), 422, "history_by_day")
    error(await api.call("GET", f"/v1/audit?from={start}T00:00:00Z"), 422, "history_by_day")
    old = {"agent_id": "a1", "start": "2026-11-24T08:00:00Z", "end": "2026-11-24T16:00:00Z"}
    error(await api.call("PUT", "/v1/schedule", json={"shifts": [old]}), 422, "history_by_day")
    assert (await api.ok("GET", "/v1/schedule"))["shifts"] == [SHIFT]  # the agent's last
