"""The HTTP shift-change burst against `seatflow serve` on loopback.

    .venv/bin/python -m bench.load.burst [--seats 400] [--steps 500,1000,2000,3000,4000,5000]
        [--step-s 10] [--conns 128] [--shift-change-s 60] [--out bench/results/burst.json]
        [--redis | --both] [--processes 1] [--no-noop] [--data-from DIR] [--uuid-ids]

1. Starts `seatflow serve` (real clock, a fresh data dir, SQLite journal with group
   commit) and the no-op app (bench/load/noop.py) as two uvicorn processes on free
   127.0.0.1 ports, same server settings.
2. The no-op baseline: the same stepped open-loop rates, then a closed-loop
   saturation step, with the same request bodies.
3. seatflow: 2 × seats agents; shift A (seats agents) logged in; then orders at the
   stepped rates (each request scheduled at its intended time; latency counted from
   then, so a server that falls behind is charged for it), while during the second
   step a shift change runs: within `shift_change_s` every agent of A logs out (most
   inside the grace window: 200 and their orders reassigned; a tenth mid-shift: 202,
   then a supervisor approves) and every agent of B logs in. Then the closed-loop
   saturation step.
4. Stops the server (graceful), replays its journal, and checks that every order the
   server acknowledged (200/201) is in it: lost orders.

`--redis` runs step 3 on `seatflow serve --redis URL --center bench` instead, against a
redis-server it starts itself (bench/load/redis_proc.py: AOF, appendfsync always), and
reads the center back from Redis for step 4 (as `seatflow replay --redis` does); that
phase reports the redis-server's CPU per order too. `--both` runs SQLite then Redis in
the same invocation, for a same-run ratio (`redis_vs_sqlite`). `--processes 2` puts two
server processes on the Redis center (the first started owns it, the second forwards
its commands to it), the connections split round-robin between them.

`--data-from DIR` starts the SQLite server on a copy of a prepared data dir instead of
an empty one (e.g. a journal whose archive holds millions of orders past retention:
bench/archive_lookup.py), and `--uuid-ids` sends random 32-hex-digit order ids instead
of sequential ones (b00000001, ...), so each new id's archive lookup lands anywhere in
that archive's index rather than always at its end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.load.client import Conn, HttpError
from bench.load.redis_proc import RedisProc, free_port, start_redis
from bench.report import emit

HOST = "127.0.0.1"
SEATFLOW = str(Path(sys.executable).parent / "seatflow")
CENTER = "bench"
PHASES = {"sqlite": "seatflow", "redis": "seatflow_redis"}  # report key of each store's phase


def _wait_port(port: int, proc: subprocess.Popen[bytes], deadline_s: float = 30.0) -> None:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with socket.create_connection((HOST, port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port} after {deadline_s} s")


@dataclass
class Proc:
    proc: subprocess.Popen[bytes]
    port: int

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_seatflow(
    data: Path,
    admin_key: str,
    log: Path,
    *,
    redis_url: str | None = None,
    center: str = CENTER,
    port: int | None = None,
    profile: Path | None = None,
    pythonpath: str | None = None,
) -> Proc:
    """`seatflow serve` on SQLite in `data`, or on the center in Redis at `redis_url`;
    under cProfile writing `profile` at its (graceful) stop, if given; with `pythonpath`
    as its PYTHONPATH (another tree's code: an A/B), if given."""
    port = port or free_port()
    env = {**os.environ, "SEATFLOW_ADMIN_KEY": admin_key}
    if pythonpath is not None:
        env["PYTHONPATH"] = pythonpath
    args = [SEATFLOW, "serve", "--host", HOST, "--port", str(port), "--data", str(data)]
    if profile is not None:
        # -P: not the working directory first on sys.path (it would shadow `pythonpath`)
        args = [sys.executable, "-P", "-m", "cProfile", "-o", str(profile), *args]
    if redis_url is not None:
        args += ["--redis", redis_url, "--center", center]
    with open(log, "ab") as out:
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=env)
    _wait_port(port, proc)
    return Proc(proc, port)


