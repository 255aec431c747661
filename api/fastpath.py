"""Order intake in front of the FastAPI app: the two hot routes without the framework layers.

`POST /v1/orders` and `POST /v1/orders:batch` are most of the traffic. Through the
app, each request pays FastAPI's telemetry gate, Starlette's two error middlewares
(each wrapping `send` in a closure) and the router's regex matching before our
endpoint runs (bench/RESULTS.md S3/S4). `FastPath` matches exactly those two
method+path pairs and calls the very endpoints the app's routes document
(`api.routes.orders.INTAKE`), with `scope["app"]` set to the FastAPI app as
Starlette would. Everything else (other routes, lifespan, websockets, a root_path,
user middleware) goes to the app unchanged.

Errors are answered by the app's own registered handlers, looked up the way
Starlette's middlewares do: a handled exception (SeatflowError: its 4xx body, and
WWW-Authenticate on 401) is answered; anything else gets the app's 500 handler's
body and is raised again, so the server logs it, as ServerErrorMiddleware does.
"""

from __future__ import annotations

import inspect
from typing import Any

from fastapi import FastAPI
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import Receive, Scope, Send

from api.routes.orders import INTAKE, Endpoint


class FastPath:
    """An ASGI app: the intake routes served directly, every other request to `app`."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.routes: dict[str, Endpoint] = dict(INTAKE)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            endpoint = self.routes.get(scope["path"])
            app = self.app
            if (
                endpoint is not None
                and not scope.get("root_path")
                and not app.root_path
                and not app.user_middleware
            ):
                scope["app"] = app
                await self._serve(endpoint, scope, receive, send)
                return
        await self.app(scope, receive, send)

    async def _serve(self, endpoint: Endpoint, scope: Scope, receive: Receive, send: Send) -> None:
        # The endpoint raises before anything is sent; sending errors propagate as the
        # app's middlewares let them once a response has started.
        request = Request(scope, receive, send)
        try:
            response = await endpoint(request)
        except Exception as exc:
            handler = self._handler(exc)
            if handler is not None:  # ExceptionMiddleware's part
                await (await _call(handler, request, exc))(scope, receive, send)
                exc.__traceback__ = None
                return
            last = self._last_resort()  # ServerErrorMiddleware's part: answer, then raise
            response = (
                PlainTextResponse("Internal Server Error", status_code=500)
                if last is None
                else await _call(last, request, exc)
            )
            await response(scope, receive, send)
            raise
        await response(scope, receive, send)

    def _handler(self, exc: Exception) -> Any:
        """The app's handler for a non-500 exception, found as Starlette finds it."""
        last = (500, Exception)
        handlers = {k: v for k, v in self.app.exception_handlers.items() if k not in last}
        if isinstance(exc, HTTPException) and exc.status_code in handlers:
            return handlers[exc.status_code]
        for cls in type(exc).__mro__:
            if cls in handlers:
                return handlers[cls]
        return None

    def _last_resort(self) -> Any:
        handlers = self.app.exception_handlers
        return handlers.get(500) or handlers.get(Exception)


async def _call(handler: Any, request: Request, exc: Exception) -> Response:
    response = handler(request, exc)
    if inspect.isawaitable(response):
        response = await response
    result: Response = response
    return result


def with_fast_path(app: FastAPI) -> FastPath:
    """What the server runs: `app` behind the intake fast path."""
    return FastPath(app)
