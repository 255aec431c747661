"""The long run's center: day after day of a 400-seat floor, through the real engine.

1,200 agents, 400 on each 8-hour shift (local 00, 08 and 16 h), each working one shift a
day. The day's shifts are added two hours before it begins; an agent logs in up to ten
minutes before its shift, takes two breaks, and logs out around its end (5% ask to
leave early; a supervisor approves or denies). Orders arrive every simulated minute along
the daily curve of bench.day, in batches as the platform sends them (30% from a customer
seen in the last hour: sticky routing is on); each is completed by its own command a few
minutes after its assignment, 30% get a first response first, 3% a QA result half an hour
after completion, and every day `late_qa` orders completed 3-6 days earlier (archived by
then) get a late QA result. A payroll scheme is set before the first order, and each
payroll month is closed in the first minute after it ends.

One simulated minute's commands go to the engine together, as the platform's requests
of that minute would (one group commit), in the order a floor sends them: completions,
responses and QA, then presence, then new orders. The retention sweep runs first, on its
own, as `Engine.execute` would run it before the first of them, so nothing reorders them.
Everything the driver keeps for itself is bounded (orders in flight, a week of samples
for late QA): the process's memory is the engine's.
"""

from __future__ import annotations

import asyncio
import heapq
import random
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial

from bench.day import DAY_CURVE, PAYLOAD
from engine import commands as cmd
from engine.archive import sweep_due
from engine.calendar import date_start, month_text, next_month
from engine.core import Engine
from engine.errors import SeatflowError
from engine.events import ShiftSpec
from presence.agent import AVAILABLE, AWAY, OFFLINE
from router.order import ASSIGNED, COMPLETED

MIN = 60_000
HOUR = 60 * MIN
SHIFT_STARTS_H = (0, 8, 16)
TIMEZONE = "Asia/Shanghai"  # the default setting: days and months are its calendar
STICKY_WINDOW_S = 3600
SCHEME = ("CNY", [2000, 2500], [50, 60, 70])  # thresholds (orders a month), cents per order


@dataclass(frozen=True)
class Shape:
    seats: int = 400
    orders_per_day: int = 30_000
    batch: int = 20  # orders per SubmitOrders at most
    retention_days: int = 2
    late_qa: int = 100  # late QA results a day, on orders of 3-6 days ago
    late_qa_days: tuple[int, int] = (3, 6)
    seed: int = 20260101

    @property
    def agents(self) -> int:
        return self.seats * len(SHIFT_STARTS_H)


@dataclass
class Tally:
    commands: int = 0
    refused: int = 0
    orders: int = 0
    completions: int = 0
    responses: int = 0
    qa: int = 0
    late_qa: int = 0
    late_qa_archived: int = 0


# A command made as its turn comes (from state as the commands before it left it), or None.
Make = Callable[[], cmd.Command | None]


def _same(command: cmd.Command) -> cmd.Command:
    return command