def start_noop(log: Path) -> Proc:
    port = free_port()
    args = [
        sys.executable,
        "-m",
        "uvicorn",
        "bench.load.noop:app",
        "--host",
        HOST,
        "--port",
        str(port),
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--no-access-log",
    ]
    with open(log, "wb") as out:
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
    _wait_port(port, proc)
    return Proc(proc, port)


def order_body(order_id: str, rng: random.Random) -> bytes:
    skill = rng.choice(('"pre"', '"post"', "null"))
    priority = 0 if rng.random() < 0.9 else 2
    payload = f'{{"channel":"chat","customer":"c{rng.randrange(10**6):06d}"}}'
    return (
        f'{{"id":"{order_id}","skill":{skill},"priority":{priority},"payload":{payload}}}'
    ).encode()


@dataclass
class Step:
    name: str
    target_rps: float | None  # None: closed loop, as fast as the server answers
    seconds: float
    latencies_ms: list[float] = field(default_factory=list)
    ok: int = 0
    errors: int = 0
    error_examples: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0
    server_cpu_s: float = 0.0
    redis_cpu_s: float | None = None  # the redis-server's, on the Redis store

    def report(self) -> dict[str, Any]:
        lat = sorted(self.latencies_ms)

        def pct(q: float) -> float:
            return round(lat[min(len(lat) - 1, int(q * len(lat)))], 3) if lat else 0.0

        return {
            "step": self.name,
            "target_rps": self.target_rps,
            "achieved_rps": round(self.ok / self.elapsed_s, 1) if self.elapsed_s else 0.0,
            "ok": self.ok,
            "errors": self.errors,
            "error_examples": self.error_examples[:3],
            "p50_ms": pct(0.50),
            "p99_ms": pct(0.99),
            "max_ms": round(lat[-1], 3) if lat else 0.0,
            # server CPU (all its threads) per answered request: steadier than req/s here
            "server_cpu_us_per_req": (
                round(self.server_cpu_s / self.ok * 1e6, 1) if self.ok else 0.0
            ),
        } | (
            {}
            if self.redis_cpu_s is None
            else {
                "redis_cpu_us_per_req": round(self.redis_cpu_s / self.ok * 1e6, 1)
                if self.ok
                else 0.0
            }
        )


def cpu_s(*pids: int) -> float:
    """User + system CPU seconds of processes so far (all threads), from /proc."""
    total = 0
    for pid in pids:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rpartition(")")[2].split()
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


class Pusher:
    """Pushes bodies at a stepped rate over a pool of keep-alive connections.

    Connection i goes to ports[i % len(ports)] (several server processes: round-robin);
    server CPU is summed over `pids`, and the redis-server's taken apart (`redis_pid`).
    """

    def __init__(
        self,
        ports: list[int],
        key: str,
        path: str,
        conns: int,
        seed: int,
        pids: list[int],
        redis_pid: int | None = None,
        uuid_ids: bool = False,
    ) -> None:
        self.ports, self.key, self.path, self.n, self.pids = ports, key, path, conns, pids
        self.redis_pid = redis_pid
        self.rng = random.Random(seed)
        # Its own generator: the bodies are the same whichever ids are sent.
        self.uuids = random.Random(seed + 1) if uuid_ids else None
        self.acked: list[str] = []
        self.seq = 0

    def _next(self) -> tuple[str, bytes]:
        self.seq += 1
        if self.uuids is None:
            order_id = f"b{self.seq:08d}"
        else:
            order_id = f"{self.uuids.getrandbits(128):032x}"
        return order_id, order_body(order_id, self.rng)

    async def run(self, step: Step) -> None:
        conns = [
            await Conn(HOST, self.ports[i % len(self.ports)], self.key).open()
            for i in range(self.n)
        ]
        cpu0 = cpu_s(*self.pids)
        redis0 = None if self.redis_pid is None else cpu_s(self.redis_pid)
        start = time.perf_counter()
        end = start + step.seconds
        interval = self.n / step.target_rps if step.target_rps else 0.0

        async def one(i: int, conn: Conn) -> None:
            k = 0
            while True:
                due = start + (i / self.n + k) * interval if interval else time.perf_counter()
                if due >= end:
                    return
                k += 1
                delay = due - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                order_id, body = self._next()
                try:
                    status, answer = await conn.request("POST", self.path, body)
                except HttpError as exc:
                    step.errors += 1
                    step.error_examples.append(str(exc))
                    continue
                step.latencies_ms.append((time.perf_counter() - due) * 1000)
                if status in (200, 201):
                    step.ok += 1
                    self.acked.append(order_id)
                else:
                    step.errors += 1
                    step.error_examples.append(f"{status} {answer[:200]!r}")

        await asyncio.gather(*(one(i, c) for i, c in enumerate(conns)))
        step.elapsed_s = time.perf_counter() - start
        step.server_cpu_s = cpu_s(*self.pids) - cpu0
        if redis0 is not None and self.redis_pid is not None:
            step.redis_cpu_s = cpu_s(self.redis_pid) - redis0
        for c in conns:
            c.close()


