"""The floors a simulated day runs on: seatflow's engine, or a model of another router.

Both speak to the simulator (`Sink`) the same way: every assignment, release and
agent state change is reported back with its time. `EngineFloor` drives the real
`Engine.execute` (manual clock, a journal that decodes what it is given) and
reports what the journal records; `ModelFloor` re-implements another product's
selection rule over the same agent and order records, with no guard: a logout
takes effect at once and leaves open orders with the agent who left.

seatflow runs as configured (`SEATFLOW`): with the lifecycle on (Scenario.lifecycle)
its response timeout, wrap-up and sticky window are set as the scenario says, and
each variant turns one of them off. The anchors' models have no response timeout and no
sticky routing; those with a wrap-up option (bench.sim.strategies) have it set to the
scenario's wrap-up, as the product's own rule: the whole member rests after a completion.
"""

from __future__ import annotations

import asyncio
import dataclasses
import heapq
from collections.abc import Awaitable, Callable, Iterator
from typing import NamedTuple, Protocol

from bench.drive import run_now
from bench.sim.scenario import AgentPlan, Scenario
from bench.sim.strategies import Strategy
from engine import commands as cmd
from engine import events as ev
from engine.clock import ManualClock
from engine.core import Engine
from engine.events import decode_record
from engine.invariants import check, check_open
from engine.settings import Settings
from presence.agent import AVAILABLE, AWAY, NOT_RESPONDING, OFFLINE, Agent
from router.order import ASSIGNED, COMPLETED, QUEUED, Order
from router.queue import OrderQueues


class Sink(Protocol):
    def assigned(self, order_id: str, agent_id: str, at: int) -> None: ...
    def released(self, order_id: str, at: int) -> None: ...
    def completed(self, order_id: str, at: int) -> None: ...
    def agent_state(self, agent_id: str, state: str, at: int) -> None: ...
    def requested(self, agent_id: str, request_id: str, at: int) -> None: ...


class Floor(Protocol):
    guarded: bool

    def setup(self, plans: list[AgentPlan], at: int) -> None: ...
    def login(self, agent_id: str, at: int) -> None: ...
    def away(self, agent_id: str, at: int) -> None: ...
    def available(self, agent_id: str, at: int) -> None: ...
    def logout(self, agent_id: str, at: int) -> None: ...
    def force_logout(self, agent_id: str, at: int) -> None: ...
    def decide(self, request_id: str, approve: bool, at: int) -> None: ...
    def submit(
        self, order_id: str, skill: str | None, priority: int, at: int, customer: str | None
    ) -> None: ...
    def responded(self, order_id: str, at: int) -> None: ...
    def complete(self, order_id: str, at: int) -> None: ...
    def rescue(self, order_id: str, at: int) -> None: ...
    def state_of(self, agent_id: str) -> str: ...
    def violations(self, full: bool) -> list[str]: ...
    def next_due(self) -> int | None: ...
    def fire(self, at: int) -> None: ...


class Lifecycle(NamedTuple):
    """seatflow's lifecycle settings for a run (0: off)."""

    response_timeout_s: int = 0
    wrap_up_s: int = 0
    sticky_window_s: int = 0


OFF = Lifecycle()


def _lifecycle(timeout: bool = True, wrap: bool = True, sticky: bool = True
               ) -> Callable[[Scenario], Lifecycle]:  # fmt: skip
    def settings(s: Scenario) -> Lifecycle:
        if not s.lifecycle:
            return OFF
        return Lifecycle(
            s.response_timeout_s if timeout else 0,
            s.wrap_up_s if wrap else 0,
            s.sticky_window_s if sticky and s.returning_share else 0,
        )

    return settings


# seatflow and its variants, each without one lifecycle feature (the same with it off).
SEATFLOW: dict[str, Callable[[Scenario], Lifecycle]] = {
    "seatflow": _lifecycle(),
    "seatflow-no-timeout": _lifecycle(timeout=False),
    "seatflow-no-wrap-up": _lifecycle(wrap=False),
    "seatflow-no-sticky": _lifecycle(sticky=False),
}


