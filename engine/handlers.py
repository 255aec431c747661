"""Command handlers: check everything, then emit events; each event is applied at once.

A handler validates the whole command before its first `emit`, so a refused
command changes nothing. Routing steps interleave with application (order 2 of a
batch sees the load order 1 added), which is why emit applies immediately.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import astuple, dataclass, field
from typing import Any

from engine import commands as cmd
from engine import events as ev
from engine.errors import Conflict, Forbidden, Invalid, NotFound, SeatflowError
from engine.payroll.scheme import check_scheme
from engine.payroll.views import scheme_view
from engine.settings import Settings
from engine.state import ROUTING, State, apply
from engine.views import (
    AgentView,
    BatchResult,
    ErrorBody,
    ErrorInfo,
    LogoutDone,
    LogoutPending,
    OrderView,
    StateView,
    agent_view,
    order_view,
    request_view,
    settings_view,
)
from presence import guard
from presence.agent import OFFLINE, Agent
from router.order import ASSIGNED, COMPLETED
from router.policy import choose_agent, next_queued_for

ROLES = ("admin", "supervisor", "platform", "agent", "payroll")


@dataclass(slots=True)
class Reply:
    """A handler's answer: an HTTP-like status and the body to encode."""

    status: int
    body: Any


@dataclass(slots=True)
class Tx:
    state: State
    now: int
    events: list[ev.Event] = field(default_factory=list)

    def emit(self, *events: ev.Event) -> None:
        for e in events:
            apply(self.state, e, self.now)
            self.events.append(e)


def _agent(state: State, agent_id: str) -> Agent:
    agent = state.agents.get(agent_id)
    if agent is None:
        raise NotFound(f"agent {agent_id!r} does not exist", code="agent_not_found")
    return agent


# -- routing steps ---------------------------------------------------------------


def _route(tx: Tx, order_id: str) -> None:
    """Place one order that is being routed: to the best agent, else into its queue."""
    order = tx.state.orders[order_id]
    agent = choose_agent(tx.state.index, order.skill)
    tx.emit(ev.OrderAssigned(order_id, agent.id) if agent else ev.OrderQueued(order_id))


def _serve(tx: Tx, agent: Agent) -> None:
    """Capacity appeared on this agent: it takes waiting orders while it has room."""
    while (order_id := next_queued_for(tx.state.queues, agent)) is not None:
        tx.emit(ev.OrderAssigned(order_id, agent.id))


def _release(tx: Tx, agent: Agent) -> list[str]:
    """The agent went offline: its open orders go back to routing, best first."""
    orders = tx.state.orders
    released = sorted(agent.open_orders, key=lambda o: (-orders[o].priority, orders[o].seq))
    for order_id in released:
        tx.emit(ev.OrderReleased(order_id, agent.id))
    for order_id in released:
        _route(tx, order_id)
    return released


def _offline_with_release(tx: Tx, events: list[ev.Event], agent: Agent) -> list[str]:
    tx.emit(*events)
    return _release(tx, agent) if agent.state == OFFLINE else []


# -- agents and roster ------------------------------------------------------------


def upsert_agent(tx: Tx, c: cmd.UpsertAgent) -> Reply:
    event = guard.check_agent(c.agent_id, c.name, c.team, c.skills, c.capacity)
    created = c.agent_id not in tx.state.agents
    tx.emit(event)
    agent = tx.state.agents[c.agent_id]
    _serve(tx, agent)
    return Reply(201 if created else 200, agent_view(agent))


def add_shifts(tx: Tx, c: cmd.AddShifts) -> Reply:
    # roles.md checks the body (422) before ids (404): a backwards shift is 422 for anyone.
    tx.state.roster.check_new(c.shifts)
    for i, s in enumerate(c.shifts):
        if s.agent_id not in tx.state.agents:
            raise NotFound(
                f"shifts[{i}]: agent {s.agent_id!r} does not exist",
                code="agent_not_found",
                detail={"field": f"shifts[{i}].agent_id"},
            )
    if c.shifts:
        tx.emit(ev.ShiftsAdded(tuple(c.shifts)))
    return Reply(200, None)


