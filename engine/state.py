"""The in-memory state of one center, and `apply`: the fold of journal events into it.

`apply` is the only code that mutates state; the engine calls it for each event a
command produces, and replay calls it for each journaled event, so a restart
rebuilds exactly the state that was acknowledged.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left, insort
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from engine import events as ev
from engine.archived_ids import ArchivedIds
from engine.calendar import LocalDays
from engine.deadlines import RESPOND, WRAP, Deadlines
from engine.keys import ApiKey, key_id
from engine.payroll.closing import ClosedMonth, first_open_after, month_of_day
from engine.payroll.scheme import Scheme
from engine.payroll.tallies import Tallies
from engine.settings import Settings
from presence.agent import AVAILABLE, AWAY, NOT_RESPONDING, OFFLINE, Agent
from presence.daybook import DayBook, row_of
from presence.requests import APPROVED, CLOSED, DENIED, LogoutRequest
from presence.roster import Roster
from presence.timeline import split_time
from router.customers import Customers
from router.index import AgentIndex
from router.order import ASSIGNED, COMPLETED, QUEUED, ROUTING, Order
from router.queue import OrderQueues


@dataclass(slots=True)
class Counters:
    received: int = 0
    assigned: int = 0
    queued: int = 0
    completed: int = 0
    released: int = 0
    responded: int = 0  # first responses
    timed_out: int = 0  # orders taken back for no first response within the timeout
    archived: int = 0  # completed orders moved to the archive (engine.archive)


@dataclass(slots=True, frozen=True)
class AuditEntry:
    at: int
    agent_id: str
    action: str
    request_id: str | None = None
    by: str | None = None
    order_id: str | None = None  # response_timeout: the order left unanswered


@dataclass(slots=True, eq=False)
class State:
    agents: dict[str, Agent] = field(default_factory=dict)
    roster: Roster = field(default_factory=Roster)
    # Logout requests pending, or decided since `history_from`; `request_seq` counts every
    # request ever made (ids lr-1, lr-2, ...), so a request folded away is known as decided.
    requests: dict[str, LogoutRequest] = field(default_factory=dict)
    orders: dict[str, Order] = field(default_factory=dict)
    queues: OrderQueues = field(default_factory=OrderQueues)
    index: AgentIndex = field(init=False)
    # By SHA-256 digest; revoked keys stay (few, and listed). `key_ids`: public id -> digest.
    keys: dict[str, ApiKey] = field(default_factory=dict)
    key_ids: dict[str, str] = field(default_factory=dict)
    settings: Settings = field(default_factory=Settings)
    counters: Counters = field(default_factory=Counters)
    audit: list[AuditEntry] = field(default_factory=list)
    # Per agent, every state change as (at, new state): the base of time accounting.
    transitions: dict[str, list[tuple[int, str]]] = field(default_factory=dict)
    # Time of the last applied record (epoch ms); the clock never goes behind it.
    now: int = 0
    order_seq: int = 0
    request_seq: int = 0
    # (when, agent_id): moments an agent's handover status may change. `timer_at` holds
    # each agent's one live timer, so re-scheduling does not pile up duplicates.
    timers: list[tuple[int, str]] = field(default_factory=list)
    timer_at: dict[str, int] = field(default_factory=dict)
    # Completed orders and QA results per agent per local day (engine.payroll.tallies).
    tallies: Tallies = field(default_factory=Tallies)
    # Piece-rate scheme versions by effective_from month ("YYYY-MM").
    schemes: dict[str, Scheme] = field(default_factory=dict)
    # Closed payroll months, and what arrived about them since, not yet carried by the
    # first open month after them: (month, agent) -> [late QA results, change in passed].
    closed_months: dict[str, ClosedMonth] = field(default_factory=dict)
    late: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    # Response timeouts and wrap-up ends still to come (engine.deadlines; a cache).
    deadlines: Deadlines = field(default_factory=Deadlines)
    # Per returning customer, its last agent inside the sticky window (router.customers).
    customers: Customers = field(default_factory=Customers)
    # Ids of completed orders in memory, in completion order: the front is the next to
    # leave for the archive (engine.archive; a cache, rebuilt from the orders).
    done: deque[str] = field(default_factory=deque)
    # Every id that left for the archive, as a fixed-size Bloom filter: a new order's id
    # reads no archive (engine.archived_ids).
    archived_ids: ArchivedIds = field(default_factory=ArchivedIds)
    # Presence history before `history_from` (a local midnight) is kept per agent per
    # day in the day book, not as transitions, shifts and audit (engine.history).
    daybook: DayBook = field(default_factory=DayBook)
    history_from: int = 0  # none folded
    # Caches of engine.history: the local-day calendar, and until when no fold is due.
    local_days: LocalDays = field(default_factory=lambda: LocalDays("UTC"))
    fold_checked_until: int = 0

    def __post_init__(self) -> None:
        self.index = AgentIndex(self.agents)

    def advance(self, now: int) -> None:
        """Move state time to `now`, re-ranking agents whose handover status changed."""
        if now > self.now:
            self.now = now
        timers = self.timers
        while timers and timers[0][0] <= now:
            when, agent_id = heapq.heappop(timers)
            if self.timer_at.get(agent_id) == when:
                del self.timer_at[agent_id]
                _rewind(self, agent_id, now)

    def rearm_timers(self) -> None:
        """Schedule every agent's next handover change afresh (a state built, not replayed)."""
        self.timers, self.timer_at = [], {}
        for agent_id in self.agents:
            _rewind(self, agent_id, self.now)

    def next_request_id(self) -> str:
        return f"lr-{self.request_seq + 1}"

    def request_issued(self, request_id: str) -> bool:
        """Was `request_id` ever handed out (kept, or folded away once decided)?"""
        n = request_id.removeprefix("lr-")
        if not (n.isascii() and n.isdigit()) or len(n) > len(str(self.request_seq)):
            return False  # also keeps int() off a 5,000-digit id from the URL
        return request_id == f"lr-{int(n)}" and 0 < int(n) <= self.request_seq


