"""The routing rules of API.md, as decisions: state in, router events out.

- eligible: available, has the skill (or the order needs none), load < capacity;
- lowest load/capacity wins; ties: idle longest (oldest last assignment), then the
  smaller id; an agent handing over at shift end is chosen only when no other
  eligible agent has room;
- an order's preferred agent, then its customer's last agent (sticky, inside the
  window), gets it first when that agent is eligible and not handing over; an
  order taken back from an agent (`avoid`) goes to it again only when no other
  eligible agent has room;
- no eligible agent: the order waits in its queue, served by priority then age
  (`queue_key`); capacity that appears serves the queue at once, whoever's
  customer waits (work-conserving);
- an agent going offline releases its open orders, best first, to be placed again.

Pure: the index and the queues are data the engine owns and mutates while applying
the events these return (dropping stale index entries, a cache housekeeping step, is
the one write a decision makes). Each decision is O(log n) in the number of agents.
"""

from __future__ import annotations

from collections.abc import Mapping

from presence.agent import AVAILABLE, Agent
from router.events import (
    BY_PREFERRED,
    BY_STICKY,
    RELEASED_OFFLINE,
    RELEASED_TIMEOUT,
    OrderAssigned,
    OrderQueued,
    OrderReleased,
)
from router.index import AgentIndex
from router.order import Order, queue_key
from router.queue import OrderQueues


def place(
    index: AgentIndex,
    order: Order,
    preferred: Agent | None = None,
    sticky: Agent | None = None,
    avoid: str | None = None,
) -> OrderAssigned | OrderQueued:
    """Place one order that is being routed: to its preferred agent, then its customer's
    last agent (`sticky`), when eligible; else the best eligible agent (never `avoid`
    while another has room); else its queue. The engine looks the two agents up.

    A chosen agent gets the order when it is not handing over, is not the agent the
    order was just taken from, and is eligible by the one rule, `Agent.can_take`: the
    condition is written out for each of the two, not put in a helper, because a call
    more is a tenth of a sticky decision (bench/RESULTS.md, the assignment lifecycle)."""
    skill = order.skill
    if (
        preferred is not None
        and not preferred.handing_over
        and (avoid is None or preferred.id != avoid)
        and preferred.can_take(skill)
    ):
        return OrderAssigned(order.id, preferred.id, BY_PREFERRED)
    if (
        sticky is not None
        and not sticky.handing_over
        and (avoid is None or sticky.id != avoid)
        and sticky.can_take(skill)
    ):
        return OrderAssigned(order.id, sticky.id, BY_STICKY)
    agent = index.best(skill, avoid)
    return OrderQueued(order.id) if agent is None else OrderAssigned(order.id, agent.id)


def serve(queues: OrderQueues, agent: Agent) -> list[OrderAssigned]:
    """Capacity appeared on this agent: the waiting orders it takes now, best first."""
    if agent.state != AVAILABLE or not queues.size:
        return []
    room = agent.capacity - agent.load
    if room == 1:  # the common case, a completion that freed one slot: the best head only
        order_id = queues.best_for(agent.skills)
        return [] if order_id is None else [OrderAssigned(order_id, agent.id)]
    return [OrderAssigned(order_id, agent.id) for order_id in queues.first_for(agent.skills, room)]


def release(agent: Agent, orders: Mapping[str, Order]) -> list[OrderReleased]:
    """The agent went offline: its open orders go back to routing, best first."""
    held = sorted(agent.open_orders, key=lambda o: queue_key(orders[o]))
    return [OrderReleased(order_id, agent.id, RELEASED_OFFLINE) for order_id in held]


def take_back(agent: Agent, order: Order) -> OrderReleased:
    """No first response within the timeout: the order goes back to routing (placed
    again with `avoid` = this agent), keeping its priority and arrival."""
    return OrderReleased(order.id, agent.id, RELEASED_TIMEOUT)
