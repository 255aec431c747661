"""Order intake over HTTP: idempotent retries, conflicts, batches with bad items, reads."""

from __future__ import annotations

from urllib.parse import quote

import httpx
import pytest
from api_support import ADMIN, ADMIN_KEY, START, Api, error

from api.app import create_app
from engine import commands as cmd
from engine.clock import ManualClock
from engine.core import Engine
from engine.journal import MemoryJournal
from presence.timeutil import parse_time


async def _two_agents(api: Api) -> None:
    await api.agent("a1", skills=["pre"], capacity=1)
    await api.agent("a2", skills=["pre", "after"], capacity=1)
    await api.ok("POST", "/v1/agents/a1/login")
    await api.ok("POST", "/v1/agents/a2/login")


async def test_new_order_is_201_with_its_view(api: Api) -> None:
    await _two_agents(api)
    r = await api.call("POST", "/v1/orders", json={"id": "o1", "skill": "after", "priority": 3})
    assert r.status_code == 201
    assert r.json() == {
        "id": "o1",
        "skill": "after",
        "priority": 3,
        "status": "assigned",
        "agent_id": "a2",
        "created_at": START,
        "assigned_at": START,
        "completed_at": None,
        "first_response_at": None,
        "reassignments": 0,
        "customer_id": None,
        "preferred_agent_id": None,
        "preferred_agent_unknown": False,
        "routed_by": "load",
    }


async def test_retry_with_same_body_is_200_current_view_and_writes_nothing(api: Api) -> None:
    body = {"id": "o1", "skill": None, "payload": {"chat": 7, "tags": ["a", "b"]}}
    assert (await api.call("POST", "/v1/orders", json=body)).status_code == 201
    await _two_agents(api)  # o1 is assigned meanwhile: the retry shows that
    records = len(api.journal.records)
    # Same body with payload keys in another order and defaults spelled out: same order.
    retry = b'{"payload": {"tags": ["a", "b"], "chat": 7}, "priority": 0, "id": "o1"}'
    r = await api.call("POST", "/v1/orders", content=retry)
    assert r.status_code == 200
    assert r.json()["status"] == "assigned" and r.json()["agent_id"] == "a1"
    assert len(api.journal.records) == records
    assert api.engine.state.counters.received == 1


@pytest.mark.parametrize(
    "changed", [{"skill": "pre"}, {"priority": 1}, {"payload": {"chat": 8}}, {"payload": None}]
)
async def test_same_id_other_body_is_409(api: Api, changed: dict[str, object]) -> None:
    await api.ok("POST", "/v1/orders", json={"id": "o1", "payload": {"chat": 7}})
    r = await api.call("POST", "/v1/orders", json={"id": "o1", "payload": {"chat": 7}, **changed})
    err = error(r, 409, "order_conflict")
    assert err["message"] == "order 'o1' already exists with a different body"
    assert api.engine.state.orders["o1"].skill is None


ASCII_ONLY = (
    " must be ASCII printable text: letters, digits, space and punctuation (U+0020..U+007E)"
)


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"id": ""}, "id", "id: Expected `str` of length >= 1"),
        ({"id": "x" * 129}, "id", "id: Expected `str` of length <= 128"),
        ({"id": "a\nb"}, "id", "id 'a\\nb'" + ASCII_ONLY),
        ({"id": "订单-1"}, "id", "id '订单-1'" + ASCII_ONLY),
        ({"id": "caf\u00e9"}, "id", "id 'café'" + ASCII_ONLY),
        ({"id": "o", "skill": ""}, "skill", "skill: Expected `str` of length >= 1"),
        ({"id": "o", "priority": 10}, "priority", "priority: Expected `int` <= 9"),
        ({"id": "o", "priority": -1}, "priority", "priority: Expected `int` >= 0"),
        ({"id": "o", "payload": [1]}, "payload", "payload: Expected `object | null`, got `array`"),
        ({"id": "o", "prio": 1}, "prio", "unknown field 'prio'"),
        ({"skill": "pre"}, "id", "missing required field 'id'"),
    ],
)
async def test_order_body_422_names_the_field(
    api: Api, body: dict[str, object], field: str, message: str
) -> None:
    err = error(await api.call("POST", "/v1/orders", json=body), 422, "invalid_field")
    assert err["detail"] == {"field": field}
    assert err["message"] == message
    assert api.journal.records == []


async def test_order_ids_are_any_ascii_printable_text_also_in_paths(api: Api) -> None:
    order_id = "chat/2026 #7?x=1&y=%41 ~!"
    assert (await api.call("POST", "/v1/orders", json={"id": order_id})).status_code == 201
    r = await api.call("GET", f"/v1/orders/{quote(order_id, safe='')}")
    assert r.status_code == 200 and r.json()["id"] == order_id


