"""Pins the public surface: every route of API.md v1 is served and documented.

The contract may grow (extensions are listed in docs/api-notes.md) but never lose or
rename a route; this fails the moment one disappears from the OpenAPI document.
"""

from __future__ import annotations

from api_support import Api

CONTRACT = {
    ("post", "/v1/keys"),
    ("post", "/v1/admin/clock"),
    ("put", "/v1/agents/{agent_id}"),
    ("get", "/v1/agents/{agent_id}"),
    ("put", "/v1/schedule"),
    ("get", "/v1/schedule"),
    ("post", "/v1/agents/{agent_id}/login"),
    ("post", "/v1/agents/{agent_id}/away"),
    ("post", "/v1/agents/{agent_id}/available"),
    ("post", "/v1/agents/{agent_id}/logout"),
    ("post", "/v1/agents/{agent_id}/force-logout"),
    ("get", "/v1/logout-requests"),
    ("post", "/v1/logout-requests/{request_id}/approve"),
    ("post", "/v1/logout-requests/{request_id}/deny"),
    ("post", "/v1/orders"),
    ("post", "/v1/orders:batch"),
    ("get", "/v1/orders/{order_id}"),
    ("post", "/v1/orders/{order_id}/complete"),
    ("post", "/v1/orders/{order_id}/qa"),
    ("get", "/v1/board"),
    ("get", "/healthz"),
    ("get", "/metrics"),
}

EXTENSIONS = {
    ("get", "/v1/agents"),
    ("get", "/v1/audit"),
    ("get", "/v1/settings"),
    ("put", "/v1/settings"),
    ("get", "/v1/admin/clock"),
}


def _served(doc: dict) -> set[tuple[str, str]]:
    # Path convertors (`{order_id:path}`) are documented without their suffix.
    return {
        (method, path.replace(":path}", "}"))
        for path, ops in doc["paths"].items()
        for method in ops
    }


async def test_every_contract_route_is_served_and_documented(api: Api) -> None:
    doc = (await api.call("GET", "/openapi.json", key={})).json()
    served = _served(doc)
    assert CONTRACT - served == set()
    assert EXTENSIONS - served == set()


async def test_every_documented_route_has_a_summary_or_description(api: Api) -> None:
    doc = (await api.call("GET", "/openapi.json", key={})).json()
    bare = [
        f"{method.upper()} {path}"
        for path, ops in doc["paths"].items()
        for method, op in ops.items()
        if not (op.get("summary") or op.get("description"))
    ]
    assert bare == []
