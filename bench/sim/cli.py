"""`seatflow simulate` and `seatflow staffing`, plugged into the `seatflow` command.

The command line (api.cli) knows nothing of bench: it loads these through the entry
points of group `seatflow.commands` that pyproject.toml declares.

    seatflow simulate [--seats 400] [--shifts 3] [--hours 24] [--seed 1]
                      [--strategy seatflow|all|NAME[,NAME...]] [--rate-multiplier 1.0]
                      [--lifecycle] [--out DIR] [--json] [--erlang]
    seatflow staffing --rate R[,R...] --aht S [--target-sl 0.8] [--target-wait 20]
                      [--max-occupancy 0.85] [--concurrency 1] [--shrinkage 0.3] [--json]

Both print for an 80-column terminal (tables on stdout; progress and notes on stderr).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
from pathlib import Path
from typing import Any

from bench.sim.erlang import MAX_OCCUPANCY
from bench.sim.strategies import ALL

EXIT_USAGE = 2
# Libraries that log at INFO to the root logger seatflow's command configures: matplotlib
# builds its font cache on first use and says so ("generated new fontManager").
QUIET_LOGGERS = ("matplotlib", "matplotlib.font_manager", "PIL")

SIMULATE = """\
Run a seeded day of a contact center on the real engine (in-process, on a
manual clock): seats x shifts agents who log in and out around each shift
changeover, take breaks, try to leave mid-shift or forget to log out, and
Poisson orders on a daily profile with a spike after each changeover and a
big-sale hour (15:30). The engine's invariants are checked every simulated
minute. Prints tables of waits and of the floor (or --json); --out adds
summary.json and a PNG of the wait around each changeover. The same seed gives
the same day for every strategy. --lifecycle adds agents who stop responding
(2% of the logged-in at any moment, 5-20 min each), a first-response delay per
agent (10 s on average, inside the handle time), 5 s of wrap-up after each
completion and returning customers (30% of orders): seatflow then runs with
its response timeout (60 s), wrap-up and sticky window (1 h) set, the Asterisk
and FreeSWITCH models with their wrap-up option (the whole member rests 5 s),
and a table compares first replies.
"""
# What each --strategy is (the epilog; tests/sim checks it names every strategy).
STRATEGY_HELP = {
    "seatflow": "the real engine: least load, handover, logout guard",
    "seatflow-no-timeout": "seatflow without its response timeout (--lifecycle)",
    "seatflow-no-wrap-up": "seatflow not told of wrap-up (--lifecycle)",
    "seatflow-no-sticky": "seatflow without sticky routing (--lifecycle)",
    "no-guard": "seatflow's ranking without the logout guard",
    "asterisk-rrmemory": "Asterisk app_queue: round robin with memory",
    "asterisk-leastrecent": "Asterisk: the member least recently hung up",
    "asterisk-fewestcalls": "Asterisk: the member with the fewest completed",
    "asterisk-random": "Asterisk: a random member",
    "freeswitch-longest-idle": "FreeSWITCH mod_callcenter longest-idle-agent",
    "chatwoot-round-robin": "Chatwoot's round robin, no capacity limit",
}
SIMULATE_EPILOG = (
    "strategies:\n"
    + "".join(f"  {name:<24} {what}\n" for name, what in STRATEGY_HELP.items())
    + """
examples:
  seatflow simulate --hours 9 --out sim        the 08:00 changeover, plotted
  seatflow simulate --strategy all --rate-multiplier 1.2
  seatflow simulate --lifecycle --strategy all
  seatflow simulate --erlang --seats 10 --hours 24
"""
)
STAFFING = """\
Agents needed per hour (Erlang C, M/M/c): the fewest whose slots answer the
target share of orders within the target wait AND keep the floor's occupancy
(erlangs / slots, the average share of slots busy) at or under
--max-occupancy. Each agent handles --concurrency orders at once (each a
slot); --shrinkage is allowed for in the agents to schedule.
"""
STAFFING_EPILOG = """\
examples:
  seatflow staffing --rate 144000 --aht 32 --concurrency 4
  seatflow staffing --rate 720,1440,2160 --aht 240 --target-wait 15
  seatflow staffing --rate 144000 --aht 32 --max-occupancy 1   (no cap)
