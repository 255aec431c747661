"""The routing rules of API.md, as decisions: state in, router events out.

- eligible: available, has the skill (or the order needs none), load < capacity;
- lowest load/capacity wins; ties: idle longest (oldest last assignment), then the
  smaller id; an agent handing over at shift end is chosen only when no other
  eligible agent has room;
- no eligible agent: the order waits in its queue, served by priority then age
  (`queue_key`); capacity that appears serves the queue at once;
- an agent going offline releases its open orders, best first, to be placed again.

Pure: the index and the queues are data the engine owns and mutates while applying
the events these return (dropping stale index entries, a cache housekeeping step, is
the one write a decision makes). Each decision is O(log n) in the number of agents.
"""

from __future__ import annotations

from collections.abc import Mapping

from presence.agent import AVAILABLE, Agent
from router.events import OrderAssigned, OrderQueued, OrderReleased
from router.index import AgentIndex
from router.order import Order, queue_key
from router.queue import OrderQueues


def place(index: AgentIndex, order: Order) -> OrderAssigned | OrderQueued:
    """Place one order that is being routed: to the best eligible agent, else its queue."""
    agent = index.best(order.skill)
    return OrderQueued(order.id) if agent is None else OrderAssigned(order.id, agent.id)


def serve(queues: OrderQueues, agent: Agent) -> list[OrderAssigned]:
    """Capacity appeared on this agent: the waiting orders it takes now, best first."""
    if agent.state != AVAILABLE or not queues.size:
        return []
    room = agent.capacity - len(agent.open_orders)
    if room == 1:  # the common case, a completion that freed one slot: the best head only
        order_id = queues.best_for(agent.skills)
        return [] if order_id is None else [OrderAssigned(order_id, agent.id)]
    return [OrderAssigned(order_id, agent.id) for order_id in queues.first_for(agent.skills, room)]


def release(agent: Agent, orders: Mapping[str, Order]) -> list[OrderReleased]:
    """The agent went offline: its open orders go back to routing, best first."""
    held = sorted(agent.open_orders, key=lambda o: queue_key(orders[o]))
    return [OrderReleased(order_id, agent.id) for order_id in held]
