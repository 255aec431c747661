"""Applying the router's decisions inside a command: place, serve, release.

The engine's side of router.policy: it looks up what a decision needs (the order's
preferred agent by id, its customer's last agent inside the sticky window from
router.customers, which holds the agent itself), O(1), and emits the events the
policy returns. One rule for every path that routes an order again (a logout, a
response timeout; later a transfer or a reopen): `place` with `avoid`, never the
same agent while another eligible agent has room.
"""

from __future__ import annotations

from engine.changes import Changes
from engine.state import State
from presence.agent import Agent
from router import policy
from router.events import OrderAssigned, OrderQueued
from router.order import Order


def decision(
    state: State, order: Order, now: int, avoid: str | None = None
) -> OrderAssigned | OrderQueued:
    """The router's decision for an order being routed, with the two agents it may
    prefer looked up: its preferred agent by id, its customer's last one in the window
    (with the window off no customer is inside it: no setting read here)."""
    preferred = sticky = None
    if order.preferred_agent_id is not None:
        preferred = state.agents.get(order.preferred_agent_id)
    if order.customer_id is not None:
        sticky = state.customers.last(order.customer_id, now)
    return policy.place(state.index, order, preferred, sticky, avoid)


def place(ch: Changes, order_id: str, avoid: str | None = None) -> None:
    state = ch.state
    ch.emit(decision(state, state.orders[order_id], ch.now, avoid))


def serve(ch: Changes, agent: Agent) -> None:
    ch.emit(*policy.serve(ch.state.queues, agent))


def release(ch: Changes, agent: Agent) -> list[str]:
    """Take the agent's open orders back, then place each again, best first."""
    released = policy.release(agent, ch.state.orders)
    ch.emit(*released)
    for e in released:
        place(ch, e.order_id, avoid=agent.id)
    return [e.order_id for e in released]