"""


def add_simulate(sub: Any) -> None:
    sim = sub.add_parser(
        "simulate",
        help="run a seeded simulated day on the real engine",
        description=SIMULATE,
        epilog=SIMULATE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sim.add_argument(
        "--seats",
        type=int,
        default=400,
        metavar="N",
        help="agents on the floor per shift; the roster has seats x shifts (default: %(default)s)",
    )
    sim.add_argument(
        "--shifts",
        type=int,
        default=3,
        metavar="N",
        help="shifts a day, each 24/N hours long, the first from 00:00; 3 "
        "hands over at 08:00, 16:00 and 24:00 (default: %(default)s)",
    )
    sim.add_argument(
        "--hours",
        type=float,
        default=24.0,
        metavar="H",
        help="simulated hours of arrivals from 00:00, then 2 h to finish "
        "what is open; the plot needs a changeover and the hour after "
        "it (9 with 3 shifts) (default: %(default)g)",
    )
    sim.add_argument(
        "--seed",
        type=int,
        default=1,
        metavar="N",
        help="random seed: the same seed, the same agents and orders (default: %(default)s)",
    )
    sim.add_argument(
        "--strategy",
        default="seatflow",
        metavar="NAMES",
        help="who routes the orders: all, or a comma list of the "
        "strategies below (default: %(default)s)",
    )
    sim.add_argument(
        "--rate-multiplier",
        type=float,
        default=1.0,
        metavar="X",
        help="scale every arrival rate (profile, spikes, sale hour); 1.2 is a "
        "day 20%% above plan (default: %(default)g)",
    )
    sim.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="write summary.json and changeover_waits.png here (the plot "
        "needs matplotlib) (default: no files)",
    )
    sim.add_argument(
        "--json", action="store_true", help="print the JSON summary instead of the tables"
    )
    sim.add_argument(
        "--lifecycle",
        action="store_true",
        help="agents who stop responding, reply after a delay and wrap up, and "
        "returning customers (see above)",
    )
    sim.add_argument(
        "--erlang",
        action="store_true",
        help="run a steady segment instead (one shift, constant rate at the "
        "sale's, exponential handle times, one skill, 4 slots per agent) "
        "and compare its waits with Erlang C",
    )
    sim.set_defaults(run=simulate_cmd)


def add_staffing(sub: Any) -> None:
    st = sub.add_parser(
        "staffing",
        help="agents needed per interval (Erlang C)",
        description=STAFFING,
        epilog=STAFFING_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    st.add_argument(
        "--rate",
        required=True,
        metavar="R[,R...]",
        help="orders per hour; a comma list sizes each hour in turn (required)",
    )
    st.add_argument(
        "--aht",
        type=float,
        required=True,
        metavar="S",
        help="mean handle time of an order, seconds (required)",
    )
    st.add_argument(
        "--target-sl",
        type=float,
        default=0.8,
        metavar="F",
        help="service-level target: the share of orders answered within "
        "--target-wait, a fraction in (0, 1) (default: %(default)g)",
    )
    st.add_argument(
        "--target-wait",
        type=float,
        default=20.0,
        metavar="S",
        help="the service level's answer time, seconds (default: %(default)g)",
    )
    st.add_argument(
        "--max-occupancy",
        type=float,
        default=MAX_OCCUPANCY,
        metavar="F",
        help="occupancy cap: the most the slots may be busy on average, a "
        "fraction in (0, 1]; 1 is no cap (default: %(default)g)",
    )
    st.add_argument(
        "--concurrency",
        type=int,
        default=1,
        metavar="N",
        help="orders an agent handles at once, chat capacity (default: %(default)s)",
    )
    st.add_argument(
        "--shrinkage",
        type=float,
        default=0.3,
        metavar="F",
        help="share of scheduled time not on the floor (breaks, meetings, "
        "absence), in [0, 1) (default: %(default)g)",
    )
    st.add_argument("--json", action="store_true", help="print the plan as JSON")
    st.set_defaults(run=staffing_cmd)


def _fail(message: str) -> int:
    print(f"seatflow: {message}", file=sys.stderr)
    return EXIT_USAGE


def _note(message: str) -> None:
    print(message, file=sys.stderr)


def quiet_library_logs() -> None:
    """Keep libraries' chatter out of the command's output; seatflow's own loggers (and
    the root's INFO that api.cli sets for them) are left as they are."""
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)


def _strategies(value: str) -> list[str]:
    names = list(ALL) if value == "all" else [v.strip() for v in value.split(",") if v.strip()]
    unknown = [n for n in names if n not in ALL]
    if unknown or not names:
        raise ValueError(
            f"unknown strategy {', '.join(unknown) or value!r}; one of: all, {', '.join(ALL)}"
        )
    return names


