"""The order record as routing and the API see it."""

from __future__ import annotations

from msgspec import Struct

QUEUED = "queued"
ASSIGNED = "assigned"
COMPLETED = "completed"

PRIORITY_MIN = 0
PRIORITY_MAX = 9


class Order(Struct, gc=False):
    """Only scalar fields, so the garbage collector need not track it (gc=False): a
    month holds about a million orders, and tracked ones make every full collection
    walk them all, a pause on the routing path."""

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
