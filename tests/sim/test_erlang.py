"""Erlang B/C against table values, closed forms and an exact sum; staffing; the CLI."""

from __future__ import annotations

import json
import math
import re
from fractions import Fraction

import pytest

from api.cli import main
from bench.sim.erlang import (
    erlang_b,
    erlang_c,
    mean_wait,
    servers_needed,
    service_level,
    staffing,
)


def exact_erlang_c(n: int, a: Fraction) -> Fraction:
    """The textbook formula summed exactly: (A^n/n!)(n/(n-A)) / (Σ_{k<n} A^k/k! + same)."""
    top = a**n / math.factorial(n) * n / (n - a)
    return top / (sum(a**k / math.factorial(k) for k in range(n)) + top)


@pytest.mark.parametrize(
    ("n", "a", "blocking"),
    [(10, 4.461, 0.01), (10, 5.084, 0.02), (10, 6.216, 0.05), (1, 1.0, 0.5)],
)
def test_erlang_b_matches_the_published_table(n, a, blocking):
    # Erlang B tables: 10 trunks carry 4.461 E at 1%, 5.084 E at 2%, 6.216 E at 5% blocking.
    assert erlang_b(n, a) == pytest.approx(blocking, abs=5e-5)


def test_mm1_and_mm2_closed_forms():
    lam, mu = 0.8, 1.0  # M/M/1: P(wait) = rho, Wq = rho / (mu - lam)
    assert erlang_c(1, lam / mu) == pytest.approx(0.8)
    assert mean_wait(1, lam, 1 / mu) == pytest.approx(0.8 / 0.2)
    rho = 0.75  # M/M/2 with lam = 1.5, mu = 1: P(wait) = 2 rho^2 / (1 + rho)
    assert erlang_c(2, 1.5) == pytest.approx(2 * rho**2 / (1 + rho))
    assert mean_wait(2, 1.5, 1.0) == pytest.approx(rho**2 / (1 - rho**2))


@pytest.mark.parametrize(("n", "a"), [(55, Fraction(48)), (12, Fraction(10)), (80, Fraction(76))])
def test_recursion_equals_the_exact_sum(n, a):
    assert erlang_c(n, float(a)) == pytest.approx(float(exact_erlang_c(n, a)), rel=1e-12)


def test_worked_example_360_calls_per_half_hour():
    # The classic walkthrough: 360 calls per 30 min, 4-minute calls, 55 agents, 15 s target.
    rate, aht = 360 / 1800, 240.0
    assert erlang_c(55, rate * aht) == pytest.approx(0.2387, abs=5e-5)
    assert mean_wait(55, rate, aht) == pytest.approx(8.18, abs=0.005)
    assert service_level(55, rate, aht, 15) == pytest.approx(0.8459, abs=5e-5)
    assert servers_needed(rate, aht, 0.8, 15) == 55  # 54 agents miss 80% in 15 s
    assert service_level(54, rate, aht, 15) < 0.8


def test_overload_has_no_finite_wait():
    assert erlang_c(10, 10.0) == 1.0
    assert mean_wait(10, 1.0, 10.0) == math.inf
    assert service_level(10, 1.0, 10.0, 20) == 0.0


def test_staffing_allows_for_concurrency_and_shrinkage():
    s = staffing(144_000, 32, 0.8, 20, concurrency=4, shrinkage=0.3)
    assert s.traffic == pytest.approx(1280.0)
    assert s.service_level >= 0.8
    assert s.agents_on_floor == math.ceil(s.servers / 4)
    assert s.agents_scheduled == math.ceil(s.agents_on_floor / 0.7)
    assert staffing(0, 32, 0.8, 20).agents_scheduled == 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"target_sl": 1.0}, "target service level must be between 0 and 1 (exclusive)"),
        ({"concurrency": 0}, "concurrency must be at least 1"),
        ({"shrinkage": 1.0}, "shrinkage must be in [0, 1)"),
    ],
)
def test_staffing_refuses_bad_input(kwargs, message):
    args = {"target_sl": 0.8, **kwargs}
    sl = args.pop("target_sl")
    with pytest.raises(ValueError, match=re.escape(message)):
        staffing(1000, 30, sl, 20, **args)


def test_staffing_command_sizes_each_hour(capsys):
    assert main(["staffing", "--rate", "720,1440", "--aht", "240", "--target-wait", "15",
                 "--shrinkage", "0", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["intervals"]
    assert [r["servers"] for r in rows][0] == 55
    assert rows[1]["servers"] > rows[0]["servers"]
    assert main(["staffing", "--rate", "720", "--aht", "240", "--target-wait", "15"]) == 0
    out = capsys.readouterr().out
    assert "target: 80% answered within 15 s" in out
    assert "  0       720     48.0     55        55         79" in out  # 55 / 0.7 -> 79


def test_staffing_command_names_a_bad_rate(capsys):
    assert main(["staffing", "--rate", "lots", "--aht", "30"]) == 2
    assert capsys.readouterr().err == (
        "seatflow: --rate: 'lots' is not a number of orders per hour\n"
    )
