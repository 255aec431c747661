"""Owner failover on Redis, measured: SIGKILL the owner again and again under a steady load.

    .venv/bin/python -m bench.failover [--kills 20] [--rate 200] [--settle-s 2]
        [--out bench/results/failover.json]

1. Starts a redis-server (bench/load/redis_proc.py: AOF, appendfsync always) and two
   `seatflow serve --redis URL --center failover` processes (real clock); 40 agents
   logged in.
2. A steady open-loop order load for the whole run: `--rate` new orders a second, half
   to each process over 16 keep-alive connections each (a process that does not own
   the center forwards its orders to the one that does).
3. Each round: the owner (the process whose log has the newest "owner with lease
   <token>:" line; tokens only grow) is SIGKILLed; the failover time is from just
   before the kill to the first 2xx the survivor gives an order sent after the kill.
   The killed process is restarted on its port as the new standby; once it has
   answered a 2xx and the load has run `--settle-s` more, the next round.
4. Stops the load and both processes; per round, what became of the orders sent to
   the survivor around the kill (`survivor_not_acked`: ones the dying owner had taken);
   then reads the center's stream straight from Redis and checks: seqs 1..N with no
   gap, no order received twice, and every order that got a 2xx is in it (lost orders).

The lease is 2 s, renewed every 0.5 s: a killed owner's lease has 1.5-2 s left, which
is most of the failover time; the survivor polls for a free lease every 0.1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import re
import secrets
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis

from bench.load.burst import HOST, Proc, free_port, start_seatflow
from bench.load.client import Conn, HttpError
from bench.load.redis_proc import RedisProc, start_redis
from bench.report import emit
from engine.events import OrderReceived, decode_record
from engine.redis_backend.keys import Keys

CENTER = "failover"
CONNS_PER_PROCESS = 16
REQUEST_TIMEOUT_S = 15.0  # above the 10 s a forwarded command waits for an owner
OWNER_LINE = re.compile(rb"owner with lease (\d+):\S+ at seq \d+ \(took ([\d.]+) s\)")


@dataclass
class Sent:
    port: int
    sent_at: float  # time.perf_counter()
    answered_at: float
    status: int  # 0: no HTTP answer (refused, reset, timed out)
    body: bytes = b""  # kept for answers other than 2xx


@dataclass
class Load:
    """Open loop: each connection sends at its own schedule, whatever the answers."""

    ports: list[int]
    key: str
    rate: float
    answers: list[Sent] = field(default_factory=list)
    acked: list[str] = field(default_factory=list)
    n: int = 0
    t0: float = 0.0  # when it started: times in the report are seconds since then

    async def run(self, stop: asyncio.Event) -> None:
        per_conn = len(self.ports) * CONNS_PER_PROCESS / self.rate  # seconds between sends
        start = self.t0 = time.perf_counter()
        await asyncio.gather(*(
            self._conn(port, start + per_conn * j / CONNS_PER_PROCESS, per_conn, stop)
            for port in self.ports for j in range(CONNS_PER_PROCESS)
        ))  # fmt: skip

    async def _conn(self, port: int, first: float, every: float, stop: asyncio.Event) -> None:
        conn = Conn(HOST, port, self.key)
        rng = random.Random(port * 1000 + int(first * 1e6) % 1000)
        due = first
        while not stop.is_set():
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            due += every
            self.n += 1
            order_id = f"f{self.n:07d}"
            skill = rng.choice(('"en"', '"de"', "null"))
            body = f'{{"id":"{order_id}","skill":{skill},"priority":0}}'.encode()
            sent_at = time.perf_counter()
            try:
                status, answer = await asyncio.wait_for(
                    conn.request("POST", "/v1/orders", body), REQUEST_TIMEOUT_S
                )
            except (OSError, HttpError, asyncio.IncompleteReadError, TimeoutError):
                conn.close()
                status, answer = 0, b""
            kept = answer[:300] if status >= 300 else b""
            self.answers.append(Sent(port, sent_at, time.perf_counter(), status, kept))
            if status in (200, 201):
                self.acked.append(order_id)
        conn.close()

    def first_ok(self, port: int, sent_after: float) -> Sent | None:
        ok = [a for a in self.answers if a.port == port and a.status in (200, 201)
              and a.sent_at >= sent_after]  # fmt: skip
        return min(ok, key=lambda a: a.answered_at, default=None)


@dataclass
class Slot:
    """One of the two server processes, restarted on the same port after each kill."""

    port: int
    work: Path
    admin_key: str
    redis_url: str
    runs: int = 0
    proc: Proc | None = None

    @property
    def log(self) -> Path:
        return self.work / f"seatflow-{self.port}-{self.runs}.log"

    def start(self) -> Slot:
        self.runs += 1
        self.proc = start_seatflow(
            self.work / "data", self.admin_key, self.log, redis_url=self.redis_url,
            center=CENTER, port=self.port,
        )  # fmt: skip
        return self

    def lease(self) -> tuple[int, float]:
        """The newest lease this run took, and how long its promotion took (0, 0: none)."""
        found = OWNER_LINE.findall(self.log.read_bytes()) if self.log.exists() else []
        return max(((int(t), float(s)) for t, s in found), default=(0, 0.0))

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.proc.kill()
        self.proc.proc.wait()


async def call(port: int, key: str, method: str, path: str, body: Any = None) -> Any:
    conn = await Conn(HOST, port, key).open()
    try:
        status, answer = await conn.request(method, path, None if body is None else
                                            json.dumps(body).encode())  # fmt: skip
        if status >= 300:
            raise RuntimeError(f"{method} {path} answered {status}: {answer[:300]!r}")
        return json.loads(answer) if answer else None
    finally:
        conn.close()


async def staff(port: int, admin_key: str) -> str:
    """40 agents logged in; returns a platform key."""
    for i in range(40):
        aid = f"a{i:02d}"
        await call(port, admin_key, "PUT", f"/v1/agents/{aid}", {
            "name": aid, "team": "t", "skills": [["en"], ["de"], ["en", "de"]][i % 3],
            "capacity": 5})  # fmt: skip
        await call(port, admin_key, "POST", f"/v1/agents/{aid}/login")
    created = await call(port, admin_key, "POST", "/v1/keys", {"role": "platform"})
    return str(created["key"])


def owner(slots: list[Slot]) -> Slot:
    token, slot = max(((s.lease()[0], s) for s in slots), key=lambda ts: ts[0])
    if token == 0:
        raise RuntimeError("no process logged 'owner with lease'")
    return slot


async def wait_ok(load: Load, port: int, after: float, deadline_s: float) -> Sent:
    end = time.perf_counter() + deadline_s
    while (got := load.first_ok(port, after)) is None:
        if time.perf_counter() > end:
            raise RuntimeError(f"port {port}: no order acknowledged within {deadline_s} s")
        await asyncio.sleep(0.005)
    return got


async def one_round(
    n: int, slots: list[Slot], load: Load, args: argparse.Namespace
) -> dict[str, Any]:
    victim = owner(slots)
    survivor = next(s for s in slots if s is not victim)
    old_token = victim.lease()[0]
    killed_at = time.perf_counter()
    await asyncio.to_thread(victim.kill9)
    first = await wait_ok(load, survivor.port, killed_at, 30.0)
    token, promote_s = survivor.lease()
    if token <= old_token:
        raise RuntimeError(f"round {n}: the survivor answered but holds no newer lease")
    await asyncio.to_thread(victim.start)  # the new standby, on the same port
    back_at = time.perf_counter()
    await wait_ok(load, victim.port, back_at, 30.0)
    await asyncio.sleep(args.settle_s)
    row = {
        "round": n,
        "killed_at_s": round(killed_at - load.t0, 3),
        "killed_port": victim.port,
        "survivor_port": survivor.port,
        "failover_s": round(first.answered_at - killed_at, 3),
        "promote_s": promote_s,  # the survivor's own log: reading the tail, taking over
        "restart_s": round(back_at - first.answered_at, 3),
        "dead_port_failures": sum(1 for a in load.answers if a.port == victim.port
                                  and a.status == 0 and killed_at <= a.sent_at < back_at),
    }  # fmt: skip
    print(json.dumps(row), file=sys.stderr)
    return row


def during_failover(row: dict[str, Any], load: Load) -> None:
    """What became of the orders sent to the survivor around the kill (once all answered).

    From 0.1 s before the kill to the survivor's first 2xx: how long the acknowledged
    ones waited, and the ones never acknowledged. Those were forwarded and taken by the
    dying owner: their sender waits out the 10 s forward timeout (503), unless it is
    killed itself first, as the survivor is in the next round (no answer, status 0).
    """
    start = load.t0 + row["killed_at_s"] - 0.1
    end = load.t0 + row["killed_at_s"] + row["failover_s"]
    sent = [a for a in load.answers if a.port == row["survivor_port"] and start <= a.sent_at < end]
    acked = [a.answered_at - a.sent_at for a in sent if a.status in (200, 201)]
    row["survivor_acked_waited_max_s"] = round(max(acked, default=0.0), 3)
    row["survivor_not_acked"] = [
        {"status": a.status, "sent_s": round(a.sent_at - load.t0, 3),
         "answered_after_s": round(a.answered_at - a.sent_at, 3)}
        for a in sent if a.status not in (200, 201)
    ]  # fmt: skip


def check_stream(url: str, acked: list[str]) -> dict[str, Any]:
    """The center's stream read raw from Redis: contiguous, nothing doubled, nothing lost."""
    client = redis.Redis.from_url(url)
    key, after, seqs = Keys(CENTER).journal, 0, 0
    received: Counter[str] = Counter()
    gaps = 0
    try:
        while entries := client.xrange(key, min=f"0-{after + 1}", count=10_000):
            for entry_id, fields in entries:
                seq = int(entry_id.decode().partition("-")[2])
                gaps += seq != after + 1
                after, seqs = seq, seqs + 1
                for event in decode_record(fields[b"r"]).events:
                    if isinstance(event, OrderReceived):
                        received[event.order_id] += 1
    finally:
        client.close()
    missing = [o for o in acked if o not in received]
    return {
        "records": seqs, "gaps": gaps, "orders_in_stream": len(received),
        "received_twice": sum(1 for n in received.values() if n > 1),
        "acked": len(acked), "lost": len(missing), "lost_examples": missing[:5],
    }  # fmt: skip


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    p90 = ordered[math.ceil(0.9 * len(ordered)) - 1]  # nearest rank
    return {"n": len(ordered), "min": ordered[0], "median": round(statistics.median(ordered), 3),
            "p90": p90, "max": ordered[-1]}  # fmt: skip