def _rewind(state: State, agent_id: str, at: int) -> None:
    agent = state.agents.get(agent_id)
    if agent is None:
        return
    handing_over, _, change_at = state.roster.handover(
        agent_id, at, state.settings.stop_new_before_end_s * 1000
    )
    if handing_over != agent.handing_over:
        agent.handing_over = handing_over
        state.index.refresh(agent)
    if change_at is None:
        state.timer_at.pop(agent_id, None)
    elif state.timer_at.get(agent_id) != change_at:
        state.timer_at[agent_id] = change_at
        heapq.heappush(state.timers, (change_at, agent_id))


def _set_state(state: State, agent: Agent, new: str, at: int, reason: str | None = None) -> None:
    if agent.state != new:
        agent.state_since = at
        state.transitions.setdefault(agent.id, []).append((at, new))
    agent.state = new
    agent.reason = reason
    state.index.refresh(agent)


def _agent_upserted(state: State, e: ev.AgentUpserted, at: int) -> None:
    agent = state.agents.get(e.agent_id)
    if agent is None:
        agent = state.agents[e.agent_id] = Agent(
            e.agent_id, e.name, e.team, e.skills, e.capacity, state_since=at
        )
        _rewind(state, e.agent_id, at)
    else:
        agent.name, agent.team, agent.skills, agent.capacity = e.name, e.team, e.skills, e.capacity
    state.index.refresh(agent)


def _shifts_added(state: State, e: ev.ShiftsAdded, at: int) -> None:
    state.roster.add(e.shifts)
    for agent_id in {s.agent_id for s in e.shifts}:
        _rewind(state, agent_id, at)


def _logged_in(state: State, e: ev.AgentLoggedIn, at: int) -> None:
    _set_state(state, state.agents[e.agent_id], AVAILABLE, at)


