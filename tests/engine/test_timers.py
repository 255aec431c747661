"""Lifecycle timers on a real clock fire by themselves (engine.timers.TimerDriver).

No request comes: the driver wakes at the earliest deadline and runs FireTimers through
the engine. The commands are run at times a few seconds in the past (`at`), so a
real 10 s timeout falls due within a fraction of a second of real time.
"""

from __future__ import annotations

import asyncio
import time

from engine import commands as cmd
from engine.clock import RealClock
from engine.core import Engine
from engine.journal import MemoryJournal
from engine.timers import TimerDriver


def new_order(order_id: str) -> cmd.NewOrder:
    return cmd.NewOrder(order_id, "pre", 0, order_id.encode())


async def until(condition, timeout_s: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        await asyncio.sleep(0.02)
    return condition()


async def staffed(engine: Engine, at: int) -> None:
    s = engine.state.settings
    await engine.execute(
        cmd.ChangeSettings(s.logout_grace_s, s.stop_new_before_end_s, s.timezone,
                           s.contest_points, s.warning_bottom_n, s.language, 10, 1, 0),
        at=at,
    )  # fmt: skip
    for agent_id in ("a1", "a2"):
        await engine.execute(cmd.UpsertAgent(agent_id, agent_id, "t", ["pre"], 2), at=at)
        await engine.execute(cmd.Login(agent_id), at=at)


async def test_a_timeout_fires_on_the_real_clock_with_no_request():
    engine = Engine(MemoryJournal(), RealClock())
    driver = TimerDriver(engine)
    driver.start()
    past = RealClock().now_ms() - 9_700  # due 0.3 s from now
    await staffed(engine, past)
    await engine.execute(cmd.SubmitOrders([new_order("o1")]), at=past)
    assert engine.state.orders["o1"].agent_id == "a1"
    assert await until(lambda: engine.state.orders["o1"].agent_id == "a2")
    assert engine.state.agents["a1"].state == "not_responding"
    assert driver.fired == 1
    await engine.close()
    assert engine.driver is None and driver._on_record not in engine.listeners


async def test_a_new_earlier_deadline_rearms_the_driver():
    engine = Engine(MemoryJournal(), RealClock())
    TimerDriver(engine).start()
    now = RealClock().now_ms()
    await staffed(engine, now)
    await engine.execute(cmd.SubmitOrders([new_order("o1"), new_order("o2")]))
    await engine.execute(cmd.RecordResponse("o2"))
    await asyncio.sleep(0.01)  # listeners run once the record is durable
    armed = engine.driver._armed_for  # type: ignore[union-attr]
    assert armed is not None and armed >= now + 10_000  # o1's timeout
    await engine.execute(cmd.CompleteOrder("o2"))  # wrap-up: 1 s, earlier than that
    a2 = engine.state.agents[engine.state.orders["o2"].agent_id or ""]
    assert len(a2.wrap_ends) == 1
    assert await until(lambda: not a2.wrap_ends, 3.0)
    await engine.close()


async def test_a_manual_clock_needs_no_driver():
    from engine.clock import ManualClock

    engine = Engine(MemoryJournal(), ManualClock(0))
    TimerDriver(engine).start()
    assert engine.driver is None and engine.listeners == []
