"""The long run (issue 12, "Measured"): months of a 400-seat center through the real engine.

    PYTHONPATH=. .venv/bin/python -m bench.longrun run --days 90 --orders-per-day 30000 \\
        --data /tmp/sf-longrun --out bench/results/longrun

Drives engine.core.Engine on a SqliteJournal and a ManualClock with the center of
bench.longrun_center, writing checkpoints as `seatflow serve` does (a Checkpointer's
forked child, every 50,000 records). After each simulated day it samples the process's
RSS and the sizes of everything in the live state that could grow with history. At the
end of the baseline day (10) and of the last day it keeps a copy of the data directory
(the journal by SQLite's backup, and two checkpoints: one of that moment, as a clean
shutdown leaves, and one of a day earlier, as a SIGKILL just before the next periodic
checkpoint would leave) and times the live payroll of the open and the last closed
month. Then, alternating the two copies, it times in fresh processes: start-up as
`seatflow serve` does it (engine.checkpoint_files.recover), `seatflow payroll MONTH`,
and the bytes each part of the state holds (tracemalloc). Medians of `--repeat` runs.
summary.json and longrun.png go to `--out`.

`start DIR` and `sizes DIR` are the fresh-process parts, printing JSON; `reports DIR`
times the reads whose cost may follow history on a kept copy (for A/B runs).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from bench.longrun_center import HOUR, MIN, TIMEZONE, Center, Shape
from engine import checkpoint_files
from engine.archive import Recent
from engine.calendar import date_start, month_text
from engine.checkpoint import encode
from engine.checkpoint_files import Checkpointer, CheckpointFiles
from engine.clock import ManualClock
from engine.core import Engine
from engine.payroll.kernel import warm
from engine.payroll.report import payroll_report, utilization_report
from engine.reports import agent_time
from engine.sqlite_journal import JOURNAL_FILE, SqliteJournal
from engine.state import State
from presence.roster import Roster
from router.customers import Customers

PAGE = os.sysconf("SC_PAGE_SIZE")
MB = 1e6
VARIANTS = ("clean", "crash")
CLI = "import sys; from api.cli import main; sys.exit(main())"


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE / MB


def sizes_of(engine: Engine) -> dict[str, int]:
    """How many of each thing the live state holds that could grow with history."""
    st = engine.state
    return {
        "orders": len(st.orders),
        "transitions": sum(len(v) for v in st.transitions.values()),
        "audit": len(st.audit),
        "requests": len(st.requests),
        "shifts": sum(len(st.roster.of(a)) for a in st.roster.agents()),
        "tally_days": sum(len(d) for d in st.tallies.by_agent.values()),
        "response_log": sum(len(t) for t, _ in st.tallies.log.values()),
        "customers": len(st.customers),
        "closed_months": len(st.closed_months),
        "closed_report_bytes": sum(len(c.report) for c in st.closed_months.values()),
        "late": len(st.late),
        "recent": len(engine.recent),
    }


def _files_mb(data: Path) -> tuple[float, float]:
    journal = sum(p.stat().st_size for p in data.glob(JOURNAL_FILE + "*"))
    newest = CheckpointFiles(data).paths()
    return journal / MB, (newest[0].stat().st_size / MB if newest else 0.0)


def in_child(fn: Callable[[], None]) -> None:
    """Run `fn` in a forked child (copy-on-write, as the Checkpointer does): what it
    allocates never lands in this process's memory, which is what is measured."""
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            fn()
            code = 0
        except BaseException:  # noqa: BLE001
            import traceback

            traceback.print_exc()
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"the child writing a snapshot failed ({status})")


def keep_checkpoint(engine: Engine, into: Path) -> None:
    """The state as of now, as a checkpoint in `into`/checkpoints (in a child)."""
    journal = engine.journal
    assert isinstance(journal, SqliteJournal)
    seq = journal.last
    record = journal.record(seq)
    assert record is not None and seq == engine.last_seq

    def write() -> None:
        into.mkdir(parents=True, exist_ok=True)
        CheckpointFiles(into).write(encode(engine.state, seq, record), seq)

    in_child(write)


def keep_journal(engine: Engine, snap: Path) -> None:
    journal = engine.journal
    assert isinstance(journal, SqliteJournal)

    def copy() -> None:
        snap.mkdir(parents=True, exist_ok=True)
        src = sqlite3.connect(f"file:{journal.path}?mode=ro", uri=True)
        dst = sqlite3.connect(snap / JOURNAL_FILE)
        src.backup(dst)
        dst.close()
        src.close()

    in_child(copy)


