"""The assignment lifecycle over HTTP: responded, the settings, not_responding, wrap-up, sticky."""

from __future__ import annotations

import pytest
from api_support import Api, error


async def setup(api: Api, timeout_s: int = 60, wrap_s: int = 0, sticky_s: int = 0) -> None:
    await api.ok(
        "PUT", "/v1/settings",
        json={"response_timeout_s": timeout_s, "wrap_up_s": wrap_s, "sticky_window_s": sticky_s},
    )  # fmt: skip
    await api.agent("a1", capacity=2)
    await api.agent("a2", capacity=2)
    await api.ok("POST", "/v1/agents/a1/login")
    await api.ok("POST", "/v1/agents/a2/login")


async def test_responded_is_for_the_platform_or_the_assigned_agent(api: Api) -> None:
    await setup(api)
    view = await api.ok("POST", "/v1/orders", json={"id": "o1", "customer_id": "c-7"})
    assert (view["agent_id"], view["routed_by"], view["customer_id"]) == ("a1", "load", "c-7")
    as_a2 = await api.key("agent", "a2")
    error(await api.call("POST", "/v1/orders/o1/responded", as_a2), 403, "forbidden")
    sup = await api.key("supervisor")
    error(await api.call("POST", "/v1/orders/o1/responded", sup), 403, "forbidden")
    as_a1 = await api.key("agent", "a1")
    await api.clock("2026-11-23T07:00:12Z")
    r = await api.call("POST", "/v1/orders/o1/responded", as_a1)
    assert r.status_code == 200
    assert r.json()["first_response_at"] == "2026-11-23T07:00:12Z"
    records = len(api.journal.records)
    platform = await api.key("platform")
    again = await api.call("POST", "/v1/orders/o1/responded", platform)
    assert again.status_code == 200 and again.json() == r.json()
    assert len(api.journal.records) == records + 1  # the key, nothing for the retry


async def test_responded_errors_change_nothing(api: Api) -> None:
    await api.agent("a1")
    await api.ok("POST", "/v1/orders", json={"id": "o1"})  # queued: nobody logged in
    records = len(api.journal.records)
    err = error(await api.call("POST", "/v1/orders/o1/responded"), 409, "order_not_assigned")
    assert err["message"] == "order 'o1' is queued, not assigned"
    error(await api.call("POST", "/v1/orders/nope/responded"), 404, "order_not_found")
    assert len(api.journal.records) == records


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"response_timeout_s": 9}, "response_timeout_s",
         "response_timeout_s 9 is out of range: 0 (off) or 10..3600"),
        ({"response_timeout_s": 3601}, "response_timeout_s",
         "response_timeout_s 3601 is out of range: 0 (off) or 10..3600"),
        ({"wrap_up_s": 601}, "wrap_up_s", "wrap_up_s 601 is out of range 0..600"),
        ({"sticky_window_s": -1}, "sticky_window_s",
         "sticky_window_s -1 is out of range 0..2592000"),
        ({"sticky_window_s": 2592001}, "sticky_window_s",
         "sticky_window_s 2592001 is out of range 0..2592000"),
        ({"wrap_up_s": "30"}, "wrap_up_s", "wrap_up_s: Expected `int`, got `str`"),
    ],
)  # fmt: skip
async def test_lifecycle_settings_out_of_range_are_422_and_change_nothing(
    api: Api, body, field, message
) -> None:
    before = await api.ok("GET", "/v1/settings")
    records = len(api.journal.records)
    err = error(await api.call("PUT", "/v1/settings", json=body), 422, "invalid_field")
    assert err["detail"] == {"field": field}
    assert message in err["message"]
    assert await api.ok("GET", "/v1/settings") == before
    assert len(api.journal.records) == records


async def test_order_fields_are_checked(api: Api) -> None:
    for body, field in (
        ({"id": "o1", "customer_id": ""}, "customer_id"),
        ({"id": "o1", "customer_id": "c" * 129}, "customer_id"),
        ({"id": "o1", "customer_id": "c\n1"}, "customer_id"),
        ({"id": "o1", "preferred_agent_id": "bad id"}, "preferred_agent_id"),
    ):
        err = error(await api.call("POST", "/v1/orders", json=body), 422, "invalid_field")
        assert err["detail"] == {"field": field}, err
    assert api.engine.state.orders == {}


