"""Routing events: where an order went. The router decides them; the engine applies them."""

from __future__ import annotations

from presence.events import Event

# How an assignment was decided (the order view's `routed_by`).
BY_LOAD = "load"  # the routing rules: lowest load/capacity, idle longest, id
BY_PREFERRED = "preferred"  # the order's preferred (dedicated) agent
BY_STICKY = "sticky"  # the agent of the customer's last order inside the sticky window

# Why an order was taken back from its agent.
RELEASED_OFFLINE = "offline"  # the agent went offline
RELEASED_TIMEOUT = "response_timeout"  # no first response within response_timeout_s


class OrderAssigned(Event):
    order_id: str
    agent_id: str
    routed_by: str = BY_LOAD  # added 2026-12 (issue 14): older records were all by load


class OrderQueued(Event):
    order_id: str


class OrderReleased(Event):
    """An open order taken back from its agent; it is routed again."""

    order_id: str
    agent_id: str
    reason: str = RELEASED_OFFLINE  # added 2026-12 (issue 14)
