"""What must hold in every acknowledged state, checked from the rules, not the caches.

`check(state)` is O(agents + orders + shifts); `check_open(state)` applies the same
rules to what is still open only (O(agents + open orders)), so the simulator runs it
every simulated minute of a whole day. `apply_checked(state, record)` folds a record
like replay does and, before each OrderAssigned, checks that the routing rules of
API.md pick that agent for that order (its preferred agent, then its customer's last
agent, then by load; never the agent it was just taken from while another has room);
tests run it on a follower state fed from the journal. All return human-readable
violations; an empty list means all is well.

The lifecycle's rules hold after every command: capacity counts wrap-up slots, a
`not_responding` agent is not eligible, no assigned order is left unanswered past
the response timeout and no wrap-up slot past its end (timers fire before every
command, so "within the timeout plus one clock step" is exact at each step).
"""

from __future__ import annotations

from collections import Counter
from fractions import Fraction

from engine import events as ev
from engine.deadlines import WRAP
from engine.state import State, apply
from presence.agent import AVAILABLE, OFFLINE, STATES, Agent
from presence.requests import PENDING
from router.events import BY_LOAD, BY_PREFERRED, BY_STICKY
from router.order import ASSIGNED, COMPLETED, QUEUED, ROUTING, Order, queue_key

_Rank = tuple[bool, Fraction, int, str]


def _eligible(agent: Agent, skill: str | None) -> bool:
    return (
        agent.state == AVAILABLE
        and (skill is None or skill in agent.skills)
        and len(agent.open_orders) + len(agent.wrap_ends) < agent.capacity
    )


def _rank(agent: Agent) -> _Rank:
    # Handing over last; then lowest load/capacity (exact); idle longest; smaller id.
    load = Fraction(len(agent.open_orders) + len(agent.wrap_ends), agent.capacity)
    return (agent.handing_over, load, agent.last_assigned_at, agent.id)


def best_agent(state: State, skill: str | None, avoid: str | None = None) -> Agent | None:
    """The agent the routing rules pick for an order of this skill, by brute force;
    `avoid` only when no other eligible agent has room."""
    eligible = [a for a in state.agents.values() if _eligible(a, skill)]
    others = [a for a in eligible if a.id != avoid]
    return min(others or eligible, key=_rank, default=None)


def chosen_agent(state: State, order: Order, avoid: str | None) -> tuple[Agent | None, str]:
    """Who the rules give a routed order to, and why: its preferred agent, then its
    customer's last agent inside the sticky window, when eligible and not handing over;
    else by load."""
    window_ms = state.settings.sticky_window_s * 1000
    sticky = None
    if order.customer_id is not None and window_ms:
        sticky = state.customers.agent_of(order.customer_id, state.now)
    for agent_id, how in ((order.preferred_agent_id, BY_PREFERRED), (sticky, BY_STICKY)):
        agent = state.agents.get(agent_id) if agent_id is not None else None
        if (
            agent is not None
            and agent.id != avoid
            and not agent.handing_over
            and _eligible(agent, order.skill)
        ):
            return agent, how
    return best_agent(state, order.skill, avoid), BY_LOAD


def best_queued(state: State, agent: Agent) -> Order | None:
    """The waiting order this agent should take next: highest priority, then oldest."""
    waiting = [
        o
        for o in state.orders.values()
        if o.status == QUEUED and (o.skill is None or o.skill in agent.skills)
    ]
    return min(waiting, key=queue_key, default=None)


def check_assignment(state: State, event: ev.OrderAssigned, avoid: str | None = None) -> list[str]:
    """Check an OrderAssigned against the state just before it is applied; `avoid` is
    the agent the order was taken from earlier in the same record, if it was."""
    order = state.orders.get(event.order_id)
    agent = state.agents.get(event.agent_id)
    if order is None or agent is None:
        return [f"OrderAssigned({event.order_id!r}, {event.agent_id!r}) names an unknown id"]
    what = f"order {order.id!r} assigned to agent {agent.id!r}"
    if not _eligible(agent, order.skill):
        return [
            f"{what} which is not eligible (state {agent.state}, skills {list(agent.skills)}, "
            f"load {agent.load}/{agent.capacity}, order skill {order.skill!r})"
        ]
    problems = []
    if order.status not in (QUEUED, ROUTING):
        problems.append(f"{what} while the order is {order.status}")
    if order.status == QUEUED:  # capacity appeared: the queue is served by load, whoever waits
        best, how = best_agent(state, order.skill), BY_LOAD
    else:
        best, how = chosen_agent(state, order, avoid)
    if best is not None and best is not agent:
        why = "" if how == BY_LOAD else f" ({how})"
        problems.append(f"{what} but the routing rules pick {best.id!r}{why}")
    elif event.routed_by != how:
        problems.append(f"{what} says routed_by {event.routed_by!r}, the rules say {how!r}")
    if order.status == QUEUED:
        first = best_queued(state, agent)
        if first is not None and first is not order:
            problems.append(f"{what} from the queue but {first.id!r} waits ahead of it")
    return problems


