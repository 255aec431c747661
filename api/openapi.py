"""Truthful OpenAPI: the msgspec Structs the routes really decode and encode.

Routes take a raw `Request`, so FastAPI cannot see their bodies; each route
declares them here (`body=`, `replies=`), and the JSON Schemas msgspec generates
for those Structs are merged into `app.openapi()` under components/schemas. The
limits the server checks are stated in those schemas (api.schemas) and in the
parameters (api.params), so a client generated from the document refuses what the
server would answer 422.
"""

from __future__ import annotations

from typing import Any

import msgspec
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from engine.views import ErrorBody

REF = "#/components/schemas/{name}"
_registered: set[Any] = {ErrorBody}


def ref(tp: Any) -> dict[str, Any]:
    """A schema for `tp` (a Struct or a type expression), remembered for the components.

    A dict is taken as a ready schema (for what msgspec cannot describe, such as a
    union of untagged Structs).
    """
    if isinstance(tp, dict):
        return tp
    _registered.add(tp)
    (schema,), _ = msgspec.json.schema_components([tp], ref_template=REF)
    return schema


def _content(tp: Any) -> dict[str, Any]:
    return {"application/json": {"schema": ref(tp)}}


_ERRORS = {
    "400": "malformed JSON",
    "401": "no or unknown key",
    "403": "the key's role may not do this",
    "404": "unknown id",
    "409": "conflicts with the current state",
    "413": "body over 1 MiB",
    "422": "a field out of range or of the wrong type; detail.field names it",
}


def route_doc(replies: dict[int, Any], body: Any = None, errors: str = "401 403") -> dict[str, Any]:
    """Keyword arguments for a FastAPI route: request body, replies, error replies."""
    responses: dict[int | str, dict[str, Any]] = {
        status: {"description": "OK", "content": _content(tp)} for status, tp in replies.items()
    }
    for status in errors.split():
        responses[status] = {"description": _ERRORS[status], "content": _content(ErrorBody)}
    doc: dict[str, Any] = {"responses": responses, "status_code": min(replies)}
    if body is not None:
        doc["openapi_extra"] = {"requestBody": {"required": True, "content": _content(body)}}
    return doc


def install(app: FastAPI) -> None:
    """Replace app.openapi with one that carries the msgspec component schemas."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        _drop_fastapi_validation(schema)
        _plain_parameters(schema)
        _, components = msgspec.json.schema_components(list(_registered), ref_template=REF)
        for tp in _registered:
            extra = getattr(tp, "__schema_extra__", None)  # a rule over the whole object
            if extra is not None:
                components[tp.__name__].update(extra)
        schema.setdefault("components", {}).setdefault("schemas", {}).update(components)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _drop_fastapi_validation(schema: dict[str, Any]) -> None:
    """FastAPI documents its own pydantic 422 for routes with parameters; ours never send it."""
    for ops in schema.get("paths", {}).values():
        for op in ops.values():
            reply = op.get("responses", {}).get("422", {})
            if "HTTPValidationError" in str(reply.get("content", "")):
                del op["responses"]["422"]
    components = schema.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)


def _plain_parameters(schema: dict[str, Any]) -> None:
    """A parameter as the server reads it: text that is there or not (never `null`).

    FastAPI writes an optional parameter as `anyOf: [{type: string}, {type: null}]`,
    with the limits from api.params beside it; this keeps the limits on the string.
    An array-typed query parameter is comma-separated (`?points=3,2,1`).
    """
    for ops in schema.get("paths", {}).values():
        for op in ops.values():
            for param in op.get("parameters", []):
                s = param["schema"]
                types = [t for t in s.pop("anyOf", []) if t != {"type": "null"}]
                if len(types) == 1:
                    s.update({**types[0], **s})
                elif types:
                    s["anyOf"] = types
                if s.get("type") == "array":
                    param.update(style="form", explode=False)
