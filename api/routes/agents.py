"""Agents and presence: the roster records and the state machine, the logout guard."""

from __future__ import annotations

import msgspec
from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from api.auth import STAFF, require
from api.body import check_agent_id, read_json
from api.context import answer_read, engine_of, run
from api.openapi import route_doc
from api.params import AgentIdPath, StateQuery
from api.schemas import AgentIn, AgentList, AwayIn
from engine import commands as cmd
from engine.errors import Invalid, NotFound
from engine.views import AgentView, LogoutDone, LogoutPending, StateView, agent_view
from presence.agent import STATES

router = APIRouter(tags=["agents"])

_agent_in = msgspec.json.Decoder(AgentIn)
_away_in = msgspec.json.Decoder(AwayIn)

ERR_ID = "401 403 422"
ERR_ONE = "401 403 404 422"
ERR_PRESENCE = "401 403 404 409 422"


@router.put(
    "/v1/agents/{agent_id}",
    **route_doc({200: AgentView, 201: AgentView}, AgentIn, "400 401 403 413 422"),
)
async def put_agent(request: Request, agent_id: AgentIdPath) -> Response:
    """Create (201) or update (200) an agent; waiting orders it can take go to it at once."""
    require(request, STAFF)
    check_agent_id(agent_id)
    body = await read_json(request, _agent_in)
    return await run(
        request, cmd.UpsertAgent(agent_id, body.name, body.team, body.skills, body.capacity)
    )


@router.get("/v1/agents/{agent_id}", **route_doc({200: AgentView}, errors=ERR_ONE))
async def get_agent(request: Request, agent_id: AgentIdPath) -> Response:
    require(request, STAFF, own_agent=agent_id)
    check_agent_id(agent_id)
    agent = engine_of(request).state.agents.get(agent_id)
    if agent is None:
        raise NotFound(f"agent {agent_id!r} does not exist", code="agent_not_found")
    return await answer_read(request, agent_view(agent))


@router.get("/v1/agents", **route_doc({200: AgentList}, errors=ERR_ID))
async def list_agents(
    request: Request, team: str | None = None, state: StateQuery = None
) -> Response:
    """Every agent (extension), by id; optionally only one team and/or one state."""
    require(request, STAFF)
    if state is not None and state not in STATES:
        raise Invalid("state", f"state {state!r} is not one of {', '.join(STATES)}")
    agents = sorted(engine_of(request).state.agents.values(), key=lambda a: a.id)
    views = [
        agent_view(a)
        for a in agents
        if (team is None or a.team == team) and (state is None or a.state == state)
    ]
    return await answer_read(request, AgentList(views))


def _presence(request: Request, agent_id: AgentIdPath) -> None:
    require(request, STAFF, own_agent=agent_id)
    check_agent_id(agent_id)


@router.post("/v1/agents/{agent_id}/login", **route_doc({200: StateView}, errors=ERR_PRESENCE))
async def login(request: Request, agent_id: AgentIdPath) -> Response:
    _presence(request, agent_id)
    return await run(request, cmd.Login(agent_id))


@router.post(
    "/v1/agents/{agent_id}/away",
    **route_doc({200: StateView}, AwayIn, "400 401 403 404 409 413 422"),
)
async def away(request: Request, agent_id: AgentIdPath) -> Response:
    """Away keeps the open orders and takes no new ones."""
    _presence(request, agent_id)
    body = await read_json(request, _away_in)
    return await run(request, cmd.GoAway(agent_id, body.reason))


@router.post("/v1/agents/{agent_id}/available", **route_doc({200: StateView}, errors=ERR_PRESENCE))
async def available(request: Request, agent_id: AgentIdPath) -> Response:
    _presence(request, agent_id)
    return await run(request, cmd.GoAvailable(agent_id))


@router.post(
    "/v1/agents/{agent_id}/logout",
    **route_doc({200: LogoutDone, 202: LogoutPending}, errors=ERR_ONE),
)
async def logout(request: Request, agent_id: AgentIdPath) -> Response:
    """The logout guard: 200 offline (orders re-routed), or 202 with a pending request."""
    _presence(request, agent_id)
    return await run(request, cmd.Logout(agent_id))


@router.post("/v1/agents/{agent_id}/force-logout", **route_doc({200: LogoutDone}, errors=ERR_ONE))
async def force_logout(request: Request, agent_id: AgentIdPath) -> Response:
    who = require(request, STAFF)
    check_agent_id(agent_id)
    return await run(request, cmd.ForceLogout(agent_id, who.by))
