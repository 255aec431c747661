"""The simulator: reproducible from its seed, the engine's invariants hold throughout,
the journal replays to the same state, and the anchors' floors strand what seatflow
never does. Small floors (a few dozen agents, 4-hour shifts) keep this fast; the
400-seat day lives in bench/test_sim.py."""

from __future__ import annotations

import json

import pytest

from api.cli import main
from bench.sim.floors import EngineFloor
from bench.sim.metrics import erlang_check, gini, summary
from bench.sim.run import simulate
from bench.sim.scenario import HOUR, T0, Scenario, arrivals, plan
from engine.events import decode_record
from engine.fingerprint import digest
from engine.invariants import apply_checked, check
from engine.state import State

# 6 shifts of 4 hours: one changeover at 04:00 inside 5 hours; the sale spans it.
SMALL = Scenario(
    seats=12,
    shifts=6,
    hours=5,
    seed=7,
    sale_start_h=3.5,
    leave_share=0.4,
    approve_share=0.5,
    forget_share=0.1,
)


@pytest.fixture(scope="module")
def seatflow_run():
    return simulate(SMALL, "seatflow", keep_journal=True)


def _without_wall(s: dict) -> dict:
    return {k: v for k, v in s.items() if k != "wall_s"}


def test_same_seed_same_day(seatflow_run):
    out, floor = seatflow_run
    again, floor2 = simulate(SMALL, "seatflow", keep_journal=True)
    assert isinstance(floor, EngineFloor) and isinstance(floor2, EngineFloor)
    assert floor.journal.records == floor2.journal.records
    assert _without_wall(summary(out)) == _without_wall(summary(again))
    other, floor3 = simulate(
        Scenario(**{**SMALL.__dict__, "seed": 8}), "seatflow", keep_journal=True
    )
    assert isinstance(floor3, EngineFloor)
    assert floor3.journal.records != floor.journal.records


def test_scenario_is_the_same_for_every_strategy():
    a, b = plan(SMALL), plan(SMALL)
    assert a.steps == b.steps and a.decisions == b.decisions
    first = list(arrivals(SMALL))
    assert first == list(arrivals(SMALL))
    assert len(first) > 1000
    assert all(T0 <= x.at < SMALL.end for x in first)
    rates = [SMALL.rate_per_s(T0 + int(h * HOUR)) for h in (1, 3.6, 4.1)]
    assert rates[1] > 4 * rates[0]  # the sale hour ...
    assert rates[2] == rates[1]  # ... is not stacked with the changeover spike


def test_invariants_hold_during_and_after_the_run(seatflow_run):
    out, floor = seatflow_run
    s = summary(out)
    assert s["invariant_checks"] >= 5 * 60  # every simulated minute
    assert s["invariant_violations"] == 0, s["violation_examples"]
    assert s["stranded_offline"] == 0
    assert s["max_load_ratio"] <= 1.0
    # the day exercised what the invariants guard: releases, requests, forced logouts
    assert s["released_by_logout"] > 0
    assert s["logout_requests"] > 0 and s["approved"] > 0 and s["denied"] > 0
    assert s["forced_logouts"] > 0
    assert s["completed"] > 0.95 * s["orders"]


def test_every_assignment_follows_the_routing_rules_and_replay_matches(seatflow_run):
    out, floor = seatflow_run
    assert isinstance(floor, EngineFloor)
    follower = State()
    problems: list[str] = []
    for data in floor.journal.records:
        problems += apply_checked(follower, decode_record(data))
    assert problems == []
    assert check(follower) == []
    assert digest(follower) == digest(floor.engine.state)


def test_without_the_guard_orders_are_stranded_and_the_checks_say_so():
    out, _ = simulate(SMALL, "no-guard")
    s = summary(out)
    assert s["stranded_offline"] > 0
    assert s["invariant_violations"] > 0
    assert any("is offline but holds" in m for m in s["violation_examples"])
    seatflow = summary(simulate(SMALL, "seatflow")[0])
    assert seatflow["wait_s"]["mean"] < s["wait_s"]["mean"]


def test_round_robin_without_capacity_overloads_agents():
    s = summary(simulate(SMALL, "chatwoot-round-robin")[0])
    assert s["max_load_ratio"] > 1.0
    assert any(">" in m for m in s["violation_examples"]) or s["invariant_violations"] > 0


@pytest.mark.parametrize(
    "strategy",
    [
        "asterisk-rrmemory",
        "asterisk-leastrecent",
        "asterisk-fewestcalls",
        "asterisk-random",
        "freeswitch-longest-idle",
    ],
)
def test_anchor_floors_serve_the_same_orders(strategy):
    out, _ = simulate(SMALL, strategy)
    s = summary(out)
    assert s["orders"] == len(list(arrivals(SMALL)))
    assert s["completed"] > 0.95 * s["orders"]
    assert s["max_load_ratio"] <= 1.0


def test_gini():
    import numpy as np

    assert gini(np.array([5.0, 5.0, 5.0])) == pytest.approx(0.0)
    assert gini(np.array([0.0, 0.0, 0.0, 12.0])) == pytest.approx(0.75)


def test_steady_segment_is_close_to_erlang_c():
    # 8 slots at 80% occupancy for 24 h: about 17,000 orders.
    out, _ = simulate(Scenario(seats=2, hours=24, steady=True, seed=3))
    e = erlang_check(out)
    assert e["servers"] == 8 and e["occupancy"] == pytest.approx(0.8)
    assert e["relative_error"] < 0.15, e


def test_simulate_command_writes_summary_and_plot(tmp_path, capsys):
    code = main(
        [
            "simulate",
            "--seats",
            "6",
            "--shifts",
            "6",
            "--hours",
            "5",
            "--strategy",
            "seatflow,no-guard",
            "--out",
            str(tmp_path),
            "--json",
        ]
    )
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert [r["strategy"] for r in report["results"]] == ["seatflow", "no-guard"]
    assert report == json.loads((tmp_path / "summary.json").read_text())
    png = (tmp_path / "changeover_waits.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000


def test_simulate_command_refuses_an_unknown_strategy(capsys):
    assert main(["simulate", "--strategy", "fastest"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(
        "seatflow: unknown strategy 'fastest'; one of: all, seatflow, seatflow-no-timeout"
    )


def test_same_seed_same_day_in_another_process():
    """String hashing differs between processes; the day must not."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    seatflow = str(Path(sys.executable).parent / "seatflow")
    args = [
        seatflow,
        "simulate",
        "--seats",
        "8",
        "--shifts",
        "6",
        "--hours",
        "5",
        "--seed",
        "3",
        "--rate-multiplier",
        "20",
        "--strategy",
        "seatflow,asterisk-random,no-guard",
        "--json",
    ]
    runs = []
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        done = subprocess.run(args, env=env, capture_output=True, check=True, timeout=120)
        runs.append([_without_wall(r) for r in json.loads(done.stdout)["results"]])
    assert runs[0] == runs[1]
    assert runs[0][2]["stranded_offline"] > 0  # the anchors' path (stranding) was exercised