class TapJournal:
    """A journal for the simulator: durable at once, hands each record to a reader, keeps
    them only when asked (tests replay them). Counts what a real journal would write."""

    def __init__(self, keep: bool = False) -> None:
        self.keep = keep
        self.records: list[bytes] = []
        self.pending: list[bytes] = []
        self.count = 0
        self.bytes = 0

    def replay(self, after: int = 0) -> Iterator[tuple[int, bytes]]:
        for i in range(after, len(self.records)):
            yield i + 1, self.records[i]

    def append(self, record: bytes) -> Awaitable[int]:
        self.count += 1
        self.bytes += len(record)
        self.pending.append(record)
        if self.keep:
            self.records.append(record)
        fut: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        fut.set_result(self.count)
        return fut

    async def flush(self) -> None:
        return None

    async def close(self) -> None:
        return None


class EngineFloor:
    """seatflow itself: every step is a command through `Engine.execute`."""

    guarded = True

    def __init__(
        self, sink: Sink, start: int, keep_journal: bool = False,
        lifecycle: Lifecycle = OFF,
    ) -> None:  # fmt: skip
        self.sink = sink
        self.clock = ManualClock(start)
        self.journal = TapJournal(keep_journal)
        self.engine = Engine(self.journal, self.clock)
        self.lifecycle = lifecycle

    def _run(self, command: cmd.Command, at: int) -> None:
        if at > self.clock.now_ms():
            self.clock.set(at)
        run_now(self.engine.execute(command))
        self._dispatch()

    def _dispatch(self) -> None:
        sink = self.sink
        pending = self.journal.pending
        for data in pending:
            record = decode_record(data)
            at = record.at
            for e in record.events:
                if isinstance(e, ev.OrderAssigned):
                    sink.assigned(e.order_id, e.agent_id, at)
                elif isinstance(e, ev.OrderReleased):
                    sink.released(e.order_id, at)
                elif isinstance(e, ev.OrderCompleted):
                    sink.completed(e.order_id, at)
                elif isinstance(e, ev.AgentLoggedIn | ev.AgentBecameAvailable):
                    sink.agent_state(e.agent_id, AVAILABLE, at)
                elif isinstance(e, ev.AgentWentAway):
                    sink.agent_state(e.agent_id, AWAY, at)
                elif isinstance(e, ev.AgentLoggedOut):
                    sink.agent_state(e.agent_id, OFFLINE, at)
                elif isinstance(e, ev.LogoutRequested):
                    sink.requested(e.agent_id, e.request_id, at)
                elif isinstance(e, ev.ResponseTimedOut):
                    sink.agent_state(e.agent_id, NOT_RESPONDING, at)
        pending.clear()

    def setup(self, plans: list[AgentPlan], at: int) -> None:
        for p in plans:
            self._run(cmd.UpsertAgent(p.id, p.id, p.team, list(p.skills), p.capacity), at)
        self._run(cmd.AddShifts([ev.ShiftSpec(p.id, s, e) for p in plans for s, e in p.shifts]), at)
        if self.lifecycle != OFF:
            changed = dataclasses.replace(self.engine.state.settings, **self.lifecycle._asdict())
            self._run(cmd.ChangeSettings(*dataclasses.astuple(changed)), at)

    def login(self, agent_id: str, at: int) -> None:
        self._run(cmd.Login(agent_id), at)

    def away(self, agent_id: str, at: int) -> None:
        self._run(cmd.GoAway(agent_id, "break"), at)

    def available(self, agent_id: str, at: int) -> None:
        self._run(cmd.GoAvailable(agent_id), at)

    def logout(self, agent_id: str, at: int) -> None:
        self._run(cmd.Logout(agent_id), at)

    def force_logout(self, agent_id: str, at: int) -> None:
        self._run(cmd.ForceLogout(agent_id, "supervisor"), at)

    def decide(self, request_id: str, approve: bool, at: int) -> None:
        request = self.engine.state.requests[request_id]
        if request.status != "pending":
            return
        c = cmd.ApproveLogout if approve else cmd.DenyLogout
        self._run(c(request_id, "supervisor"), at)

    def submit(
        self, order_id: str, skill: str | None, priority: int, at: int, customer: str | None
    ) -> None:
        digest = int(order_id[1:]).to_bytes(16, "big")
        order = cmd.NewOrder(order_id, skill, priority, digest, None, customer)
        self._run(cmd.SubmitOrders([order]), at)

    def responded(self, order_id: str, at: int) -> None:
        self._run(cmd.RecordResponse(order_id), at)

    def next_due(self) -> int | None:
        return self.engine.state.deadlines.next_due()

    def fire(self, at: int) -> None:
        self._run(cmd.FireTimers(), at)

    def complete(self, order_id: str, at: int) -> None:
        self._run(cmd.CompleteOrder(order_id), at)

    def rescue(self, order_id: str, at: int) -> None:
        raise RuntimeError("seatflow never leaves an order with an offline agent")

    def state_of(self, agent_id: str) -> str:
        return self.engine.state.agents[agent_id].state

    def violations(self, full: bool) -> list[str]:
        state = self.engine.state
        return check(state) if full else check_open(state)