async def _all(coros: list[Any], limit: int = 32) -> list[Any]:
    sem = asyncio.Semaphore(limit)

    async def guarded(c: Any) -> Any:
        async with sem:
            return await c

    return await asyncio.gather(*(guarded(c) for c in coros))


class Floor:
    """Setup and the shift change, through the API with admin and supervisor keys."""

    def __init__(self, port: int, admin_key: str, seats: int) -> None:
        self.port, self.admin, self.seats = port, admin_key, seats
        self.platform = self.supervisor = ""
        self.a = [f"a{i:04d}" for i in range(seats)]
        self.b = [f"b{i:04d}" for i in range(seats)]
        self.results: dict[str, int] = {}

    async def _call(self, key: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        conn = await Conn(HOST, self.port, key).open()
        try:
            data = None if body is None else json.dumps(body).encode()
            status, answer = await conn.request(method, path, data)
            return status, json.loads(answer) if answer else None
        finally:
            conn.close()

    async def setup(self) -> None:
        for role in ("platform", "supervisor"):
            status, body = await self._call(self.admin, "POST", "/v1/keys", {"role": role})
            if status != 201:
                raise RuntimeError(f"creating a {role} key answered {status}: {body}")
            setattr(self, role, body["key"])
        skills = (["pre"], ["post"], ["pre", "post"])
        await _all(
            [
                self._call(
                    self.supervisor,
                    "PUT",
                    f"/v1/agents/{aid}",
                    {
                        "name": aid,
                        "team": f"t{i % 20}",
                        "skills": skills[i % 3],
                        "capacity": 3 + i % 3,
                    },
                )
                for i, aid in enumerate(self.a + self.b)
            ]
        )

    async def schedule(self, change_at: float) -> None:
        def iso(t: float) -> str:
            return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))

        shifts = []
        for i, aid in enumerate(self.a):  # a tenth are mid-shift: their logout needs approval
            end = change_at + (3 * 3600 if i % 10 == 0 else 240)
            shifts.append({"agent_id": aid, "start": iso(end - 8 * 3600), "end": iso(end)})
        for aid in self.b:
            end = change_at + 8 * 3600
            shifts.append({"agent_id": aid, "start": iso(change_at), "end": iso(end)})
        status, body = await self._call(self.supervisor, "PUT", "/v1/schedule", {"shifts": shifts})
        if status != 200:
            raise RuntimeError(f"PUT /v1/schedule answered {status}: {body}")
        await _all([self._call(self.supervisor, "POST", f"/v1/agents/{a}/login") for a in self.a])

    async def shift_change(self, seconds: float, seed: int) -> None:
        """Every agent of A logs out and every agent of B logs in, spread over `seconds`."""
        rng = random.Random(seed)
        counts: dict[str, int] = {}
        start = time.perf_counter()

        async def at(offset: float, coro: Any) -> None:
            await asyncio.sleep(max(0.0, start + offset - time.perf_counter()))
            await coro

        async def logout(aid: str) -> None:
            status, body = await self._call(self.supervisor, "POST", f"/v1/agents/{aid}/logout")
            counts[f"logout_{status}"] = counts.get(f"logout_{status}", 0) + 1
            if status == 202:  # the guard held it: a supervisor approves a little later
                await asyncio.sleep(rng.uniform(0.5, 3.0))
                rid = body["logout_request"]["id"]
                path = f"/v1/logout-requests/{rid}/approve"
                s2, _ = await self._call(self.supervisor, "POST", path)
                counts[f"approve_{s2}"] = counts.get(f"approve_{s2}", 0) + 1
            elif status == 200:
                counts["reassigned"] = counts.get("reassigned", 0) + len(body["reassigned"])

        async def login(aid: str) -> None:
            status, _ = await self._call(self.supervisor, "POST", f"/v1/agents/{aid}/login")
            counts[f"login_{status}"] = counts.get(f"login_{status}", 0) + 1

        tasks = [at(rng.uniform(0, seconds), logout(a)) for a in self.a]
        tasks += [at(rng.uniform(0, seconds), login(b)) for b in self.b]
        await asyncio.gather(*tasks)
        counts["took_ms"] = int((time.perf_counter() - start) * 1000)
        self.results = counts


