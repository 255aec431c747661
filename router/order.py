"""The order record as routing and the API see it, its statuses, and the queue order."""

from __future__ import annotations

from msgspec import Struct

QUEUED = "queued"
ASSIGNED = "assigned"
COMPLETED = "completed"
# Between arrival (or release from an agent going offline) and its routing decision;
# never seen outside one journal record.
ROUTING = "routing"

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
    # The assignment lifecycle (issue 14): who the customer is and whom they prefer,
    # how the last assignment was decided, when (and by whom, how fast after its
    # assignment) the first reply reached the customer, how often it was taken back.
    customer_id: str | None = None
    preferred_agent_id: str | None = None
    # The preferred agent did not exist when the order arrived: routed by the rules.
    preferred_unknown: bool = False
    routed_by: str | None = None
    first_response_at: int | None = None
    responded_by: str | None = None
    response_ms: int | None = None
    reassignments: int = 0
    # Read back from the archive (engine.archive): past the retention window, not in memory.
    archived: bool = False


# The status a reader sees, by internal status: an order being routed is, to anyone
# outside, waiting. A table, not a function: every order view reads it on the hot path.
SHOWN_STATUS = {QUEUED: QUEUED, ASSIGNED: ASSIGNED, COMPLETED: COMPLETED, ROUTING: QUEUED}


def queue_key(order: Order) -> tuple[int, int, str]:
    """Service order of waiting orders: highest priority first, then oldest arrival.

    The id rides along (arrival sequences are unique, so it never decides) so that the
    key is also the queue's heap entry: one rule, one function call on the hot path.
    """
    return -order.priority, order.seq, order.id
