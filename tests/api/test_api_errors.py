"""Every error status with its code, message and field; a failed request changes nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from api_support import ADMIN, Api, error

JSON = {"Content-Type": "application/json"}

AGENT = {"name": "Ann", "team": "north", "capacity": 2}


async def test_malformed_json_is_400_and_changes_nothing(api: Api) -> None:
    r = await api.call("PUT", "/v1/agents/a1", content=b'{"name": ')
    err = error(r, 400, "malformed_json")
    assert err["message"].startswith("request body is not valid JSON")
    assert api.journal.records == [] and api.engine.state.agents == {}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "request body is empty; a JSON object is required"),
        (b"[1, 2]", "request body must be a JSON object: expected `object`, got `array`"),
        (b'"text"', "request body must be a JSON object: expected `object`, got `str`"),
    ],
)
async def test_not_an_object_is_400(api: Api, body: bytes, message: str) -> None:
    err = error(await api.call("POST", "/v1/orders", content=body), 400, "malformed_json")
    assert err["message"] == message


async def test_body_over_1_mib_is_413_by_header(api: Api) -> None:
    r = await api.call("POST", "/v1/orders", content=b" " * (1 << 20 + 1))
    err = error(r, 413, "body_too_large")
    assert "over the limit of 1048576 bytes" in err["message"]


async def test_body_over_1_mib_is_413_when_streamed(api: Api) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(20):
            yield b" " * 65536  # 1.25 MiB in all, no Content-Length

    err = error(await api.call("POST", "/v1/orders", content=chunks()), 413, "body_too_large")
    assert err["message"] == "request body is over the limit of 1048576 bytes"


async def test_body_of_exactly_1_mib_is_read(api: Api) -> None:
    body = b'{"id": "o1"}'
    r = await api.call("POST", "/v1/orders", content=body + b" " * ((1 << 20) - len(body)))
    assert r.status_code == 201


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({**AGENT, "capcity": 3}, "capcity", "unknown field 'capcity'"),
        ({"name": "Ann", "team": "north"}, "capacity", "missing required field 'capacity'"),
        ({**AGENT, "capacity": "2"}, "capacity", "capacity: Expected `int`, got `str`"),
        ({**AGENT, "capacity": 2.5}, "capacity", "capacity: Expected `int`, got `float`"),
        ({**AGENT, "capacity": 51}, "capacity", "capacity 51 for agent 'a1' is out of range 1..50"),
        ({**AGENT, "skills": ["ok", 7]}, "skills[1]", "skills[1]: Expected `str`, got `int`"),
        ({**AGENT, "name": ""}, "name", "name of agent 'a1' must be 1..200 characters"),
    ],
)
async def test_agent_body_422_names_the_field(
    api: Api, body: dict[str, object], field: str, message: str
) -> None:
    err = error(await api.call("PUT", "/v1/agents/a1", json=body), 422, "invalid_field")
    assert err["detail"] == {"field": field}
    assert err["message"] == message
    assert api.journal.records == []


@pytest.mark.parametrize("bad", ["-a1", "a b", "x" * 129, "é"])
async def test_malformed_agent_id_is_422(api: Api, bad: str) -> None:
    err = error(await api.call("PUT", f"/v1/agents/{bad}", json=AGENT), 422, "invalid_field")
    assert err["detail"] == {"field": "agent_id"}
    assert "must be 1..128 characters of letters, digits" in err["message"]


async def test_agent_ids_may_use_dots_colons_at_and_dashes(api: Api) -> None:
    r = await api.call("PUT", "/v1/agents/team.north:ann@site-1", json=AGENT)
    assert r.status_code == 201 and r.json()["id"] == "team.north:ann@site-1"


async def test_schedule_errors_name_the_shift(api: Api) -> None:
    await api.agent("a1")
    shift = {"agent_id": "a1", "start": "2026-11-23T08:00:00Z", "end": "2026-11-23T16:00:00Z"}
    r = await api.call("PUT", "/v1/schedule", json={"shifts": [shift, {**shift, "end": "soon"}]})
    err = error(r, 422, "invalid_field")
    assert err["detail"] == {"field": "shifts[1].end"}
    assert (
        err["message"]
        == "shifts[1].end: 'soon' is not an RFC 3339 time like '2026-11-23T08:00:00Z'"
    )
    r = await api.call("PUT", "/v1/schedule", json={"shifts": [{**shift, "start_at": "x"}]})
    assert error(r, 422, "invalid_field")["detail"] == {"field": "shifts[0].start_at"}
    r = await api.call("PUT", "/v1/schedule", json={"shifts": [shift, shift]})
    err = error(r, 422, "shift_overlap")
    assert err["detail"] == {"field": "shifts[1]"}
    assert "overlaps its shift 2026-11-23T08:00:00Z..2026-11-23T16:00:00Z" in err["message"]
    r = await api.call("PUT", "/v1/schedule", json={"shifts": [{**shift, "agent_id": "ghost"}]})
    err = error(r, 404, "agent_not_found")
    assert err["message"] == "shifts[0]: agent 'ghost' does not exist"
    assert api.engine.state.roster.of("a1") == []


@pytest.mark.parametrize(
    ("path", "code", "message"),
    [
        ("/v1/agents/ghost", "agent_not_found", "agent 'ghost' does not exist"),
        ("/v1/orders/ghost", "order_not_found", "order 'ghost' does not exist"),
        ("/v1/nowhere", "not_found", "no route GET /v1/nowhere"),
    ],
)
async def test_unknown_ids_and_routes_are_404(api: Api, path: str, code: str, message: str) -> None:
    assert error(await api.call("GET", path), 404, code)["message"] == message


async def test_unknown_logout_request_is_404(api: Api) -> None:
    r = await api.call("POST", "/v1/logout-requests/lr-7/approve")
    assert error(r, 404, "request_not_found")["message"] == "logout request 'lr-7' does not exist"


async def test_wrong_method_is_405(api: Api) -> None:
    r = await api.call("DELETE", "/v1/agents/a1")
    err = error(r, 405, "method_not_allowed")
    assert err["message"] == "method DELETE is not allowed on /v1/agents/a1"
    assert set(r.headers["allow"].replace(" ", "").split(",")) == {"GET", "PUT"}


async def test_conflicts_are_409_with_domain_codes(api: Api) -> None:
    await api.agent("a1")
    r = await api.call("POST", "/v1/agents/a1/away", json={"reason": "lunch"})
    assert error(r, 409, "agent_offline")["message"] == "agent 'a1' is offline; log in first"
    await api.ok("POST", "/v1/orders", json={"id": "o1"})
    r = await api.call("POST", "/v1/orders/o1/complete")
    assert error(r, 409, "order_not_assigned")["message"] == "order 'o1' is queued, not assigned"
    r = await api.call("POST", "/v1/admin/clock", json={"set": "2026-11-23T06:00:00Z"})
    err = error(r, 409, "clock_backwards")
    assert err["message"] == (
        "the clock cannot go back to 2026-11-23T06:00:00Z: the last recorded event is at "
        "2026-11-23T07:00:00Z"
    )
    assert err["detail"] == {"last_recorded_at": "2026-11-23T07:00:00Z"}


async def test_checks_run_401_then_403_then_422_then_404(api: Api) -> None:
    platform = await api.key("platform")
    bad = {"name": "x", "team": "t", "capacity": "many"}
    assert (await api.call("PUT", "/v1/agents/-bad", key={}, json=bad)).status_code == 401
    assert (await api.call("PUT", "/v1/agents/-bad", key=platform, json=bad)).status_code == 403
    assert (await api.call("PUT", "/v1/agents/-bad", json=bad)).status_code == 422
    r = await api.call("POST", "/v1/agents/ghost/away", json={"reason": 3})
    assert error(r, 422, "invalid_field")["detail"] == {"field": "reason"}
    r = await api.call("POST", "/v1/agents/ghost/away", json={"reason": "lunch"})
    assert r.status_code == 404


async def test_query_parameters_are_checked(api: Api) -> None:
    r = await api.call("GET", "/v1/logout-requests?status=open")
    err = error(r, 422, "invalid_field")
    assert err == {
        "code": "invalid_field",
        "message": "status 'open' is not one of pending, approved, denied, closed",
        "detail": {"field": "status"},
    }
    r = await api.call("GET", "/v1/schedule?from=2026-11-24T00:00:00Z&to=2026-11-23T00:00:00Z")
    assert error(r, 422, "invalid_field")["message"] == "to must be after from"
    r = await api.call("GET", "/v1/audit?from=yesterday")
    assert error(r, 422, "invalid_field")["detail"] == {"field": "from"}
    r = await api.call("GET", "/v1/agents?state=busy")
    assert error(r, 422, "invalid_field")["detail"] == {"field": "state"}


async def test_clock_body_needs_exactly_one_of_set_and_advance(api: Api) -> None:
    for body in ({}, {"set": "2026-11-23T08:00:00Z", "advance_s": 5}):
        err = error(await api.call("POST", "/v1/admin/clock", json=body), 422, "invalid_field")
        assert err["message"] == "give exactly one of 'set' (a time) or 'advance_s' (seconds)"
    r = await api.call("POST", "/v1/admin/clock", json={"advance_s": -1})
    assert error(r, 422, "invalid_field")["detail"] == {"field": "advance_s"}
    r = await api.call("POST", "/v1/admin/clock", json={"set": "2026-11-23T08:00:00"})
    err = error(r, 422, "invalid_field")
    assert err["message"] == "set: '2026-11-23T08:00:00' has no UTC offset; add 'Z' or '+08:00'"


async def test_settings_are_validated_and_partial(api: Api) -> None:
    r = await api.call("PUT", "/v1/settings", json={"timezone": "Mars/Olympus"})
    err = error(r, 422, "invalid_field")
    assert err["message"] == "timezone 'Mars/Olympus' is not an IANA zone name"
    r = await api.call("PUT", "/v1/settings", json={"logout_grace_s": -5})
    assert error(r, 422, "invalid_field")["message"] == "logout_grace_s -5 is out of range 0..86400"
    body = await api.ok("PUT", "/v1/settings", json={"logout_grace_s": 120})
    assert body == {
        "logout_grace_s": 120,
        "stop_new_before_end_s": 300,
        "timezone": "Asia/Shanghai",
        "contest_points": [3, 2, 1],
        "warning_bottom_n": 3,
        "language": "en",
        "response_timeout_s": 0,
        "wrap_up_s": 0,
        "sticky_window_s": 0,
        "order_retention_days": 2,
    }
    assert await api.ok("GET", "/v1/settings") == body
    records = len(api.journal.records)
    for days in (0, 401):
        r = await api.call("PUT", "/v1/settings", json={"order_retention_days": days})
        assert error(r, 422, "invalid_field")["message"] == (
            f"order_retention_days {days} is out of range 1..400"
        )
    assert await api.ok("GET", "/v1/settings") == body and len(api.journal.records) == records
    body = await api.ok("PUT", "/v1/settings", json={"order_retention_days": 30})
    assert body["order_retention_days"] == 30
    r = await api.call("PUT", "/v1/settings", json={"language": "fr"})
    assert error(r, 422, "invalid_field")["message"] == "language 'fr' is not one of en, zh-CN"
    assert (await api.ok("PUT", "/v1/settings", json={"language": "zh-CN"}))["language"] == "zh-CN"


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("PUT", "/v1/agents/a1%0A", {"name": "A", "team": "t", "skills": [], "capacity": 1},
         "agent_id"),
        ("GET", "/v1/payroll/2026-11%0A", None, "month"),
        ("GET", "/v1/payroll/%EF%BC%92%EF%BC%90%EF%BC%92%EF%BC%96-11", None, "month"),  # ２０２６
        ("GET", "/v1/contests/2026-W48%0A", None, "week"),
        ("GET", "/v1/warnings/2026-%D9%A1%D9%A1", None, "month"),  # Arabic-Indic ١١
        ("PUT", "/v1/payroll/scheme", {"effective_from": "2026-11", "currency": "CNY\n",
                                      "thresholds": [], "rates_cents": [1]}, "currency"),
        ("POST", "/v1/admin/clock", {"set": "２０２６-11-23T08:00:00Z"}, "set"),
    ],
)  # fmt: skip
async def test_loose_text_is_refused_by_the_letter(
    api: Api, method: str, path: str, body: object, field: str
) -> None:
    """A final newline, another script's digits: a 422 naming the field, nothing journaled."""
    before = len(api.journal.records)
    r = await api.call(method, path, **({} if body is None else {"json": body}))
    assert error(r, 422, "invalid_field")["detail"] == {"field": field}, r.text
    assert len(api.journal.records) == before


