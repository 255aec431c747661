"""The assignment lifecycle: first responses, response timeouts, wrap-up ends.

`responded` records the first reply of an assigned order. `fire_due` runs the
deadlines due by the command's time, earliest first (engine.deadlines): an order
with no first response within `response_timeout_s` is taken back from its agent,
who goes `not_responding` (presence decides), and placed again with the router's
one re-routing rule (never the same agent while another eligible one has room);
an agent's wrap-up slots that ended free their capacity, which serves the queue.
What they do is emitted as events, so replay applies it and never runs a timer.
"""

from __future__ import annotations

from engine import commands as cmd
from engine import events as ev
from engine import routing
from engine.changes import Changes, Reply
from engine.deadlines import RESPOND
from engine.errors import Conflict, Forbidden, NotFound
from engine.views import order_view
from presence import guard
from router import policy
from router.order import ASSIGNED, SHOWN_STATUS, Order


def assigned_order(ch: Changes, order_id: str, as_agent: str | None) -> Order:
    """The order a platform or its agent acts on; an agent key learns nothing of others'
    orders, not even whether one exists (the same 403 for an unknown id)."""
    order = ch.find(order_id)
    if as_agent is not None and (order is None or as_agent != order.agent_id):
        raise Forbidden(f"order {order_id!r} is not assigned to agent {as_agent!r}")
    if order is None:
        raise NotFound(f"order {order_id!r} does not exist", code="order_not_found")
    return order


def not_assigned(order: Order) -> Conflict:
    return Conflict(
        f"order {order.id!r} is {SHOWN_STATUS[order.status]}, not assigned",
        code="order_not_assigned",
    )


def responded(ch: Changes, c: cmd.RecordResponse) -> Reply:
    """The first reply reached the customer; again (a retry) is a no-op answered 200."""
    order = assigned_order(ch, c.order_id, c.as_agent)
    if order.first_response_at is None:
        if order.status != ASSIGNED or order.agent_id is None:
            raise not_assigned(order)
        ch.emit(ev.OrderResponded(order.id, order.agent_id))
    return Reply(200, order_view(order))


def fire_timers(ch: Changes, c: cmd.FireTimers) -> Reply:
    fire_due(ch)
    return Reply(200, None)


def fire_due(ch: Changes) -> None:
    """Everything due by `ch.now`, earliest first; each sees what the one before did."""
    deadlines = ch.state.deadlines
    while (due := deadlines.pop(ch.now)) is not None:
        kind, key = due
        if kind == RESPOND:
            _time_out(ch, key)
        else:
            _end_wrap_up(ch, key)


def _time_out(ch: Changes, order_id: str) -> None:
    state = ch.state
    order = state.orders[order_id]
    if order.status != ASSIGNED or order.agent_id is None or order.first_response_at is not None:
        return  # the fold cancels such deadlines; nothing to take back
    agent = state.agents[order.agent_id]
    ch.emit(*guard.response_timeout(agent, order_id))
    ch.emit(policy.take_back(agent, order))
    routing.place(ch, order_id, avoid=agent.id)


def _end_wrap_up(ch: Changes, agent_id: str) -> None:
    agent = ch.state.agents[agent_id]
    ch.emit(*guard.wrap_up_ended(agent, ch.now))
    routing.serve(ch, agent)