async def test_batch_bad_items_do_not_sink_the_good_ones(api: Api) -> None:
    await _two_agents(api)
    await api.ok("POST", "/v1/orders", json={"id": "old", "skill": "after"})
    records = len(api.journal.records)
    orders = [
        {"id": "b1", "skill": "pre"},
        {"id": "b2", "priority": "high"},
        42,
        {"id": "old", "skill": "pre"},
        {"id": "b3", "skill": "pre", "extra": 1},
        {"id": "b4", "skill": "pre", "priority": 9},
    ]
    r = await api.call("POST", "/v1/orders:batch", json={"orders": orders})
    assert r.status_code == 200
    results = r.json()["results"]
    assert len(results) == 6
    assert results[0]["id"] == "b1" and results[0]["status"] == "assigned"
    assert results[1]["error"] == {
        "code": "invalid_field",
        "message": "orders[1].priority: Expected `int`, got `str`",
        "detail": {"field": "orders[1].priority"},
    }
    assert results[2]["error"]["detail"] == {"field": "orders[2]"}
    assert results[3]["error"] == {
        "code": "order_conflict",
        "message": "orders[3]: order 'old' already exists with a different body",
        "detail": {"field": "orders[3].id"},
    }
    assert results[4]["error"]["message"] == "unknown field 'orders[4].extra'"
    assert results[5]["id"] == "b4" and results[5]["status"] == "queued"
    # The good orders went in together: one journal record.
    assert len(api.journal.records) == records + 1
    assert set(api.engine.state.orders) == {"old", "b1", "b4"}


async def test_batch_of_one_still_answers_results(api: Api) -> None:
    r = await api.call("POST", "/v1/orders:batch", json={"orders": [{"id": "solo"}]})
    assert r.status_code == 200
    assert [x["id"] for x in r.json()["results"]] == ["solo"]
    r = await api.call("POST", "/v1/orders:batch", json={"orders": [{"id": "solo"}, {"id": ""}]})
    assert r.json()["results"][0]["status"] == "queued"
    assert r.json()["results"][1]["error"]["detail"] == {"field": "orders[1].id"}


async def test_batch_of_only_bad_items_writes_nothing(api: Api) -> None:
    r = await api.call("POST", "/v1/orders:batch", json={"orders": [{"id": 1}, {}]})
    assert r.status_code == 200
    assert [x["error"]["detail"]["field"] for x in r.json()["results"]] == [
        "orders[0].id",
        "orders[1].id",
    ]
    assert api.journal.records == []


@pytest.mark.parametrize("n", [0, 1001])
async def test_batch_size_is_1_to_1000(api: Api, n: int) -> None:
    body = {"orders": [{"id": f"o{i}"} for i in range(n)]}
    err = error(await api.call("POST", "/v1/orders:batch", json=body), 422, "invalid_field")
    assert err["detail"] == {"field": "orders"}
    assert err["message"] == f"orders must hold 1..1000 orders, got {n}"


async def test_batch_of_1000_is_one_record(api: Api) -> None:
    body = {"orders": [{"id": f"o{i}", "priority": i % 10} for i in range(1000)]}
    r = await api.call("POST", "/v1/orders:batch", json=body)
    assert r.status_code == 200 and len(r.json()["results"]) == 1000
    assert len(api.journal.records) == 1


async def test_agent_reads_and_completes_only_its_own_orders(api: Api) -> None:
    await _two_agents(api)
    await api.ok("POST", "/v1/orders", json={"id": "o1", "skill": "pre"})  # -> a1
    await api.ok("POST", "/v1/orders", json={"id": "o2", "skill": "pre"})  # -> a2
    a1 = await api.key("agent", "a1")
    assert (await api.call("GET", "/v1/orders/o1", key=a1)).status_code == 200
    err = error(await api.call("GET", "/v1/orders/o2", key=a1), 403, "forbidden")
    assert err["message"] == "order 'o2' is not assigned to agent 'a1'"
    err = error(await api.call("POST", "/v1/orders/o2/complete", key=a1), 403, "forbidden")
    assert err["message"] == "order 'o2' is not assigned to agent 'a1'"
    assert api.engine.state.orders["o2"].status == "assigned"
    r = await api.call("POST", "/v1/orders/o1/complete", key=a1)
    assert r.status_code == 200 and r.json()["status"] == "completed"
    # Still its own after completion.
    assert (await api.call("GET", "/v1/orders/o1", key=a1)).json()["completed_at"] == START


