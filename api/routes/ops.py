"""Operations and the floor: health, Prometheus metrics, the live board snapshot."""

from __future__ import annotations

from fastapi import APIRouter
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.requests import Request
from starlette.responses import Response

from api.auth import STAFF, require
from api.board import Board, build_board
from api.context import answer_read, engine_of, metrics_of
from api.errors import json_response
from api.openapi import route_doc
from api.schemas import Health

router = APIRouter(tags=["operations"])


@router.get("/healthz", **route_doc({200: Health, 503: Health}, errors=""))
async def healthz(request: Request) -> Response:
    """200 once the journal is replayed and healthy; 503 while starting or after a failure."""
    engine = getattr(request.app.state, "engine", None)
    if engine is None:
        return json_response(Health("starting"), 503)
    if not engine.ready:
        return json_response(Health(f"journal_failed: {engine.failure}"), 503)
    return json_response(Health("ok"))


_METRICS_DOC = route_doc({200: {}})  # and 401, 403: the key is checked as everywhere
_METRICS_DOC["responses"][200] = {
    "description": "Prometheus text",
    "content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}},
}


@router.get("/metrics", **_METRICS_DOC)
async def metrics(request: Request) -> Response:
    require(request, STAFF)
    text = metrics_of(request).render()
    await engine_of(request).durable()  # what the text shows is durable before it is sent
    return Response(text, media_type=CONTENT_TYPE_LATEST)


@router.get("/v1/board", **route_doc({200: Board}))
async def board(request: Request) -> Response:
    """The floor at a glance: agents, queues, teams, pending logout requests, totals."""
    require(request, STAFF)
    engine = engine_of(request)
    return await answer_read(request, build_board(engine.state, engine.now()))