def _went_away(state: State, e: ev.AgentWentAway, at: int) -> None:
    _set_state(state, state.agents[e.agent_id], AWAY, at, e.reason)


def _became_available(state: State, e: ev.AgentBecameAvailable, at: int) -> None:
    _set_state(state, state.agents[e.agent_id], AVAILABLE, at)


def _logout_requested(state: State, e: ev.LogoutRequested, at: int) -> None:
    state.request_seq += 1
    state.requests[e.request_id] = LogoutRequest(e.request_id, e.agent_id, at)
    state.agents[e.agent_id].pending_request = e.request_id
    state.audit.append(AuditEntry(at, e.agent_id, "logout_requested", e.request_id))


def _logout_repeated(state: State, e: ev.LogoutRepeated, at: int) -> None:
    state.requests[e.request_id].attempts += 1
    state.audit.append(AuditEntry(at, e.agent_id, "logout_repeated", e.request_id))


def _close_request(state: State, request_id: str, status: str, at: int, by: str | None) -> None:
    request = state.requests[request_id]
    request.status, request.decided_at, request.decided_by = status, at, by
    state.agents[request.agent_id].pending_request = None


def _logout_denied(state: State, e: ev.LogoutDenied, at: int) -> None:
    _close_request(state, e.request_id, DENIED, at, e.by)
    agent_id = state.requests[e.request_id].agent_id
    state.audit.append(AuditEntry(at, agent_id, "logout_denied", e.request_id, e.by))


def _logged_out(state: State, e: ev.AgentLoggedOut, at: int) -> None:
    if e.request_id is not None:
        _close_request(state, e.request_id, APPROVED if e.how == "approved" else CLOSED, at, e.by)
    agent = state.agents[e.agent_id]
    agent.wrap_ends.clear()  # offline: wrap-up is over
    _wrap_deadline(state, agent)
    _set_state(state, agent, OFFLINE, at)
    action = {"self": "logout", "approved": "logout_approved", "forced": "logout_forced"}[e.how]
    state.audit.append(AuditEntry(at, e.agent_id, action, e.request_id, e.by))


def _order_received(state: State, e: ev.OrderReceived, at: int) -> None:
    state.order_seq += 1
    preferred = e.preferred_agent_id
    state.orders[e.order_id] = Order(
        e.order_id, e.skill, e.priority, e.digest, state.order_seq, at, status=ROUTING,
        customer_id=e.customer_id, preferred_agent_id=preferred,
        preferred_unknown=preferred is not None and preferred not in state.agents,
    )  # fmt: skip
    state.counters.received += 1


def _order_assigned(state: State, e: ev.OrderAssigned, at: int) -> None:
    order = state.orders[e.order_id]
    if order.status == QUEUED:
        state.queues.remove(order)
    order.status, order.agent_id, order.assigned_at = ASSIGNED, e.agent_id, at
    order.routed_by = e.routed_by
    agent = state.agents[e.agent_id]
    agent.open_orders[e.order_id] = None
    agent.last_assigned_at = at
    state.index.refresh(agent)
    state.counters.assigned += 1
    settings = state.settings
    if settings.response_timeout_s and order.first_response_at is None:
        state.deadlines.set(RESPOND, order.id, at + settings.response_timeout_s * 1000)
    if order.customer_id is not None and settings.sticky_window_s:
        state.customers.seen(order.customer_id, agent, at, settings.sticky_window_s * 1000)


def _order_queued(state: State, e: ev.OrderQueued, at: int) -> None:
    order = state.orders[e.order_id]
    order.status = QUEUED
    state.queues.push(order)
    state.counters.queued += 1


def _order_released(state: State, e: ev.OrderReleased, at: int) -> None:
    order = state.orders[e.order_id]
    order.status, order.agent_id = ROUTING, None
    order.reassignments += 1
    agent = state.agents[e.agent_id]
    del agent.open_orders[e.order_id]
    state.index.refresh(agent)
    state.counters.released += 1
    state.deadlines.cancel(RESPOND, order.id)


