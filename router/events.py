"""Routing events: where an order went. The router decides them; the engine applies them."""

from __future__ import annotations

from presence.events import Event


class OrderAssigned(Event):
    order_id: str
    agent_id: str


class OrderQueued(Event):
    order_id: str


class OrderReleased(Event):
    """An open order taken back from an agent going offline; it is routed again."""

    order_id: str
    agent_id: str