# --lifecycle: what the floor's people do (bench.sim.scenario.Scenario's fields).
LIFECYCLE: dict[str, Any] = {
    "unresponsive_share": 0.02,
    "response_delay_s": 10.0,
    "wrap_up_s": 5,
    "returning_share": 0.3,
}


def simulate_cmd(args: argparse.Namespace) -> int:
    from rich.console import Console

    from bench.sim.metrics import summary
    from bench.sim.plots import unavailable
    from bench.sim.scenario import Scenario

    quiet_library_logs()
    try:
        names = ["seatflow"] if args.erlang else _strategies(args.strategy)
        if args.seats < 1 or args.shifts < 1 or args.hours <= 0 or args.rate_multiplier < 0:
            raise ValueError(
                "--seats and --shifts must be at least 1, --hours positive, "
                "--rate-multiplier not negative"
            )
    except ValueError as exc:
        return _fail(str(exc))
    scenario = Scenario(
        seats=args.seats,
        shifts=args.shifts,
        hours=args.hours,
        seed=args.seed,
        rate_multiplier=args.rate_multiplier,
        steady=args.erlang,
        **(LIFECYCLE if args.lifecycle else {}),
    )
    outcomes = _run(scenario, names, Console(stderr=True))
    report: dict[str, Any] = {"results": [summary(out) for out in outcomes]}
    if args.erlang:
        from bench.sim.metrics import erlang_check

        report["erlang"] = erlang_check(outcomes[0])
    if args.json:
        print(json.dumps(report, indent=1))
    else:
        console = Console()
        for table in tables(report, scenario):
            console.print(table)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "summary.json").write_text(json.dumps(report, indent=1))
        wrote = [args.out / "summary.json"]
        why_not = unavailable(scenario)
        if why_not is None:
            from bench.sim.plots import changeover_waits

            wrote.append(changeover_waits(outcomes, args.out / "changeover_waits.png"))
        _note(f"wrote {' and '.join(str(p) for p in wrote)}")
        if why_not is not None:
            _note(f"no plot: {why_not}")
    return 0