async def test_qa_on_completed_orders_only(api: Api) -> None:
    await _two_agents(api)
    await api.ok("POST", "/v1/orders", json={"id": "o1"})
    r = await api.call("POST", "/v1/orders/o1/qa", json={"passed": True})
    assert error(r, 409, "order_not_completed")["message"].startswith("order 'o1' is not completed")
    await api.ok("POST", "/v1/orders/o1/complete")
    r = await api.call("POST", "/v1/orders/o1/qa", json={"passed": "yes"})
    assert error(r, 422, "invalid_field")["detail"] == {"field": "passed"}
    assert (await api.call("POST", "/v1/orders/o1/qa", json={"passed": False})).status_code == 200
    assert api.engine.state.orders["o1"].qa_passed is False


async def test_an_agent_key_cannot_tell_an_unknown_order_from_another_agents(api: Api) -> None:
    """complete answers the same 403 for both, as GET /v1/orders/{id} does: no probing."""
    await api.agent("a1", capacity=1)
    await api.agent("a2", capacity=1)
    await api.ok("POST", "/v1/agents/a2/login")
    await api.ok("POST", "/v1/orders", json={"id": "theirs"})  # goes to a2
    mine = await api.key("agent", "a1")
    for order_id in ("theirs", "no-such-order"):
        for method, path in (("POST", f"/v1/orders/{order_id}/complete"),
                             ("GET", f"/v1/orders/{order_id}")):  # fmt: skip
            r = await api.call(method, path, mine)
            assert error(r, 403, "forbidden")["message"] == (
                f"order {order_id!r} is not assigned to agent 'a1'"
            ), (method, path)
    platform = await api.key("platform")
    error(await api.call("POST", "/v1/orders/no-such-order/complete", platform), 404,
          "order_not_found")  # fmt: skip


async def test_a_new_order_with_a_non_ascii_id_is_refused_and_changes_nothing(api: Api) -> None:
    for body in ({"id": "订单-1"}, {"orders": [{"id": "ok-1"}, {"id": "订单-2"}]}):
        path = "/v1/orders" if "id" in body else "/v1/orders:batch"
        r = await api.call("POST", path, json=body)
        if path == "/v1/orders":
            err = error(r, 422, "invalid_field")
        else:
            err = r.json()["results"][1]["error"]
            assert r.status_code == 200 and err["code"] == "invalid_field"
        assert err["message"].endswith(ASCII_ONLY), err
    assert set(api.engine.state.orders) == {"ok-1"}


async def test_an_older_journals_non_ascii_order_stays_readable_and_completable() -> None:
    """Ids from before 1.1 could be any printable text: looking them up keeps working.

    The journal is written through the engine directly (as older code's intake did, with
    no ASCII rule), then a new engine replays it behind the app, as after an upgrade."""
    old_id = "订单/2026 №7"
    journal = MemoryJournal()
    writer = Engine(journal, ManualClock(parse_time(START)))
    await writer.execute(cmd.UpsertAgent("a1", "Ann", "north", [], 2))
    await writer.execute(cmd.Login("a1"))
    await writer.execute(cmd.SubmitOrders([cmd.NewOrder(old_id, None, 0, b"0" * 16)]))
    upgraded = Engine(journal, ManualClock(parse_time(START)))
    upgraded.recover()
    app = create_app(upgraded, admin_key=ADMIN_KEY)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://seatflow", headers=ADMIN
    ) as client:
        path = f"/v1/orders/{quote(old_id, safe='')}"
        view = (await client.get(path)).json()
        assert (view["id"], view["status"], view["agent_id"]) == (old_id, "assigned", "a1")
        done = await client.post(f"{path}/complete")
        assert done.status_code == 200 and done.json()["status"] == "completed", done.text
        qa = await client.post(f"{path}/qa", json={"passed": True})
        assert qa.status_code == 200, qa.text
        assert (await client.get(path)).json()["completed_at"] == START
        # An id no order has is just unknown, whatever its characters; a new one is refused.
        # (A newline is never in a route's path: that one is Starlette's 404 `not_found`.)
        for unknown, code in (("未知", "order_not_found"), ("\x00\x1b", "order_not_found"),
                              ("a\nb", "not_found")):  # fmt: skip
            r = await client.get(f"/v1/orders/{quote(unknown, safe='')}")
            assert error(r, 404, code)
        r = await client.post("/v1/orders", json={"id": "新订单"})
        assert error(r, 422, "invalid_field")["message"].endswith(ASCII_ONLY)