def login(tx: Tx, c: cmd.Login) -> Reply:
    agent = _agent(tx.state, c.agent_id)
    tx.emit(*guard.login(agent))
    _serve(tx, agent)
    return Reply(200, StateView(agent.state))


def go_away(tx: Tx, c: cmd.GoAway) -> Reply:
    agent = _agent(tx.state, c.agent_id)
    tx.emit(*guard.away(agent, c.reason))
    return Reply(200, StateView(agent.state))


def go_available(tx: Tx, c: cmd.GoAvailable) -> Reply:
    agent = _agent(tx.state, c.agent_id)
    tx.emit(*guard.available(agent))
    _serve(tx, agent)
    return Reply(200, StateView(agent.state))


def logout(tx: Tx, c: cmd.Logout) -> Reply:
    state = tx.state
    agent = _agent(state, c.agent_id)
    grace_ms = state.settings.logout_grace_s * 1000
    events = guard.logout(agent, state.roster, tx.now, grace_ms, state.next_request_id())
    reassigned = _offline_with_release(tx, events, agent)
    if agent.state == OFFLINE:
        return Reply(200, LogoutDone(OFFLINE, reassigned))
    request = state.requests[agent.pending_request or ""]
    return Reply(202, LogoutPending(agent.state, request_view(request)))


def force_logout(tx: Tx, c: cmd.ForceLogout) -> Reply:
    agent = _agent(tx.state, c.agent_id)
    reassigned = _offline_with_release(tx, guard.force_logout(agent, c.by), agent)
    return Reply(200, LogoutDone(OFFLINE, reassigned))


def _request(state: State, request_id: str):  # type: ignore[no-untyped-def]
    request = state.requests.get(request_id)
    if request is None:
        raise NotFound(f"logout request {request_id!r} does not exist", code="request_not_found")
    return request


def approve_logout(tx: Tx, c: cmd.ApproveLogout) -> Reply:
    request = _request(tx.state, c.request_id)
    agent = tx.state.agents[request.agent_id]
    _offline_with_release(tx, guard.approve(request, c.by), agent)
    return Reply(200, request_view(request))


def deny_logout(tx: Tx, c: cmd.DenyLogout) -> Reply:
    request = _request(tx.state, c.request_id)
    tx.emit(*guard.deny(request, c.by))
    return Reply(200, request_view(request))


# -- orders -------------------------------------------------------------------------


def _submit_one(tx: Tx, o: cmd.NewOrder) -> tuple[int, OrderView | ErrorBody]:
    existing = tx.state.orders.get(o.id)
    if existing is not None:
        if existing.digest == o.digest:
            return 200, order_view(existing)
        return 409, ErrorBody(
            ErrorInfo(
                "order_conflict",
                f"order {o.id!r} already exists with a different body",
                {"field": "id"},
            )
        )
    tx.emit(ev.OrderReceived(o.id, o.skill, o.priority, o.digest, o.payload))
    _route(tx, o.id)
    return 201, order_view(tx.state.orders[o.id])


def submit_orders(tx: Tx, c: cmd.SubmitOrders) -> Reply:
    results = [_submit_one(tx, o) for o in c.orders]
    if len(results) == 1:
        return Reply(*results[0])
    return Reply(200, BatchResult([body for _, body in results]))


def complete_order(tx: Tx, c: cmd.CompleteOrder) -> Reply:
    order = tx.state.orders.get(c.order_id)
    if order is None:
        raise NotFound(f"order {c.order_id!r} does not exist", code="order_not_found")
    # roles.md checks 403 before 409: another agent learns nothing about the order's state.
    if c.as_agent is not None and c.as_agent != order.agent_id:
        raise Forbidden(f"order {c.order_id!r} is not assigned to agent {c.as_agent!r}")
    if order.status != ASSIGNED or order.agent_id is None:
        status = "queued" if order.status == ROUTING else order.status
        raise Conflict(f"order {c.order_id!r} is {status}, not assigned", code="order_not_assigned")
    agent = tx.state.agents[order.agent_id]
    tx.emit(ev.OrderCompleted(order.id, agent.id))
    _serve(tx, agent)
    return Reply(200, order_view(order))


