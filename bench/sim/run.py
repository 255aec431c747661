"""The discrete-event loop: one seeded day, one strategy, everything on simulated time.

Agents here are people: an agent serves at most `capacity` orders at once (more
wait at the agent, only possible without a capacity limit), keeps serving while
away, stops when offline, and one who forgot to log out has left the desk: orders
routed to them wait until a supervisor acts (`sweep_s` later: seatflow's supervisor
force-logs the agent out, which releases the orders; without the guard, orders left
with an offline or absent agent are taken back and re-routed by hand after as long).
An order's wait is all the time it spends unserved: before its first agent, and
again whenever it is released, stranded or stuck, until an agent starts on it.
"""

from __future__ import annotations

import asyncio
import heapq
import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from bench.sim.floors import EngineFloor, Floor, ModelFloor
from bench.sim.scenario import HOUR, MIN, T0, Arrival, Plans, Scenario, arrivals, plan
from bench.sim.strategies import STRATEGIES
from presence.agent import AVAILABLE, OFFLINE

COMPLETE, STEP, DECIDE, SWEEP, RESCUE, CHECK, RETRY = range(7)
DRAIN_MS = 2 * HOUR  # after the last arrival, finish what is open (waits censored after)
RETRY_MS = 3 * MIN  # an agent whose logout the guard held tries again this much later


class Track:
    """One order as the customer lives it."""

    __slots__ = ("created", "handle", "wait", "since", "agent", "token", "stranded", "done")

    def __init__(self, created: int, handle: int) -> None:
        self.created = created
        self.handle = handle
        self.wait = 0
        self.since: int | None = created  # waiting since (None: being served)
        self.agent: str | None = None
        self.token = 0
        self.stranded = False
        self.done: int | None = None


class Person:
    __slots__ = ("capacity", "present", "serving", "backlog", "transitions", "completed")

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.present = False
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


class Simulation:
    def __init__(self, s: Scenario, strategy: str, keep_journal: bool = False) -> None:
        self.s = s
        self.plans = plan(s)
        self.people = {p.id: Person(p.capacity) for p in self.plans.agents}
        self.tracks: dict[str, Track] = {}
        self.heap: list[tuple[int, int, int, str, object]] = []
        self.seq = 0
        self.now = T0
        self.left: list[str] = []  # agents gone offline during the current floor call
        self.decisions = {k: list(v) for k, v in self.plans.decisions.items()}
        self.leaving: set[str] = set()
        self.floor: Floor
        if strategy == "seatflow":
            self.floor = EngineFloor(self, T0 - HOUR, keep_journal)
        elif strategy in STRATEGIES:
            self.floor = ModelFloor(self, STRATEGIES[strategy](s.seed))
        else:
            names = ", ".join(STRATEGIES)
            raise ValueError(f"unknown strategy {strategy!r}; one of seatflow, {names}")
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
        if p.present and len(p.serving) < p.capacity:
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
        self.at(at + t.handle, COMPLETE, order_id, t.token)

    def _unserve(self, order_id: str, t: Track, at: int) -> None:
        if t.since is None:
            t.since = at
            t.token += 1

    def released(self, order_id: str, at: int) -> None:
        t = self.tracks[order_id]
        p = self.people[t.agent or ""]
        p.serving.pop(order_id, None)
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
        self._pull(p, at)

    def _pull(self, p: Person, at: int) -> None:
        while p.present and p.backlog and len(p.serving) < p.capacity:
            order_id = p.backlog.popleft()
            self._start(order_id, self.tracks[order_id], p, at)

    def agent_state(self, agent_id: str, state: str, at: int) -> None:
        p = self.people[agent_id]
        p.transitions.append((at, state))
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
        self.tracks[order_id] = Track(a.at, a.handle_ms)
        self.out.commands += 1
        self.floor.submit(order_id, a.skill, a.priority, a.at)
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
        while True:
            top = heap[0][0] if heap else math.inf
            if nxt is not None and nxt.at <= top:
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
