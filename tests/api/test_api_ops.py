"""Health, /metrics, the board snapshot and the OpenAPI document."""

from __future__ import annotations

import httpx
from api_support import Api, error

from api.app import create_app
from engine.clock import ManualClock
from engine.core import Engine
from engine.journal import MemoryJournal


async def test_healthz_needs_no_key(api: Api) -> None:
    r = await api.call("GET", "/healthz", key={})
    assert r.status_code == 200 and r.json() == {"status": "ok"}


async def test_healthz_is_503_until_the_factory_has_recovered() -> None:
    made: list[Engine] = []

    def factory() -> Engine:
        made.append(Engine(MemoryJournal(), ManualClock(0)))
        return made[0]

    app = create_app(factory, admin_key=None)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        r = await c.get("/healthz")
        assert r.status_code == 503 and r.json() == {"status": "starting"}
        async with app.router.lifespan_context(app):
            assert (await c.get("/healthz")).json() == {"status": "ok"}
    assert len(made) == 1


async def test_board_snapshot(api: Api) -> None:
    await api.agent("a1", skills=["pre"], capacity=2)
    await api.ok("PUT", "/v1/agents/b1", json={"name": "B", "team": "south", "capacity": 1})
    await api.ok(
        "PUT",
        "/v1/schedule",
        json={
            "shifts": [
                {"agent_id": "a1", "start": "2026-11-23T07:00:00Z", "end": "2026-11-23T15:00:00Z"}
            ]
        },
    )
    await api.ok("POST", "/v1/agents/a1/login")
    await api.ok("POST", "/v1/orders", json={"id": "o1", "skill": "pre"})
    await api.ok("POST", "/v1/orders", json={"id": "o2", "skill": "after"})
    await api.clock("2026-11-23T08:00:00Z")
    await api.ok("POST", "/v1/orders", json={"id": "o3"})
    await api.ok("POST", "/v1/orders", json={"id": "o4"})
    await api.ok("POST", "/v1/agents/a1/logout")  # mid-shift: pending
    await api.clock("2026-11-23T08:00:30Z")
    board = await api.ok("GET", "/v1/board")
    assert board["now"] == "2026-11-23T08:00:30Z"
    assert board["agents"][0] == {
        "id": "a1",
        "name": "A1",
        "team": "north",
        "state": "available",
        "load": 2,
        "capacity": 2,
        "state_since": "2026-11-23T07:00:00Z",
        "utilization_today": 1.0,
    }
    assert board["agents"][1]["utilization_today"] is None
    assert board["queues"] == [
        {"skill": None, "depth": 1, "oldest_wait_s": 30.0},
        {"skill": "after", "depth": 1, "oldest_wait_s": 3630.0},
    ]
    assert board["teams"] == [
        {
            "team": "north",
            "available": 1,
            "away": 0,
            "offline": 0,
            "load": 2,
            "capacity": 2,
            "not_responding": 0,
        },
        {
            "team": "south",
            "available": 0,
            "away": 0,
            "offline": 1,
            "load": 0,
            "capacity": 1,
            "not_responding": 0,
        },
    ]
    assert [r["id"] for r in board["pending_logout_requests"]] == ["lr-1"]
    assert board["totals"]["queued"] == 2
    assert board["totals"]["orders_received"] == 4
    assert board["totals"]["pending_logout_requests"] == 1