def use_variant(snap: Path, variant: str) -> None:
    link = snap / checkpoint_files.DIRECTORY
    if link.is_symlink():
        link.unlink()
    link.symlink_to(snap / variant / checkpoint_files.DIRECTORY)


def time_live_payroll(engine: Engine, repeat: int) -> dict[str, Any]:
    """The live report (payroll_report on the live state) of the last day's month, if
    still open, and of the last closed month, median ms."""
    st, now = engine.state, engine.now()
    months = {}
    current = month_text(date.fromordinal(st.tallies.days.ordinal(now - 1)).replace(day=1))
    if current not in st.closed_months:  # the last day's month, unless it just closed
        months["open"] = current
    if st.closed_months:
        months["closed"] = max(st.closed_months)
    out: dict[str, Any] = {}
    for kind, month in months.items():
        runs = []
        for _ in range(repeat):
            t = time.perf_counter()
            payroll_report(st, month, now)
            runs.append(time.perf_counter() - t)
        out[kind] = {"month": month, "median_ms": statistics.median(runs) * 1e3}
    return out


DayEnd = Callable[[int, date], Awaitable[None]]


async def simulate(
    center: Center, clock: ManualClock, keeper: Checkpointer, days: int, day_end: DayEnd
) -> None:
    """`days` local days from the center's first, minute by minute; `day_end(n, date)`
    after the n-th. The Checkpointer runs as under `seatflow serve`: due every 50,000
    records (or 10 minutes), written by a forked child at a settled moment."""
    first = center.day
    center.plan_day()
    for d in range(days):
        today = first + timedelta(days=d)
        center.plan_day()  # tomorrow's shifts are added before midnight
        center.plan_late_qa(today)
        start, end = date_start(today, TIMEZONE), date_start(today + timedelta(days=1), TIMEZONE)
        for now in range(start + MIN, end + 1, MIN):
            clock.set(now)
            await center.minute(now, today)
            keeper.reap()
            if keeper.due():
                keeper.fork()
        center.end_of_day(today)
        await day_end(d + 1, today)


async def open_center(data: Path, shape: Shape, first: date, grace_s: float) -> Center:
    """A new center on a SqliteJournal in `data`, set up before its first day."""
    clock = ManualClock(date_start(first, TIMEZONE) - 3 * HOUR)
    engine = Engine(SqliteJournal.in_dir(data), clock)
    engine.recover()
    # Archive rows stay readable from memory for RECENT_GRACE_S of wall time after they
    # are durable; here a wall second is hours of the center's time, so the grace shrinks.
    engine.recent = Recent(grace_s=grace_s)
    warm()  # numba and the payroll kernel, loaded at start as `seatflow serve` does
    center = Center(engine, shape, first)
    await center.setup()
    return center


async def drive(args: argparse.Namespace, shape: Shape) -> dict[str, Any]:
    live, snaps = args.data / "live", args.data / "snap"
    center = await open_center(live, shape, date.fromisoformat(args.start), args.recent_grace)
    engine = center.engine
    assert isinstance(engine.clock, ManualClock)
    keeper = Checkpointer(engine, CheckpointFiles(live), 0)
    samples: list[dict[str, Any]] = []
    payroll: dict[int, Any] = {}
    marks = {args.baseline_day, args.days}
    t = time.perf_counter()

    async def day_end(day: int, _: date) -> None:
        nonlocal t
        journal_mb, checkpoint_mb = _files_mb(live)
        row = {"day": day, "rss_mb": round(rss_mb(), 1), "blocks": sys.getallocatedblocks()}
        row |= sizes_of(engine) | {"archived": engine.state.counters.archived}
        row |= {"records": engine.last_seq, "journal_mb": round(journal_mb, 1)}
        row |= {"checkpoint_mb": round(checkpoint_mb, 1)}
        row |= {"wall_s": round(time.perf_counter() - t, 2)}
        samples.append(row)
        print(json.dumps(row), flush=True)
        if day + 1 in marks:  # a day before a mark: the "crash" variant's checkpoint
            keeper.reap(wait=True)
            keep_checkpoint(engine, snaps / str(day + 1) / "crash")
        if day in marks:
            keeper.reap(wait=True)
            snap = snaps / str(day)
            keep_journal(engine, snap)
            keep_checkpoint(engine, snap / "clean")
            payroll[day] = time_live_payroll(engine, args.repeat * 5)
        t = time.perf_counter()

    started = time.perf_counter()
    await simulate(center, engine.clock, keeper, args.days, day_end)
    wall = time.perf_counter() - started
    await keeper.stop()
    await engine.close()
    tally = center.tally.__dict__ | {"closes_s": center.closes}
    return {"samples": samples, "payroll_live": payroll, "wall_s": wall, "tally": tally}