def apply_checked(state: State, record: ev.Record) -> list[str]:
    """Fold one record into `state` exactly as replay does, checking every assignment."""
    state.advance(record.at)
    problems: list[str] = []
    taken_from: dict[str, str] = {}  # order id -> the agent it was released from
    for event in record.events:
        if isinstance(event, ev.OrderAssigned):
            problems += check_assignment(state, event, taken_from.get(event.order_id))
        elif isinstance(event, ev.OrderReleased):
            taken_from[event.order_id] = event.agent_id
        apply(state, event, record.at)
    return problems


def check(state: State) -> list[str]:
    """Every violated invariant of `state`, one sentence each."""
    return [*_check_agents(state), *_check_orders(state), *_check_rest(state)]


def check_open(state: State) -> list[str]:
    """The same rules over what is still open: agents, the orders they hold, the queues.

    O(agents + open orders), not O(every order ever received), so a simulator can run
    it every simulated minute of a day. Completed orders are not scanned; a count
    stands in for them: every order received and not completed is held by exactly one
    agent or waits in exactly one queue.
    """
    problems = _check_agents(state)
    in_queue = _queue_counts(state, problems)
    any_room, room_skills = _room(state)
    for order_id, n in in_queue.items():
        o = state.orders.get(order_id)
        if o is None:
            continue  # already named by _queue_counts
        if n != 1:
            problems.append(f"order {o.id!r} is queued but in {n} queues")
        if any_room if o.skill is None else o.skill in room_skills:
            problems.append(
                f"order {o.id!r} (skill {o.skill!r}) waits while an eligible agent has room"
            )
    for a in state.agents.values():
        for order_id in a.open_orders:
            o = state.orders.get(order_id)
            if o is not None:
                problems += _check_response(state, o)
    c = state.counters
    held = sum(len(a.open_orders) for a in state.agents.values())
    if c.received - c.completed != held + len(state.queues):
        problems.append(
            f"{c.received - c.completed} orders are open (received {c.received}, completed "
            f"{c.completed}) but {held} are held and {len(state.queues)} queued"
        )
    problems += _check_count(state)
    return problems


def _check_agents(state: State) -> list[str]:
    problems = []
    window_ms = state.settings.stop_new_before_end_s * 1000
    for a in state.agents.values():
        if a.state not in STATES:
            problems.append(f"agent {a.id!r} is in unknown state {a.state!r}")
        if a.state == OFFLINE and a.open_orders:
            problems.append(f"agent {a.id!r} is offline but holds {list(a.open_orders)}")
        problems += _check_wrap_up(state, a)
        for order_id in a.open_orders:
            o = state.orders.get(order_id)
            if o is None or o.status != ASSIGNED or o.agent_id != a.id:
                where = "unknown" if o is None else f"{o.status} to {o.agent_id!r}"
                problems.append(f"agent {a.id!r} holds order {order_id!r} which is {where}")
        if a.pending_request is not None:
            req = state.requests.get(a.pending_request)
            if req is None or req.status != PENDING or req.agent_id != a.id:
                problems.append(
                    f"agent {a.id!r} points to logout request {a.pending_request!r} which is "
                    f"{'unknown' if req is None else f'{req.status} for {req.agent_id!r}'}"
                )
        handing_over = state.roster.handover(a.id, state.now, window_ms).handing_over
        if a.handing_over != handing_over:
            problems.append(
                f"agent {a.id!r} has handing_over={a.handing_over} but its roster says "
                f"{handing_over}"
            )
    for r in state.requests.values():
        if r.status == PENDING:
            owner = state.agents.get(r.agent_id)
            if owner is None or owner.pending_request != r.id:
                problems.append(f"pending logout request {r.id!r} is not its agent's pending one")
    return problems


