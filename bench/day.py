"""A simulated day of a 400-seat center, journaled by the real engine, for replay benchmarks.

1,200 agents in three 8-hour shifts (400 seats), skills "pre", "post" or both,
capacities 3..5. Agents log in a few minutes before their shift and out around its
end (most within the guard's grace window, some late; a few ask to leave early and
a supervisor approves or denies), take two breaks a shift, and complete each order
a few minutes after it reaches them. Orders arrive in batches from the platform,
with a daily curve whose peaks exceed the floor's capacity, so some wait in queues;
shift changes release open orders of agents going offline. A few completed orders
get a QA check.

Every step is a command through `Engine.execute` on a MemoryJournal and a
ManualClock; the journal's records are then copied into a SqliteJournal. The
generator stops once the journal holds `target_events` events.
"""

from __future__ import annotations

import asyncio
import heapq
import json
import math
import random
from dataclasses import dataclass, field
from pathlib import Path

from bench.drive import run_now
from engine import commands as cmd
from engine import events as ev
from engine.clock import ManualClock
from engine.core import Engine
from engine.errors import SeatflowError
from engine.events import decode_record
from engine.fingerprint import digest
from engine.journal import MemoryJournal
from engine.sqlite_journal import JOURNAL_FILE, SqliteJournal
from presence.agent import AVAILABLE, AWAY, OFFLINE
from presence.timeutil import parse_time
from router.order import ASSIGNED

GENERATOR_VERSION = 2  # 2: the digest is engine.fingerprint's
META_FILE = "day.json"
DAY_START = parse_time("2026-11-23T00:00:00Z")
HOUR = 3_600_000
MIN = 60_000
SHIFT_STARTS_H = (0, 8, 16)
PAYLOAD = b'{"channel":"chat","customer":"c%07d","shop":"s%03d"}'
# Relative order arrival rate by hour of day (1.0 = the mean rate).
DAY_CURVE = (
    0.35, 0.3, 0.25, 0.25, 0.3, 0.4, 0.6, 0.8, 1.0, 1.25, 1.4, 1.45,
    1.35, 1.3, 1.35, 1.4, 1.35, 1.25, 1.2, 1.3, 1.45, 1.35, 1.0, 0.6,
)  # fmt: skip


@dataclass(frozen=True)
class DayShape:
    seats: int = 400
    target_events: int = 1_000_000
    days_of_shifts: int = 3
    mean_orders_per_s: float = 3.3
    mean_handle_s: float = 300.0
    seed: int = 20261123

    @property
    def agents(self) -> int:
        return self.seats * len(SHIFT_STARTS_H)


@dataclass
class DayStats:
    records: int = 0
    events: int = 0
    orders: int = 0
    commands: int = 0
    refused: int = 0
    sim_hours: float = 0.0
    by_type: dict[str, int] = field(default_factory=dict)
    digest: str = ""


