"""Logout requests: a self-logout the guard held for a supervisor's decision."""

from __future__ import annotations

from dataclasses import dataclass

PENDING = "pending"
APPROVED = "approved"
DENIED = "denied"
# The agent went offline another way (forced, or a later logout the guard allowed).
CLOSED = "closed"


@dataclass(slots=True, eq=False)
class LogoutRequest:
    id: str
    agent_id: str
    requested_at: int
    status: str = PENDING
    attempts: int = 1
    decided_at: int | None = None
    decided_by: str | None = None