def _run(scenario: Any, names: list[str], console: Any) -> list[Any]:
    """Each strategy on the same day, with a progress bar per strategy (simulated clock,
    wall time) on stderr."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from bench.sim.run import DRAIN_MS, simulate
    from bench.sim.scenario import T0, clock

    outcomes = []
    total = scenario.end + DRAIN_MS - T0
    width = max(len(n) for n in names)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[at]}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as bar:
        for name in names:
            task = bar.add_task(f"{name:<{width}}", total=total, at="")

            def tick(now: int, task: Any = task) -> None:
                bar.update(task, completed=now - T0, at=clock(now))

            out, _ = simulate(scenario, name, progress=tick)
            bar.update(task, completed=total)
            outcomes.append(out)
    return outcomes


# -- the tables ----------------------------------------------------------------------------


def seconds(v: float) -> str:
    """A wait for a narrow column: 0, <0.01, 0.13, 12.5, 887."""
    if v == 0:
        return "0"
    if v < 0.01:
        return "<0.01"
    return f"{v:.2f}" if v < 10 else f"{v:.1f}" if v < 100 else f"{v:.0f}"


def _table(title: str, columns: list[str]) -> Any:
    from rich import box
    from rich.table import Table

    # Two spaces between columns, none at the edges: 80 columns hold the widest rows
    # (all strategies, a million orders, waits of hours); numbers fold, never "…".
    t = Table(
        title=title,
        box=box.SIMPLE_HEAD,
        show_edge=False,
        padding=(0, 1, 0, 0),
        title_justify="left",
    )
    t.add_column(columns[0], no_wrap=True)
    for col in columns[1:]:
        t.add_column(col, justify="right", overflow="fold")
    return t


def _waits_table(title: str, results: list[dict[str, Any]], key: str) -> Any:
    t = _table(title, ["strategy", "orders", "waited", "p50", "p95", "p99", "p99.9", "max"])
    for r in results:
        w = r[key]
        t.add_row(
            r["strategy"],
            f"{w['orders']:,}",
            f"{w['waited']:,}",
            *(seconds(w[k]) for k in ("p50", "p95", "p99", "p99_9", "max")),
        )
    return t


LEGEND = (
    "waited: orders that waited at all; pNN: the smallest wait that NN% of the orders "
    "did not exceed (0 while fewer than 1% waited: see p99.9, max). stranded: orders "
    "left with an agent who went offline; max load ÷ cap: the most orders an agent held "
    "÷ their capacity; gini: of completed orders per on-duty hour (0: all equal); "
    "utilization: on-duty share of scheduled time."
)


def tables(report: dict[str, Any], scenario: Any) -> list[Any]:
    """The report for an 80-column terminal: what was run, the waits of all orders and
    of those near a changeover (if the run has one), the floor, a legend, and the
    comparison with Erlang C (--erlang)."""
    from rich.text import Text

    from bench.sim.scenario import clock

    results, s = report["results"], scenario
    roster = (
        f"{s.seats} agents in one steady shift"
        if s.steady
        else f"{s.seats} seats × {s.shifts} shifts ({s.agents:,} agents)"
    )
    head = f"simulated: {roster}, {s.hours:g} h, seed {s.seed}, rate ×{s.rate_multiplier:g}"
    if s.changeovers():
        head += f"\nchangeovers at {', '.join(clock(c) for c in s.changeovers())}"
    out: list[Any] = [
        Text(head, style="bold"),
        _waits_table("wait (s) of all orders", results, "wait_s"),
    ]
    if s.changeovers():
        out.append(
            _waits_table(
                "wait (s) of orders within 30 min of a changeover",
                results,
                "wait_near_changeover_s",
            )
        )
    floor = _table(
        "the floor",
        [
            "strategy",
            "stranded\noffline",
            "max load\n÷ cap",
            "gini",
            "utilization",
            "invariant\nviolations",
        ],
    )
    for r in results:
        util = "–" if r["utilization"] is None else f"{r['utilization']:.3f}"
        floor.add_row(
            r["strategy"],
            f"{r['stranded_offline']:,}",
            f"{r['max_load_ratio']:.2f}",
            f"{r['fairness_gini']:.3f}",
            util,
            f"{r['invariant_violations']:,}",
        )
    out += [floor, Text(LEGEND, style="dim")]
    if s.lifecycle:
        out += _lifecycle_tables(results, s)
    if "erlang" in report:
        out += _erlang(report["erlang"])
    return out


LIFECYCLE_LEGEND = (
    "first reply: arrival to the first reply, from the customer's side. stuck: orders held "
    "unanswered by an unresponsive agent past {timeout} s; taken back: by the response "
    "timeout. same agent: the share of returning customers' orders first answered by the "
    "agent who answered their previous one."
)


def _lifecycle_tables(results: list[dict[str, Any]], s: Any) -> list[Any]:
    from rich.text import Text

    t = _table(
        "the assignment lifecycle",
        ["strategy", "first reply\np50", "p95", "p99", "stuck", "taken\nback", "same\nagent"],
    )
    for r in results:
        life = r["lifecycle"]
        w = life["first_response_wait_s"]
        share = life["served_by_previous_share"]
        t.add_row(
            r["strategy"],
            *(seconds(w[k]) for k in ("p50", "p95", "p99")),
            f"{life['stuck_with_unresponsive_past_timeout']:,}",
            f"{life['timed_out']:,}",
            "–" if share is None else f"{share:.1%}",
        )
    return [t, Text(LIFECYCLE_LEGEND.format(timeout=s.response_timeout_s), style="dim")]


def _erlang(e: dict[str, Any]) -> list[Any]:
    from rich.text import Text

    t = _table("steady segment against Erlang C", ["", "Erlang C", "simulated"])
    t.add_row(
        "P(wait)", f"{e['erlang_c_wait_probability']:.4f}", f"{e['simulated_wait_probability']:.4f}"
    )
    t.add_row(
        "mean wait s", f"{e['erlang_c_mean_wait_s']:.3f}", f"{e['simulated_mean_wait_s']:.3f}"
    )
    error = "–" if e["relative_error"] is None else f"{e['relative_error']:.1%}"
    return [
        t,
        Text(
            f"{e['servers']} slots, {e['rate_per_s']:g} orders/s, aht {e['aht_s']:g} s, "
            f"occupancy {e['occupancy']:.0%}; {e['orders_counted']:,} orders counted "
            f"(the first 15 min are a warm-up); mean wait off by {error}"
        ),
    ]


# -- staffing ------------------------------------------------------------------------------


def _rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"--rate: {text.strip()!r} is not a number of orders per hour")
    return value


# (option, attribute, lowest, highest, lowest allowed?, highest allowed?, what it is)
RANGES = (
    ("--aht", "aht", 0.0, math.inf, False, False, "seconds, more than 0"),
    ("--target-sl", "target_sl", 0.0, 1.0, False, False, "a fraction in (0, 1), e.g. 0.8"),
    ("--target-wait", "target_wait", 0.0, math.inf, True, False, "seconds, 0 or more"),
    (
        "--max-occupancy",
        "max_occupancy",
        0.0,
        1.0,
        False,
        True,
        "a fraction in (0, 1], e.g. 0.85; 1 is no cap",
    ),
    ("--concurrency", "concurrency", 1, math.inf, True, False, "a whole number, 1 or more"),
    ("--shrinkage", "shrinkage", 0.0, 1.0, True, False, "a fraction in [0, 1), e.g. 0.3"),
)


def _check_staffing(args: argparse.Namespace) -> None:
    for option, attr, lo, hi, lo_ok, hi_ok, what in RANGES:
        v = getattr(args, attr)
        above = v > lo or (lo_ok and v == lo)
        below = v < hi or (hi_ok and v == hi)
        if not (above and below):  # NaN is neither
            raise ValueError(f"{option} {v:g} is out of range: {what}")


def staffing_cmd(args: argparse.Namespace) -> int:
    from bench.sim.erlang import staffing

    try:
        _check_staffing(args)
        rates = [_rate(r) for r in str(args.rate).split(",") if r.strip()]
        if not rates:
            raise ValueError("--rate needs at least one number of orders per hour")
        rows = [
            staffing(
                r,
                args.aht,
                args.target_sl,
                args.target_wait,
                concurrency=args.concurrency,
                shrinkage=args.shrinkage,
                max_occupancy=args.max_occupancy,
            )
            for r in rates
        ]
    except ValueError as exc:
        return _fail(str(exc))
    if args.json:
        target = {
            "service_level": args.target_sl,
            "wait_s": args.target_wait,
            "max_occupancy": args.max_occupancy,
            "aht_s": args.aht,
            "concurrency": args.concurrency,
            "shrinkage": args.shrinkage,
        }
        print(
            json.dumps(
                {
                    "target": target,
                    "intervals": [{"hour": i, **row.__dict__} for i, row in enumerate(rows)],
                },
                indent=1,
            )
        )
        return 0
    print("\n".join(staffing_lines(args, rows)))
    return 0


# (header line 1, header line 2, width) of the staffing table; two spaces between columns
STAFFING_COLUMNS = (
    ("", "hour", 4),
    ("orders", "per hour", 8),
    ("", "erlangs", 7),
    ("slots", "needed", 6),
    ("agents", "on floor", 8),
    ("agents", "scheduled", 9),
    ("service", "level", 7),
    ("mean", "wait s", 6),
    ("", "occupancy", 9),
)


def _number(v: float) -> str:
    """144000, 1440000 (not 1.44e+06), 97.5."""
    return str(int(v)) if float(v).is_integer() else f"{v:.1f}"


def staffing_lines(args: argparse.Namespace, rows: list[Any]) -> list[str]:
    """The plan as text for an 80-column terminal; `*` marks what set each hour's head
    count: the service level or the occupancy cap."""
    from bench.sim.erlang import OCCUPANCY

    def line(cells: list[str]) -> str:
        return "  ".join(c.rjust(w) for c, (_, _, w) in zip(cells, STAFFING_COLUMNS, strict=True))

    def pct(x: float) -> str:  # 80%, 82.5%: the value given, not rounded to a whole
        return f"{x * 100:.4g}%"

    cap = (
        "no occupancy cap"
        if args.max_occupancy >= 1
        else (f"occupancy at most {pct(args.max_occupancy)}")
    )
    out = [
        f"target: {pct(args.target_sl)} answered within {args.target_wait:g} s, {cap}",
        f"aht {args.aht:g} s, {args.concurrency} order{'s' if args.concurrency > 1 else ''} "
        f"at once per agent, shrinkage {pct(args.shrinkage)}",
        "",
        line([h for h, _, _ in STAFFING_COLUMNS]).rstrip(),
        line([h for _, h, _ in STAFFING_COLUMNS]),
    ]
    for i, row in enumerate(rows):
        by_cap = row.limited_by == OCCUPANCY
        out.append(
            line(
                [
                    str(i),
                    _number(row.rate_per_hour),
                    f"{row.traffic:.1f}",
                    str(row.servers),
                    str(row.agents_on_floor),
                    str(row.agents_scheduled),
                    f"{row.service_level:.1%}" + (" " if by_cap else "*"),
                    f"{row.mean_wait_s:.2f}",
                    f"{row.occupancy:.1%}" + ("*" if by_cap else " "),
                ]
            )
        )
    out.append("* sets the head count: the service-level target or the occupancy cap")
    return out
