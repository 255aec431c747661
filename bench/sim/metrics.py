"""The summary of a run: waits, load, stranded orders, fairness, utilization, invariants,
and with the lifecycle on: first-response waits, orders stuck with an unresponsive agent,
returning customers served by their previous agent."""

from __future__ import annotations

from typing import Any

import numpy as np

from bench.sim.run import Outcome
from bench.sim.scenario import HOUR, MIN, T0
from presence.agent import AVAILABLE

WINDOW_MS = 30 * MIN  # "around a changeover": 30 minutes either side


def waits(out: Outcome) -> tuple[np.ndarray, np.ndarray]:
    """(arrival ms, wait s) of every order that arrived in the day; an order still
    unserved at the end counts its wait up to the end (censored)."""
    created = np.fromiter((t.created for t in out.tracks.values()), np.int64, len(out.tracks))
    wait = np.fromiter(
        (t.wait + (out.stop - t.since if t.since is not None else 0) for t in out.tracks.values()),
        np.float64,
        len(out.tracks),
    )
    return created, wait / 1000.0


# Percentiles reported, in thousandths (integers, so ranks are exact: 0.999 * 1000 is not).
PERCENTILES = (("p50", 500), ("p95", 950), ("p99", 990), ("p99_9", 999))


def percentile(ordered: np.ndarray, per_mille: int) -> float:
    """Nearest rank: the smallest observed wait that at least `per_mille`/1000 of the
    orders did not exceed (`ordered` sorted ascending, not empty). Unlike interpolation,
    it is always a wait some order had, and "99.9% waited at most p99.9" is true."""
    rank = -(-per_mille * len(ordered) // 1000)  # ceil(q·n) in integers
    return float(ordered[max(rank, 1) - 1])


def _pcts(w: np.ndarray) -> dict[str, float]:
    """Percentiles, mean and max of waits (s); with how many orders there were, how many
    waited at all and how many over a minute (p99 is 0 when under 1% waited: the tail
    is in p99.9, max and the counts)."""
    if not len(w):
        return {
            "orders": 0,
            "waited": 0,
            **{k: 0.0 for k, _ in PERCENTILES},
            "mean": 0.0,
            "max": 0.0,
            "over_60s": 0,
        }
    ordered = np.sort(w)
    return {
        "orders": len(w),
        "waited": int((w > 0).sum()),
        **{k: round(percentile(ordered, q), 3) for k, q in PERCENTILES},
        "mean": round(float(w.mean()), 3),
        "max": round(float(ordered[-1]), 3),
        "over_60s": int((w > 60).sum()),
    }


def first_response_waits(out: Outcome) -> np.ndarray:
    """Arrival to the first reply (s), from the customer's side; an order never replied to
    by the end counts up to the end (censored)."""
    return np.fromiter(
        ((t.first_response if t.first_response is not None else out.stop) - t.created
         for t in out.tracks.values()),
        np.float64, len(out.tracks),
    ) / 1000.0  # fmt: skip


def returning(out: Outcome) -> dict[str, Any]:
    """Orders of customers seen before: how many, and the share first answered by the
    agent who first answered that customer's previous order."""
    last: dict[str, str | None] = {}
    orders = same = 0
    for t in sorted(out.tracks.values(), key=lambda t: t.created):
        if t.customer is None:
            continue
        if t.customer in last:
            before = last[t.customer]
            if before is not None and t.responder is not None:
                orders += 1
                same += t.responder == before
        if t.responder is not None or t.customer not in last:
            last[t.customer] = t.responder
    return {
        "returning_orders": orders,
        "served_by_previous_agent": same,
        "served_by_previous_share": round(same / orders, 4) if orders else None,
    }


def gini(values: np.ndarray) -> float:
    """0 = everyone equal, 1 = one takes all (mean absolute difference / 2·mean)."""
    v = np.sort(np.asarray(values, dtype=np.float64))
    n = len(v)
    if n == 0 or v.sum() == 0:
        return 0.0
    i = np.arange(1, n + 1)
    return float((2 * (i * v).sum() / (n * v.sum())) - (n + 1) / n)


def _available_ms(transitions: list[tuple[int, str]], lo: int, hi: int) -> list[tuple[int, int]]:
    spans, since = [], None
    for at, state in transitions:
        if state == AVAILABLE and since is None:
            since = at
        elif state != AVAILABLE and since is not None:
            spans.append((since, at))
            since = None
    if since is not None:
        spans.append((since, hi))
    return [(max(a, lo), min(b, hi)) for a, b in spans if min(b, hi) > max(a, lo)]


def duty(out: Outcome) -> tuple[float | None, np.ndarray]:
    """Utilization (available time inside scheduled shifts ÷ scheduled time, over the
    day; None when nothing is scheduled, as in the steady segment, which has no roster)
    and, per agent on duty, completed orders per on-duty hour."""
    lo, hi = T0, out.scenario.end
    scheduled = on_duty = 0
    rates = []
    for plan in out.plans.agents:
        person = out.people[plan.id]
        spans = _available_ms(person.transitions, lo, out.stop)
        shifts = [(max(a, lo), min(b, hi)) for a, b in plan.shifts if min(b, hi) > max(a, lo)]
        scheduled += sum(b - a for a, b in shifts)
        on_duty += sum(max(0, min(b, d) - max(a, c)) for a, b in spans for c, d in shifts)
        hours = sum(b - a for a, b in spans) / HOUR
        if hours > 0.25:
            rates.append(person.completed / hours)
    return (on_duty / scheduled if scheduled else None), np.array(rates)


def summary(out: Outcome) -> dict[str, Any]:
    created, wait = waits(out)
    s = out.scenario
    near = np.zeros(len(created), dtype=bool)
    for c in s.changeovers():
        near |= (created >= c - WINDOW_MS) & (created < c + WINDOW_MS)
    utilization, rates = duty(out)
    done = sum(1 for t in out.tracks.values() if t.done is not None)
    return {
        "strategy": out.strategy,
        "scenario": {
            "seats": s.seats,
            "shifts": s.shifts,
            "hours": s.hours,
            "seed": s.seed,
            "rate_multiplier": s.rate_multiplier,
            "agents": s.agents,
            "aht_s": s.aht_s,
            "steady": s.steady,
        },
        "orders": len(out.tracks),
        "completed": done,
        "wait_s": _pcts(wait),
        "wait_near_changeover_s": _pcts(wait[near]),
        "waited_share": round(float((wait > 0).mean()) if len(wait) else 0.0, 5),
        "max_load_ratio": round(out.max_load_ratio, 3),
        "stranded_offline": out.stranded,
        "stuck_with_absent_agent": out.stuck,
        "rescued_by_hand": out.rescued,
        "released_by_logout": out.released - out.rescued,
        "fairness_gini": round(gini(rates), 4),
        "utilization": None if utilization is None else round(utilization, 4),
        "logout_requests": out.requests,
        "approved": out.approved,
        "denied": out.denied,
        "forced_logouts": out.forced,
        "invariant_checks": out.checks,
        "invariant_violations": out.violations + len(out.final_violations),
        "violation_examples": (out.examples + out.final_violations)[:5],
        "lifecycle": _lifecycle(out) if s.lifecycle else None,
        "commands": out.commands,
        "journal_records": out.journal_records,
        "journal_bytes": out.journal_bytes,
        "wall_s": round(out.wall_s, 2),
    }


def _lifecycle(out: Outcome) -> dict[str, Any]:
    s = out.scenario
    return {
        "unresponsive_share": s.unresponsive_share,
        "response_delay_s": s.response_delay_s,
        "wrap_up_s": s.wrap_up_s,
        "returning_share": s.returning_share,
        "response_timeout_s": s.response_timeout_s,
        "first_response_wait_s": _pcts(first_response_waits(out)),
        "timed_out": out.timed_out,
        "stuck_with_unresponsive_past_timeout": out.stuck_unresponsive,
        **returning(out),
    }


WARMUP_MS = 15 * MIN


def erlang_check(out: Outcome) -> dict[str, Any]:
    """A steady segment against Erlang C: same rate, handle time and servers (the sum of
    capacities); orders of the first 15 minutes are a warm-up and not counted."""
    from bench.sim.erlang import erlang_c, mean_wait

    s = out.scenario
    created, wait = waits(out)
    keep = created >= T0 + WARMUP_MS
    servers = sum(p.capacity for p in out.plans.agents)
    rate = s.rate_per_s(T0)
    simulated = float(wait[keep].mean())
    expected = mean_wait(servers, rate, s.aht_s)
    return {
        "servers": servers,
        "rate_per_s": round(rate, 4),
        "aht_s": s.aht_s,
        "occupancy": round(rate * s.aht_s / servers, 4),
        "orders_counted": int(keep.sum()),
        "erlang_c_wait_probability": round(erlang_c(servers, rate * s.aht_s), 4),
        "simulated_wait_probability": round(float((wait[keep] > 0).mean()), 4),
        "erlang_c_mean_wait_s": round(expected, 4),
        "simulated_mean_wait_s": round(simulated, 4),
        "relative_error": round(abs(simulated - expected) / expected, 4) if expected else None,
    }