def run_child(args: list[str], env: dict[str, str]) -> tuple[float, str]:
    t = time.perf_counter()
    done = subprocess.run([sys.executable, *args], env=env, capture_output=True, text=True)
    took = time.perf_counter() - t
    if done.returncode != 0:
        raise RuntimeError(f"{args}: exit {done.returncode}: {done.stderr[-2000:]}")
    return took, done.stdout


def measure(args: argparse.Namespace, months: dict[int, list[str]]) -> dict[str, Any]:
    """Start-up, `seatflow payroll` and the state's bytes, in fresh processes, the
    baseline day's copy and the last day's alternating."""
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent.parent))
    snaps = {day: args.data / "snap" / str(day) for day in (args.baseline_day, args.days)}
    starts: dict[int, dict[str, list[dict[str, Any]]]] = {
        d: {v: [] for v in VARIANTS} for d in snaps
    }
    cli: dict[int, dict[str, list[float]]] = {d: {m: [] for m in months[d]} for d in snaps}
    imports: list[float] = []
    for _ in range(args.repeat):
        imports.append(run_child(["-c", "import api.cli, engine.payroll.report"], env)[0])
        for day, snap in snaps.items():
            for variant in VARIANTS:
                use_variant(snap, variant)
                _, got = run_child(["-m", "bench.longrun", "start", str(snap)], env)
                starts[day][variant].append(json.loads(got))
            use_variant(snap, "clean")
            for month in months[day]:
                argv = ["-c", CLI, "payroll", month, "--data", str(snap), "--format", "csv"]
                cli[day][month].append(run_child(argv, env)[0])
    med = statistics.median
    out: dict[str, Any] = {"import_api_cli_s": med(imports), "startup": {}, "payroll_cli_s": {}}
    for day, snap in snaps.items():
        out["startup"][day] = {
            v: {
                "median_s": med(r["seconds"] for r in runs),
                "runs_s": [round(r["seconds"], 3) for r in runs],
                "replayed": runs[0]["replayed"],
                "checkpoint_mb": runs[0]["checkpoint_mb"],
                "rss_mb": med(r["rss_mb"] for r in runs),
                "orders": runs[0]["orders"],
            }
            for v, runs in starts[day].items()
        }
        out["payroll_cli_s"][day] = {m: med(runs) for m, runs in cli[day].items()}
        use_variant(snap, "clean")
        out.setdefault("bytes", {})[day] = json.loads(
            run_child(["-m", "bench.longrun", "sizes", str(snap)], env)[1]
        )
        if args.full_replay:
            _, got = run_child(["-m", "bench.longrun", "start", str(snap), "--full"], env)
            out["startup"][day]["full_replay_s"] = json.loads(got)["seconds"]
    return out


# -- the fresh-process parts -----------------------------------------------------------------


def start(data: Path, full: bool) -> dict[str, Any]:
    """Start-up as `seatflow serve` does it (api/cli/serve.py), before the server listens."""
    engine = Engine(SqliteJournal.in_dir(data), ManualClock(0))
    files = CheckpointFiles(data)
    if full:
        t = time.perf_counter()
        at, replayed = 0, engine.recover()
        took = time.perf_counter() - t
    else:
        at, replayed, took = checkpoint_files.recover(engine, files)
    newest = files.paths()
    out = {
        "seconds": took, "checkpoint_seq": at, "replayed": replayed, "rss_mb": rss_mb(),
        "checkpoint_mb": newest[0].stat().st_size / MB if newest and not full else 0.0,
        "orders": len(engine.state.orders),
    }  # fmt: skip
    asyncio.run(engine.close())
    return out


