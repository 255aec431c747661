"""Bearer keys and the role matrix (docs/api-notes.md, "Roles").

Keys are random tokens; only their SHA-256 hex digest is journaled (KeyCreated),
so a copy of the journal grants nothing. The environment's SEATFLOW_ADMIN_KEY is
compared in constant time and never stored.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from api.errors import Unauthorized
from engine.errors import Forbidden, SeatflowError
from engine.state import State
from presence.timeutil import format_time

ADMIN = frozenset({"admin"})
STAFF = frozenset({"admin", "supervisor"})
ORDERS = frozenset({"admin", "platform"})
ORDER_READERS = frozenset({"admin", "supervisor", "platform"})


@dataclass(slots=True, frozen=True)
class Principal:
    role: str
    agent_id: str | None
    # Who did it, as approvals and QA results record it.
    by: str
    # The issued key's digest; None for the environment's admin key.
    key_hash: str | None = None

    def revoked(self, state: State) -> bool:
        """The key was revoked since this request was let in (a long-lived stream asks)."""
        key = None if self.key_hash is None else state.keys.get(self.key_hash)
        return key is not None and key.revoked


def new_key() -> str:
    return "sf_" + secrets.token_urlsafe(32)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def authenticate(request: Request, state: State, admin_key: str | None) -> Principal:
    """401 unless the request carries `Authorization: Bearer <key>` with a known key."""
    header = request.headers.get("authorization")
    if not header:
        raise Unauthorized("missing 'Authorization: Bearer <key>' header")
    scheme, _, key = header.partition(" ")
    key = key.strip()
    if scheme.lower() != "bearer" or not key:
        raise Unauthorized("the Authorization header must be 'Bearer <key>'")
    if admin_key is not None and hmac.compare_digest(key.encode(), admin_key.encode()):
        return Principal("admin", None, "admin")
    digest = hash_key(key)
    found = state.keys.get(digest)
    if found is None:
        raise Unauthorized("unknown API key")
    if found.revoked_at is not None:
        raise Unauthorized(
            f"API key {found.id} was revoked at {format_time(found.revoked_at)}",
            code="key_revoked",
        )
    return Principal(found.role, found.agent_id, f"{found.role}:{digest[:8]}", digest)


def require(request: Request, roles: frozenset[str], *, own_agent: str | None = None) -> Principal:
    """Authenticate, then 403 unless the role is allowed (or it is that agent's own key).

    `own_agent` set: an `agent` key bound to exactly that agent id is allowed too.
    """
    app_state = request.app.state
    who = authenticate(request, app_state.engine.state, app_state.admin_key)
    if who.role in roles:
        return who
    if own_agent is not None and who.role == "agent":
        if who.agent_id == own_agent:
            return who
        raise Forbidden(f"this key is bound to agent {who.agent_id!r}, not {own_agent!r}")
    raise Forbidden(f"a {who.role!r} key may not use {request.method} {request.url.path}")


def _bearer(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, key = value.decode("latin-1").partition(" ")
            return key.strip() if scheme.lower() == "bearer" else None
    return None


def keys_current_everywhere(inner: ASGIApp, app: Any) -> ASGIApp:
    """A key created or revoked through any process is honoured at once by every other.

    On Redis a follower's copy of the center trails the stream by a few ms. A request
    that carries an issued key (not the environment's admin key) therefore first waits
    until the copy holds every record acknowledged before the request began (one round
    trip to Redis; nothing on the owner, whose copy is the source), and only then is its
    key checked: a key made elsewhere a moment ago is not refused 401 for being early,
    and one revoked elsewhere is refused, never honoured for being late.
    """

    async def asgi(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            key = _bearer(scope)
            center = getattr(app.state, "engine", None)
            if key and center is not None:
                admin_key = app.state.admin_key
                if admin_key is None or not hmac.compare_digest(key.encode(), admin_key.encode()):
                    try:
                        await center.catch_up()
                    except SeatflowError:
                        pass  # the request itself then answers why (503)
        await inner(scope, receive, send)

    return asgi
