"""`seatflow simulate` and `seatflow staffing`, plugged into the `seatflow` command.

The command line (api.cli) knows nothing of bench: it loads these through the entry
points of group `seatflow.commands` that pyproject.toml declares.

    seatflow simulate [--seats 400] [--shifts 3] [--hours 24] [--seed 1]
                      [--strategy seatflow|all|NAME[,NAME...]] [--rate-multiplier 1.0]
                      [--out DIR] [--json] [--erlang]
    seatflow staffing --rate R[,R...] --aht S [--target-sl 0.8] [--target-wait 20]
                      [--concurrency 1] [--shrinkage 0.3] [--json]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

EXIT_USAGE = 2


def add_simulate(sub: Any) -> None:
    sim = sub.add_parser("simulate", help="run a seeded simulated day on the real engine")
    sim.add_argument("--seats", type=int, default=400)
    sim.add_argument("--shifts", type=int, default=3)
    sim.add_argument("--hours", type=float, default=24.0)
    sim.add_argument("--seed", type=int, default=1)
    sim.add_argument("--strategy", default="seatflow",
                     help="seatflow (default), all, or a comma list of strategy names")
    sim.add_argument("--rate-multiplier", type=float, default=1.0)
    sim.add_argument("--out", type=Path, help="write summary.json and PNG plots here")
    sim.add_argument("--json", action="store_true", help="print the JSON summary")
    sim.add_argument("--erlang", action="store_true",
                     help="steady segment (one shift, constant rate, exponential handle "
                          "times, one skill) compared with Erlang C")
    sim.set_defaults(run=simulate_cmd)


def add_staffing(sub: Any) -> None:
    st = sub.add_parser("staffing", help="agents needed per interval (Erlang C)")
    st.add_argument("--rate", required=True,
                    help="orders per hour; a comma list sizes each hour in turn")
    st.add_argument("--aht", type=float, required=True, help="mean handle time, seconds")
    st.add_argument("--target-sl", type=float, default=0.8)
    st.add_argument("--target-wait", type=float, default=20.0, help="seconds")
    st.add_argument("--concurrency", type=int, default=1,
                    help="orders an agent handles at once (chat capacity)")
    st.add_argument("--shrinkage", type=float, default=0.3,
                    help="share of scheduled time not on the floor (breaks, meetings)")
    st.add_argument("--json", action="store_true")
    st.set_defaults(run=staffing_cmd)


def _fail(message: str) -> int:
    print(f"seatflow: {message}", file=sys.stderr)
    return EXIT_USAGE


def _strategies(value: str) -> list[str]:
    from bench.sim.strategies import ALL

    names = list(ALL) if value == "all" else [v.strip() for v in value.split(",") if v.strip()]
    unknown = [n for n in names if n not in ALL]
    if unknown or not names:
        raise ValueError(f"unknown strategy {', '.join(unknown) or value!r}; "
                         f"one of: all, {', '.join(ALL)}")
    return names


def simulate_cmd(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from bench.sim.metrics import summary
    from bench.sim.run import DRAIN_MS, simulate
    from bench.sim.scenario import T0, Scenario
    from presence.timeutil import format_time

    if args.out and importlib.util.find_spec("matplotlib") is None:
        # Checked before the run, not after a minute of simulation.
        return _fail("--out draws plots with matplotlib, which is not installed; "
                     "install it with: .venv/bin/pip install -e '.[bench]'")
    try:
        names = ["seatflow"] if args.erlang else _strategies(args.strategy)
        if args.seats < 1 or args.shifts < 1 or args.hours <= 0 or args.rate_multiplier < 0:
            raise ValueError("--seats and --shifts must be at least 1, --hours positive, "
                             "--rate-multiplier not negative")
    except ValueError as exc:
        return _fail(str(exc))
    scenario = Scenario(seats=args.seats, shifts=args.shifts, hours=args.hours, seed=args.seed,
                        rate_multiplier=args.rate_multiplier, steady=args.erlang)
    console = Console(stderr=True)
    outcomes, results = [], []
    total = scenario.end + DRAIN_MS - T0
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[at]}"),
                  TimeElapsedColumn(), console=console, transient=False) as bar:
        for name in names:
            task = bar.add_task(f"{name:<24}", total=total, at="")

            def tick(now: int, task: Any = task) -> None:
                bar.update(task, completed=now - T0, at=format_time(now)[11:16])

            out, _ = simulate(scenario, name, progress=tick)
            bar.update(task, completed=total)
            outcomes.append(out)
            results.append(summary(out))
    report: dict[str, Any] = {"results": results}
    if args.erlang:
        from bench.sim.metrics import erlang_check

        report["erlang"] = erlang_check(outcomes[0])
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "summary.json").write_text(json.dumps(report, indent=1))
        if scenario.changeovers():
            from bench.sim.plots import changeover_waits

            changeover_waits(outcomes, args.out / "changeover_waits.png")
    if args.json:
        print(json.dumps(report, indent=1))
    else:
        _table(console, report)
    return 0


def _table(console: Any, report: dict[str, Any]) -> None:
    from rich.table import Table

    t = Table(title="simulated day")
    for col in ("strategy", "orders", "wait p50/p95/p99 s", "near change p95/p99 s",
                "max load/cap", "stranded", "gini", "utilization", "violations", "wall s"):
        t.add_column(col)
    for r in report["results"]:
        w, n = r["wait_s"], r["wait_near_changeover_s"]
        t.add_row(r["strategy"], str(r["orders"]), f"{w['p50']:.1f}/{w['p95']:.1f}/{w['p99']:.1f}",
                  f"{n['p95']:.1f}/{n['p99']:.1f}", f"{r['max_load_ratio']:.2f}",
                  str(r["stranded_offline"]), f"{r['fairness_gini']:.3f}",
                  f"{r['utilization']:.3f}", str(r["invariant_violations"]), f"{r['wall_s']:.1f}")
    console.print(t)
    if "erlang" in report:
        console.print(report["erlang"])


def _rate(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"--rate: {text.strip()!r} is not a number of orders per hour") from None


def staffing_cmd(args: argparse.Namespace) -> int:
    from bench.sim.erlang import staffing

    try:
        rates = [_rate(r) for r in str(args.rate).split(",") if r.strip()]
        if not rates:
            raise ValueError("--rate needs at least one number of orders per hour")
        rows = [
            staffing(r, args.aht, args.target_sl, args.target_wait,
                     concurrency=args.concurrency, shrinkage=args.shrinkage)
            for r in rates
        ]
    except ValueError as exc:
        return _fail(str(exc))
    if args.json:
        print(json.dumps({"intervals": [
            {"hour": i, **row.__dict__} for i, row in enumerate(rows)]}, indent=1))
        return 0
    print(f"target: {args.target_sl:.0%} answered within {args.target_wait:g} s; "
          f"aht {args.aht:g} s; {args.concurrency} at once per agent; "
          f"shrinkage {args.shrinkage:.0%}")
    print("hour  orders/h  erlangs  slots  on floor  scheduled  service level  mean wait s")
    for i, row in enumerate(rows):
        print(f"{i:>4}  {row.rate_per_hour:>8g}  {row.traffic:>7.1f}  {row.servers:>5}  "
              f"{row.agents_on_floor:>8}  {row.agents_scheduled:>9}  {row.service_level:>13.1%}"
              f"  {row.mean_wait_s:>11.2f}")
    return 0