def reports(data: Path, repeat: int) -> dict[str, Any]:
    """Reads whose cost may follow history (time accounting walks transitions and shifts):
    the payroll of the last day's month computed afresh (as the month's close or an open
    month's report computes it), the last day's utilization report, and the board's
    time on the last day for every agent, on a recovered state; [median, min] ms of
    `repeat`, and a full collection's pause were the state not frozen."""
    engine = Engine(SqliteJournal.in_dir(data), ManualClock(0))
    checkpoint_files.recover(engine, CheckpointFiles(data))
    st, now = engine.state, engine.state.now
    day = st.tallies.days.ordinal(now - 1)
    month = month_text(date.fromordinal(day).replace(day=1))
    st.closed_months.pop(month, None)  # computed as its close computes it, not the frozen copy
    lo, hi = st.tallies.days.start(day), st.tallies.days.start(day + 1)
    agents = sorted(st.agents)
    reads: dict[str, Callable[[], object]] = {
        f"payroll {month}, computed": lambda: payroll_report(st, month, now),
        "utilization, last day, all agents": lambda: utilization_report(st, lo, hi, now),
        # What the board's utilization_today reads for every agent, late in the last day.
        "board: the day's time of every agent": lambda: [agent_time(st, a, lo, hi) for a in agents],
    }
    out: dict[str, Any] = {}
    for name, read in reads.items():
        runs = []
        for _ in range(repeat):
            t = time.perf_counter()
            read()
            runs.append(time.perf_counter() - t)
        out[name] = [round(statistics.median(runs) * 1e3, 2), round(min(runs) * 1e3, 2)]
    # Start-up froze what it restored out of the collector's way (Engine.recover); a
    # process that built the same state while running has it all to walk instead.
    gc.unfreeze()
    runs = []
    for _ in range(3):
        t = time.perf_counter()
        gc.collect()
        runs.append(time.perf_counter() - t)
    out["gc.collect() with the state unfrozen"] = round(statistics.median(runs) * 1e3, 2)
    out["gc tracked objects"] = len(gc.get_objects())
    asyncio.run(engine.close())
    return out


def _drop(state: State, part: str) -> None:
    if part == "orders":
        state.orders, state.done = {}, type(state.done)()
        state.index.rebuild()
    elif part == "transitions":
        state.transitions = {}
    elif part == "audit":
        state.audit = []
    elif part == "requests":
        state.requests = {}
        for agent in state.agents.values():
            agent.pending_request = None
    elif part == "roster":
        state.roster = Roster()
    elif part == "tally_days":
        state.tallies.by_agent = {}
    elif part == "response_log":
        state.tallies.log = {}
    elif part == "closed_months":
        state.closed_months = {}
    elif part == "customers":
        state.customers = Customers()
    elif part == "late":
        state.late = {}


PARTS = (
    "orders", "transitions", "audit", "requests", "roster", "tally_days", "response_log",
    "closed_months", "customers", "late",
)  # fmt: skip


def sizes(data: Path) -> dict[str, Any]:
    """Bytes of the Python heap each part of a recovered state holds (tracemalloc): the
    drop in traced memory when it alone is let go. `state` is all of the state."""
    tracemalloc.start()
    engine = Engine(SqliteJournal.in_dir(data), ManualClock(0))
    checkpoint_files.recover(engine, CheckpointFiles(data))
    counts = sizes_of(engine)
    gc.collect()
    before = tracemalloc.get_traced_memory()[0]
    out: dict[str, Any] = {"counts": counts, "bytes": {}}
    for part in PARTS:
        gc.collect()
        at = tracemalloc.get_traced_memory()[0]
        _drop(engine.state, part)
        gc.collect()
        out["bytes"][part] = at - tracemalloc.get_traced_memory()[0]
    gc.collect()
    at = tracemalloc.get_traced_memory()[0]
    engine.state = State()
    gc.collect()
    out["bytes"]["rest"] = at - tracemalloc.get_traced_memory()[0]
    out["bytes"]["state"] = before - tracemalloc.get_traced_memory()[0]
    asyncio.run(engine.close())
    return out


# -- the report --------------------------------------------------------------------------------


def per_day(summary: dict[str, Any], base: int, last: int) -> dict[str, Any]:
    """Growth per simulated day between the two copies, from their bytes and counts."""
    b0, b1 = summary["measured"]["bytes"][base], summary["measured"]["bytes"][last]
    days = last - base
    grow = {p: (b1["bytes"][p] - b0["bytes"][p]) / days for p in b1["bytes"]}
    return {
        "bytes_per_day": {p: round(v) for p, v in grow.items()},
        "mb_per_year": {p: round(v * 365 / MB, 1) for p, v in grow.items()},
        "bytes_per_order_in_memory": round(b1["bytes"]["orders"] / max(1, b1["counts"]["orders"])),
    }


