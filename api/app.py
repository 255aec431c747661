"""The app factory: routes, error handlers, OpenAPI, and the engine's lifetime.

`create_app(engine)` serves an engine the caller owns (tests: MemoryJournal and
ManualClock, already recovered). `create_app(factory)` owns it: the lifespan
calls the factory at startup (which opens the journal and replays it) and
closes the engine at shutdown, flushing the journal. Until the factory returns,
/healthz answers 503.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import cast

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.telemetry import TelemetryConfig
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from api import openapi
from api.errors import error_response, on_http_error, on_seatflow_error, on_unexpected
from api.metrics import Metrics
from api.routes import (
    admin,
    agents,
    board,
    docs,
    i18n,
    logout,
    ops,
    orders,
    reports,
    schedule,
)
from api.stream import BoardStream
from engine.core import Center, Engine
from engine.errors import SeatflowError
from engine.state import State

log = logging.getLogger("seatflow.api")

# Builds the center at startup; a Redis node is then started (connects, loads).
EngineFactory = Callable[[], Center]

# FastAPI 0.165's native OpenTelemetry: with any signal on, every request asks the
# global OTel providers whether they are configured (`NativeTelemetry.enabled`, ~5% of
# the server's CPU per order, bench/RESULTS.md S3). seatflow exports Prometheus
# /metrics and configures no OTel provider, so all three are off.
NO_TELEMETRY: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}

DESCRIPTION = (
    "seatflow routes chat orders to contact-center agents by presence and load. "
    "Every request but /healthz carries `Authorization: Bearer <key>`. "
    'Errors are `{"error": {"code", "message", "detail"}}`; see API.md and docs/api-notes.md.'
)


async def _on_query_error(request: Request, exc: Exception) -> Response:
    """A query parameter FastAPI itself could not read: the usual 422 body naming it."""
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    loc = errors[0].get("loc", ()) if errors else ()
    field = str(loc[-1]) if loc else "query"
    msg = errors[0].get("msg", "invalid value") if errors else "invalid value"
    return error_response(422, "invalid_field", f"{field}: {msg}", {"field": field})


def create_app(
    engine_or_factory: Center | EngineFactory,
    *,
    admin_key: str | None,
    title: str = "seatflow",
) -> FastAPI:
    factory = engine_or_factory if _is_factory(engine_or_factory) else None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if factory is not None:
            center = cast(EngineFactory, factory)()
            start = getattr(center, "start", None)
            if start is not None:
                await start()
            _attach(app, center)
        try:
            yield
        finally:
            if factory is not None and hasattr(app.state, "engine"):
                await app.state.engine.close()
                log.info("journal flushed and closed")

    # Routes go straight onto the app (no include_router): FastAPI's included-router
    # wrappers cost more than the whole order intake. Orders first: the hot path.
    modules = (orders, agents, schedule, logout, admin, ops, reports, board, docs, i18n)
    routes = [r for m in modules for r in m.router.routes]
    app = FastAPI(
        title=title,
        version="1",
        description=DESCRIPTION,
        lifespan=lifespan,
        routes=routes,
        telemetry=NO_TELEMETRY,
        docs_url=None,  # served by api.routes.docs, offline; FastAPI's own loads a CDN
        redoc_url=None,  # ReDoc has no offline build: one documentation page, Swagger UI
    )
    app.state.admin_key = admin_key
    app.state.metrics = Metrics(lambda: _state_of(app), lambda: _checkpoint_age(app))
    if factory is None:
        _attach(app, engine_or_factory)  # type: ignore[arg-type]
    app.add_exception_handler(SeatflowError, on_seatflow_error)
    app.add_exception_handler(HTTPException, on_http_error)
    app.add_exception_handler(RequestValidationError, _on_query_error)
    app.add_exception_handler(Exception, on_unexpected)
    openapi.install(app)
    return app


def _is_factory(x: object) -> bool:
    return not isinstance(x, Engine) and not hasattr(x, "execute")


def _attach(app: FastAPI, engine: Center) -> None:
    app.state.engine = engine
    app.state.metrics.start(engine.state)
    app.state.board_stream = BoardStream(engine)  # listens from the start: the chart's hour


def _state_of(app: FastAPI) -> State:
    state: State = app.state.engine.state
    return state


def _checkpoint_age(app: FastAPI) -> float | None:
    age = getattr(getattr(app.state, "engine", None), "checkpoint_age", None)
    return None if age is None else age()
