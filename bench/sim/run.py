"""The discrete-event loop: one seeded day, one strategy, everything on simulated time.

Agents here are people: an agent serves at most `capacity` orders at once (more
wait at the agent, only possible without a capacity limit), keeps serving while
away, stops when offline, and one who forgot to log out has left the desk: orders
routed to them wait until a supervisor acts (`sweep_s` later: seatflow's supervisor
force-logs the agent out, which releases the orders; without the guard, orders left
with an offline or absent agent are taken back and re-routed by hand after as long).
An order's wait is all the time it spends unserved: before its first agent, and
again whenever it is released, stranded or stuck, until an agent starts on it.

With the lifecycle on (Scenario.lifecycle), an agent who starts on an order first
replies after its own delay (part of the order's handle time), then handles it; an
agent who stops responding ("mute") replies to nothing until it is back ("unmute"),
and orders it holds unanswered wait
with it, unless the router takes them back (seatflow's response timeout). After a
completion a person wraps up before taking the next order, whether the router knows
it or not. The first-response wait is the customer's: arrival to the first reply.
"""

from __future__ import annotations

import asyncio
import heapq
import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from bench.sim.floors import SEATFLOW, EngineFloor, Floor, ModelFloor
from bench.sim.scenario import HOUR, MIN, T0, Arrival, Plans, Scenario, arrivals, plan
from bench.sim.strategies import STRATEGIES
from presence.agent import AVAILABLE, NOT_RESPONDING, OFFLINE

COMPLETE, STEP, DECIDE, SWEEP, RESCUE, CHECK, RETRY, RESPOND, WRAPPED, STUCK = range(10)
DRAIN_MS = 2 * HOUR  # after the last arrival, finish what is open (waits censored after)
RETRY_MS = 3 * MIN  # an agent whose logout the guard held tries again this much later
RESUME_MS = 30_000  # an agent marked not responding while it was not (only slow) resumes


class Track:
    """One order as the customer lives it."""

    __slots__ = (
        "created", "handle", "wait", "since", "agent", "token", "stranded", "done", "customer",
        "first_response", "responder", "stuck",
    )  # fmt: skip

    def __init__(self, created: int, handle: int, customer: str | None = None) -> None:
        self.created = created
        self.handle = handle
        self.customer = customer
        self.first_response: int | None = None  # the customer's first reply, from anyone
        self.responder: str | None = None
        self.stuck = False  # held unanswered by an unresponsive agent past the timeout
        self.wait = 0
        self.since: int | None = created  # waiting since (None: being served)
        self.agent: str | None = None
        self.token = 0
        self.stranded = False
        self.done: int | None = None


class Person:
    __slots__ = (
        "capacity", "present", "serving", "backlog", "transitions", "completed", "muted",
        "unanswered", "wrapping", "delay",
    )  # fmt: skip

    def __init__(self, capacity: int, delay: int = 0) -> None:
        self.capacity = capacity
        self.present = False
        self.muted = False  # not responding to anything (the lifecycle's spells)
        self.unanswered: dict[str, None] = {}  # started, reply held back while muted
        self.wrapping = 0  # slots in wrap-up after a completion
        self.delay = delay  # ms from starting on an order to the first reply
        # insertion-ordered (a dict, not a set): iteration must not depend on string
        # hashing, which differs between processes, or a seed would not fix the day
        self.serving: dict[str, None] = {}
        self.backlog: deque[str] = deque()
        self.transitions: list[tuple[int, str]] = []
        self.completed = 0


@dataclass
class Outcome:
    """What a run leaves for metrics and plots."""

    scenario: Scenario
    strategy: str
    plans: Plans
    tracks: dict[str, Track]
    people: dict[str, Person]
    stop: int
    violations: int = 0
    examples: list[str] = field(default_factory=list)
    final_violations: list[str] = field(default_factory=list)
    checks: int = 0
    max_load_ratio: float = 0.0
    stranded: int = 0
    stuck: int = 0
    rescued: int = 0
    released: int = 0
    requests: int = 0
    approved: int = 0
    denied: int = 0
    forced: int = 0
    commands: int = 0
    journal_records: int = 0
    journal_bytes: int = 0
    wall_s: float = 0.0
    timed_out: int = 0  # orders the router took back for no first response
    stuck_unresponsive: int = 0  # orders held unanswered by a muted agent past the timeout


