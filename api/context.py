"""What every route does around the engine: find it, run a command, answer a read."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from api.errors import JSON, json_response
from api.metrics import Metrics
from engine.commands import Command
from engine.core import Center
from engine.handlers import Reply


def engine_of(request: Request) -> Center:
    engine: Center = request.app.state.engine
    return engine


def metrics_of(request: Request) -> Metrics:
    metrics: Metrics = request.app.state.metrics
    return metrics


async def run(request: Request, command: Command) -> Response:
    """Execute; the reply is sent only once its journal record is durable."""
    return reply_response(await engine_of(request).execute(command))


def reply_response(reply: Reply) -> Response:
    """The engine's answer as sent: its body was encoded before its record was journaled."""
    return Response(reply.encoded, status_code=reply.status, media_type=JSON)


async def answer_read(request: Request, view: Any, status: int = 200) -> Response:
    """A view taken from state now, sent only once all state it may reflect is durable."""
    await engine_of(request).durable()
    return json_response(view, status)
