"""The OpenAPI document tells every answer a route gives (issue 13, item 9: what the fuzzer
found the document leaving out, each pinned here for every route it can apply to)."""

from __future__ import annotations

from typing import Any

import pytest
from api_support import Api

PUBLIC = {("get", "/healthz"), ("get", "/board")}  # no key asked, so no 401 or 403


async def _document(api: Api) -> dict[str, Any]:
    return (await api.call("GET", "/openapi.json", key={})).json()


async def test_every_route_with_a_key_documents_401_and_403(api: Api) -> None:
    doc = await _document(api)
    missing = [
        f"{method.upper()} {path}"
        for path, ops in doc["paths"].items()
        for method, op in ops.items()
        if (method, path) not in PUBLIC and not {"401", "403"} <= set(op["responses"])
    ]
    assert missing == []  # GET /metrics answered an undocumented 403 to a platform key


@pytest.mark.parametrize("fmt", ["json", "csv", "xlsx"])
async def test_every_payroll_format_answers_a_documented_content_type(api: Api, fmt: str) -> None:
    await api.ok(
        "PUT",
        "/v1/payroll/scheme",
        json={"effective_from": "2026-11", "thresholds": [10], "rates_cents": [100, 120]},
    )
    r = await api.call("GET", f"/v1/payroll/2026-11?format={fmt}")
    assert r.status_code == 200, r.text
    media = r.headers["content-type"].split(";")[0]
    documented = (await _document(api))["paths"]["/v1/payroll/{month}"]["get"]["responses"]
    assert media in documented["200"]["content"], (media, list(documented["200"]["content"]))


async def test_the_batch_body_takes_any_item_as_the_server_does(api: Api) -> None:
    """A bad item is an error at its place in a 200, not a refusal of the batch: the document
    must not call such a body invalid (a client built from it would never send it)."""
    r = await api.call("POST", "/v1/orders:batch", json={"orders": [42, {"id": "b1"}]})
    assert r.status_code == 200 and "error" in r.json()["results"][0]
    doc = await _document(api)
    body = doc["paths"]["/v1/orders:batch"]["post"]["requestBody"]["content"]["application/json"]
    items = body["schema"]["properties"]["orders"]["items"]
    branches = items["anyOf"]
    assert {"$ref": "#/components/schemas/OrderIn"} in branches
    assert any(set(b) <= {"description"} for b in branches), branches  # anything else too