class Simulation:
    def __init__(self, s: Scenario, strategy: str, keep_journal: bool = False) -> None:
        self.s = s
        self.plans = plan(s)
        delays = self.plans.response_delay_ms
        self.people = {p.id: Person(p.capacity, delays.get(p.id, 0)) for p in self.plans.agents}
        self.tracks: dict[str, Track] = {}
        self.heap: list[tuple[int, int, int, str, object]] = []
        self.seq = 0
        self.now = T0
        self.left: list[str] = []  # agents gone offline during the current floor call
        self.decisions = {k: list(v) for k, v in self.plans.decisions.items()}
        self.leaving: set[str] = set()
        self.floor: Floor
        if strategy in SEATFLOW:
            self.floor = EngineFloor(self, T0 - HOUR, keep_journal, SEATFLOW[strategy](s))
        elif strategy in STRATEGIES:
            self.floor = ModelFloor(self, STRATEGIES[strategy](s.seed), s.wrap_up_s * 1000)
        else:
            names = ", ".join((*SEATFLOW, *STRATEGIES))
            raise ValueError(f"unknown strategy {strategy!r}; one of {names}")
        self.out = Outcome(s, strategy, self.plans, self.tracks, self.people, s.end + DRAIN_MS)

    def at(self, when: int, kind: int, key: str, arg: object = None) -> None:
        self.seq += 1
        heapq.heappush(self.heap, (when, self.seq, kind, key, arg))

    # -- what the floor reports ------------------------------------------------------

    def assigned(self, order_id: str, agent_id: str, at: int) -> None:
        t = self.tracks[order_id]
        t.agent = agent_id
        p = self.people[agent_id]
        held = len(p.serving) + len(p.backlog) + 1
        if held / p.capacity > self.out.max_load_ratio:
            self.out.max_load_ratio = held / p.capacity
        if self.s.lifecycle and t.first_response is None:
            self.at(at + self.s.response_timeout_s * 1000 + 1, STUCK, order_id, agent_id)
        if p.present and len(p.serving) + p.wrapping < p.capacity:
            self._start(order_id, t, p, at)
            return
        p.backlog.append(order_id)
        if not p.present:
            self.out.stuck += 1
            if not self.floor.guarded:
                self.at(at + self.s.sweep_s * 1000, RESCUE, order_id, t.token)

    def _start(self, order_id: str, t: Track, p: Person, at: int) -> None:
        if t.since is not None:
            t.wait += at - t.since
            t.since = None
        t.token += 1
        p.serving[order_id] = None
        if not self.s.lifecycle:
            t.first_response = t.first_response or at
            self.at(at + t.handle, COMPLETE, order_id, t.token)
        elif t.first_response is not None:  # replied to before (then released): go on
            self.at(at + t.handle, COMPLETE, order_id, t.token)
        elif p.muted:
            p.unanswered[order_id] = None
        else:
            self.at(at + p.delay, RESPOND, order_id, t.token)

    def _respond(self, order_id: str, at: int) -> None:
        """The agent's first reply: the customer hears back, then the order is handled."""
        t = self.tracks[order_id]
        p = self.people[t.agent or ""]
        if p.muted:
            p.unanswered[order_id] = None
            return
        t.first_response, t.responder = at, t.agent
        self.floor.responded(order_id, at)
        # The handle time includes the first reply: what is left of it (a slow reply
        # makes the order take longer, a quick one does not make it shorter).
        self.at(at + max(1, t.handle - p.delay), COMPLETE, order_id, t.token)

    def _mute(self, agent_id: str, muted: bool, at: int) -> None:
        p = self.people[agent_id]
        p.muted = muted
        if muted:
            return
        for order_id in p.unanswered:  # back: answers what it holds, then routing again
            self.at(at + p.delay, RESPOND, order_id, self.tracks[order_id].token)
        p.unanswered.clear()
        if self.floor.state_of(agent_id) == NOT_RESPONDING:
            self.out.commands += 1
            self.floor.available(agent_id, at)

    def _unserve(self, order_id: str, t: Track, at: int) -> None:
        if t.since is None:
            t.since = at
            t.token += 1

    def released(self, order_id: str, at: int) -> None:
        t = self.tracks[order_id]
        p = self.people[t.agent or ""]
        p.serving.pop(order_id, None)
        p.unanswered.pop(order_id, None)
        if order_id in p.backlog:
            p.backlog.remove(order_id)
        self._unserve(order_id, t, at)
        t.agent = None
        self.out.released += 1

    def completed(self, order_id: str, at: int) -> None:
        t = self.tracks[order_id]
        t.done = at
        p = self.people[t.agent or ""]
        p.serving.pop(order_id, None)
        p.completed += 1
        if self.s.wrap_up_s:
            p.wrapping += 1
            self.at(at + self.s.wrap_up_s * 1000, WRAPPED, t.agent or "")
        self._pull(p, at)

    def _pull(self, p: Person, at: int) -> None:
        while p.present and p.backlog and len(p.serving) + p.wrapping < p.capacity:
            order_id = p.backlog.popleft()
            self._start(order_id, self.tracks[order_id], p, at)

    def agent_state(self, agent_id: str, state: str, at: int) -> None:
        p = self.people[agent_id]
        p.transitions.append((at, state))
        if state == NOT_RESPONDING:
            self.out.timed_out += 1
            if not p.muted:  # it was only slow: it notices and makes itself available again
                self.at(at + RESUME_MS, STEP, agent_id, "resume")
        if state == OFFLINE:
            p.present = False
            self.left.append(agent_id)

    def requested(self, agent_id: str, request_id: str, at: int) -> None:
        self.out.requests += 1
        if agent_id in self.leaving and self.decisions.get(agent_id):
            approve, delay = self.decisions[agent_id].pop(0)
            self.at(at + delay, DECIDE, request_id, approve)

    def _after(self, at: int) -> None:
        """Orders still with an agent who went offline are stranded (never under seatflow)."""
        for agent_id in self.left:
            p = self.people[agent_id]
            for order_id in [*p.serving, *p.backlog]:
                t = self.tracks[order_id]
                if not t.stranded:
                    t.stranded = True
                    self.out.stranded += 1
                self._unserve(order_id, t, at)
                p.unanswered.pop(order_id, None)
                if order_id in p.serving:
                    del p.serving[order_id]
                    p.backlog.append(order_id)
                self.at(at + self.s.sweep_s * 1000, RESCUE, order_id, t.token)
        self.left.clear()

    # -- the day ------------------------------------------------------------------------

    def _step(self, at: int, what: str, agent_id: str) -> None:
        floor, p = self.floor, self.people[agent_id]
        state = floor.state_of(agent_id)
        if what == "login":
            if state == OFFLINE:
                p.present = True
                floor.login(agent_id, at)
                self._pull(p, at)
        elif what == "away" and state == AVAILABLE:
            floor.away(agent_id, at)
        elif what == "back" and state == "away":
            floor.available(agent_id, at)
        elif what in ("logout", "leave") and state != OFFLINE:
            if what == "leave":
                self.leaving.add(agent_id)
            floor.logout(agent_id, at)
            if what == "logout" and floor.state_of(agent_id) != OFFLINE:
                self.at(at + RETRY_MS, RETRY, agent_id, 1)
        elif what == "gone" and state != OFFLINE:
            p.present = False
            self.at(at + self.s.sweep_s * 1000, SWEEP, agent_id)
        elif what in ("mute", "unmute"):
            self._mute(agent_id, what == "mute", at)
        elif what == "resume" and state == NOT_RESPONDING and not p.muted:
            floor.available(agent_id, at)

    def _event(self, when: int, kind: int, key: str, arg: object) -> None:
        if kind == COMPLETE:
            t = self.tracks[key]
            if t.token == arg and t.done is None and t.since is None:
                self.out.commands += 1
                self.floor.complete(key, when)
        elif kind == STEP:
            self.out.commands += 1
            self._step(when, str(arg), key)
        elif kind == CHECK:
            self._check(when)
        elif kind == RESPOND:
            t = self.tracks[key]
            if t.token == arg and t.done is None and t.since is None and t.agent:
                self._respond(key, when)
        elif kind == WRAPPED:
            p = self.people[key]
            p.wrapping -= 1
            self._pull(p, when)
        elif kind == STUCK:
            t = self.tracks[key]
            if t.first_response is None and t.agent == arg and not t.stuck:
                p = self.people[str(arg)]
                if p.muted or key in p.unanswered:
                    t.stuck = True
                    self.out.stuck_unresponsive += 1
        else:
            self._supervise(when, kind, key, arg)
        self._after(when)

    def _supervise(self, when: int, kind: int, key: str, arg: object) -> None:
        """Decisions, retried logouts, sweeps of forgotten logouts and stuck orders."""
        floor, out = self.floor, self.out
        if kind == DECIDE:
            out.commands += 1
            out.approved += bool(arg)
            out.denied += not arg
            floor.decide(key, bool(arg), when)
        elif kind == RETRY:
            if floor.state_of(key) != OFFLINE and self.people[key].present:
                out.commands += 1
                floor.logout(key, when)
                if floor.state_of(key) != OFFLINE and int(str(arg)) < 10:
                    self.at(when + RETRY_MS, RETRY, key, int(str(arg)) + 1)
        elif kind == SWEEP:
            if floor.state_of(key) != OFFLINE and not self.people[key].present:
                out.commands += 1
                out.forced += 1
                floor.force_logout(key, when)
        elif kind == RESCUE:
            t = self.tracks[key]
            if t.token == arg and t.done is None and t.since is not None and t.agent:
                if not self.people[t.agent].present:
                    out.rescued += 1
                    floor.rescue(key, when)

    def _check(self, when: int) -> None:
        problems = self.floor.violations(False)
        self.out.checks += 1
        if problems:
            self.out.violations += len(problems)
            self.out.examples.extend(problems[: max(0, 5 - len(self.out.examples))])
        if when + self.s.check_every_s * 1000 < self.out.stop:
            self.at(when + self.s.check_every_s * 1000, CHECK, "")

    def _arrive(self, a: Arrival) -> None:
        order_id = f"o{a.n:08d}"
        self.tracks[order_id] = Track(a.at, a.handle_ms, a.customer)
        self.out.commands += 1
        self.floor.submit(order_id, a.skill, a.priority, a.at, a.customer)
        self._after(a.at)

    def run(self, progress: Callable[[int], None] | None = None) -> Outcome:
        started = time.perf_counter()
        self.floor.setup(self.plans.agents, T0 - HOUR)
        for when, what, agent_id, _ in self.plans.steps:
            self.at(when, STEP, agent_id, what)
        self.at(T0, CHECK, "")
        stream = arrivals(self.s)
        nxt: Arrival | None = next(stream, None)
        heap, stop = self.heap, self.out.stop
        tick = T0
        floor = self.floor
        while True:
            top = heap[0][0] if heap else math.inf
            due = floor.next_due()  # the router's own timers (seatflow's lifecycle)
            if due is not None and due <= top and (nxt is None or due <= nxt.at) and due <= stop:
                self.now = max(self.now, due)
                floor.fire(self.now)
                self._after(self.now)
            elif nxt is not None and nxt.at <= top:
                self.now = nxt.at
                self._arrive(nxt)
                nxt = next(stream, None)
            elif heap and top <= stop:
                when, _, kind, key, arg = heapq.heappop(heap)
                self.now = max(self.now, when)
                self._event(self.now, kind, key, arg)
            else:
                break
            if progress is not None and self.now >= tick:
                progress(self.now)
                tick = self.now + 5 * MIN
        self.out.final_violations = self.floor.violations(True)
        if isinstance(self.floor, EngineFloor):
            self.out.journal_records = self.floor.journal.count
            self.out.journal_bytes = self.floor.journal.bytes
        self.out.wall_s = time.perf_counter() - started
        return self.out


def simulate(
    s: Scenario,
    strategy: str = "seatflow",
    *,
    keep_journal: bool = False,
    progress: Callable[[int], None] | None = None,
) -> tuple[Outcome, Floor]:
    """Run one day; returns the outcome and the floor (its engine, for tests)."""

    async def main() -> tuple[Outcome, Floor]:
        sim = Simulation(s, strategy, keep_journal)
        return sim.run(progress), sim.floor

    return asyncio.run(main())