async def test_metrics_export_counters_gauges_and_histograms(api: Api) -> None:
    await api.agent("a1", capacity=1)
    await api.ok("POST", "/v1/orders", json={"id": "o1"})
    await api.clock("2026-11-23T07:00:40Z")
    await api.ok("POST", "/v1/orders:batch", json={"orders": [{"id": "o2", "skill": "x"}]})
    text = (await api.call("GET", "/metrics")).text
    assert 'seatflow_queue_depth{skill="(none)"} 1.0' in text
    await api.ok("POST", "/v1/agents/a1/login")  # o1 assigned after 40 s
    r = await api.call("GET", "/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    lines = set(r.text.splitlines())
    for line in (
        "seatflow_orders_received_total 2.0",
        "seatflow_orders_assigned_total 1.0",
        "seatflow_orders_queued_total 2.0",
        "seatflow_orders_completed_total 0.0",
        'seatflow_queue_depth{skill="x"} 1.0',
        'seatflow_agents{state="available"} 1.0',
        'seatflow_agents{state="offline"} 0.0',
        'seatflow_order_intake_seconds_count{endpoint="orders"} 1.0',
        'seatflow_order_intake_seconds_count{endpoint="batch"} 1.0',
        'seatflow_order_assignment_wait_seconds_bucket{le="30.0"} 0.0',
        'seatflow_order_assignment_wait_seconds_bucket{le="60.0"} 1.0',
        "seatflow_order_assignment_wait_seconds_count 1.0",
        "seatflow_order_assignment_wait_seconds_sum 40.0",
        "seatflow_orders_in_memory 2.0",
        "seatflow_archive_filter_false_positive_ratio 0.0",  # nothing archived yet
    ):
        assert line in lines, line
    assert 'seatflow_queue_depth{skill="(none)"}' not in r.text
    assert "seatflow_checkpoint_age_seconds" not in r.text  # in-memory: no checkpoints


async def test_openapi_documents_real_bodies(api: Api) -> None:
    doc = (await api.call("GET", "/openapi.json", key={})).json()
    schemas = doc["components"]["schemas"]
    assert "HTTPValidationError" not in schemas
    order_in = schemas["OrderIn"]
    assert order_in["required"] == ["id"] and order_in["additionalProperties"] is False
    assert order_in["properties"]["priority"]["maximum"] == 9
    post = doc["paths"]["/v1/orders"]["post"]
    assert post["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/OrderIn"
    }
    assert post["responses"]["201"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/OrderView"
    }
    assert set(schemas["OrderView"]["properties"]) == {
        "id",
        "skill",
        "priority",
        "status",
        "agent_id",
        "created_at",
        "assigned_at",
        "completed_at",
        "first_response_at",
        "reassignments",
        "customer_id",
        "preferred_agent_id",
        "preferred_agent_unknown",
        "routed_by",
        "archived",
    }
    assert "archived" not in schemas["OrderView"]["required"]  # left out while false
    batch = doc["paths"]["/v1/orders:batch"]["post"]
    items = batch["responses"]["200"]["content"]["application/json"]["schema"]["properties"]
    assert items["results"]["items"]["anyOf"] == [
        {"$ref": "#/components/schemas/OrderView"},
        {"$ref": "#/components/schemas/ErrorBody"},
    ]
    put_agent = doc["paths"]["/v1/agents/{agent_id}"]["put"]
    assert put_agent["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/AgentIn"
    )
    assert set(schemas["Board"]["properties"]) == {
        "now",
        "agents",
        "queues",
        "teams",
        "pending_logout_requests",
        "totals",
    }
    for path in doc["paths"].values():
        for op in path.values():
            for status, reply in op["responses"].items():
                if status.startswith(("4", "5")) and status != "503":
                    assert reply["content"]["application/json"]["schema"] == {
                        "$ref": "#/components/schemas/ErrorBody"
                    }, (op["operationId"], status)
    r = await api.call("GET", "/docs", key={})
    assert r.status_code == 200 and "swagger" in r.text.lower()
    error(await api.call("GET", "/v1/board", key={}), 401, "unauthorized")


async def test_pages_get_their_language_catalogue_without_a_key(api: Api) -> None:
    r = await api.call("GET", "/i18n/zh-CN.json", key={})
    assert r.status_code == 200 and r.json()["payroll"]["sheet"]["total"] == "合计"
    assert (await api.call("GET", "/i18n/en.json", key={})).json()["payroll"]["sheet"]["total"] == (
        "Total"
    )
    r = await api.call("GET", "/i18n/fr.json", key={})
    assert error(r, 404, "not_found")["message"] == "no catalogue 'fr'; there are en, zh-CN"