def _order_completed(state: State, e: ev.OrderCompleted, at: int) -> None:
    order = state.orders[e.order_id]
    order.status, order.completed_at = COMPLETED, at
    agent = state.agents[e.agent_id]
    del agent.open_orders[e.order_id]
    if e.wrap_until > at:
        insort(agent.wrap_ends, e.wrap_until)
        state.deadlines.set(WRAP, agent.id, agent.wrap_ends[0])
    state.index.refresh(agent)
    state.counters.completed += 1
    state.done.append(order.id)
    state.tallies.completed(e.agent_id, at)
    state.deadlines.cancel(RESPOND, order.id)
    window_s = state.settings.sticky_window_s
    if order.customer_id is not None and window_s:
        state.customers.seen(order.customer_id, agent, at, window_s * 1000)


def _order_responded(state: State, e: ev.OrderResponded, at: int) -> None:
    order = state.orders[e.order_id]
    order.first_response_at, order.responded_by = at, e.agent_id
    order.response_ms = at - (order.assigned_at or at)
    state.deadlines.cancel(RESPOND, order.id)
    state.counters.responded += 1
    state.tallies.responded(e.agent_id, at, order.response_ms)


def _response_timed_out(state: State, e: ev.ResponseTimedOut, at: int) -> None:
    agent = state.agents[e.agent_id]
    _set_state(state, agent, NOT_RESPONDING, at)
    state.counters.timed_out += 1
    state.audit.append(AuditEntry(at, e.agent_id, "response_timeout", order_id=e.order_id))


def _wrap_up_ended(state: State, e: ev.WrapUpEnded, at: int) -> None:
    agent = state.agents[e.agent_id]
    del agent.wrap_ends[: e.slots]
    _wrap_deadline(state, agent)
    state.index.refresh(agent)


def _wrap_deadline(state: State, agent: Agent) -> None:
    if agent.wrap_ends:
        state.deadlines.set(WRAP, agent.id, agent.wrap_ends[0])
    else:
        state.deadlines.cancel(WRAP, agent.id)


def _qa_recorded(state: State, e: ev.QaRecorded, at: int) -> None:
    if e.archived:  # the order is in the archive: the event says what it was
        order = None
        agent_id, completed_at, before = e.agent_id, e.completed_at, e.before
    else:
        order = state.orders[e.order_id]
        agent_id, completed_at, before = order.agent_id, order.completed_at, order.qa_passed
    if agent_id is not None and completed_at is not None:
        state.tallies.qa(agent_id, completed_at, before, e.passed)
        if state.closed_months:
            month = month_of_day(state.tallies.days.ordinal(completed_at))
            if month in state.closed_months:
                row = state.late.setdefault((month, agent_id), [0, 0])
                row[0] += 1  # a QA result that came late
                row[1] += int(e.passed) - int(bool(before))
    if order is not None:
        order.qa_passed = e.passed


def _orders_archived(state: State, e: ev.OrdersArchived, at: int) -> None:
    orders, done = state.orders, state.done
    add = state.archived_ids.add
    for order_id in e.order_ids:
        del orders[order_id]
        add(order_id)
    state.counters.archived += len(e.order_ids)
    while done and done[0] not in orders:  # the archived, and any stale entry
        done.popleft()
    state.tallies.forget_responses_before(e.before)


def _presence_folded(state: State, e: ev.PresenceFolded, at: int) -> None:
    fold(state, e.before)


# -- presence history behind the window (engine.history decides when) -------------------

# audit action -> slot among the logout counts (requests, denials, approvals, forced)
COUNTED = {"logout_requested": 0, "logout_denied": 1, "logout_approved": 2, "logout_forced": 3}