def _check_wrap_up(state: State, a: Agent) -> list[str]:
    ends = a.wrap_ends
    if not ends:
        return []
    problems = []
    if a.state == OFFLINE:
        problems.append(f"agent {a.id!r} is offline but holds {len(ends)} wrap-up slots")
    if ends != sorted(ends) or ends[0] <= state.now:
        problems.append(
            f"agent {a.id!r} holds wrap-up slots ending {ends} at {state.now}: one is overdue"
        )
    if state.deadlines.get(WRAP, a.id) != ends[0]:
        problems.append(f"agent {a.id!r} has wrap-up slots but no timer for the first end")
    return problems


def _check_response(state: State, o: Order) -> list[str]:
    """An assigned order with no first response is taken back by its timeout."""
    timeout_ms = state.settings.response_timeout_s * 1000
    if (
        timeout_ms
        and o.first_response_at is None
        and o.assigned_at is not None
        and o.assigned_at + timeout_ms <= state.now
    ):
        return [
            f"order {o.id!r} is assigned to {o.agent_id!r} since {o.assigned_at} with no "
            f"first response past the {timeout_ms // 1000} s timeout (now {state.now})"
        ]
    return []


def _queue_counts(state: State, problems: list[str]) -> Counter[str]:
    in_queue: Counter[str] = Counter()
    for skill in state.queues.skills():
        for order_id in state.queues.ordered(skill):
            in_queue[order_id] += 1
            o = state.orders.get(order_id)
            if o is None or o.status != QUEUED or o.skill != skill:
                problems.append(f"queue {skill!r} holds order {order_id!r} that does not belong")
    return in_queue


def _room(state: State) -> tuple[bool, set[str]]:
    """Whether any agent has room, and the skills of the agents that have room."""
    any_room, skills = False, set[str]()
    for a in state.agents.values():
        if _eligible(a, None):
            any_room = True
            skills.update(a.skills)
    return any_room, skills


def _check_orders(state: State) -> list[str]:
    problems: list[str] = []
    held = Counter(o for a in state.agents.values() for o in a.open_orders)
    in_queue = _queue_counts(state, problems)
    any_room, room_skills = _room(state)
    queued = 0
    for o in state.orders.values():
        if o.status == ASSIGNED:
            holder = state.agents.get(o.agent_id or "")
            if held[o.id] != 1 or holder is None or o.id not in holder.open_orders:
                problems.append(
                    f"order {o.id!r} is assigned to {o.agent_id!r} but held {held[o.id]} times"
                )
            problems += _check_response(state, o)
        elif o.status == QUEUED:
            queued += 1
            if in_queue[o.id] != 1 or held[o.id]:
                problems.append(f"order {o.id!r} is queued but in {in_queue[o.id]} queues")
            if any_room if o.skill is None else o.skill in room_skills:
                problems.append(
                    f"order {o.id!r} (skill {o.skill!r}) waits while an eligible agent has room"
                )
        elif o.status != COMPLETED:
            problems.append(f"order {o.id!r} is left in status {o.status!r}")
        elif held[o.id] or in_queue[o.id] or o.completed_at is None:
            problems.append(f"order {o.id!r} is completed but still held or queued")
    if len(state.queues) != queued:
        problems.append(f"queues count {len(state.queues)} orders but {queued} are queued")
    return problems


def _check_count(state: State) -> list[str]:
    """Every order received is in memory or archived (engine.archive), once."""
    c, held = state.counters, len(state.orders) + state.counters.archived
    if c.received != held or state.order_seq != held:
        return [
            f"{len(state.orders)} orders in memory and {c.archived} archived but "
            f"received={c.received}, order_seq={state.order_seq}"
        ]
    return []


def _check_rest(state: State) -> list[str]:
    problems = []
    c = state.counters
    problems += _check_count(state)
    completed = c.archived + sum(1 for o in state.orders.values() if o.status == COMPLETED)
    if c.completed != completed:
        problems.append(f"{completed} orders completed but the counter says {c.completed}")
    unissued = [r for r in state.requests if not state.request_issued(r)]
    if unissued:  # ids are distinct and in lr-1..lr-{request_seq}, so no more than it
        problems.append(f"requests {unissued[:3]} never issued (request_seq={state.request_seq})")
    folded = [
        r.id
        for r in state.requests.values()
        if r.decided_at is not None and r.decided_at < state.history_from
    ]
    if folded:
        problems.append(f"requests {folded[:3]} were decided before the fold but are kept")
    return problems