class _Day:
    """The simulation: a timeline of commands, fed to the engine in time order."""

    def __init__(self, shape: DayShape) -> None:
        self.shape = shape
        self.rng = random.Random(shape.seed)
        self.clock = ManualClock(DAY_START - HOUR)
        self.journal = MemoryJournal()
        self.engine = Engine(self.journal, self.clock)
        self.timeline: list[tuple[int, int, cmd.Command | None]] = []
        self.seq = 0
        self.stats = DayStats()
        self.ids = [f"a{i:05d}" for i in range(shape.agents)]

    def at(self, when: int, command: cmd.Command | None) -> None:
        self.seq += 1
        heapq.heappush(self.timeline, (when, self.seq, command))

    def run(self, command: cmd.Command) -> None:
        before = len(self.journal.records)
        self.stats.commands += 1
        try:
            run_now(self.engine.execute(command))
        except SeatflowError:
            self.stats.refused += 1
        for record in self.journal.records[before:]:
            self._observe(decode_record(record))

    def _observe(self, record: ev.Record) -> None:
        st = self.stats
        st.records += 1
        st.events += len(record.events)
        for e in record.events:
            name = type(e).__name__
            st.by_type[name] = st.by_type.get(name, 0) + 1
            if isinstance(e, ev.OrderAssigned):
                handle = self.rng.lognormvariate(math.log(self.shape.mean_handle_s) - 0.18, 0.6)
                self.at(record.at + int(handle * 1000), cmd.CompleteOrder(e.order_id, e.agent_id))
            elif isinstance(e, ev.OrderCompleted) and self.rng.random() < 0.02:
                passed = self.rng.random() < 0.95
                self.at(record.at + 30 * MIN, cmd.RecordQa(e.order_id, passed, "qa"))

    # -- setup -------------------------------------------------------------------

    def staff(self) -> None:
        rng = self.rng
        skills = (["pre"], ["post"], ["pre", "post"])
        for i, agent_id in enumerate(self.ids):
            self.run(
                cmd.UpsertAgent(
                    agent_id, f"Agent {i}", f"team-{i // 20:02d}", skills[i % 3], rng.randint(3, 5)
                )
            )
        shifts = []
        for i, agent_id in enumerate(self.ids):
            start_h = SHIFT_STARTS_H[(i // 3) % 3]
            for day in range(self.shape.days_of_shifts):
                start = DAY_START + day * 24 * HOUR + start_h * HOUR
                shifts.append(ev.ShiftSpec(agent_id, start, start + 8 * HOUR))
                self._plan_shift(agent_id, start, start + 8 * HOUR)
        self.run(cmd.AddShifts(shifts))

    def _plan_shift(self, agent_id: str, start: int, end: int) -> None:
        rng = self.rng
        self.at(start - rng.randint(0, 10 * MIN), cmd.Login(agent_id))
        for lo in (start + 2 * HOUR, start + 5 * HOUR):
            away = lo + rng.randint(0, HOUR)
            self.at(away, cmd.GoAway(agent_id, "break"))
            self.at(away + rng.randint(10 * MIN, 20 * MIN), cmd.GoAvailable(agent_id))
        if rng.random() < 0.05:  # asks to leave early; a supervisor decides
            leave = end - rng.randint(40 * MIN, 3 * HOUR)
            self.at(leave, cmd.Logout(agent_id))
            self.at(leave + rng.randint(MIN, 5 * MIN), None)  # decision, see _decide
        self.at(end + rng.randint(-9 * MIN, 12 * MIN), cmd.Logout(agent_id))

    # -- traffic -------------------------------------------------------------------

    def _decide(self) -> cmd.Command | None:
        """The oldest pending logout request gets a supervisor's decision."""
        for request in self.engine.state.requests.values():
            if request.status == "pending":
                if self.rng.random() < 0.7:
                    return cmd.ApproveLogout(request.id, "sup-1")
                return cmd.DenyLogout(request.id, "sup-1")
        return None

    def _orders(self, now: int) -> cmd.SubmitOrders:
        rng = self.rng
        n = min(8, 1 + int(rng.expovariate(1 / 1.6)))
        orders = []
        for _ in range(n):
            self.stats.orders += 1
            k = self.stats.orders
            skill = rng.choices(("pre", "post", None), (0.45, 0.35, 0.2))[0]
            priority = 0 if rng.random() < 0.9 else rng.randint(1, 3)
            orders.append(
                cmd.NewOrder(
                    f"o{k:08d}",
                    skill,
                    priority,
                    k.to_bytes(16, "big"),
                    PAYLOAD % (rng.randrange(10**7), rng.randrange(1000)),
                )
            )
        return cmd.SubmitOrders(orders)

    def _next_arrival(self, now: int) -> int:
        hour = (now - DAY_START) // HOUR % 24
        rate = self.shape.mean_orders_per_s * DAY_CURVE[hour] / 2.2  # batches per second
        return now + max(1, int(self.rng.expovariate(rate) * 1000))

    def _fits(self, command: cmd.Command) -> bool:
        """Skip steps the floor has made moot (order re-routed, agent already offline)."""
        state = self.engine.state
        if isinstance(command, cmd.CompleteOrder):
            order = state.orders[command.order_id]
            return order.status == ASSIGNED and order.agent_id == command.as_agent
        if isinstance(command, cmd.GoAway | cmd.GoAvailable):
            agent = state.agents[command.agent_id]
            return agent.state == (AVAILABLE if isinstance(command, cmd.GoAway) else AWAY)
        if isinstance(command, cmd.Logout):
            return state.agents[command.agent_id].state != OFFLINE
        return True

    def simulate(self) -> None:
        arrival = self._next_arrival(DAY_START)
        target = self.shape.target_events
        while self.stats.events < target:
            if self.timeline and self.timeline[0][0] <= arrival:
                when, _, command = heapq.heappop(self.timeline)
                self.clock.set(max(when, self.clock.now_ms()))
                if command is None:
                    command = self._decide()
                if command is not None and self._fits(command):
                    self.run(command)
            else:
                self.clock.set(max(arrival, self.clock.now_ms()))
                self.run(self._orders(arrival))
                arrival = self._next_arrival(arrival)
        self.stats.sim_hours = (self.clock.now_ms() - DAY_START) / HOUR
        self.stats.digest = digest(self.engine.state)


def generate(shape: DayShape) -> tuple[list[bytes], DayStats]:
    """Simulate; returns the journal's records and what they hold. Runs in its own loop."""

    async def main() -> tuple[list[bytes], DayStats]:
        day = _Day(shape)
        day.staff()
        day.simulate()
        return day.journal.records, day.stats

    return asyncio.run(main())


async def _write(path: Path, records: list[bytes]) -> None:
    journal = SqliteJournal.in_dir(path)
    try:
        for start in range(0, len(records), 50_000):
            for record in records[start : start + 50_000]:
                journal.append(record)
            await journal.flush()
    finally:
        await journal.close()


@dataclass(frozen=True)
class DayJournal:
    path: Path
    stats: DayStats


def ensure_day_journal(path: Path, shape: DayShape | None = None) -> DayJournal:
    """The day's journal in `path`: reused when a matching one is there, else generated."""
    shape = shape or DayShape()
    key = {"version": GENERATOR_VERSION, "shape": shape.__dict__}
    meta = path / META_FILE
    if meta.exists() and (path / JOURNAL_FILE).exists():
        saved = json.loads(meta.read_text())
        if saved.get("key") == key:
            return DayJournal(path, DayStats(**saved["stats"]))
    for name in (META_FILE, JOURNAL_FILE, JOURNAL_FILE + "-wal", JOURNAL_FILE + "-shm"):
        (path / name).unlink(missing_ok=True)
    records, stats = generate(shape)
    asyncio.run(_write(path, records))
    meta.write_text(json.dumps({"key": key, "stats": stats.__dict__}, indent=1))
    return DayJournal(path, stats)
