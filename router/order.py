"""The order record as routing and the API see it."""

from __future__ import annotations

from dataclasses import dataclass

QUEUED = "queued"
ASSIGNED = "assigned"
COMPLETED = "completed"

PRIORITY_MIN = 0
PRIORITY_MAX = 9


@dataclass(slots=True, eq=False)
class Order:
    id: str
    skill: str | None
    priority: int
    digest: bytes
    # Arrival sequence number: FIFO order within a priority, kept across re-routing.
    seq: int
    created_at: int
    status: str = QUEUED
    agent_id: str | None = None
    assigned_at: int | None = None
    completed_at: int | None = None
    qa_passed: bool | None = None