class Center:
    def __init__(self, engine: Engine, shape: Shape, first_day: date) -> None:
        self.engine = engine
        self.shape = shape
        self.rng = random.Random(shape.seed)
        self.day = first_day  # the next day to plan
        self.ids = [f"a{i:05d}" for i in range(shape.agents)]
        # (when, seq, what): a command, ("shifts", day) or ("decide", agent id).
        self.timeline: list[tuple[int, int, cmd.Command | tuple[str, object]]] = []
        self._seq = 0
        # Orders in flight: id -> (handle ms, gets a first response).
        self.open: dict[str, tuple[int, bool]] = {}
        self.qa_due: list[tuple[int, str, bool]] = []  # heap of (when, order id, late)
        # Per local day, a sample of the orders completed on it, for late QA (a week).
        self.done_sample: deque[tuple[date, list[str]]] = deque(maxlen=8)
        self._today: list[str] = []
        self.customers: deque[str] = deque(maxlen=2000)  # recent ones, some return
        self.carry = 0.0  # fractional orders of the minutes so far
        self.tally = Tally()
        self.month_ends = next_month(first_day.replace(day=1))
        self.closes: dict[str, float] = {}  # month -> seconds its ClosePayrollMonth took

    def local(self, d: date) -> int:
        return date_start(d, TIMEZONE)

    # -- setup -----------------------------------------------------------------------

    async def setup(self) -> None:
        """Agents, settings, the scheme: before the first day, at its start minus 3 h."""
        rng, engine = self.rng, self.engine
        skills = (["pre"], ["post"], ["pre", "post"])
        await asyncio.gather(
            *(
                engine.execute(
                    cmd.UpsertAgent(a, f"Agent {i}", f"team-{i // 20:02d}", skills[i % 3],
                                    rng.randint(3, 5))
                )
                for i, a in enumerate(self.ids)
            )
        )  # fmt: skip
        settings = cmd.ChangeSettings(
            600, 300, TIMEZONE, sticky_window_s=STICKY_WINDOW_S,
            order_retention_days=self.shape.retention_days,
        )  # fmt: skip
        await engine.execute(settings)
        currency, thresholds, rates = SCHEME
        month = month_text(self.day.replace(day=1))
        await engine.execute(cmd.SetPayrollScheme(month, currency, thresholds, rates))

    def plan_day(self) -> None:
        """The next day's shifts (added 2 h ahead) and everyone's presence on them."""
        start = self.local(self.day)
        self.at(start - 2 * HOUR, ("shifts", self.day))
        rng = self.rng
        for i, agent_id in enumerate(self.ids):
            begin = start + SHIFT_STARTS_H[(i // 3) % 3] * HOUR
            end = begin + 8 * HOUR
            self.at(begin - rng.randint(0, 10) * MIN, cmd.Login(agent_id))
            for lo in (begin + 2 * HOUR, begin + 5 * HOUR):
                away = lo + rng.randint(0, 60) * MIN
                self.at(away, cmd.GoAway(agent_id, "break"))
                self.at(away + rng.randint(10, 20) * MIN, cmd.GoAvailable(agent_id))
            if rng.random() < 0.05:  # asks to leave early; a supervisor decides
                leave = end - rng.randint(40, 180) * MIN
                self.at(leave, cmd.Logout(agent_id))
                self.at(leave + rng.randint(1, 5) * MIN, ("decide", agent_id))
            self.at(end + rng.randint(-9, 12) * MIN, cmd.Logout(agent_id))
        self.day += timedelta(days=1)

    def _shifts(self, day: date) -> cmd.AddShifts:
        start = self.local(day)
        return cmd.AddShifts(
            [
                ShiftSpec(a, b, b + 8 * HOUR)
                for i, a in enumerate(self.ids)
                for b in [start + SHIFT_STARTS_H[(i // 3) % 3] * HOUR]
            ]
        )

    def at(self, when: int, what: cmd.Command | tuple[str, object]) -> None:
        self._seq += 1
        heapq.heappush(self.timeline, (when, self._seq, what))

    # -- one minute ------------------------------------------------------------------

    async def minute(self, now: int, today: date) -> None:
        """Everything due in the minute ending at `now`, at `now`; `today` holds `now`."""
        engine = self.engine
        while sweep_due(engine.state, now):
            await self._run(cmd.ArchiveOrders(), now)
        if now >= self.local(self.month_ends):
            month = month_text(self._month_before())
            t = time.perf_counter()
            await self._run(cmd.ClosePayrollMonth(month, "payroll"), now)
            self.closes[month] = time.perf_counter() - t
            self.month_ends = next_month(self.month_ends)
        steps = self._work(now) + self._presence(now) + self._arrivals(now, today)
        if steps:
            await asyncio.gather(*(self._step(s, now) for s in steps))

    def _month_before(self) -> date:
        return (self.month_ends - timedelta(days=1)).replace(day=1)

    async def _run(self, command: cmd.Command, now: int) -> None:
        await self._step(partial(_same, command), now)

    async def _step(self, make: Make, now: int) -> None:
        """Decided as its turn comes (state as the commands before it left it)."""
        command = make()
        if command is None:
            return
        self.tally.commands += 1
        try:
            await self.engine.execute(command, at=now)
        except SeatflowError:
            self.tally.refused += 1

    def _work(self, now: int) -> list[Make]:
        """Completions and first responses of orders in flight, QA results due."""
        state, steps = self.engine.state, list[Make]()
        for order_id, (handle, responds) in list(self.open.items()):
            order = state.orders.get(order_id)
            if order is None or order.status == COMPLETED:
                del self.open[order_id]
                continue
            if order.status != ASSIGNED or order.assigned_at is None:
                continue
            if responds and order.first_response_at is None and order.assigned_at + MIN <= now:
                steps.append(partial(cmd.RecordResponse, order_id))
                self.tally.responses += 1
            if order.assigned_at + handle <= now:
                steps.append(partial(cmd.CompleteOrder, order_id))
                del self.open[order_id]
                self.tally.completions += 1
                self._today.append(order_id)
                if self.rng.random() < 0.03:
                    heapq.heappush(self.qa_due, (now + 30 * MIN, order_id, False))
        while self.qa_due and self.qa_due[0][0] <= now:
            _, order_id, late = heapq.heappop(self.qa_due)
            passed = self.rng.random() < 0.95
            steps.append(partial(self._qa, order_id, passed, late))
        return steps

    def _qa(self, order_id: str, passed: bool, late: bool) -> cmd.RecordQa:
        t = self.tally
        t.qa += 1
        if late:
            t.late_qa += 1
            t.late_qa_archived += order_id not in self.engine.state.orders
        return cmd.RecordQa(order_id, passed, "qa")

    def _presence(self, now: int) -> list[Make]:
        steps: list[Make] = []
        while self.timeline and self.timeline[0][0] <= now:
            _, _, what = heapq.heappop(self.timeline)
            if isinstance(what, cmd.Command):
                steps.append(partial(self._if_fits, what))
            elif what[0] == "shifts":
                steps.append(partial(self._shifts, what[1]))  # type: ignore[arg-type]
            else:
                steps.append(partial(self._decide, what[1]))  # type: ignore[arg-type]
        return steps

    def _if_fits(self, command: cmd.Command) -> cmd.Command | None:
        return command if self._fits(command) else None

    def _fits(self, command: cmd.Command) -> bool:
        """Skip what the floor made moot (already back from a break, already offline)."""
        agents = self.engine.state.agents
        if isinstance(command, cmd.GoAway):
            return agents[command.agent_id].state == AVAILABLE
        if isinstance(command, cmd.GoAvailable):
            return agents[command.agent_id].state == AWAY
        if isinstance(command, cmd.Logout):
            return agents[command.agent_id].state != OFFLINE
        return True

    def _decide(self, agent_id: str) -> cmd.Command | None:
        request_id = self.engine.state.agents[agent_id].pending_request
        if request_id is None:
            return None
        if self.rng.random() < 0.7:
            return cmd.ApproveLogout(request_id, "sup-1")
        return cmd.DenyLogout(request_id, "sup-1")

    def _arrivals(self, now: int, today: date) -> list[Make]:
        hour = min(23, (now - 1 - self.local(today)) // HOUR)
        self.carry += self.shape.orders_per_day * DAY_CURVE[hour] / sum(DAY_CURVE) / 60
        n, self.carry = int(self.carry), self.carry - int(self.carry)
        rng, orders = self.rng, []
        for _ in range(n):
            self.tally.orders += 1
            k = self.tally.orders
            order_id = f"o{k:09d}"
            if self.customers and rng.random() < 0.3:
                customer = rng.choice(self.customers)
            else:
                customer = f"c{k:09d}"
                self.customers.append(customer)
            skill = rng.choices(("pre", "post", None), (0.45, 0.35, 0.2))[0]
            payload = PAYLOAD % (k % 10**7, rng.randrange(1000))
            orders.append(
                cmd.NewOrder(order_id, skill, 0, k.to_bytes(16, "big"), payload, customer)
            )
            self.open[order_id] = (rng.randint(2, 6) * MIN, rng.random() < 0.3)
        b = self.shape.batch
        return [partial(cmd.SubmitOrders, orders[i : i + b]) for i in range(0, n, b)]

    # -- late QA ---------------------------------------------------------------------

    def end_of_day(self, day: date) -> None:
        """Keep a sample of the day's completed orders; forget the list."""
        sample = self.rng.sample(self._today, min(len(self._today), 4 * self.shape.late_qa))
        self.done_sample.append((day, sample))
        self._today = []

    def plan_late_qa(self, today: date) -> None:
        """Today at noon: QA results on orders of 3-6 days ago (past the window by then)."""
        lo, hi = self.shape.late_qa_days
        noon = self.local(today) + 12 * HOUR
        for _ in range(self.shape.late_qa):
            age = self.rng.randint(lo, hi)
            pool = next((ids for d, ids in self.done_sample if d == today - timedelta(age)), None)
            if pool:
                heapq.heappush(self.qa_due, (noon, self.rng.choice(pool), True))
