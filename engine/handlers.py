"""Command handlers: check everything, then apply what presence and the router decide.

A handler first checks the whole command (lookups, ranges, the guard's refusals),
emitting nothing: a refused command raises before its first `emit` and leaves state
and journal as they were (tests/engine/test_stateful.py holds every handler to that).
Then it applies decisions: presence's (guard) and the router's (place, serve, release)
return events, and `Changes.emit` applies each to state at once, because the next
decision must see the last one (order 2 of a batch sees the load order 1 added).
`Changes` is not a transaction: what was emitted is kept, so nothing may refuse after
it; the engine journals what a command emitted as one record.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import astuple
from typing import Any

import msgspec

from engine import archive, history, lifecycle
from engine import commands as cmd
from engine import events as ev
from engine.changes import Changes, Reply
from engine.errors import Conflict, Invalid, NotFound, SeatflowError
from engine.keys import key_id
from engine.payroll.closing import first_open_after, latest_closed
from engine.payroll.report import month_of, payroll_report
from engine.payroll.scheme import check_scheme
from engine.payroll.views import MonthClosedView, scheme_view
from engine.routing import place, release, serve
from engine.settings import Settings
from engine.state import State
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
    key_info_view,
    order_view,
    request_view,
    settings_view,
)
from presence import guard
from presence.agent import OFFLINE, Agent
from presence.requests import LogoutRequest
from presence.timeutil import format_time
from router.order import ASSIGNED, COMPLETED

ROLES = ("admin", "supervisor", "platform", "agent", "payroll")


def _agent(state: State, agent_id: str) -> Agent:
    agent = state.agents.get(agent_id)
    if agent is None:
        raise NotFound(f"agent {agent_id!r} does not exist", code="agent_not_found")
    return agent


def _offline_with_release(ch: Changes, events: list[ev.Event], agent: Agent) -> list[str]:
    ch.emit(*events)
    return release(ch, agent) if agent.state == OFFLINE else []


# -- agents and roster ------------------------------------------------------------


def upsert_agent(ch: Changes, c: cmd.UpsertAgent) -> Reply:
    event = guard.check_agent(c.agent_id, c.name, c.team, c.skills, c.capacity)
    created = c.agent_id not in ch.state.agents
    ch.emit(event)
    agent = ch.state.agents[c.agent_id]
    serve(ch, agent)
    return Reply(201 if created else 200, agent_view(agent))


def add_shifts(ch: Changes, c: cmd.AddShifts) -> Reply:
    # roles.md checks the body (422) before ids (404): a backwards shift is 422 for anyone.
    ch.state.roster.check_new(c.shifts)
    history.check_shifts(ch.state, c.shifts)
    for i, s in enumerate(c.shifts):
        if s.agent_id not in ch.state.agents:
            raise NotFound(
                f"shifts[{i}]: agent {s.agent_id!r} does not exist",
                code="agent_not_found",
                detail={"field": f"shifts[{i}].agent_id"},
            )
    if c.shifts:
        ch.emit(ev.ShiftsAdded(tuple(c.shifts)))
    return Reply(200, None)


def fold_presence(ch: Changes, c: cmd.FoldPresence) -> Reply:
    """Fold presence history before the horizon into the day book, if any is due."""
    before = history.fold_target(ch.state, ch.now)
    if before is not None:
        ch.emit(ev.PresenceFolded(before))
    return Reply(200, before)


def login(ch: Changes, c: cmd.Login) -> Reply:
    agent = _agent(ch.state, c.agent_id)
    ch.emit(*guard.login(agent))
    serve(ch, agent)
    return Reply(200, StateView(agent.state))


def go_away(ch: Changes, c: cmd.GoAway) -> Reply:
    agent = _agent(ch.state, c.agent_id)
    ch.emit(*guard.away(agent, c.reason))
    return Reply(200, StateView(agent.state))


def go_available(ch: Changes, c: cmd.GoAvailable) -> Reply:
    agent = _agent(ch.state, c.agent_id)
    ch.emit(*guard.available(agent))
    serve(ch, agent)
    return Reply(200, StateView(agent.state))


def logout(ch: Changes, c: cmd.Logout) -> Reply:
    state = ch.state
    agent = _agent(state, c.agent_id)
    grace_ms = state.settings.logout_grace_s * 1000
    events = guard.logout(agent, state.roster, ch.now, grace_ms, state.next_request_id())
    reassigned = _offline_with_release(ch, events, agent)
    if agent.state == OFFLINE:
        return Reply(200, LogoutDone(OFFLINE, reassigned))
    request = state.requests[agent.pending_request or ""]
    return Reply(202, LogoutPending(agent.state, request_view(request)))


def force_logout(ch: Changes, c: cmd.ForceLogout) -> Reply:
    agent = _agent(ch.state, c.agent_id)
    reassigned = _offline_with_release(ch, guard.force_logout(agent, c.by), agent)
    return Reply(200, LogoutDone(OFFLINE, reassigned))


def _request(state: State, request_id: str) -> LogoutRequest:
    request = state.requests.get(request_id)
    if request is None and state.request_issued(request_id):
        raise Conflict(
            f"logout request {request_id!r} was decided before "
            f"{format_time(state.history_from)}: only its audit counts are kept",
            code="request_not_pending",
        )
    if request is None:
        raise NotFound(f"logout request {request_id!r} does not exist", code="request_not_found")
    return request


def approve_logout(ch: Changes, c: cmd.ApproveLogout) -> Reply:
    request = _request(ch.state, c.request_id)
    agent = ch.state.agents[request.agent_id]
    _offline_with_release(ch, guard.approve(request, c.by), agent)
    return Reply(200, request_view(request))


def deny_logout(ch: Changes, c: cmd.DenyLogout) -> Reply:
    request = _request(ch.state, c.request_id)
    ch.emit(*guard.deny(request, c.by))
    return Reply(200, request_view(request))


# -- orders -------------------------------------------------------------------------


def _submit_one(ch: Changes, o: cmd.NewOrder) -> tuple[int, OrderView | ErrorBody]:
    existing = ch.find(o.id)
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
    ch.emit(
        ev.OrderReceived(
            o.id, o.skill, o.priority, o.digest, o.payload, o.customer_id, o.preferred_agent_id
        )
    )
    place(ch, o.id)
    return 201, order_view(ch.state.orders[o.id])


def submit_orders(ch: Changes, c: cmd.SubmitOrders) -> Reply:
    results = [_submit_one(ch, o) for o in c.orders]
    if len(results) == 1:
        return Reply(*results[0])
    return Reply(200, BatchResult([body for _, body in results]))


def complete_order(ch: Changes, c: cmd.CompleteOrder) -> Reply:
    """Completion frees the slot, or holds it in wrap-up for `wrap_up_s` (then the clock
    frees it, engine.lifecycle); a freed slot serves the queue at once."""
    order = lifecycle.assigned_order(ch, c.order_id, c.as_agent)
    if order.status != ASSIGNED or order.agent_id is None:
        raise lifecycle.not_assigned(order)
    agent = ch.state.agents[order.agent_id]
    wrap_s = ch.state.settings.wrap_up_s
    ch.emit(ev.OrderCompleted(order.id, agent.id, ch.now + wrap_s * 1000 if wrap_s else 0))
    serve(ch, agent)
    return Reply(200, order_view(order))


def record_qa(ch: Changes, c: cmd.RecordQa) -> Reply:
    """A QA result counts on its order's completion day, archived orders' too: their
    event carries what the fold needs of them, and their row is written again."""
    order = ch.find(c.order_id)
    if order is None:
        raise NotFound(f"order {c.order_id!r} does not exist", code="order_not_found")
    if order.status != COMPLETED:
        raise Conflict(
            f"order {c.order_id!r} is not completed; QA checks completed work",
            code="order_not_completed",
        )
    if not order.archived:
        ch.emit(ev.QaRecorded(order.id, c.passed, c.by))
        return Reply(200, order_view(order))
    updated = msgspec.structs.replace(order, qa_passed=c.passed)
    ch.write_archive([updated])
    ch.emit(
        ev.QaRecorded(
            order.id, c.passed, c.by, True, order.agent_id, order.completed_at, order.qa_passed
        )
    )
    return Reply(200, order_view(updated))


# -- administration -----------------------------------------------------------------


def create_key(ch: Changes, c: cmd.CreateKey) -> Reply:
    if c.role not in ROLES:
        raise Invalid("role", f"role {c.role!r} is not one of {', '.join(ROLES)}")
    if c.role == "agent":
        if c.agent_id is None:
            raise Invalid("agent_id", "a key with role 'agent' needs an agent_id")
        _agent(ch.state, c.agent_id)
    elif c.agent_id is not None:
        raise Invalid("agent_id", f"a key with role {c.role!r} takes no agent_id")
    taken = ch.state.key_ids.get(key_id(c.key_hash))
    if taken is not None:  # a 48-bit id prefix shared by two random keys: vanishingly rare
        raise Conflict(
            "a key with the same public id exists; create the key again", code="key_exists"
        )
    ch.emit(ev.KeyCreated(c.key_hash, c.role, c.agent_id))
    return Reply(201, None)


def revoke_key(ch: Changes, c: cmd.RevokeKey) -> Reply:
    """Revoked at once and for good; revoking a revoked key again changes nothing."""
    key_hash = ch.state.key_ids.get(c.key_id)
    if key_hash is None:
        raise NotFound(f"key {c.key_id!r} does not exist", code="key_not_found")
    key = ch.state.keys[key_hash]
    if not key.revoked:
        ch.emit(ev.KeyRevoked(key_hash, c.by))
    return Reply(200, key_info_view(key))


def change_settings(ch: Changes, c: cmd.ChangeSettings) -> Reply:
    s = Settings(
        c.logout_grace_s,
        c.stop_new_before_end_s,
        c.timezone,
        tuple(c.contest_points),
        c.warning_bottom_n,
        c.language,
        c.response_timeout_s,
        c.wrap_up_s,
        c.sticky_window_s,
        c.order_retention_days,
    ).validated()
    closed = latest_closed(ch.state.closed_months)
    if closed is not None and s.timezone != ch.state.settings.timezone:
        raise Conflict(
            f"payroll month {closed} is closed: changing the time zone would move paid work "
            "between months",
            code="timezone_locked",
        )
    if (ch.state.counters.archived or ch.state.history_from) and (
        s.timezone != ch.state.settings.timezone
    ):
        raise Conflict(
            "orders are archived or presence days folded: their work is counted by local "
            "day in the time zone in force, which can no longer change",
            code="timezone_locked",
        )
    if s != ch.state.settings:
        ch.emit(ev.SettingsChanged(*astuple(s)))
        lifecycle.fire_due(ch)  # a shorter timeout may make responses overdue now
    return Reply(200, settings_view(s))


def set_payroll_scheme(ch: Changes, c: cmd.SetPayrollScheme) -> Reply:
    """Add a scheme version, or replace the one with the same effective_from."""
    s = check_scheme(c.effective_from, c.currency, c.thresholds, c.rates_cents)
    closed = latest_closed(ch.state.closed_months)
    if closed is not None and s.effective_from <= closed:
        raise Conflict(
            f"payroll month {closed} is closed: a scheme can take effect from "
            f"{first_open_after(ch.state.closed_months, closed)} on, not {s.effective_from}",
            code="month_closed",
        )
    created = s.effective_from not in ch.state.schemes
    if ch.state.schemes.get(s.effective_from) != s:
        ch.emit(ev.PayrollSchemeSet(s.effective_from, s.currency, s.thresholds, s.rates_cents))
    return Reply(201 if created else 200, scheme_view(s))


def close_payroll_month(ch: Changes, c: cmd.ClosePayrollMonth) -> Reply:
    """Freeze a month that has ended (in the center's time zone); closing twice is a no-op."""
    month = month_of(ch.state, c.month)
    done = ch.state.closed_months.get(month.text)
    if done is not None:
        frozen = payroll_report(ch.state, month.text, ch.now)  # the frozen report, decoded
        return Reply(200, MonthClosedView(month.text, format_time(done.closed_at), frozen.totals))
    if ch.now < month.hi:
        raise Conflict(
            f"payroll month {month.text} has not ended: it ends at {format_time(month.hi)} "
            f"({ch.state.settings.timezone})",
            code="month_not_over",
            detail={"ends_at": format_time(month.hi)},
        )
    report = payroll_report(ch.state, month.text, ch.now)
    report.closed_at = format_time(ch.now)
    frozen_report = msgspec.json.encode(report)
    ch.emit(ev.PayrollMonthClosed(month.text, c.by, frozen_report))
    ch.closed_writes.append((month.text, frozen_report))
    return Reply(200, MonthClosedView(month.text, report.closed_at, report.totals))


def set_clock(ch: Changes, c: cmd.SetClock) -> Reply:
    # The engine runs this command at time c.to, so the record carries the new time.
    ch.emit(ev.ClockSet(c.to))
    return Reply(200, None)


HANDLERS: dict[type, Callable[[Changes, Any], Reply]] = {
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
    cmd.RecordResponse: lifecycle.responded,
    cmd.FireTimers: lifecycle.fire_timers,
    cmd.ArchiveOrders: archive.archive_orders,
    cmd.FoldPresence: fold_presence,
    cmd.RecordQa: record_qa,
    cmd.CreateKey: create_key,
    cmd.RevokeKey: revoke_key,
    cmd.ChangeSettings: change_settings,
    cmd.SetClock: set_clock,
    cmd.SetPayrollScheme: set_payroll_scheme,
    cmd.ClosePayrollMonth: close_payroll_month,
}


def handle(ch: Changes, command: cmd.Command) -> Reply:
    handler = HANDLERS.get(type(command))
    if handler is None:
        raise SeatflowError(f"no handler for command {type(command).__name__}")
    return handler(ch, command)


__all__ = ["HANDLERS", "ROLES", "AgentView", "Changes", "Reply", "handle"]
