"""Errors of the HTTP edge, and the one error body every failure answers with.

    SeatflowError (presence.errors, the root of the one tree)
    ├── Unauthorized    401  no key, or a key nobody issued
    ├── MalformedJson   400  the body is not JSON, or not the object a route needs
    └── BodyTooLarge    413  more than 1 MiB
    (Forbidden 403, NotFound 404, Conflict 409, Invalid 422: presence.errors;
     Unavailable 503: engine.errors)

Starlette's own 404/405 (unknown route, wrong method) are mapped to the same body.
"""

from __future__ import annotations

from typing import Any

import msgspec
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match

from engine.errors import SeatflowError
from engine.views import ErrorBody, ErrorInfo

JSON = "application/json"


class Unauthorized(SeatflowError):
    status = 401
    code = "unauthorized"


class MalformedJson(SeatflowError):
    status = 400
    code = "malformed_json"


class BodyTooLarge(SeatflowError):
    status = 413
    code = "body_too_large"


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(msgspec.json.encode(body), status_code=status, media_type=JSON, headers=headers)


def error_response(
    status: int, code: str, message: str, detail: Any = None, headers: dict[str, str] | None = None
) -> Response:
    return json_response(ErrorBody(ErrorInfo(code, message, detail)), status, headers)


async def on_seatflow_error(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, SeatflowError):  # pragma: no cover - registered for SeatflowError only
        raise exc
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    if exc.status == 413:
        # Answered before the body was read to its end: what is left of it must not be
        # read as the next request on this connection (it would look like a huge head).
        headers = {"Connection": "close"}
    return error_response(exc.status, exc.code, exc.message, exc.detail, headers)


_HTTP_CODES = {404: "not_found", 405: "method_not_allowed"}


async def on_http_error(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, HTTPException):  # pragma: no cover - registered for HTTPException only
        raise exc
    if exc.status_code == 404:
        message = f"no route {request.method} {request.url.path}"
    elif exc.status_code == 405:
        message = f"method {request.method} is not allowed on {request.url.path}"
    else:
        message = str(exc.detail)
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = ", ".join(_allowed(request))
    return error_response(exc.status_code, code, message, None, headers)


def _allowed(request: Request) -> list[str]:
    """Every method some route serves on this path (Starlette names only the first route's)."""
    routes = request.app.router.routes
    return [
        method
        for method in ("GET", "PUT", "POST", "PATCH", "DELETE")
        if any(r.matches({**request.scope, "method": method})[0] == Match.FULL for r in routes)
    ]


async def on_unexpected(request: Request, exc: Exception) -> Response:
    """Last resort: still the error body, never a bare text page; the exception is logged."""
    return error_response(500, "internal_error", "internal server error; see the server log")
