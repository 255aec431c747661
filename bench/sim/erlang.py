"""Erlang B and C (M/M/c): the limit a work-conserving FIFO router must match,
and the staffing a planner reads off it.

Traffic `a` is in erlangs (arrival rate × mean handle time); `n` servers. Erlang B
uses the stable recursion B(0)=1, B(k)=a·B(k-1)/(k + a·B(k-1)), so a floor of
1,600 chat slots is no harder than 16.

A plan is the fewest servers that meet the service level AND keep occupancy (a/n,
the average share of servers busy) at or under a cap: on a large floor Erlang C
alone plans occupancies near 100% (1,280 erlangs meet 80% in 20 s with 1,283
servers: 99.8% busy), which no planner schedules; 85% is a common cap.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


def erlang_b(n: int, a: float) -> float:
    """Blocking probability of n servers offered a erlangs with no queue (M/M/n/n)."""
    if n < 0 or a < 0:
        raise ValueError("servers and traffic must not be negative")
    b = 1.0
    for k in range(1, n + 1):
        b = a * b / (k + a * b)
    return b


def erlang_c(n: int, a: float) -> float:
    """Probability that an arrival waits (M/M/n with an unlimited FIFO queue)."""
    if a >= n:
        return 1.0
    b = erlang_b(n, a)
    return n * b / (n - a * (1.0 - b))


def mean_wait(n: int, rate: float, aht: float) -> float:
    """Mean wait in queue (same time unit as `aht`; `rate` per that unit); inf if overloaded."""
    a = rate * aht
    if a >= n:
        return math.inf
    return erlang_c(n, a) * aht / (n - a)


def service_level(n: int, rate: float, aht: float, target_wait: float) -> float:
    """Share of arrivals answered within `target_wait`: 1 - C·exp(-(n - a)·t/aht)."""
    a = rate * aht
    if a >= n:
        return 0.0
    return 1.0 - erlang_c(n, a) * math.exp(-(n - a) * target_wait / aht)


def servers_needed(rate: float, aht: float, target_sl: float, target_wait: float) -> int:
    """The fewest servers whose service level reaches `target_sl` within `target_wait`."""
    if not 0.0 < target_sl < 1.0:
        raise ValueError("target service level must be between 0 and 1 (exclusive)")
    if not all(math.isfinite(x) for x in (rate, aht, target_wait)):
        raise ValueError("rate, handle time and wait must be finite numbers")
    if rate < 0 or aht <= 0 or target_wait < 0:
        raise ValueError("rate and wait must not be negative, handle time must be positive")
    if rate == 0:
        return 0
    n = max(1, math.floor(rate * aht) + 1)
    while service_level(n, rate, aht, target_wait) < target_sl:
        n += 1
    return n


def servers_for_occupancy(traffic: float, max_occupancy: float) -> int:
    """The fewest servers whose occupancy traffic/n is at most `max_occupancy`."""
    if not 0.0 < max_occupancy <= 1.0:
        raise ValueError("max occupancy must be in (0, 1]")
    if traffic <= 0:
        return 0
    n = max(1, math.floor(traffic / max_occupancy))  # the float quotient may be 1 short
    while traffic / n > max_occupancy:
        n += 1
    return n


SERVICE_LEVEL, OCCUPANCY = "service level", "occupancy"
MAX_OCCUPANCY = 0.85  # the default cap


@dataclass(frozen=True)
class Staffing:
    """One interval's answer: servers (chat slots) and agents to schedule; `limited_by`
    says which requirement set the head count (SERVICE_LEVEL or OCCUPANCY)."""

    rate_per_hour: float
    traffic: float
    servers: int
    agents_on_floor: int
    agents_scheduled: int
    service_level: float
    mean_wait_s: float
    occupancy: float
    limited_by: str


def staffing(
    rate_per_hour: float,
    aht_s: float,
    target_sl: float,
    target_wait_s: float,
    *,
    concurrency: int = 1,
    shrinkage: float = 0.0,
    max_occupancy: float = MAX_OCCUPANCY,
) -> Staffing:
    """Agents to put on the floor (each handling `concurrency` orders at once) and to
    schedule once `shrinkage` (breaks, meetings, absence) is allowed for: the fewest
    whose slots meet the service level and keep occupancy at most `max_occupancy`
    (1.0: no cap, Erlang C alone)."""
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    if not 0.0 <= shrinkage < 1.0:
        raise ValueError("shrinkage must be in [0, 1)")
    if not 0.0 < max_occupancy <= 1.0:
        raise ValueError("max occupancy must be in (0, 1]")
    rate = rate_per_hour / 3600.0
    traffic = rate * aht_s
    for_sl = servers_needed(rate, aht_s, target_sl, target_wait_s)
    for_occupancy = servers_for_occupancy(traffic, max_occupancy)
    n = max(for_sl, for_occupancy)
    on_floor = math.ceil(n / concurrency)
    slots = on_floor * concurrency
    return Staffing(
        rate_per_hour=rate_per_hour,
        traffic=traffic,
        servers=n,
        agents_on_floor=on_floor,
        agents_scheduled=math.ceil(on_floor / (1.0 - shrinkage)),
        service_level=service_level(slots, rate, aht_s, target_wait_s) if n else 1.0,
        mean_wait_s=mean_wait(slots, rate, aht_s) if n else 0.0,
        occupancy=traffic / slots if slots else 0.0,
        limited_by=OCCUPANCY if for_occupancy > for_sl else SERVICE_LEVEL,
    )
