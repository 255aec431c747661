"""Long simulator runs (outside the default test run): the 400-seat day on seatflow,
every strategy on the same stressed day, and the steady segment against Erlang C.

    .venv/bin/pytest bench/test_sim.py --benchmark-only -s

Each run is one timed round (a day is minutes of CPU, not microseconds); what the
test asserts is the outcome, the time is for RESULTS.md.
"""

from __future__ import annotations

import json

import pytest

from bench.sim.erlang import mean_wait
from bench.sim.metrics import erlang_check, summary
from bench.sim.run import simulate
from bench.sim.scenario import Scenario
from bench.sim.strategies import ALL


def _once(benchmark, fn):
    return benchmark.pedantic(fn, rounds=1, iterations=1, warmup_rounds=0)


def test_day_of_400_seats_on_seatflow(benchmark):
    out, _ = _once(benchmark, lambda: simulate(Scenario()))
    s = summary(out)
    print(json.dumps(s, indent=1))
    assert s["orders"] > 300_000
    assert s["invariant_violations"] == 0, s["violation_examples"]
    assert s["invariant_checks"] >= 24 * 60
    assert s["stranded_offline"] == 0
    assert s["max_load_ratio"] <= 1.0


def test_every_strategy_on_the_stressed_day(benchmark):
    """The sale comes in 20% above plan (rate ×1.2): seatflow's p95 wait is below every
    other strategy's, nothing is stranded and no invariant breaks."""
    day = Scenario(rate_multiplier=1.2)
    results = _once(benchmark, lambda: {name: summary(simulate(day, name)[0]) for name in ALL})
    for name, s in results.items():
        print(
            f"{name:<24} wait {s['wait_s']} stranded {s['stranded_offline']} "
            f"gini {s['fairness_gini']} util {s['utilization']} "
            f"violations {s['invariant_violations']}"
        )
    ours = results.pop("seatflow")
    assert ours["invariant_violations"] == 0 and ours["stranded_offline"] == 0
    for name, s in results.items():
        assert ours["wait_s"]["p95"] < s["wait_s"]["p95"], name
        assert ours["wait_s"]["mean"] < s["wait_s"]["mean"], name
        assert s["stranded_offline"] > 0, name


@pytest.mark.parametrize("seats", [2, 10])
def test_steady_segment_agrees_with_erlang_c(benchmark, seats):
    """One skill, constant rate, exponential handle times, 80% occupancy, 48 hours, three
    seeds pooled: the mean wait of seatflow's work-conserving FIFO router is within 10% of
    Erlang C for the same rate, handle time and servers (the sum of capacities)."""

    def run() -> list[dict]:
        return [
            erlang_check(simulate(Scenario(seats=seats, hours=48, steady=True, seed=k))[0])
            for k in (1, 2, 3)
        ]

    checks = _once(benchmark, run)
    for c in checks:
        print(json.dumps(c))
    n = sum(c["orders_counted"] for c in checks)
    pooled = sum(c["simulated_mean_wait_s"] * c["orders_counted"] for c in checks) / n
    expected = mean_wait(checks[0]["servers"], checks[0]["rate_per_s"], checks[0]["aht_s"])
    print(
        f"pooled over {n} orders: simulated {pooled:.4f} s, Erlang C {expected:.4f} s, "
        f"error {abs(pooled - expected) / expected:.1%}"
    )
    assert abs(pooled - expected) / expected < 0.10