def record_qa(tx: Tx, c: cmd.RecordQa) -> Reply:
    order = tx.state.orders.get(c.order_id)
    if order is None:
        raise NotFound(f"order {c.order_id!r} does not exist", code="order_not_found")
    if order.status != COMPLETED:
        raise Conflict(
            f"order {c.order_id!r} is not completed; QA checks completed work",
            code="order_not_completed",
        )
    tx.emit(ev.QaRecorded(order.id, c.passed, c.by))
    return Reply(200, order_view(order))


# -- administration -----------------------------------------------------------------


def create_key(tx: Tx, c: cmd.CreateKey) -> Reply:
    if c.role not in ROLES:
        raise Invalid("role", f"role {c.role!r} is not one of {', '.join(ROLES)}")
    if c.role == "agent":
        if c.agent_id is None:
            raise Invalid("agent_id", "a key with role 'agent' needs an agent_id")
        _agent(tx.state, c.agent_id)
    elif c.agent_id is not None:
        raise Invalid("agent_id", f"a key with role {c.role!r} takes no agent_id")
    tx.emit(ev.KeyCreated(c.key_hash, c.role, c.agent_id))
    return Reply(201, None)


def change_settings(tx: Tx, c: cmd.ChangeSettings) -> Reply:
    s = Settings(
        c.logout_grace_s,
        c.stop_new_before_end_s,
        c.timezone,
        tuple(c.contest_points),
        c.warning_bottom_n,
    ).validated()
    if s != tx.state.settings:
        tx.emit(ev.SettingsChanged(*astuple(s)))
    return Reply(200, settings_view(s))


def set_payroll_scheme(tx: Tx, c: cmd.SetPayrollScheme) -> Reply:
    """Add a scheme version, or replace the one with the same effective_from."""
    s = check_scheme(c.effective_from, c.currency, c.thresholds, c.rates_cents)
    created = s.effective_from not in tx.state.schemes
    if tx.state.schemes.get(s.effective_from) != s:
        tx.emit(ev.PayrollSchemeSet(s.effective_from, s.currency, s.thresholds, s.rates_cents))
    return Reply(201 if created else 200, scheme_view(s))


def set_clock(tx: Tx, c: cmd.SetClock) -> Reply:
    # The engine runs this command at time c.to, so the record carries the new time.
    tx.emit(ev.ClockSet(c.to))
    return Reply(200, None)


HANDLERS: dict[type, Callable[[Tx, Any], Reply]] = {
    cmd.UpsertAgent: upsert_agent,
    cmd.AddShifts: add_shifts,
    cmd.Login: login,
    cmd.GoAway: go_away,
    cmd.GoAvailable: go_available,
    cmd.Logout: logout,
    cmd.ForceLogout: force_logout,
    cmd.ApproveLogout: approve_logout,
    cmd.DenyLogout: deny_logout,
    cmd.SubmitOrders: submit_orders,
    cmd.CompleteOrder: complete_order,
    cmd.RecordQa: record_qa,
    cmd.CreateKey: create_key,
    cmd.ChangeSettings: change_settings,
    cmd.SetClock: set_clock,
    cmd.SetPayrollScheme: set_payroll_scheme,
}


def handle(tx: Tx, command: cmd.Command) -> Reply:
    handler = HANDLERS.get(type(command))
    if handler is None:
        raise SeatflowError(f"no handler for command {type(command).__name__}")
    return handler(tx, command)


__all__ = ["HANDLERS", "ROLES", "Reply", "Tx", "handle", "AgentView"]
