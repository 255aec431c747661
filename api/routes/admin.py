"""Administration: API keys, the test clock, center settings."""

from __future__ import annotations

import dataclasses

import msgspec
from fastapi import APIRouter
from msgspec import UNSET
from starlette.requests import Request
from starlette.responses import Response

from api.auth import ADMIN, STAFF, hash_key, new_key, require
from api.body import check_agent_id, read_json
from api.context import answer_read, engine_of, run
from api.errors import json_response
from api.openapi import route_doc
from api.query import in_range, time_field
from api.schemas import ClockIn, KeyIn, KeyList, SettingsIn
from engine import commands as cmd
from engine.core import Center
from engine.errors import Invalid
from engine.keys import key_id
from engine.views import (
    ClockView,
    KeyInfoView,
    KeyView,
    SettingsView,
    key_info_view,
    settings_view,
)
from presence.timeutil import TIME_MAX, TIME_MIN, format_time

router = APIRouter(tags=["administration"])

_key_in = msgspec.json.Decoder(KeyIn)
_clock_in = msgspec.json.Decoder(ClockIn)
_settings_in = msgspec.json.Decoder(SettingsIn)


@router.post("/v1/keys", **route_doc({201: KeyView}, KeyIn, "400 401 403 404 413 422"))
async def create_key(request: Request) -> Response:
    """A new key; only its SHA-256 hash is kept, so this answer is the only copy."""
    require(request, ADMIN)
    body = await read_json(request, _key_in)
    if body.agent_id is not None:
        check_agent_id(body.agent_id)
    key = new_key()
    digest = hash_key(key)
    await engine_of(request).execute(cmd.CreateKey(digest, body.role, body.agent_id))
    return json_response(KeyView(key, key_id(digest), body.role, body.agent_id), 201)


@router.get("/v1/keys", **route_doc({200: KeyList}))
async def list_keys(request: Request) -> Response:
    """Every key issued, revoked ones included, oldest first; never the keys themselves."""
    require(request, ADMIN)
    keys = engine_of(request).state.keys.values()
    return await answer_read(request, KeyList([key_info_view(k) for k in keys]))


@router.delete("/v1/keys/{key_id}", **route_doc({200: KeyInfoView}, None, "401 403 404"))
async def revoke_key(request: Request, key_id: str) -> Response:
    """Revoke a key at once, on every process; revoking it again is a no-op (200)."""
    who = require(request, ADMIN)
    return await run(request, cmd.RevokeKey(key_id, who.by))


def _clock_view(engine: Center) -> ClockView:
    return ClockView(format_time(engine.now()), "manual" if engine.clock.manual else "real")


@router.get("/v1/admin/clock", **route_doc({200: ClockView}))
async def get_clock(request: Request) -> Response:
    require(request, STAFF)
    return await answer_read(request, _clock_view(engine_of(request)))


def _clock_target(engine: Center, body: ClockIn) -> int:
    if (body.set is UNSET) == (body.advance_s is UNSET):
        raise Invalid("set", "give exactly one of 'set' (a time) or 'advance_s' (seconds)")
    if body.set is not UNSET:
        return time_field(body.set, "set")
    advance = body.advance_s
    if (
        isinstance(advance, bool)
        or not isinstance(advance, int | float)
        or not 0 <= advance < (TIME_MAX - TIME_MIN) / 1000  # also refuses NaN and infinity
    ):
        raise Invalid("advance_s", f"advance_s must be a number of seconds >= 0, got {advance}")
    to = engine.now() + round(advance * 1000)
    return in_range(to, "advance_s", f"{advance} s from now")


@router.post("/v1/admin/clock", **route_doc({200: ClockView}, ClockIn, "400 401 403 409 413 422"))
async def set_clock(request: Request) -> Response:
    """Move the manual clock (409 `clock_not_manual` on the real one, `clock_backwards`)."""
    require(request, ADMIN)
    engine = engine_of(request)
    body = await read_json(request, _clock_in)
    await engine.set_clock(_clock_target(engine, body))
    return json_response(_clock_view(engine))


@router.get("/v1/settings", **route_doc({200: SettingsView}))
async def get_settings(request: Request) -> Response:
    require(request, STAFF)
    return await answer_read(request, settings_view(engine_of(request).state.settings))


@router.put("/v1/settings", **route_doc({200: SettingsView}, SettingsIn, "400 401 403 413 422"))
async def put_settings(request: Request) -> Response:
    """Change any subset; the rest stays. Journaled, so replay applies what was in force."""
    require(request, ADMIN)
    body = await read_json(request, _settings_in)
    changes = {f: v for f in SettingsIn.__struct_fields__ if (v := getattr(body, f)) is not UNSET}
    merged = dataclasses.replace(engine_of(request).state.settings, **changes)
    return await run(request, cmd.ChangeSettings(*dataclasses.astuple(merged)))
