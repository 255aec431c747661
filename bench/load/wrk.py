"""Order intake at saturation measured by Debian's `wrk`, not by our own client.

    .venv/bin/python -m bench.load.wrk [--threads 2] [--conns 128] [--seconds 15]
        [--seats 400] [--redis | --both] [--burst bench/results/burst.json] [--out FILE]

A cross-check of bench/load/burst.py's saturation step: the same two servers, started
the same way (burst.start_noop, burst.start_seatflow: SQLite with group commit, or a
center on a redis-server started here), the same agents (burst.Floor: 2 × seats agents,
shift A logged in, so orders are assigned), and `wrk` (apt-get install wrk) with
bench/load/wrk_orders.lua sending each request a new order (its own id, the shape of
burst.order_body) with a platform key. wrk is closed loop (each connection sends its
next request once answered), so this measures throughput at saturation and the latency
that goes with it; the stepped open-loop rates stay burst.py's. Each server first gets
`--warmup-s` of the same load, not counted.

Then the server stops (graceful), its journal is replayed (the center read back from
Redis) and every order wrk was answered 201 for must be in it (the ids come from the
answers' bodies: lost orders). `--burst FILE` puts the saturation ratio of a burst.py
report from the same session (seatflow ÷ no-op) next to wrk's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import redis as redis_client

from bench.load.burst import (
    CENTER,
    HOST,
    PHASES,
    Floor,
    Proc,
    cpu_s,
    lost_in_redis,
    lost_orders,
    start_noop,
    start_seatflow,
)
from bench.load.redis_proc import RedisProc, start_redis
from bench.report import emit

LUA = Path(__file__).with_name("wrk_orders.lua")


def wrk_binary() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise RuntimeError("no wrk on PATH: apt-get install -y wrk")
    return found


def run_wrk(
    args: argparse.Namespace,
    url: str,
    key: str,
    prefix: str,
    seconds: float,
    acked_file: Path | None,
    pids: list[int],
    redis_pid: int | None = None,
) -> dict[str, Any]:
    """One wrk run; its figures (the script's JSON line) with the server's CPU per request
    (and the redis-server's apart)."""
    cmd = [
        wrk_binary(),
        f"-t{args.threads}",
        f"-c{args.conns}",
        f"-d{seconds:g}s",
        f"--timeout={args.timeout_s:g}s",
        "--latency",
        "-s",
        str(LUA),
        url,
        "--",
        key,
        prefix,
        "" if acked_file is None else str(acked_file),
    ]
    load = os.getloadavg()[0]
    cpu0 = cpu_s(*pids)
    redis0 = None if redis_pid is None else cpu_s(redis_pid)
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    server_cpu = cpu_s(*pids) - cpu0
    redis_cpu = None if redis_pid is None or redis0 is None else cpu_s(redis_pid) - redis0
    if done.returncode != 0:
        raise RuntimeError(f"wrk exited with {done.returncode}: {done.stderr.strip()}")
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("{")]
    if not lines:
        raise RuntimeError(f"wrk printed no result line:\n{done.stdout}\n{done.stderr}")
    raw = json.loads(lines[-1])
    secs = raw["duration_us"] / 1e6
    ok = sum(n for code, n in raw["statuses"].items() if code.startswith("2"))
    lat = raw["latency_us"]
    n = raw["requests"] or 1
    return {
        "requests": raw["requests"],
        "seconds": round(secs, 2),
        "requests_per_s": round(raw["requests"] / secs, 1),
        "ok_per_s": round(ok / secs, 1),
        "statuses": raw["statuses"],
        "non_2xx": raw["requests"] - ok,
        "socket_errors": raw["errors"],
        "acked_ids": raw["acked_ids"],
        "latency_ms": {k: round(v / 1000, 3) for k, v in lat.items()},
        "server_cpu_us_per_req": round(server_cpu / n * 1e6, 1),
        "load_avg_1m": [round(load, 2), round(os.getloadavg()[0], 2)],
    } | ({} if redis_cpu is None else {"redis_cpu_us_per_req": round(redis_cpu / n * 1e6, 1)})


def noop_phase(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    noop = start_noop(work / "noop.log")
    try:
        url = f"http://{HOST}:{noop.port}/v1/_noop"
        pids = [noop.proc.pid]
        if args.warmup_s:
            run_wrk(args, url, "x", "nw", args.warmup_s, None, pids)
        return run_wrk(args, url, "x", "n", args.seconds, None, pids)
    finally:
        noop.stop()


def seatflow_phase(args: argparse.Namespace, work: Path, store: str) -> dict[str, Any]:
    admin_key = secrets.token_urlsafe(24)
    redis: RedisProc | None = start_redis(work / "redis") if store == "redis" else None
    data = work / f"data-{store}"
    server: Proc | None = None
    acked_files = [work / f"acked-{store}-warmup.txt", work / f"acked-{store}.txt"]
    try:
        server = start_seatflow(
            data,
            admin_key,
            work / f"seatflow-{store}.log",
            redis_url=None if redis is None else redis.url,
            profile=None if args.profile is None else args.profile / f"seatflow-{store}.prof",
            pythonpath=None if args.server_path is None else str(args.server_path),
        )
        floor = Floor(server.port, admin_key, args.seats)
        asyncio.run(floor.setup())
        # Shift A's shifts end an hour from now: logged in, on shift for the whole run.
        asyncio.run(floor.schedule(time.time() + 3600))
        url = f"http://{HOST}:{server.port}/v1/orders"
        pids = [server.proc.pid]
        if args.warmup_s:
            run_wrk(args, url, floor.platform, "v", args.warmup_s, acked_files[0], pids)
        if redis is not None:
            _redis_stats(redis.url, reset=True)
        phase = {"store": store} | run_wrk(
            args,
            url,
            floor.platform,
            "w",
            args.seconds,
            acked_files[1],
            pids,
            None if redis is None else redis.pid,
        )
        if redis is not None:
            phase["redis_commands_per_req"] = {
                name: {k: round(v / phase["requests"], 3) for k, v in stat.items()}
                for name, stat in _redis_stats(redis.url).items()
            }
    finally:
        if server is not None:
            server.stop()
    try:
        acked = [
            line for f in acked_files if f.exists() for line in f.read_text().splitlines() if line
        ]
        if redis is None:
            phase["lost"] = asyncio.run(lost_orders(data, acked))
        else:
            phase["lost"] = asyncio.run(lost_in_redis(redis.url, CENTER, acked))
    finally:
        if redis is not None:
            redis.stop()
    return phase


def _redis_stats(url: str, *, reset: bool = False) -> dict[str, dict[str, float]]:
    """The redis-server's calls and CPU µs by command (INFO commandstats), or reset them."""
    client = redis_client.Redis.from_url(url)
    try:
        if reset:
            client.config_resetstat()
            return {}
        stats: dict[str, Any] = client.info("commandstats")
        return {
            name.removeprefix("cmdstat_"): {"calls": st["calls"], "usec": st["usec"]}
            for name, st in stats.items()
        }
    finally:
        client.close()


def burst_saturation(path: Path) -> dict[str, Any]:
    """The saturation step of a burst.py report: each phase's orders/s and ÷ the no-op."""
    report = json.loads(path.read_text())
    noop = report["noop"]["steps"][-1]["achieved_rps"]
    out: dict[str, Any] = {"file": str(path), "noop_rps": noop}
    for store, key in PHASES.items():
        if key in report:
            rps = report[key]["steps"][-1]["achieved_rps"]
            out[store] = {"rps": rps, "vs_noop": round(rps / noop, 3) if noop else None}
    return out


def drive(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    report: dict[str, Any] = {
        "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "machine": {"nproc": os.cpu_count(), "wrk": wrk_version()},
        "server_commit": commit_of(args.server_path or Path(__file__).parents[2]),
        "noop": noop_phase(args, work),
    }
    noop_rps = report["noop"]["ok_per_s"]
    stores = ["sqlite", "redis"] if args.both else ["redis" if args.redis else "sqlite"]
    for store in stores:
        phase = seatflow_phase(args, work, store)
        phase["vs_noop"] = round(phase["ok_per_s"] / noop_rps, 3) if noop_rps else None
        report[PHASES[store]] = phase
    if args.burst is not None:
        report["burst"] = burst_saturation(args.burst)
    return report


def commit_of(tree: Path) -> str:
    done = subprocess.run(
        ["git", "-C", str(tree), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    )
    return done.stdout.strip() or "?"


def wrk_version() -> str:
    done = subprocess.run([wrk_binary(), "--version"], capture_output=True, text=True)
    return (done.stdout or done.stderr).splitlines()[0].strip()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m bench.load.wrk",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--threads", type=int, default=2, help="wrk threads (-t)")
    p.add_argument("--conns", type=int, default=128, help="wrk connections (-c)")
    p.add_argument("--seconds", type=float, default=15.0, help="wrk duration (-d)")
    p.add_argument("--warmup-s", type=float, default=3.0, help="uncounted run first (0: none)")
    p.add_argument("--timeout-s", type=float, default=10.0, help="wrk's per-request timeout")
    p.add_argument("--seats", type=int, default=400)
    store = p.add_mutually_exclusive_group()
    store.add_argument("--redis", action="store_true", help="seatflow on a Redis center")
    store.add_argument("--both", action="store_true", help="SQLite, then Redis")
    p.add_argument("--burst", type=Path, help="a burst.py report of the same session")
    p.add_argument(
        "--server-path",
        type=Path,
        help="seatflow serve runs this tree's code (its PYTHONPATH): an A/B with wrk",
    )
    p.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="seatflow serve under cProfile: DIR/seatflow-STORE.prof (slower: to find where)",
    )
    p.add_argument("--out", type=Path)
    args = p.parse_args(argv)
    if args.profile is not None:
        args.profile.mkdir(parents=True, exist_ok=True)
    if args.conns < args.threads:
        p.error("--conns must be at least --threads (wrk gives each thread conns/threads)")
    with tempfile.TemporaryDirectory(prefix="seatflow-wrk-") as tmp:
        report = drive(args, Path(tmp))
    emit(report, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