async def drive(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    admin_key = secrets.token_urlsafe(24)
    redis_proc: RedisProc = start_redis(work / "redis")
    slots = [Slot(free_port(), work, admin_key, redis_proc.url) for _ in range(2)]
    stop = asyncio.Event()
    rounds: list[dict[str, Any]] = []
    try:
        for slot in slots:  # the first one started takes the lease
            await asyncio.to_thread(slot.start)
        key = await staff(slots[0].port, admin_key)
        load = Load([s.port for s in slots], key, args.rate)
        running = asyncio.create_task(load.run(stop))
        await asyncio.sleep(args.settle_s)
        for n in range(1, args.kills + 1):
            rounds.append(await one_round(n, slots, load, args))
        stop.set()
        await running
        for row in rounds:
            during_failover(row, load)
    finally:
        stop.set()
        for slot in slots:
            if slot.proc is not None:
                await asyncio.to_thread(slot.proc.stop)
    try:
        check = check_stream(redis_proc.url, load.acked)
    finally:
        redis_proc.stop()
    return {
        "args": vars(args) | {"out": str(args.out), "work": str(args.work)},
        "machine": {"nproc": os.cpu_count(), "python": sys.version.split()[0]},
        "failover_s": summary([r["failover_s"] for r in rounds]),
        "promote_s": summary([r["promote_s"] for r in rounds]),
        "rounds": rounds,
        "load": {"sent": len(load.answers), "acked": len(load.acked),
                 "by_status": dict(Counter(a.status for a in load.answers)),
                 "unexpected": [  # neither a 2xx nor a dead process's silence
                     {"port": a.port, "at_s": round(a.sent_at - load.t0, 3),
                      "took_s": round(a.answered_at - a.sent_at, 3), "status": a.status,
                      "body": a.body.decode(errors="replace")}
                     for a in load.answers if a.status >= 300]},
        "check": check,
    }  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m bench.failover",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--kills", type=int, default=20)
    p.add_argument("--rate", type=float, default=200.0, help="orders/s, split over both")
    p.add_argument("--settle-s", type=float, default=2.0)
    p.add_argument("--out", type=Path, default=Path("bench/results/failover.json"))
    p.add_argument("--work", type=Path, help="keep the servers' logs and Redis's AOF here")
    args = p.parse_args(argv)
    if args.work is not None:
        args.work.mkdir(parents=True, exist_ok=True)
        report = asyncio.run(drive(args, args.work))
    else:
        with tempfile.TemporaryDirectory(prefix="seatflow-failover-") as tmp:
            report = asyncio.run(drive(args, Path(tmp)))
    emit(report, args.out, show=False)
    f = report["failover_s"]
    print(f"failover over {f['n']} kills: min {f['min']:.3f} s, median {f['median']:.3f} s, "
          f"p90 {f['p90']:.3f} s, max {f['max']:.3f} s; lost {report['check']['lost']} of "
          f"{report['check']['acked']} acknowledged, received twice "
          f"{report['check']['received_twice']}, gaps {report['check']['gaps']}")  # fmt: skip
    check = report["check"]
    return 0 if check["lost"] == check["gaps"] == check["received_twice"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