DEEP = "[" * 1000 + "]" * 1000

BAD_INPUT_ONCE_500 = [
    ("GET", "/v1/warnings/2026-11?bottom_n=%C2%B2", None, 422, "bottom_n"),  # superscript two
    ("GET", "/v1/contests/2026-W48?points=3,%C2%B2,1", None, 422, "points"),
    ("PUT", "/v1/settings", {"timezone": "America"}, 422, "timezone"),  # a folder of the zone db
    ("GET", "/v1/payroll/9999-12", None, 422, "month"),
    ("GET", "/v1/contests/9999-W52", None, 422, "week"),
    ("GET", "/v1/warnings/9999-12", None, 422, "month"),
    ("POST", "/v1/admin/clock", {"advance_s": 1e300}, 422, "advance_s"),
    ("POST", "/v1/admin/clock", {"set": "2300-01-01T00:00:00Z"}, 422, "set"),
    ("PUT", "/v1/schedule", {"shifts": [{"agent_id": "a1", "start": "9999-12-31T20:00:00Z",
                                         "end": "9999-12-31T23:00:00-05:00"}]},
     422, "shifts[0].start"),
    ("GET", "/v1/utilization?from=0001-01-01T00:00:00%2B01:00", None, 422, "from"),
    ("GET", "/v1/schedule?from=0001-01-01T00:00:00%2B01:00", None, 422, "from"),
    ("POST", "/v1/orders", '{"id": "x", "payload": {"a": ' + DEEP + "}}", 400, None),
]  # fmt: skip


