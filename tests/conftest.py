"""Shared fixtures: seeded randomness, and a real Engine on a MemoryJournal + ManualClock.

`Center` drives the real engine and, after every command, checks what must always
hold: a follower state fed from the journal (replay, record by record) checks each
assignment against the routing rules and ends equal to the live state; the live
state passes `invariants.check`; and a refused command changed nothing.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import random
from collections.abc import Callable
from typing import Any

import msgspec
import pytest

from engine import commands as cmd
from engine import events as ev
from engine.archive import sweep_due
from engine.clock import ManualClock
from engine.core import Engine
from engine.errors import SeatflowError
from engine.events import ShiftSpec, decode_record
from engine.fingerprint import fingerprint
from engine.handlers import Reply
from engine.history import fold_due
from engine.invariants import apply_checked, check
from engine.journal import Journal, MemoryJournal
from engine.state import State
from presence.timeutil import parse_time

# What firing timers may journal (engine.lifecycle): time-outs and their re-routing,
# wrap-up ends and the queue they serve.
TIMER_EVENTS = {
    ev.ResponseTimedOut,
    ev.OrderReleased,
    ev.OrderAssigned,
    ev.OrderQueued,
    ev.WrapUpEnded,
    ev.OrdersArchived,  # the retention sweep, run before a command like the timers
    ev.PresenceFolded,  # and a local midnight's presence fold
}

# Monday 2026-11-23 00:00 UTC: the day the tables talk about.
T0 = parse_time("2026-11-23T00:00:00Z")
MIN = 60_000
HOUR = 60 * MIN


def at(hhmm: str, day: int = 0) -> int:
    """'08:30' on day `day` after T0, as epoch ms."""
    h, m = hhmm.split(":")
    return T0 + day * 24 * HOUR + int(h) * HOUR + int(m) * MIN


def digest(skill: str | None, priority: int, payload: Any = None) -> bytes:
    body = msgspec.json.encode({"skill": skill, "priority": priority, "payload": payload})
    return hashlib.sha256(body).digest()


def new_order(order_id: str, skill: str | None = "pre", priority: int = 0) -> cmd.NewOrder:
    return cmd.NewOrder(order_id, skill, priority, digest(skill, priority))


class Center:
    """The real engine plus the checks every test gets for free."""

    at = staticmethod(at)
    new_order = staticmethod(new_order)

    def __init__(self, start: int = T0, journal: Journal | None = None) -> None:
        self.clock = ManualClock(start)
        self.journal = journal if journal is not None else MemoryJournal()
        self.engine = Engine(self.journal, self.clock)
        self.follower = State()
        self.seen = 0

    @property
    def state(self) -> State:
        return self.engine.state

    async def run(self, command: cmd.Command) -> Reply:
        """Execute; on a domain error assert nothing changed, then re-raise.

        Timers due by now and the retention sweep run before any command, refused or not,
        each in a record of its own: a refused command may leave those records (and what
        they did), nothing else.
        """
        # What execute does first; done here so "before" is taken at the same time.
        self.state.advance(self.engine.now())
        now = self.engine.now()
        due = (
            self.state.deadlines.due(now) or sweep_due(self.state, now) or fold_due(self.state, now)
        )
        before = fingerprint(self.state)
        records = self._records()
        try:
            reply = await self.engine.execute(command)
        except SeatflowError:
            if records is not None and self._records() != records:
                added = self._records() - records  # type: ignore[operator]
                # timers, sweep, fold
                assert due and added in (1, 2, 3), "a refused command was journaled"
                for data in self.journal.records[-added:]:  # type: ignore[attr-defined]
                    fired = decode_record(data).events
                    assert {type(e) for e in fired} <= TIMER_EVENTS, (
                        "a refused command was journaled"
                    )
                self.verify()
            elif not due:  # (a journal this cannot read: timers due may have changed state)
                assert fingerprint(self.state) == before, "a refused command changed state"
                assert self._records() == records, "a refused command was journaled"
            raise
        self.verify()
        return reply

    def _records(self) -> int | None:
        return len(self.journal.records) if isinstance(self.journal, MemoryJournal) else None

    def verify(self) -> None:
        problems: list[str] = []
        if isinstance(self.journal, MemoryJournal):
            for seq, data in self.journal.replay(self.seen):
                problems += apply_checked(self.follower, decode_record(data))
                self.seen = seq
            # A restarted engine advances to its clock before its first command.
            self.follower.advance(self.state.now)
            assert fingerprint(self.follower) == fingerprint(self.state), "replay != live"
        problems += check(self.state)
        assert problems == []

    # -- shorthands, each one real command ---------------------------------------------

    async def agent(
        self,
        agent_id: str,
        skills: tuple[str, ...] = ("pre",),
        capacity: int = 2,
        team: str = "t1",
        name: str | None = None,
    ) -> Reply:
        return await self.run(
            cmd.UpsertAgent(agent_id, name or agent_id.upper(), team, list(skills), capacity)
        )

    async def shifts(self, *shifts: tuple[str, int, int]) -> Reply:
        return await self.run(cmd.AddShifts([ShiftSpec(a, s, e) for a, s, e in shifts]))

    async def login(self, *agent_ids: str) -> None:
        for agent_id in agent_ids:
            await self.run(cmd.Login(agent_id))

    async def away(self, agent_id: str, reason: str = "lunch") -> Reply:
        return await self.run(cmd.GoAway(agent_id, reason))

    async def available(self, agent_id: str) -> Reply:
        return await self.run(cmd.GoAvailable(agent_id))

    async def logout(self, agent_id: str) -> Reply:
        return await self.run(cmd.Logout(agent_id))

    async def force(self, agent_id: str, by: str = "sup") -> Reply:
        return await self.run(cmd.ForceLogout(agent_id, by))

    async def approve(self, request_id: str, by: str = "sup") -> Reply:
        return await self.run(cmd.ApproveLogout(request_id, by))

    async def deny(self, request_id: str, by: str = "sup") -> Reply:
        return await self.run(cmd.DenyLogout(request_id, by))

    async def order(self, order_id: str, skill: str | None = "pre", priority: int = 0) -> Reply:
        return await self.run(cmd.SubmitOrders([new_order(order_id, skill, priority)]))

    async def orders(self, *orders: cmd.NewOrder) -> Reply:
        return await self.run(cmd.SubmitOrders(list(orders)))

    async def complete(self, order_id: str) -> Reply:
        return await self.run(cmd.CompleteOrder(order_id))

    async def settings(self, grace_s: int = 600, stop_s: int = 300, tz: str = "Asia/Shanghai"):
        return await self.run(cmd.ChangeSettings(grace_s, stop_s, tz))

    async def lifecycle(
        self, timeout_s: int | None = None, wrap_s: int | None = None, sticky_s: int | None = None
    ) -> Reply:
        """Change the lifecycle settings (None: keep), the others as they are."""
        s = self.state.settings
        changed = dataclasses.replace(
            s,
            response_timeout_s=s.response_timeout_s if timeout_s is None else timeout_s,
            wrap_up_s=s.wrap_up_s if wrap_s is None else wrap_s,
            sticky_window_s=s.sticky_window_s if sticky_s is None else sticky_s,
        )
        return await self.run(cmd.ChangeSettings(*dataclasses.astuple(changed)))

    async def responded(self, order_id: str, as_agent: str | None = None) -> Reply:
        return await self.run(cmd.RecordResponse(order_id, as_agent))

    async def customer_order(
        self,
        order_id: str,
        customer: str | None,
        preferred: str | None = None,
        skill: str | None = "pre",
    ) -> Reply:
        o = new_order(order_id, skill)
        o.customer_id, o.preferred_agent_id = customer, preferred
        return await self.run(cmd.SubmitOrders([o]))

    async def goto(self, when: int) -> None:
        """Move the manual clock, journaled, as `POST /v1/admin/clock` does."""
        await self.engine.set_clock(when)
        self.verify()

    # -- reads ---------------------------------------------------------------------------

    def holder(self, order_id: str) -> str | None:
        return self.state.orders[order_id].agent_id

    def status(self, order_id: str) -> str:
        return self.state.orders[order_id].status

    def open_orders(self, agent_id: str) -> list[str]:
        return list(self.state.agents[agent_id].open_orders)

    def queue(self, skill: str | None = "pre") -> list[str]:
        return self.state.queues.ordered(skill)


@pytest.fixture
def center() -> Center:
    return Center()


@pytest.fixture
def make_center() -> Callable[..., Center]:
    return Center


def random_script(rng: random.Random, n: int) -> list[cmd.Command]:
    """n commands over a few agents and orders; some are refused (unknown ids, states)."""
    agents = [f"a{i}" for i in range(6)]
    script: list[cmd.Command] = []
    for i in range(n):
        roll, agent_id = rng.random(), rng.choice(agents)
        if roll < 0.1:
            skills = rng.sample(["pre", "post"], rng.randint(0, 2))
            script.append(cmd.UpsertAgent(agent_id, "N", "t", skills, rng.randint(1, 3)))
        elif roll < 0.15:
            start = T0 + rng.randrange(0, 48) * 30 * MIN
            script.append(cmd.AddShifts([ShiftSpec(agent_id, start, start + 4 * HOUR)]))
        elif roll < 0.3:
            script.append(cmd.Login(agent_id))
        elif roll < 0.35:
            script.append(cmd.GoAway(agent_id, "break"))
        elif roll < 0.4:
            script.append(cmd.Logout(agent_id))
        elif roll < 0.43:
            script.append(cmd.ApproveLogout(f"lr-{rng.randint(1, 5)}", "sup"))
        elif roll < 0.75:
            skill, prio = rng.choice(["pre", "post", None]), rng.randrange(3)
            o = new_order(f"o{rng.randrange(i + 1)}", skill, prio)
            if rng.random() < 0.3:  # a returning customer, sometimes with a dedicated agent
                o.customer_id = f"c{rng.randrange(4)}"
                o.preferred_agent_id = rng.choice([None, agent_id, "ghost"])
            script.append(cmd.SubmitOrders([o]))
        elif roll < 0.8:
            script.append(cmd.RecordResponse(f"o{rng.randrange(i + 1)}"))
        elif roll < 0.82:  # the lifecycle's settings: timeouts shorter than a step, wrap-up
            script.append(cmd.ChangeSettings(
                600, 300, "Asia/Shanghai", (3, 2, 1), 3, "en",
                rng.choice([0, 30, 60, 90, 120]), rng.choice([0, 30, 90]),
                rng.choice([0, 3600]),
            ))  # fmt: skip
        else:
            script.append(cmd.CompleteOrder(f"o{rng.randrange(i + 1)}"))
    return script


async def play_script(center: Center, script: list[cmd.Command], step_ms: int = 60_000) -> int:
    """Run each command a step later than the last; returns how many were refused."""
    refused = 0
    for step, command in enumerate(script):
        center.clock.set(T0 + step * step_ms)
        try:
            await center.run(command)
        except SeatflowError:
            refused += 1
    return refused


@pytest.fixture
def script_player() -> tuple[Callable[..., list[cmd.Command]], Callable[..., Any]]:
    return random_script, play_script


@pytest.fixture
def rng() -> random.Random:
    """A seeded Random; the seed is printed (shown on failure) and SEATFLOW_SEED replays it."""
    seed = int(os.environ.get("SEATFLOW_SEED") or random.SystemRandom().randrange(2**32))
    print(f"random seed: {seed} (rerun with SEATFLOW_SEED={seed})")
    return random.Random(seed)
