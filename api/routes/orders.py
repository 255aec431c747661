"""Orders: intake (single and batch), reads, first responses, completion and QA results."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any, cast

import msgspec
from fastapi import APIRouter
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from api.auth import ORDER_READERS, ORDERS, STAFF, require
from api.body import check_order_id, read_body, read_json
from api.context import answer_read, engine_of, metrics_of, reply_response, run
from api.errors import json_response
from api.intake import decode_batch, decode_order
from api.openapi import ref, route_doc
from api.params import OrderIdPath
from api.schemas import MAX_BATCH, OrderIn, QaIn
from engine import commands as cmd
from engine.errors import Forbidden, NotFound
from engine.views import BatchResult, ErrorBody, ErrorInfo, OrderView, order_view
from router.order import Order

router = APIRouter(tags=["orders"])


# An endpoint that takes the bare Request: LeanRoute's, and api.fastpath's in front of the app.
Endpoint = Callable[[Request], Awaitable[Response]]


class LeanRoute(APIRoute):
    """An APIRoute, so OpenAPI documents it, whose endpoint takes the bare Request.

    Order intake is the hot path: this skips FastAPI's per-request dependency solving
    and its two exit stacks (about a tenth of the server's time per order, measured
    with py-spy in bench/RESULTS.md). Errors still reach the app's handlers: they
    propagate to Starlette's ExceptionMiddleware, which answers them as for any route.
    """

    def __init__(self, path: str, endpoint: Endpoint, **kwargs: Any) -> None:
        super().__init__(path, endpoint, **kwargs)

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            response = await endpoint(Request(scope, receive, send))
            await response(scope, receive, send)

        self.app = app


_qa_in = msgspec.json.Decoder(QaIn)


async def post_order(request: Request) -> Response:
    """201 new; 200 the same id and body again (its current view); 409 same id, other body."""
    started = time.perf_counter()
    require(request, ORDERS)
    order = decode_order(await read_body(request))
    response = reply_response(await engine_of(request).execute(cmd.SubmitOrders([order])))
    metrics_of(request).intake_single.observe(time.perf_counter() - started)
    return response


BATCH_RESULT = {
    "title": "BatchResult",
    "type": "object",
    "properties": {
        "results": {
            "type": "array",
            "description": "one per order, in order: its view, or an error naming orders[i].field",
            "items": {"anyOf": [ref(OrderView), ref(ErrorBody)]},
        }
    },
    "required": ["results"],
}


# The batch body as the server takes it: any item is answered at its place, an order
# view for an OrderIn, an error naming `orders[i]` for anything else; the envelope is
# the one thing refused whole (400, 422 `orders`).
BATCH_BODY = {
    "title": "OrdersBatchIn",
    "type": "object",
    "properties": {
        "orders": {
            "type": "array",
            "minItems": 1,
            "maxItems": MAX_BATCH,
            "items": {
                "anyOf": [
                    ref(OrderIn),
                    {"description": "anything else: an error result at its place"},
                ]
            },
        }
    },
    "required": ["orders"],
    "additionalProperties": False,
}


def _batch_error(body: ErrorBody, i: int) -> ErrorBody:
    """An engine error for one item of a batch names the item's field: `orders[3].id`."""
    detail = body.error.detail
    if isinstance(detail, dict) and "field" in detail:
        detail = {**detail, "field": f"orders[{i}].{detail['field']}"}
    return ErrorBody(ErrorInfo(body.error.code, f"orders[{i}]: {body.error.message}", detail))


async def post_batch(request: Request) -> Response:
    """Up to 1000 orders in one durable write; a bad item is an error result at its place."""
    started = time.perf_counter()
    require(request, ORDERS)
    good, where, results = decode_batch(await read_body(request))
    out: list[OrderView | ErrorBody | None] = list(results)
    if good:
        reply = await engine_of(request).execute(cmd.SubmitOrders(good))
        # submit_orders answers one order with its own shape, many with a BatchResult.
        bodies = [reply.body] if len(good) == 1 else reply.body.results
        for i, body in zip(where, bodies, strict=True):
            out[i] = _batch_error(body, i) if isinstance(body, ErrorBody) else body
    # Every slot is filled now: an error from decoding, or the engine's answer.
    response = json_response(BatchResult(cast(list[OrderView | ErrorBody], out)))
    metrics_of(request).intake_batch.observe(time.perf_counter() - started)
    return response


router.add_api_route(
    "/v1/orders",
    post_order,
    methods=["POST"],
    route_class_override=LeanRoute,
    **route_doc({200: OrderView, 201: OrderView}, OrderIn, "400 401 403 409 413 422"),
)
router.add_api_route(
    "/v1/orders:batch",
    post_batch,
    methods=["POST"],
    route_class_override=LeanRoute,
    **route_doc({200: BATCH_RESULT}, BATCH_BODY, "400 401 403 413 422"),
)


# The hot routes by path, all POST: api.fastpath serves them in front of the app with the
# very endpoints the routes above document.
INTAKE: dict[str, Endpoint] = {"/v1/orders": post_order, "/v1/orders:batch": post_batch}


async def _find(request: Request, order_id: str) -> Order | None:
    """The order in memory, else past the retention window in the archive."""
    center = engine_of(request)
    order = center.state.orders.get(order_id)
    return order if order is not None else await center.find_archived(order_id)


@router.get("/v1/orders/{order_id:path}", **route_doc({200: OrderView}, errors="401 403 404 422"))
async def get_order(request: Request, order_id: OrderIdPath) -> Response:
    """An agent key reads only orders assigned (or once assigned and completed) to it.
    An order past the retention window answers from the archive, with `archived: true`."""
    who = require(request, ORDER_READERS | {"agent"})
    check_order_id(order_id)
    order = await _find(request, order_id)
    if who.role == "agent" and (order is None or order.agent_id != who.agent_id):
        raise Forbidden(f"order {order_id!r} is not assigned to agent {who.agent_id!r}")
    if order is None:
        raise NotFound(f"order {order_id!r} does not exist", code="order_not_found")
    return await answer_read(request, order_view(order))


@router.post(
    "/v1/orders/{order_id:path}/complete",
    **route_doc({200: OrderView}, errors="401 403 404 409 422"),
)
async def complete(request: Request, order_id: OrderIdPath) -> Response:
    """The platform, or the agent the order is assigned to; not assigned is 409."""
    who = require(request, ORDERS | {"agent"})
    check_order_id(order_id)
    as_agent = who.agent_id if who.role == "agent" else None
    return await run(request, cmd.CompleteOrder(order_id, as_agent))


@router.post(
    "/v1/orders/{order_id:path}/responded",
    **route_doc({200: OrderView}, errors="401 403 404 409 422"),
)
async def responded(request: Request, order_id: str) -> Response:
    """The agent's first reply reached the customer: stops the response timeout and counts
    toward avg_first_response_s. Not assigned is 409; reported again, a no-op (200)."""
    who = require(request, ORDERS | {"agent"})
    check_order_id(order_id)
    as_agent = who.agent_id if who.role == "agent" else None
    return await run(request, cmd.RecordResponse(order_id, as_agent))


@router.post(
    "/v1/orders/{order_id:path}/qa",
    **route_doc({200: OrderView}, QaIn, "400 401 403 404 409 413 422"),
)
async def qa(request: Request, order_id: OrderIdPath) -> Response:
    """A QA check of a completed order (feeds the accuracy KPI); a later one replaces it."""
    who = require(request, STAFF)
    check_order_id(order_id)
    body = await read_json(request, _qa_in)
    return await run(request, cmd.RecordQa(order_id, body.passed, who.by))