@pytest.mark.parametrize(("method", "path", "body", "status", "field"), BAD_INPUT_ONCE_500)
async def test_bad_input_that_once_answered_500_is_a_4xx_and_changes_nothing(
    api: Api, method: str, path: str, body: object, status: int, field: str | None
) -> None:
    await api.agent("a1")
    scheme = {"effective_from": "2026-01", "currency": "CNY", "thresholds": [], "rates_cents": [1]}
    await api.ok("PUT", "/v1/payroll/scheme", json=scheme)
    before = len(api.journal.records)
    now = api.engine.now()
    if isinstance(body, str):
        kw: dict[str, object] = {"content": body, "headers": {**ADMIN, **JSON}}
        r = await api.client.request(method, path, **kw)  # type: ignore[arg-type]
    else:
        r = await api.call(method, path, **({} if body is None else {"json": body}))
    assert r.status_code == status, r.text
    info = r.json()["error"]
    if field is not None:
        assert info["detail"] == {"field": field}, info
    assert len(api.journal.records) == before and api.engine.now() == now


async def test_a_batch_item_nested_too_deep_is_an_error_at_its_place(api: Api) -> None:
    deep_item = '{"id": "deep", "payload": {"a": ' + DEEP + "}}"
    body = '{"orders": [{"id": "ok-1"}, ' + deep_item + ', {"id": "ok-2", "skill": "x"}]}'
    r = await api.client.post("/v1/orders:batch", content=body, headers={**ADMIN, **JSON})
    assert r.status_code == 200, r.text
    first, deep, last = r.json()["results"]
    assert first["id"] == "ok-1" and last["id"] == "ok-2"
    assert deep["error"]["code"] == "malformed_json"
    assert deep["error"]["message"].startswith("orders[1] is JSON nested too deeply to decode")