def audit_counts(audit: list[AuditEntry], lo: int, hi: int) -> dict[str, list[int]]:
    """Per agent [requests, denials, approvals, forced] at lo <= at < hi; the audit is in
    time order, so the window starts by bisection."""
    counts: dict[str, list[int]] = {}
    for i in range(bisect_left(audit, lo, key=lambda e: e.at), len(audit)):
        entry = audit[i]
        if entry.at >= hi:
            break
        slot = COUNTED.get(entry.action)
        if slot is not None:
            counts.setdefault(entry.agent_id, [0, 0, 0, 0])[slot] += 1
    return counts


def local_days(state: State) -> LocalDays:
    """The center's calendar (a cache on the state, renewed when the zone changes)."""
    days = state.local_days
    if days.timezone != state.settings.timezone:
        days = state.local_days = LocalDays(state.settings.timezone)
    return days


def first_moment(state: State) -> int | None:
    """The earliest raw history there is: first transition, first shift, first entry."""
    firsts = [ts[0][0] for ts in state.transitions.values() if ts]
    firsts += [s[0][0] for a in state.roster.agents() if (s := state.roster.of(a))]
    if state.audit:
        firsts.append(state.audit[0].at)
    return min(firsts, default=None)


def fold(state: State, before: int) -> None:
    """Fold the raw history of whole local days before `before` into the day book, then
    drop it, keeping per agent the last transition and shift before it (the state it was
    in, and the shift a handover is measured against)."""
    days = local_days(state)
    lo = state.history_from or first_moment(state)
    if lo is not None and lo < before:
        agents = sorted(set(state.transitions) | set(state.roster.agents()))
        day = days.ordinal(lo)
        start = days.start(day)
        while start < before:
            end = days.start(day + 1)
            _fold_day(state, agents, start, min(end, before))
            day, start = day + 1, end
    for ts in state.transitions.values():
        k = bisect_left(ts, before, key=lambda t: t[0])
        if k > 1:
            del ts[: k - 1]
    state.roster.forget_before(before)
    del state.audit[: bisect_left(state.audit, before, key=lambda e: e.at)]
    forget_requests_decided_before(state, before)
    state.history_from = before
    state.fold_checked_until = 0


def forget_requests_decided_before(state: State, before: int) -> None:
    """Decided requests leave with their audit entries (the day book counts them); a
    pending one stays however old, as its agent still waits on it."""
    requests = state.requests
    gone = [
        k for k, r in requests.items() if r.decided_at is not None and r.decided_at < before
    ]
    for k in gone:
        del requests[k]


def _fold_day(state: State, agents: Iterable[str], lo: int, hi: int) -> None:
    logouts = audit_counts(state.audit, lo, hi)
    zero = [0, 0, 0, 0]
    rows = {}
    for agent_id in agents:
        split = split_time(state.transitions.get(agent_id, ()), state.roster.of(agent_id), lo, hi)
        counts = logouts.get(agent_id, zero)
        if split.scheduled_ms or split.outside_schedule_ms or split.on_duty_ms or any(counts):
            rows[agent_id] = row_of(split, counts)
    state.daybook.add(lo, hi, rows)


def _payroll_month_closed(state: State, e: ev.PayrollMonthClosed, at: int) -> None:
    # What this month's report carried as adjustments is paid with it: no longer late.
    carried = [k for k in state.late if first_open_after(state.closed_months, k[0]) == e.month]
    for k in carried:
        del state.late[k]
    state.closed_months[e.month] = ClosedMonth(at, e.by, e.report)


def _key_created(state: State, e: ev.KeyCreated, at: int) -> None:
    key = ApiKey(key_id(e.key_hash), e.role, e.agent_id, at)
    state.keys[e.key_hash] = key
    state.key_ids[key.id] = e.key_hash


def _key_revoked(state: State, e: ev.KeyRevoked, at: int) -> None:
    key = state.keys[e.key_hash]
    key.revoked_at = at
    key.revoked_by = e.by


def _clock_set(state: State, e: ev.ClockSet, at: int) -> None:
    pass  # the record's time is the new time; advance() already moved to it