async def drive(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    steps = [float(x) for x in args.steps.split(",")]
    report: dict[str, Any] = {
        "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "machine": {"nproc": os.cpu_count(), "python": sys.version.split()[0]},
    }
    if not args.no_noop:
        report["noop"] = await noop_phase(args, work, steps)
    stores = ["sqlite", "redis"] if args.both else ["redis" if args.redis else "sqlite"]
    for store in stores:
        report[PHASES[store]] = await seatflow_phase(args, work, steps, store)
    if args.both:
        report["redis_vs_sqlite"] = compare(report["seatflow"], report["seatflow_redis"])
    return report


async def noop_phase(args: argparse.Namespace, work: Path, steps: list[float]) -> dict[str, Any]:
    noop = start_noop(work / "noop.log")
    try:
        pusher = Pusher([noop.port], "x", "/v1/_noop", args.conns, args.seed, [noop.proc.pid])
        noop_steps = [Step(f"{r:g}/s", r, args.step_s) for r in steps]
        noop_steps.append(Step("saturation", None, args.step_s))
        cpu = time.process_time()
        for st in noop_steps:
            await pusher.run(st)
        return {
            "steps": [s.report() for s in noop_steps],
            "client_cpu_s": round(time.process_time() - cpu, 2),
        }
    finally:
        noop.stop()


async def seatflow_phase(
    args: argparse.Namespace, work: Path, steps: list[float], store: str
) -> dict[str, Any]:
    """The stepped burst with the shift change on one store, then the lost-order check."""
    admin_key = secrets.token_urlsafe(24)
    redis: RedisProc | None = start_redis(work / "redis") if store == "redis" else None
    data = work / "data" if store == "sqlite" else work / f"data-{store}"
    if store == "sqlite" and args.data_from is not None:
        shutil.copytree(args.data_from, data)
    servers: list[Proc] = []
    try:
        for i in range(args.processes if redis is not None else 1):  # the first one owns
            servers.append(
                start_seatflow(
                    data,
                    admin_key,
                    work / f"seatflow-{store}-{i}.log",
                    redis_url=None if redis is None else redis.url,
                )
            )
        floor = Floor(servers[0].port, admin_key, args.seats)
        await floor.setup()
        change_at = time.time() + 2 * args.step_s
        await floor.schedule(change_at)
        pusher = Pusher(
            [s.port for s in servers],
            floor.platform,
            "/v1/orders",
            args.conns,
            args.seed,
            [s.proc.pid for s in servers],
            None if redis is None else redis.pid,
            args.uuid_ids,
        )
        sf_steps = [Step(f"{r:g}/s", r, args.step_s) for r in steps]
        sf_steps.append(Step("saturation", None, args.step_s))
        cpu = time.process_time()
        change: asyncio.Task[None] | None = None
        for i, st in enumerate(sf_steps):
            if i == 1:
                change = asyncio.create_task(floor.shift_change(args.shift_change_s, args.seed))
            await pusher.run(st)
        if change is not None:
            await change
        phase: dict[str, Any] = {
            "store": store,
            "processes": len(servers),
            "steps": [s.report() for s in sf_steps],
            "client_cpu_s": round(time.process_time() - cpu, 2),
            "shift_change": floor.results,
            "acked": len(pusher.acked),
        }
    finally:
        for server in servers:
            server.stop()
    try:
        if redis is None:
            phase["lost"] = await lost_orders(data, pusher.acked)
        else:
            phase["lost"] = await lost_in_redis(redis.url, CENTER, pusher.acked)
    finally:
        if redis is not None:
            redis.stop()
    return phase


def compare(sqlite: dict[str, Any], redis: dict[str, Any]) -> list[dict[str, Any]]:
    """Per step of the same run: Redis's throughput as a share of SQLite's, and latencies."""
    rows = []
    for a, b in zip(sqlite["steps"], redis["steps"], strict=True):
        rows.append(
            {
                "step": a["step"],
                "sqlite_rps": a["achieved_rps"],
                "redis_rps": b["achieved_rps"],
                "rps_ratio": round(b["achieved_rps"] / a["achieved_rps"], 2)
                if a["achieved_rps"]
                else None,
                "sqlite_p50_p99_ms": [a["p50_ms"], a["p99_ms"]],
                "redis_p50_p99_ms": [b["p50_ms"], b["p99_ms"]],
                "errors": [a["errors"], b["errors"]],
            }
        )
    return rows


async def lost_orders(data: Path, acked: list[str]) -> dict[str, Any]:
    """Replay the stopped server's journal: every acknowledged order must be in it."""
    from engine.clock import RealClock
    from engine.core import Engine
    from engine.sqlite_journal import JOURNAL_FILE, SqliteJournal

    engine = Engine(SqliteJournal(data / JOURNAL_FILE), RealClock())
    records = engine.recover()
    missing = [o for o in acked if o not in engine.state.orders]
    await engine.close()
    return {
        "records": records,
        "orders_in_journal": len(engine.state.orders),
        "acked": len(acked),
        "lost": len(missing),
        "lost_examples": missing[:5],
    }


async def lost_in_redis(url: str, center: str, acked: list[str]) -> dict[str, Any]:
    """Read the center back from Redis (as `seatflow replay --redis` does): acked orders in it?"""
    from engine.clock import RealClock
    from engine.redis_backend.node import read_center

    engine = await read_center(url, center, RealClock())
    missing = [o for o in acked if o not in engine.state.orders]
    return {
        "records": engine.last_seq,
        "orders_in_journal": len(engine.state.orders),
        "acked": len(acked),
        "lost": len(missing),
        "lost_examples": missing[:5],
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m bench.load.burst",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--seats", type=int, default=400)
    p.add_argument("--steps", default="500,1000,2000,3000,4000,5000")
    p.add_argument("--step-s", type=float, default=10.0)
    p.add_argument("--conns", type=int, default=128)
    p.add_argument("--shift-change-s", type=float, default=60.0)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", type=Path)
    store = p.add_mutually_exclusive_group()
    store.add_argument(
        "--redis",
        action="store_true",
        help="seatflow on a Redis center (a redis-server started here) not SQLite",
    )
    store.add_argument(
        "--both",
        action="store_true",
        help="SQLite, then Redis, in the same run (report: redis_vs_sqlite)",
    )
    p.add_argument(
        "--processes",
        type=int,
        default=1,
        help="server processes on the Redis center, connections round-robin",
    )
    p.add_argument("--no-noop", action="store_true", help="skip the no-op baseline")
    p.add_argument(
        "--data-from",
        type=Path,
        metavar="DIR",
        help="SQLite: start on a copy of this data dir (a prepared archive), not an empty one",
    )
    p.add_argument(
        "--uuid-ids", action="store_true", help="random 32-hex-digit order ids, not b00000001.."
    )
    args = p.parse_args(argv)
    if args.processes != 1 and not (args.redis or args.both):
        p.error("--processes needs --redis or --both (one SQLite data dir has one writer)")
    if args.data_from is not None:
        if args.redis:
            p.error("--data-from is a SQLite data dir: not with --redis")
        if not (args.data_from / "journal.sqlite3").is_file():
            p.error(f"--data-from {args.data_from}: no journal.sqlite3 in it")
    with tempfile.TemporaryDirectory(prefix="seatflow-burst-") as tmp:
        report = asyncio.run(drive(args, Path(tmp)))
    emit(report, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