def plot(samples: list[dict[str, Any]], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    days = [s["day"] for s in samples]
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(9, 7), sharex=True)
    ax1.plot(days, [s["rss_mb"] for s in samples], label="RSS (MB)", color="tab:red")
    ax1.set_ylabel("RSS, MB")
    ax1.set_ylim(bottom=0)
    twin = ax1.twinx()
    twin.plot(days, [s["orders"] for s in samples], label="orders in memory", color="tab:blue")
    twin.set_ylabel("orders in memory")
    twin.set_ylim(bottom=0)
    ax1.set_title("the long run: RSS and orders in memory at the end of each day")
    for part in ("transitions", "audit", "shifts", "tally_days", "requests"):
        ax2.plot(days, [s[part] for s in samples], label=part)
    ax2.set_ylabel("entries in the live state")
    ax2.set_xlabel("simulated day")
    ax2.legend(loc="upper left")
    fig.tight_layout()
    fig.savefig(out / "longrun.png", dpi=90)


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench.longrun")
    sub = p.add_subparsers(dest="what", required=True)
    r = sub.add_parser("run")
    r.add_argument("--days", type=int, default=90)
    r.add_argument("--baseline-day", type=int, default=10)
    r.add_argument("--orders-per-day", type=int, default=30_000)
    r.add_argument("--seats", type=int, default=400)
    r.add_argument("--batch", type=int, default=20)
    r.add_argument("--retention", type=int, default=2, help="order_retention_days")
    r.add_argument("--start", default="2026-01-01", help="the first local day (Asia/Shanghai)")
    r.add_argument("--recent-grace", type=float, default=0.5, metavar="S")
    r.add_argument("--repeat", type=int, default=5)
    r.add_argument("--full-replay", action="store_true", help="also time start-up with none")
    r.add_argument("--data", type=Path, default=Path("/tmp/sf-longrun"))
    r.add_argument("--out", type=Path, help="where summary.json and longrun.png go")
    for name in ("start", "sizes", "reports"):
        s = sub.add_parser(name)
        s.add_argument("data", type=Path)
        s.add_argument("--full", action="store_true")
        s.add_argument("--repeat", type=int, default=11)
    args = p.parse_args()
    if args.what == "start":
        print(json.dumps(start(args.data, args.full)))
        return
    if args.what == "sizes":
        print(json.dumps(sizes(args.data)))
        return
    if args.what == "reports":
        print(json.dumps(reports(args.data, args.repeat)))
        return
    if not 1 <= args.baseline_day < args.days:
        p.error(f"--baseline-day {args.baseline_day} must be 1..{args.days - 1}")
    shutil.rmtree(args.data, ignore_errors=True)
    shape = Shape(args.seats, args.orders_per_day, args.batch, args.retention)
    load = os.getloadavg()
    summary: dict[str, Any] = {"shape": shape.__dict__, "days": args.days, "start": args.start}
    summary |= asyncio.run(drive(args, shape))
    first = date.fromisoformat(args.start)
    months = {}
    for day in (args.baseline_day, args.days):
        last = first + timedelta(days=day - 1)
        opened = month_text(last.replace(day=1))
        closed = [m for m in summary["tally"]["closes_s"] if m < opened]
        months[day] = [opened, *closed[-1:]]
    summary["measured"] = measure(args, months)
    summary["growth"] = per_day(summary, args.baseline_day, args.days)
    summary["machine"] = {
        "nproc": os.cpu_count(),
        "loadavg_before": load,
        "loadavg_after": os.getloadavg(),
    }
    summary["maxrss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3
    by_day = {s["day"]: s for s in summary["samples"]}
    base, last = by_day[args.baseline_day], by_day[args.days]
    summary["rss_ratio"] = round(last["rss_mb"] / base["rss_mb"], 3)
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        plot(summary["samples"], args.out)
        keep = {1, 2, 3, args.baseline_day, args.days} | set(range(10, args.days + 1, 10))
        summary["samples"] = [s for s in summary["samples"] if s["day"] in keep]
        (args.out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    print(json.dumps({k: v for k, v in summary.items() if k != "samples"}, indent=1))


if __name__ == "__main__":
    main()
