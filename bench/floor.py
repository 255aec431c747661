"""A working floor of N agents, built through the real engine, for routing benchmarks.

Every agent is created, logged in and loaded by commands through `Engine.execute`
on a MemoryJournal and a ManualClock, so the index holds what live traffic leaves
in it (stale entries included), not a hand-made heap. Skills are mixed ("pre",
"post", both), capacities 3..5, and loads are partial and uneven: the floor is
filled to about 60% by load-based routing, then a random 30% of the open orders
are completed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from bench.drive import run_now
from engine import commands as cmd
from engine.clock import ManualClock
from engine.core import Engine
from engine.handlers import Changes, Reply, handle
from engine.journal import MemoryJournal
from engine.state import State
from presence.agent import Agent
from presence.timeutil import parse_time
from router.order import ASSIGNED

T0 = parse_time("2026-11-23T08:00:00Z")
SKILL_SETS: tuple[tuple[str, ...], ...] = (("pre",), ("post",), ("pre", "post"))
ORDER_SKILLS: tuple[str | None, ...] = ("pre", "post", None)
FILL = 0.6
COMPLETE_SHARE = 0.3


def new_order(n: int, skill: str | None, priority: int = 0) -> cmd.NewOrder:
    return cmd.NewOrder(f"o{n:08d}", skill, priority, n.to_bytes(16, "big"))


@dataclass(slots=True)
class Floor:
    engine: Engine
    clock: ManualClock
    rng: random.Random
    agents: list[Agent] = field(default_factory=list)
    orders_made: int = 0

    @property
    def state(self) -> State:
        return self.engine.state

    def order(self, skill: str | None) -> cmd.NewOrder:
        self.orders_made += 1
        return new_order(self.orders_made, skill)

    def tick(self, ms: int = 1000) -> int:
        self.clock.advance(ms)
        return self.clock.now_ms()

    def run(self, command: cmd.Command) -> Reply:
        """Execute through the engine (journaled); the caller runs inside an event loop."""
        return run_now(self.engine.execute(command))

    def handle(self, command: cmd.Command) -> Reply:
        """Decide and apply through the handlers only, as `Engine.execute` does between
        reading the clock and appending (no record encoded, nothing journaled)."""
        now = self.tick()
        self.state.advance(now)
        return handle(Changes(self.state, now), command)

    def open_orders(self) -> list[str]:
        return [o.id for o in self.state.orders.values() if o.status == ASSIGNED]


def build_floor(n_agents: int, seed: int = 1) -> Floor:
    """N agents logged in and partly loaded; call inside a running event loop."""
    clock = ManualClock(T0)
    floor = Floor(Engine(MemoryJournal(), clock), clock, random.Random(seed))
    rng = floor.rng
    for i in range(n_agents):
        floor.tick(1)
        floor.run(
            cmd.UpsertAgent(
                f"a{i:05d}",
                f"Agent {i}",
                f"team-{i % 40:02d}",
                list(SKILL_SETS[i % 3]),
                rng.randint(3, 5),
            )
        )
    for i in range(n_agents):
        floor.tick(1)
        floor.run(cmd.Login(f"a{i:05d}"))
    floor.agents = list(floor.state.agents.values())
    slots = sum(a.capacity for a in floor.agents)
    for _ in range(int(slots * FILL)):
        floor.tick(10)
        floor.run(cmd.SubmitOrders([floor.order(rng.choice(ORDER_SKILLS))]))
    open_ids = floor.open_orders()
    for order_id in rng.sample(open_ids, int(len(open_ids) * COMPLETE_SHARE)):
        floor.tick(10)
        floor.run(cmd.CompleteOrder(order_id))
    return floor


def saturate(floor: Floor, queued: int) -> None:
    """Fill every agent to capacity, then leave `queued` orders waiting."""
    rng = floor.rng
    while len(floor.state.queues) < queued:
        floor.tick(10)
        floor.run(cmd.SubmitOrders([floor.order(rng.choice(ORDER_SKILLS))]))