def settings_of(e: ev.SettingsChanged) -> Settings:
    """The settings a change puts in force."""
    return Settings(
        e.logout_grace_s,
        e.stop_new_before_end_s,
        e.timezone,
        e.contest_points,
        e.warning_bottom_n,
        e.language,
        e.response_timeout_s,
        e.wrap_up_s,
        e.sticky_window_s,
        e.order_retention_days,
    )


def _settings_changed(state: State, e: ev.SettingsChanged, at: int) -> None:
    state.settings = settings_of(e)
    for agent_id in state.agents:
        _rewind(state, agent_id, at)
    _rebuild_responses(state)
    state.customers.expire(at, e.sticky_window_s * 1000)
    if e.timezone != state.tallies.timezone:
        state.tallies.rebuild(
            e.timezone,
            (
                (o.agent_id, o.completed_at, o.qa_passed)
                for o in state.orders.values()
                if o.status == COMPLETED and o.agent_id is not None and o.completed_at is not None
            ),
            (
                (o.responded_by, o.first_response_at, o.response_ms or 0)
                for o in state.orders.values()
                if o.responded_by is not None and o.first_response_at is not None
            ),
        )


def _rebuild_responses(state: State) -> None:
    """Response deadlines under the timeout now in force: O(open orders), on a change."""
    deadlines, timeout_ms = state.deadlines, state.settings.response_timeout_s * 1000
    deadlines.clear(RESPOND)
    if not timeout_ms:
        return
    for agent in state.agents.values():
        for order_id in agent.open_orders:
            order = state.orders[order_id]
            if order.first_response_at is None and order.assigned_at is not None:
                deadlines.set(RESPOND, order_id, order.assigned_at + timeout_ms)


def rebuild_deadlines(state: State) -> None:
    """Every lifecycle deadline afresh from orders, agents and settings (a state built,
    not replayed: a checkpoint)."""
    _rebuild_responses(state)
    for agent in state.agents.values():
        _wrap_deadline(state, agent)


def _payroll_scheme_set(state: State, e: ev.PayrollSchemeSet, at: int) -> None:
    state.schemes[e.effective_from] = Scheme(
        e.effective_from, e.currency, e.thresholds, e.rates_cents
    )


APPLY: dict[type, Callable[[State, Any, int], None]] = {
    ev.AgentUpserted: _agent_upserted,
    ev.ShiftsAdded: _shifts_added,
    ev.AgentLoggedIn: _logged_in,
    ev.AgentWentAway: _went_away,
    ev.AgentBecameAvailable: _became_available,
    ev.LogoutRequested: _logout_requested,
    ev.LogoutRepeated: _logout_repeated,
    ev.LogoutDenied: _logout_denied,
    ev.AgentLoggedOut: _logged_out,
    ev.OrderReceived: _order_received,
    ev.OrderAssigned: _order_assigned,
    ev.OrderQueued: _order_queued,
    ev.OrderReleased: _order_released,
    ev.OrderCompleted: _order_completed,
    ev.OrderResponded: _order_responded,
    ev.ResponseTimedOut: _response_timed_out,
    ev.WrapUpEnded: _wrap_up_ended,
    ev.QaRecorded: _qa_recorded,
    ev.OrdersArchived: _orders_archived,
    ev.PresenceFolded: _presence_folded,
    ev.KeyCreated: _key_created,
    ev.KeyRevoked: _key_revoked,
    ev.ClockSet: _clock_set,
    ev.SettingsChanged: _settings_changed,
    ev.PayrollSchemeSet: _payroll_scheme_set,
    ev.PayrollMonthClosed: _payroll_month_closed,
}


def apply(state: State, event: ev.Event, at: int) -> None:
    APPLY[type(event)](state, event, at)


def apply_record(state: State, record: ev.Record) -> None:
    """Replay one journal record exactly as the engine applied it live."""
    state.advance(record.at)
    for event in record.events:
        APPLY[type(event)](state, event, record.at)
