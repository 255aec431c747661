"""The lifecycle's routing cost at 4,000 agents: the decision with stickiness on.

`engine.routing.decision` is the whole decision: the order's preferred agent looked up
by id, its customer's last agent from router.customers (bounded by the window), then
`router.policy.place`. Orders come in three kinds, one third each: a returning customer
whose last agent has room (sticky), one whose last agent is full (the rules decide),
and an order with no customer. p99 over 100k individually timed decisions goes to
extra_info (bench/RESULTS.md); each kind's outcome is checked against the rules.

The GC regime is the server's: the floor, built through commands, is recovered from its
journal by a fresh engine (`Engine.recover`: the cyclic GC paused while replaying, the
state frozen after, the GC on again), and decisions run on that state. The timed loop
counts the collections that start inside it (gc.callbacks); a second loop keeps every
decision's event, as a command holds its events until they are applied, so the
events count towards the young generation's threshold and collections do start inside
decisions. Per block of 1,000 consecutive samples, p50 and p99 show how much of the
tail is the machine's (a shared VM runs the same code at two speeds for milliseconds
at a time).
"""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import statistics
import time
from collections.abc import Iterator
from typing import Any

import pytest

from bench.floor import ORDER_SKILLS, Floor, build_floor
from bench.test_router import LOOP_N, percentiles, timer_overhead_ns
from engine import commands as cmd
from engine.core import Engine
from engine.invariants import chosen_agent
from engine.routing import decision
from router.events import OrderAssigned
from router.order import Order

N = 4000
CUSTOMERS = 20_000
WINDOW_S = 3600


async def _sticky_floor() -> tuple[Floor, list[Order]]:
    floor = build_floor(N, seed=3)
    s = floor.state.settings
    floor.run(cmd.ChangeSettings(*dataclasses.astuple(
        dataclasses.replace(s, sticky_window_s=WINDOW_S))))  # fmt: skip
    rng = floor.rng
    for c in range(CUSTOMERS):  # each customer's order assigned, then completed: remembered
        o = floor.order(rng.choice(ORDER_SKILLS))
        o.customer_id = f"c{c:06d}"
        floor.tick(10)
        reply = floor.run(cmd.SubmitOrders([o]))
        if reply.body.status == "assigned":
            floor.run(cmd.CompleteOrder(o.id))
    state = floor.state
    assert len(state.customers) == CUSTOMERS
    for c in range(3, 6):  # three customers' last agents filled up (orders preferring them)
        agent_id = state.customers.agent_of(f"c{c:06d}", state.now) or ""
        while state.agents[agent_id].has_room():
            o = floor.order(None)
            o.preferred_agent_id = agent_id
            floor.run(cmd.SubmitOrders([o]))
    sticky = full = 0
    orders: list[Order] = []
    for c in range(CUSTOMERS):
        customer = f"c{c:06d}"
        last = state.customers.agent_of(customer, state.now)
        agent = state.agents[last or ""]
        if agent.has_room() and not agent.handing_over and sticky < 3:
            sticky += 1
            orders.append(_routing(f"s{c}", agent.skills[0], customer))
        elif not agent.has_room() and full < 3:
            full += 1
            orders.append(_routing(f"f{c}", agent.skills[0], customer))
    assert (sticky, full) == (3, 3), (sticky, full)
    orders += [_routing(f"n{i}", skill, None) for i, skill in enumerate(ORDER_SKILLS)]
    recovered = Engine(floor.engine.journal, floor.clock)
    recovered.recover()  # the server's start: GC paused while replaying, the state frozen
    assert list(recovered.state.customers.items()) == list(state.customers.items())
    floor.engine = recovered
    return floor, orders


def _routing(order_id: str, skill: str | None, customer: str | None) -> Order:
    """An order being routed, as the engine holds it between arrival and its decision."""
    return Order(order_id, skill, 0, b"", 0, 0, status="routing", customer_id=customer)


@pytest.fixture(scope="module")
def sticky_floor() -> Iterator[tuple[Floor, list[Order]]]:
    assert gc.isenabled()
    yield asyncio.run(_sticky_floor())
    gc.unfreeze()  # the benchmarks after these run in the regime they had


def _kinds(floor: Floor, orders: list[Order]) -> list[str]:
    state = floor.state
    out = []
    for o in orders:
        got = decision(state, o, state.now)
        want, how = chosen_agent(state, o, None)
        assert want is not None and isinstance(got, OrderAssigned), (o, got)
        assert (got.agent_id, got.routed_by) == (want.id, how)
        out.append(how)
    return out


@pytest.mark.benchmark(group="lifecycle: routing decision, 4,000 agents, sticky on")
@pytest.mark.parametrize("kind", ["sticky", "sticky-agent-full", "no-customer"])
def test_sticky_decision(benchmark: Any, sticky_floor, kind: str):
    floor, orders = sticky_floor
    order = orders[{"sticky": 0, "sticky-agent-full": 3, "no-customer": 6}[kind]]
    state = floor.state
    got = benchmark.pedantic(
        decision, (state, order, state.now), rounds=2000, iterations=100, warmup_rounds=200
    )
    assert isinstance(got, OrderAssigned)
    assert got.routed_by == ("sticky" if kind == "sticky" else "load")


def _blocks(samples: list[int], size: int = 1000) -> dict[str, list[float]]:
    """p50 and p99 per block of `size` consecutive samples: [min, median, max] in us."""
    p50, p99 = [], []
    for i in range(0, len(samples) - size + 1, size):
        block = sorted(samples[i : i + size])
        p50.append(block[size // 2] / 1000)
        p99.append(block[int(size * 0.99)] / 1000)
    return {
        name: [round(min(v), 3), round(statistics.median(v), 3), round(max(v), 3)]
        for name, v in (("block_p50_us", p50), ("block_p99_us", p99))
    }


def _timed(state: Any, orders: list[Order], keep: bool) -> dict[str, Any]:
    """LOOP_N decisions timed one by one; `keep`: their events stay alive (a list)."""
    clock, now = time.perf_counter_ns, state.now
    samples: list[int] = []
    kept: list[object] = []
    started = [0, 0, 0]

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started[info["generation"]] += 1

    gc.callbacks.append(on_gc)
    try:
        for i in range(LOOP_N):
            o = orders[i % len(orders)]
            t0 = clock()
            event = decision(state, o, now)
            samples.append(clock() - t0)
            if keep:
                kept.append(event)
    finally:
        gc.callbacks.remove(on_gc)
    return percentiles(samples) | _blocks(samples) | {"gc_collections_by_generation": started}


@pytest.mark.benchmark(group="lifecycle: p99 over 100k timed decisions (perf_counter_ns loop)")
def test_sticky_decision_tail(benchmark: Any, sticky_floor):
    floor, orders = sticky_floor
    assert _kinds(floor, orders) == ["sticky"] * 3 + ["load"] * 6
    state = floor.state

    def loop() -> dict[str, Any]:
        return {
            "timer_overhead_ns": timer_overhead_ns(),
            "gc": "on; the floor recovered by Engine.recover and frozen, as the server starts",
            "decision": _timed(state, orders, keep=False),
            "decision_events_kept": _timed(state, orders, keep=True),
            "customers_remembered": len(state.customers),
        }

    result = benchmark.pedantic(loop, rounds=1, warmup_rounds=0)
    benchmark.extra_info.update(result)
    print(f"\nn={N} sticky on {result}")