async def test_the_same_order_with_another_customer_is_a_conflict(api: Api) -> None:
    await api.ok("POST", "/v1/orders", json={"id": "o1", "customer_id": "c-1"})
    again = await api.call("POST", "/v1/orders", json={"id": "o1", "customer_id": "c-1"})
    assert again.status_code == 200
    clash = await api.call("POST", "/v1/orders", json={"id": "o1", "customer_id": "c-2"})
    error(clash, 409, "order_conflict")


async def test_a_timeout_shows_in_agents_orders_audit_metrics_and_board(api: Api) -> None:
    await setup(api, timeout_s=30)
    await api.ok("POST", "/v1/orders", json={"id": "o1"})
    await api.clock("2026-11-23T07:00:30Z")
    listed = await api.ok("GET", "/v1/agents?state=not_responding")
    assert [a["id"] for a in listed["agents"]] == ["a1"]
    o1 = await api.ok("GET", "/v1/orders/o1")
    assert (o1["agent_id"], o1["reassignments"], o1["first_response_at"]) == ("a2", 1, None)
    audit = (await api.ok("GET", "/v1/audit"))["audit"]
    assert [(e["action"], e["agent_id"], e["order_id"]) for e in audit] == [
        ("response_timeout", "a1", "o1")
    ]
    lines = set((await api.call("GET", "/metrics")).text.splitlines())
    assert "seatflow_orders_response_timeouts_total 1.0" in lines
    assert 'seatflow_agents{state="not_responding"} 1.0' in lines
    board = await api.ok("GET", "/v1/board")
    assert board["totals"]["not_responding"] == 1
    assert [t["not_responding"] for t in board["teams"]] == [1]
    assert await api.ok("POST", "/v1/agents/a1/available") == {"state": "available"}


async def test_wrap_up_shows_in_the_agent_view_and_metrics(api: Api) -> None:
    await setup(api, timeout_s=0, wrap_s=60)
    await api.ok("POST", "/v1/orders", json={"id": "o1"})
    await api.ok("POST", "/v1/orders/o1/complete")
    a1 = await api.ok("GET", "/v1/agents/a1")
    assert (a1["load"], a1["wrapping"], a1["open_orders"]) == (1, 1, [])
    assert "seatflow_wrap_up_slots 1.0" in (await api.call("GET", "/metrics")).text
    await api.clock("2026-11-23T07:01:00Z")
    a1 = await api.ok("GET", "/v1/agents/a1")
    assert (a1["load"], a1["wrapping"]) == (0, 0)


async def test_preferred_then_sticky_then_load(api: Api) -> None:
    await setup(api, timeout_s=0, sticky_s=3600)
    first = await api.ok("POST", "/v1/orders", json={"id": "o1", "customer_id": "c-1"})
    assert (first["agent_id"], first["routed_by"]) == ("a1", "load")
    back = await api.ok("POST", "/v1/orders", json={"id": "o2", "customer_id": "c-1"})
    assert (back["agent_id"], back["routed_by"]) == ("a1", "sticky")  # a2 had less load
    dedicated = await api.ok(
        "POST", "/v1/orders", json={"id": "o3", "customer_id": "c-1", "preferred_agent_id": "a2"}
    )
    assert (dedicated["agent_id"], dedicated["routed_by"]) == ("a2", "preferred")
    ghost = await api.ok("POST", "/v1/orders", json={"id": "o4", "preferred_agent_id": "zz"})
    assert (ghost["routed_by"], ghost["preferred_agent_unknown"]) == ("load", True)
    assert ghost["preferred_agent_id"] == "zz"
    for done in ("o1", "o4"):
        await api.ok("POST", f"/v1/orders/{done}/complete")
    await api.clock("2026-11-23T08:00:00Z")  # an hour since c-1's last order: past the window
    late = await api.ok("POST", "/v1/orders", json={"id": "o5", "customer_id": "c-1"})
    assert late["routed_by"] == "load"
