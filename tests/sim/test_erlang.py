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
    assert (
        main(
            [
                "staffing",
                "--rate",
                "720,1440",
                "--aht",
                "240",
                "--target-wait",
                "15",
                "--shrinkage",
                "0",
                "--max-occupancy",
                "1",
                "--json",
            ]
        )
        == 0
    )
    rows = json.loads(capsys.readouterr().out)["intervals"]
    assert [r["servers"] for r in rows][0] == 55
    assert rows[1]["servers"] > rows[0]["servers"]
    assert (
        main(
            [
                "staffing",
                "--rate",
                "720",
                "--aht",
                "240",
                "--target-wait",
                "15",
                "--max-occupancy",
                "1",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "target: 80% answered within 15 s, no occupancy cap" in out
    # 55 slots, 55 / 0.7 -> 79 to schedule; the service level (84.6%) set it, occupancy 87.3%
    assert "   0       720     48.0      55        55         79   84.6%*    8.18     87.3% \n" in (
        out
    )


def test_staffing_command_names_a_bad_rate(capsys):
    assert main(["staffing", "--rate", "lots", "--aht", "30"]) == 2
    assert capsys.readouterr().err == (
        "seatflow: --rate: 'lots' is not a number of orders per hour\n"
    )


# -- the occupancy cap -----------------------------------------------------------------------


def log_erlang_c(n: int, a: float) -> float:
    """Erlang C from its textbook formula in logs (log-sum-exp over a^k/k!), not the
    Erlang B recursion the code uses: independent, and fine for 1,500 servers."""
    logs = [k * math.log(a) - math.lgamma(k + 1) for k in range(n)]
    top = n * math.log(a) - math.lgamma(n + 1) + math.log(n / (n - a))
    peak = max(*logs, top)
    below = sum(math.exp(x - peak) for x in logs)
    return math.exp(top - peak) / (below + math.exp(top - peak))


def expected_plan(a: float, aht: float, sl: float, wait: float, cap: str) -> tuple[int, str]:
    """The fewest servers meeting the service level, and the fewest with a/n <= cap (exact
    in fractions); the plan is the larger, set by whichever needs more."""
    n = math.floor(a) + 1
    while 1 - log_erlang_c(n, a) * math.exp(-(n - a) * wait / aht) < sl:
        n += 1
    by_cap = math.ceil(Fraction(a) / Fraction(cap))
    return max(n, by_cap), ("occupancy" if by_cap > n else "service level")


@pytest.mark.parametrize(
    ("rate", "aht", "sl", "wait", "cap", "servers", "limited_by"),
    [
        # M/M/1 and M/M/2 by hand: a = 0.5; 1 server: SL = 1 - 0.5·e^(-1/3) = 64.2%;
        # 2: C = 2ρ²/(1+ρ) = 0.1 (ρ 0.25), SL = 1 - 0.1·e^(-1) = 96.3%
        (60, 30, 0.8, 20, "1", 2, "service level"),
        (60, 30, 0.8, 20, "0.2", 3, "occupancy"),  # 0.5 / 0.2 = 2.5 -> 3
        # the classic 360 calls / 30 min, 4-minute calls, 80% in 15 s: 55 agents at 87.3%
        (720, 240, 0.8, 15, "1", 55, "service level"),
        (720, 240, 0.8, 15, "0.9", 55, "service level"),
        (720, 240, 0.8, 15, "0.85", 57, "occupancy"),  # 48 / 0.85 = 56.5 -> 57
        # the sale hour of the simulated day: 1,280 erlangs; Erlang C alone plans 99.8%
        (144_000, 32, 0.8, 20, "1", 1283, "service level"),
        (144_000, 32, 0.8, 20, "0.85", 1506, "occupancy"),  # 1280 / 0.85 = 1505.9
        (144_000, 32, 0.8, 20, "0.8", 1600, "occupancy"),  # exactly 80%
        # 21 erlangs at a 70% cap: exactly 30 (the float 21 / 0.7 is 30.000000000000004)
        (3600, 21, 0.5, 20, "0.7", 30, "occupancy"),
    ],
)
def test_the_plan_meets_the_service_level_and_the_occupancy_cap(
    rate, aht, sl, wait, cap, servers, limited_by
):
    a = rate * aht / 3600
    assert expected_plan(a, aht, sl, wait, cap) == (servers, limited_by)
    plan = staffing(rate, aht, sl, wait, max_occupancy=float(cap))
    assert (plan.servers, plan.limited_by) == (servers, limited_by)
    assert plan.occupancy <= float(cap) and plan.service_level >= sl
    assert servers == 1 or (
        a / (servers - 1) > float(cap)
        or 1 - log_erlang_c(servers - 1, a) * math.exp(-(servers - 1 - a) * wait / aht) < sl
    )


def test_the_cap_counts_slots_with_concurrency_and_shrinkage():
    plan = staffing(144_000, 32, 0.8, 20, concurrency=4, shrinkage=0.3)  # default cap 85%
    assert (plan.servers, plan.agents_on_floor, plan.agents_scheduled) == (1506, 377, 539)
    assert plan.occupancy == pytest.approx(1280 / 1508) and plan.limited_by == "occupancy"


def test_the_command_plans_with_the_cap_and_shows_occupancy(capsys):
    assert (
        main(["staffing", "--rate", "144000", "--aht", "32", "--json", "--max-occupancy", "1"]) == 0
    )
    uncapped = json.loads(capsys.readouterr().out)["intervals"][0]
    assert main(["staffing", "--rate", "144000", "--aht", "32", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    capped = report["intervals"][0]
    assert report["target"]["max_occupancy"] == 0.85
    assert (uncapped["servers"], uncapped["agents_scheduled"]) == (1283, 1833)
    assert uncapped["occupancy"] == pytest.approx(0.9977, abs=1e-4)
    assert (capped["servers"], capped["agents_scheduled"]) == (1506, 2152)
    assert capped["occupancy"] == pytest.approx(0.8499, abs=1e-4)
    assert capped["limited_by"] == "occupancy" and uncapped["limited_by"] == "service level"
    assert main(["staffing", "--rate", "144000", "--aht", "32"]) == 0
    out = capsys.readouterr().out
    assert "target: 80% answered within 20 s, occupancy at most 85%" in out
    assert "occupancy" in out.splitlines()[4]
    assert out.splitlines()[5] == (
        "   0    144000   1280.0    1506      1506       2152  100.0%     0.00     85.0%*"
    )


@pytest.mark.parametrize("value", ["0", "1.5", "-0.2", "nan", "inf"])
def test_an_occupancy_cap_out_of_range_is_refused(value, capsys):
    assert main(["staffing", "--rate", "720", "--aht", "240", "--max-occupancy", value]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"seatflow: --max-occupancy {float(value):g} is out of range: a fraction "
        "in (0, 1], e.g. 0.85; 1 is no cap\n"
    )
    with pytest.raises(ValueError, match=re.escape("max occupancy must be in (0, 1]")):
        staffing(720, 240, 0.8, 15, max_occupancy=float(value))


def test_the_targets_are_shown_as_given(capsys):
    assert (
        main(
            [
                "staffing",
                "--rate",
                "60",
                "--aht",
                "32",
                "--target-sl",
                "0.825",
                "--max-occupancy",
                "0.875",
                "--shrinkage",
                "0.125",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "target: 82.5% answered within 20 s, occupancy at most 87.5%"
    assert out[1] == "aht 32 s, 1 order at once per agent, shrinkage 12.5%"