class ModelFloor:
    """Another router's selection rule over the same records, without the guard.

    Orders wait in the same priority-then-age queues; a freed slot takes the best
    waiting order it can serve. With `capacity=False` (Chatwoot's round robin) an
    agent is offered orders whatever its load, and never a queue while anyone of the
    skill is online.
    """

    guarded = False

    def __init__(self, sink: Sink, strategy: Strategy, wrap_up_ms: int = 0) -> None:
        self.sink = sink
        self.strategy = strategy
        # The product's wrap-up option, if it has one: (end, agent) to come, and each
        # resting member's end (a later completion moves it).
        self.wrap_up_ms = wrap_up_ms if strategy.wrap_up_option else 0
        self.wrap_ends: list[tuple[int, str]] = []
        self.rest_until: dict[str, int] = {}
        self.agents: dict[str, Agent] = {}
        self.orders: dict[str, Order] = {}
        self.queues = OrderQueues()
        self.shifts: dict[str, tuple[tuple[int, int], ...]] = {}
        self.window = Settings().stop_new_before_end_s * 1000
        self.seq = 0

    def setup(self, plans: list[AgentPlan], at: int) -> None:
        for p in plans:
            self.agents[p.id] = Agent(p.id, p.id, p.team, p.skills, p.capacity, state_since=at)
            self.shifts[p.id] = p.shifts
        self.strategy.attach(self.agents, self.shifts, self.window)

    def _set(self, agent: Agent, state: str, at: int) -> None:
        if agent.state == state:
            return
        agent.state, agent.state_since = state, at
        self.strategy.changed(agent, at)
        self.sink.agent_state(agent.id, state, at)
        if state == AVAILABLE:
            self._serve(agent, at)

    def login(self, agent_id: str, at: int) -> None:
        self._set(self.agents[agent_id], AVAILABLE, at)

    def away(self, agent_id: str, at: int) -> None:
        agent = self.agents[agent_id]
        if agent.state != OFFLINE:
            self._set(agent, AWAY, at)

    def available(self, agent_id: str, at: int) -> None:
        agent = self.agents[agent_id]
        if agent.state != OFFLINE:
            self._set(agent, AVAILABLE, at)

    def logout(self, agent_id: str, at: int) -> None:
        self._set(self.agents[agent_id], OFFLINE, at)  # open orders stay where they are

    force_logout = logout

    def decide(self, request_id: str, approve: bool, at: int) -> None:
        raise RuntimeError("without the guard there are no logout requests")

    def _assign(self, order: Order, agent: Agent, at: int) -> None:
        if order.status == QUEUED:
            self.queues.remove(order)
        order.status, order.agent_id, order.assigned_at = ASSIGNED, agent.id, at
        agent.open_orders[order.id] = None
        agent.last_assigned_at = at
        self.strategy.assigned(agent, at)
        self.sink.assigned(order.id, agent.id, at)

    def _route(self, order: Order, at: int) -> None:
        agent = self.strategy.pick(order.skill, at)
        if agent is None:
            order.status = QUEUED
            self.queues.push(order)
        else:
            self._assign(order, agent, at)

    def _serve(self, agent: Agent, at: int) -> None:
        while self.strategy.has_room(agent):
            order_id = self.queues.best_for(agent.skills)
            if order_id is None:
                return
            self._assign(self.orders[order_id], agent, at)

    def responded(self, order_id: str, at: int) -> None:
        """The models keep no response times: nothing they decide reads them."""

    def next_due(self) -> int | None:
        """The next wrap-up end; no other timers: an order stays with its agent until a
        person acts."""
        return self.wrap_ends[0][0] if self.wrap_ends else None

    def fire(self, at: int) -> None:
        """Members whose wrap-up time is over are offered orders again."""
        ends = self.wrap_ends
        while ends and ends[0][0] <= at:
            until, agent_id = heapq.heappop(ends)
            if self.rest_until.get(agent_id) != until:
                continue  # moved by a later completion
            del self.rest_until[agent_id]
            self.strategy.resting.discard(agent_id)
            agent = self.agents[agent_id]
            self.strategy.changed(agent, at)
            if agent.state == AVAILABLE:
                self._serve(agent, at)

    def submit(
        self, order_id: str, skill: str | None, priority: int, at: int, customer: str | None
    ) -> None:
        self.seq += 1
        order = Order(order_id, skill, priority, b"", self.seq, at, status="routing")
        self.orders[order_id] = order
        self._route(order, at)

    def complete(self, order_id: str, at: int) -> None:
        order = self.orders[order_id]
        agent = self.agents[order.agent_id or ""]
        order.status, order.completed_at = COMPLETED, at
        del agent.open_orders[order_id]
        if self.wrap_up_ms:
            until = self.rest_until[agent.id] = at + self.wrap_up_ms
            self.strategy.resting.add(agent.id)
            heapq.heappush(self.wrap_ends, (until, agent.id))
        self.strategy.completed(agent, at)
        self.sink.completed(order_id, at)
        if agent.state == AVAILABLE:
            self._serve(agent, at)

    def rescue(self, order_id: str, at: int) -> None:
        """A supervisor takes a stuck order back and routes it again."""
        order = self.orders[order_id]
        agent = self.agents[order.agent_id or ""]
        del agent.open_orders[order_id]
        self.strategy.changed(agent, at)
        order.status, order.agent_id = "routing", None
        self.sink.released(order_id, at)
        self._route(order, at)

    def state_of(self, agent_id: str) -> str:
        return self.agents[agent_id].state

    def violations(self, full: bool) -> list[str]:
        """The same rules the engine's checker applies, where a model can break them. A
        member inside its product's wrap-up time has no room (as seatflow's wrap-up
        slots count in its load)."""
        problems = []
        room: set[str | None] = set()
        for a in self.agents.values():
            if a.state == OFFLINE and a.open_orders:
                problems.append(f"agent {a.id!r} is offline but holds {len(a.open_orders)}")
            if len(a.open_orders) > a.capacity:
                problems.append(f"agent {a.id!r} holds {len(a.open_orders)} > {a.capacity}")
            if a.has_room() and a.id not in self.strategy.resting:
                room.update((None, *a.skills))
        for skill in self.queues.skills():
            if skill in room:
                problems.append(f"orders of skill {skill!r} wait while an agent has room")
        return problems
