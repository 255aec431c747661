"""The roster: shifts per agent (what utilization and the logout guard measure against)."""

from __future__ import annotations

import msgspec
from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from api.auth import STAFF, require
from api.body import check_agent_id, read_json
from api.context import answer_read, engine_of
from api.errors import json_response
from api.openapi import route_doc
from api.params import AgentIdQuery, FromQuery, ToQuery
from api.query import agent_window, time_field
from api.schemas import MAX_SHIFTS, ShiftIn, ShiftsIn
from engine.commands import AddShifts
from engine.errors import Invalid
from engine.events import ShiftSpec
from engine.history import check_raw
from engine.views import ScheduleView, ShiftView
from presence.timeutil import format_time

router = APIRouter(tags=["schedule"])

_shifts_in = msgspec.json.Decoder(ShiftsIn)


def _spec(s: ShiftIn, i: int) -> ShiftSpec:
    where = f"shifts[{i}]"
    check_agent_id(s.agent_id, f"{where}.agent_id")
    start = time_field(s.start, f"{where}.start")
    return ShiftSpec(s.agent_id, start, time_field(s.end, f"{where}.end"))


def _views(shifts: list[tuple[str, int, int]]) -> ScheduleView:
    return ScheduleView([ShiftView(a, format_time(s), format_time(e)) for a, s, e in shifts])


@router.put(
    "/v1/schedule",
    **route_doc({200: ScheduleView}, ShiftsIn, "400 401 403 404 413 422"),
)
async def put_schedule(request: Request) -> Response:
    """Add shifts (all or none); a shift overlapping another of its agent is 422."""
    require(request, STAFF)
    body = await read_json(request, _shifts_in)
    if len(body.shifts) > MAX_SHIFTS:
        raise Invalid("shifts", f"at most {MAX_SHIFTS} shifts per request, got {len(body.shifts)}")
    specs = [_spec(s, i) for i, s in enumerate(body.shifts)]
    await engine_of(request).execute(AddShifts(specs))  # durable once it returns
    return json_response(_views([(s.agent_id, s.start, s.end) for s in specs]))


@router.get("/v1/schedule", **route_doc({200: ScheduleView}, errors="401 403 422"))
async def get_schedule(
    request: Request,
    agent_id: AgentIdQuery = None,
    from_: FromQuery = None,
    to: ToQuery = None,
) -> Response:
    """Shifts that intersect [from, to), by agent then start; every bound optional."""
    require(request, STAFF)
    lo, hi = agent_window(agent_id, from_, to)
    state = engine_of(request).state
    if from_ is not None:
        check_raw(state, lo, "shifts")
    return await answer_read(request, _views(state.roster.between(agent_id, lo, hi)))
