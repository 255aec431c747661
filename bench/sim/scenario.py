"""One seeded day of a center: the roster, what each agent does, and the order stream.

Everything a strategy must not influence is drawn here from its own random
streams, so every strategy faces the same agents and the same orders: logins and
logouts spread around each changeover (some early, some late), two away breaks a
shift, a share who try to leave mid-shift (with the supervisor's decision drawn in
advance), a share who forget to log out, and Poisson arrivals whose rate follows a
daily profile, with a spike after each changeover and a big-sale hour.

The assignment lifecycle (issue 14), off unless asked for (`--lifecycle`): agents
who stop responding for a while (a share of the logged-in at any moment), a
first-response delay per agent, wrap-up after each completion, and returning
customers (a share of orders from customers seen in the last hour). Each comes from
its own random stream, so turning it on leaves the other draws of the day as they were.
"""

from __future__ import annotations

import math
import random
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field

from presence.timeutil import parse_time

SEC = 1000
MIN = 60 * SEC
HOUR = 60 * MIN
T0 = parse_time("2026-11-23T00:00:00Z")


def clock(at: int) -> str:
    """Simulated time as the run's clock: 08:00, 24:00 (the end of day 1), day 2 08:00."""
    h, m = divmod((at - T0) // MIN, 60)
    return f"{h:02d}:{m:02d}" if at - T0 <= 24 * HOUR else f"day {h // 24 + 1} {h % 24:02d}:{m:02d}"


# Questions per on-duty agent per hour, by hour of day (the big-sale hour is set apart).
PROFILE = (
    8, 7, 6, 6, 6, 7, 10, 14, 20, 25, 28, 30,
    28, 26, 28, 30, 30, 28, 26, 30, 33, 30, 20, 12,
)  # fmt: skip
SKILL_SETS: tuple[tuple[str, ...], ...] = (("pre",), ("post",), ("pre", "post"))
SKILL_SET_WEIGHTS = (0.4, 0.3, 0.3)
ORDER_SKILLS: tuple[str | None, ...] = ("pre", "post", None)
ORDER_SKILL_WEIGHTS = (0.45, 0.35, 0.2)


@dataclass(frozen=True)
class Scenario:
    seats: int = 400
    shifts: int = 3
    hours: float = 24.0
    seed: int = 1
    rate_multiplier: float = 1.0
    # Handle time: lognormal with this mean (seconds) and log-space sigma.
    aht_s: float = 32.0
    aht_sigma: float = 0.6
    # The big sale: an hour from this time of day (hours); by default it spans the
    # 16:00 changeover, the worst case the floor plans for (-1: no sale).
    sale_start_h: float = 15.5
    sale_rate: float = 360.0  # questions per on-duty agent per hour in the sale hour
    spike_min: int = 20  # the spike after each changeover lasts this long ...
    spike_factor: float = 1.6  # ... at this multiple of the hour's rate
    leave_share: float = 0.05  # agents who try to leave mid-shift
    approve_share: float = 0.6  # of those, the supervisor approves this share
    forget_share: float = 0.03  # agents who forget to log out
    sweep_s: int = 900  # supervisor acts on stuck orders / forgotten logouts after this
    check_every_s: int = 60  # invariants are checked this often (simulated time)
    steady: bool = False  # Erlang C segment: one shift, constant rate, no behaviour
    # -- the assignment lifecycle: what people do (all off by default) ---------------------
    unresponsive_share: float = 0.0  # share of logged-in agents unresponsive at any moment
    unresponsive_min: tuple[int, int] = (5, 20)  # each episode lasts this many minutes
    response_delay_s: float = 0.0  # mean first-response delay (each agent its own mean)
    wrap_up_s: int = 0  # after a completion a person needs this long before the next
    returning_share: float = 0.0  # orders from a customer seen in the last hour
    # -- what seatflow is told (its settings when the lifecycle is on) ---------------------
    response_timeout_s: int = 60  # also the "stuck" threshold for every strategy
    sticky_window_s: int = 3600

    @property
    def lifecycle(self) -> bool:
        """Any of the lifecycle's behaviours is on."""
        return bool(
            self.unresponsive_share or self.response_delay_s or self.wrap_up_s
            or self.returning_share
        )  # fmt: skip

    @property
    def shift_ms(self) -> int:
        return int(24 * HOUR / self.shifts)

    @property
    def agents(self) -> int:
        return self.seats * (1 if self.steady else self.shifts)

    @property
    def end(self) -> int:
        return T0 + int(self.hours * HOUR)

    def changeovers(self) -> list[int]:
        """Shift boundaries inside (start, end] where one shift hands over to the next."""
        if self.steady:
            return []
        k = range(1, int(self.hours * HOUR) // self.shift_ms + 1)
        return [T0 + i * self.shift_ms for i in k]

    def rate_per_s(self, t: int) -> float:
        """Arrival rate (orders/s) at time t: profile × on-duty seats, spike, sale hour."""
        if self.steady:
            return self.sale_rate * self.seats / 3600 * self.rate_multiplier
        of_day = (t - T0) % (24 * HOUR)
        sale = self.sale_start_h * HOUR
        in_sale = self.sale_start_h >= 0 and sale <= of_day < sale + HOUR
        per_agent = self.sale_rate if in_sale else float(PROFILE[of_day // HOUR])
        since = (t - T0) % self.shift_ms
        if not in_sale and since < self.spike_min * MIN and t >= T0 + self.shift_ms:
            per_agent *= self.spike_factor  # the sale is planned at its own rate
        return per_agent * self.seats / 3600 * self.rate_multiplier


@dataclass(frozen=True)
class AgentPlan:
    id: str
    skills: tuple[str, ...]
    capacity: int
    team: str
    shifts: tuple[tuple[int, int], ...]


@dataclass
class Plans:
    agents: list[AgentPlan] = field(default_factory=list)
    # (time, kind, agent_id, extra): login, logout, away, back, leave (mid-shift try),
    # gone (forgot to log out: walks away without logging out)
    steps: list[tuple[int, str, str, object]] = field(default_factory=list)
    # agent -> [(approve?, delay ms)] decisions for its mid-shift requests, in order
    decisions: dict[str, list[tuple[bool, int]]] = field(default_factory=dict)
    # agent -> its mean first-response delay (ms), with the lifecycle on
    response_delay_ms: dict[str, int] = field(default_factory=dict)


def plan(s: Scenario) -> Plans:
    """The roster and every agent's behaviour for the day (one random stream)."""
    rng = random.Random(f"{s.seed}:agents")
    out = Plans()
    n_shifts = 1 if s.steady else math.ceil(s.hours * HOUR / s.shift_ms) + 1
    for i in range(s.agents):
        group = 0 if s.steady else i % s.shifts
        aid = f"a{i:05d}"
        skills = ("pre", "post") if s.steady else rng.choices(SKILL_SETS, SKILL_SET_WEIGHTS)[0]
        starts = [T0 + (group + k * s.shifts) * s.shift_ms for k in range(n_shifts)]
        if s.steady:  # no roster, so no handover: everyone on from before the start
            out.agents.append(AgentPlan(aid, skills, 4, f"team-{i // 20:03d}", ()))
            out.steps.append((T0 - MIN, "login", aid, None))
            continue
        shifts = tuple((t, t + s.shift_ms) for t in starts if t < s.end + HOUR)
        out.agents.append(AgentPlan(aid, skills, rng.randint(3, 5), f"team-{i // 20:03d}", shifts))
        for start, end in shifts:
            _plan_shift(s, rng, out, aid, start, end)
    if s.lifecycle:
        _plan_lifecycle(s, out)
    out.steps.sort(key=lambda x: (x[0], x[2], x[1]))
    return out


def _plan_lifecycle(s: Scenario, out: Plans) -> None:
    """Unresponsive spells ("mute" .. "unmute") and each agent's response delay, from
    their own stream. Spells per shift are Poisson with the mean that makes about
    `unresponsive_share` of a shift's time unresponsive."""
    rng = random.Random(f"{s.seed}:lifecycle")
    lo, hi = s.unresponsive_min
    mean_spell = (lo + hi) / 2 * MIN
    for agent in out.agents:
        mean = s.response_delay_s * SEC
        delay = int(rng.lognormvariate(math.log(mean), 0.5)) if mean else 0
        out.response_delay_ms[agent.id] = delay
        for start, end in agent.shifts:
            expected = s.unresponsive_share * (end - start) / mean_spell
            t = rng.expovariate(1.0) if expected else math.inf
            while t < expected:  # a Poisson count of spells, by unit-rate arrivals
                at = start + rng.randrange(10 * MIN, max(10 * MIN + 1, end - start - 30 * MIN))
                length = rng.randrange(lo * MIN, hi * MIN + 1)
                out.steps.append((at, "mute", agent.id, None))
                out.steps.append((at + length, "unmute", agent.id, None))
                t += rng.expovariate(1.0)


def _plan_shift(
    s: Scenario, rng: random.Random, out: Plans, aid: str, start: int, end: int
) -> None:
    login = start + int(rng.gauss(-4, 5) * MIN)  # most a few minutes early, some late
    out.steps.append((login, "login", aid, None))
    for lo in (start + 2 * HOUR, start + 5 * HOUR):
        away = lo + rng.randrange(HOUR)
        if away < end - 30 * MIN:
            out.steps.append((away, "away", aid, None))
            out.steps.append((away + rng.randrange(10 * MIN, 20 * MIN), "back", aid, None))
    if rng.random() < s.leave_share:
        out.steps.append(
            (start + rng.randrange(HOUR, max(HOUR + 1, end - start - HOUR)), "leave", aid, None)
        )
        out.decisions.setdefault(aid, []).append(
            (rng.random() < s.approve_share, rng.randrange(2 * MIN, 12 * MIN))
        )
    if rng.random() < s.forget_share:
        out.steps.append((end + rng.randrange(0, 5 * MIN), "gone", aid, None))
    else:  # around the end: most inside the guard's grace window, a few early, some late
        out.steps.append((end + int(rng.gauss(-2, 5) * MIN), "logout", aid, None))


@dataclass(frozen=True, slots=True)
class Arrival:
    at: int
    n: int
    skill: str | None
    priority: int
    handle_ms: int
    customer: str | None = None


def arrivals(s: Scenario) -> Iterator[Arrival]:
    """Poisson arrivals with a piecewise-constant rate (per minute), exact by restarting
    the exponential at each piece boundary (memoryless); its own random stream. With the
    lifecycle on, each order has a customer: a new one, or (`returning_share`) one seen
    in the last hour, drawn from a stream of its own."""
    if s.lifecycle:
        yield from _with_customers(s, _arrivals(s))
    else:
        yield from _arrivals(s)


def _with_customers(s: Scenario, stream: Iterator[Arrival]) -> Iterator[Arrival]:
    rng = random.Random(f"{s.seed}:customers")
    recent: deque[tuple[int, str]] = deque()  # (last seen, customer), oldest first
    n = 0
    for a in stream:
        while recent and recent[0][0] <= a.at - HOUR:
            recent.popleft()
        if recent and rng.random() < s.returning_share:
            customer = recent[rng.randrange(len(recent))][1]
        else:
            n += 1
            customer = f"c{n:07d}"
        recent.append((a.at, customer))
        yield Arrival(a.at, a.n, a.skill, a.priority, a.handle_ms, customer)


def _arrivals(s: Scenario) -> Iterator[Arrival]:
    rng = random.Random(f"{s.seed}:orders")
    mu = math.log(s.aht_s) - s.aht_sigma**2 / 2  # lognormal with mean aht_s
    t = float(T0)
    n = 0
    while t < s.end:
        piece_end = (int(t) // MIN + 1) * MIN
        rate = s.rate_per_s(int(t)) / SEC
        nxt = t + rng.expovariate(rate) if rate > 0 else math.inf
        if nxt >= piece_end:
            t = float(piece_end)
            continue
        t = nxt
        if t >= s.end:
            break
        n += 1
        if s.steady:
            skill, priority = None, 0
            handle = rng.expovariate(1 / s.aht_s)
        else:
            skill = rng.choices(ORDER_SKILLS, ORDER_SKILL_WEIGHTS)[0]
            priority = 0 if rng.random() < 0.9 else rng.randint(1, 3)
            handle = rng.lognormvariate(mu, s.aht_sigma)
        yield Arrival(int(t), n, skill, priority, max(1, int(handle * SEC)))
