"""The lifecycle's routing cost at 4,000 agents: the decision with stickiness on.

`engine.routing.decision` is the whole decision: the order's preferred agent and its
customer's last agent looked up by id (router.customers, bounded by the window), then
`router.policy.place`. Orders come in three kinds, one third each: a returning customer
whose last agent has room (sticky), one whose last agent is full (the rules decide),
and an order with no customer. p99 over 100k individually timed decisions goes to
extra_info (bench/RESULTS.md); each kind's outcome is checked against the rules.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from typing import Any

import pytest

from bench.floor import ORDER_SKILLS, Floor, build_floor
from bench.test_router import LOOP_N, percentiles, timer_overhead_ns
from engine import commands as cmd
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
    return floor, orders


def _routing(order_id: str, skill: str | None, customer: str | None) -> Order:
    """An order being routed, as the engine holds it between arrival and its decision."""
    return Order(order_id, skill, 0, b"", 0, 0, status="routing", customer_id=customer)


@pytest.fixture(scope="module")
def sticky_floor() -> tuple[Floor, list[Order]]:
    return asyncio.run(_sticky_floor())


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


@pytest.mark.benchmark(group="lifecycle: p99 over 100k timed decisions (perf_counter_ns loop)")
def test_sticky_decision_tail(benchmark: Any, sticky_floor):
    floor, orders = sticky_floor
    assert _kinds(floor, orders) == ["sticky"] * 3 + ["load"] * 6
    state, clock = floor.state, time.perf_counter_ns

    def loop() -> dict[str, Any]:
        now = state.now
        samples = []
        for i in range(LOOP_N):
            o = orders[i % len(orders)]
            t0 = clock()
            decision(state, o, now)
            samples.append(clock() - t0)
        return {"timer_overhead_ns": timer_overhead_ns(), "decision": percentiles(samples),
                "customers_remembered": len(state.customers)}  # fmt: skip

    result = benchmark.pedantic(loop, rounds=1, warmup_rounds=0)
    benchmark.extra_info.update(result)
    print(f"\nn={N} sticky on {result}")
