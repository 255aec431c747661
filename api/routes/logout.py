"""Logout requests (what the guard held for a supervisor) and the logout audit trail."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from api.auth import STAFF, require
from api.context import answer_read, engine_of, run
from api.openapi import route_doc
from api.params import REQUEST_STATUSES, AgentIdQuery, FromQuery, StatusQuery, ToQuery
from api.query import agent_window
from api.schemas import AuditList, LogoutRequestList
from engine import commands as cmd
from engine.errors import Invalid
from engine.history import check_raw
from engine.views import AuditView, LogoutRequestView, request_view
from presence.timeutil import format_time

router = APIRouter(tags=["logout guard"])


@router.get("/v1/logout-requests", **route_doc({200: LogoutRequestList}, errors="401 403 422"))
async def list_requests(request: Request, status: StatusQuery = None) -> Response:
    """Logout requests, oldest first; `?status=pending` is the supervisor's inbox."""
    require(request, STAFF)
    if status is not None and status not in REQUEST_STATUSES:
        raise Invalid("status", f"status {status!r} is not one of {', '.join(REQUEST_STATUSES)}")
    requests = engine_of(request).state.requests.values()
    views = [request_view(r) for r in requests if status is None or r.status == status]
    return await answer_read(request, LogoutRequestList(views))


@router.post(
    "/v1/logout-requests/{request_id}/approve",
    **route_doc({200: LogoutRequestView}, errors="401 403 404 409"),
)
async def approve(request: Request, request_id: str) -> Response:
    """The agent goes offline at once; its open orders go back to routing."""
    who = require(request, STAFF)
    return await run(request, cmd.ApproveLogout(request_id, who.by))


@router.post(
    "/v1/logout-requests/{request_id}/deny",
    **route_doc({200: LogoutRequestView}, errors="401 403 404 409"),
)
async def deny(request: Request, request_id: str) -> Response:
    who = require(request, STAFF)
    return await run(request, cmd.DenyLogout(request_id, who.by))


@router.get("/v1/audit", **route_doc({200: AuditList}, errors="401 403 422"))
async def audit(
    request: Request,
    agent_id: AgentIdQuery = None,
    from_: FromQuery = None,
    to: ToQuery = None,
) -> Response:
    """Every logout attempt, grant, denial and force in [from, to), oldest first."""
    require(request, STAFF)
    lo, hi = agent_window(agent_id, from_, to)
    state = engine_of(request).state
    if from_ is not None:
        check_raw(state, lo, "audit entries")
    views = [
        AuditView(format_time(e.at), e.agent_id, e.action, e.request_id, e.by, e.order_id)
        for e in state.audit
        if lo <= e.at < hi and (agent_id is None or e.agent_id == agent_id)
    ]
    return await answer_read(request, AuditList(views))
