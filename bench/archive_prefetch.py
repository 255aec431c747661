"""What a Redis owner's archive read ahead of each intake command costs, and batched.

    .venv/bin/python -m bench.archive_prefetch [--tasks 128] [--ids 40000] [--repeat 3]

A Redis owner reads the archive rows of the order ids a command names before running it
(engine/redis_backend/node.py `_prefetch`): for every new order one HMGET of the archive
hash, through the server's client (engine.redis_backend.config.connect: a blocking pool
of 50 connections, a 2 s timeout, one retry). This times that pattern against a
redis-server started here (bench/load/redis_proc.py), with `--tasks` concurrent callers
as the HTTP server has in flight, each asking for one new id at a time:

- per command: each caller its own HMGET (what the owner does now);
- per turn: the callers' ids collected in one event-loop turn and read by one HMGET,
  each caller woken with its answer (the way the journal batches its APPENDs);
- owner: the owner's own code for it (engine.redis_backend.prefetch.ArchivePrefetch,
  `wanted`, `hold` then `release` around each caller's SubmitOrders), the per-turn pattern
  plus its queueing, ordering and holding of rows. The archived-ids filter is saturated
  here (every bit set: every id may be archived), so every id is read: the worst case,
  a center whose filter no longer rules anything out. With a filter that rules an id out
  nothing is read at all.

Reported: this process's CPU and the redis-server's per id looked up, and ids per
HMGET, medians of `--repeat` rounds. More callers than the pool has connections (the
HTTP server's 128 in flight against 50) can starve a caller past the pool's 2 s wait:
that round then reports the error the owner would answer 503 with.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from redis.exceptions import RedisError

from bench.load.burst import cpu_s
from bench.load.redis_proc import start_redis
from bench.report import emit
from engine.archived_ids import SIZE as ids_size
from engine.clock import ManualClock
from engine.commands import NewOrder, SubmitOrders
from engine.core import Engine
from engine.journal import MemoryJournal
from engine.redis_backend.config import connect
from engine.redis_backend.prefetch import ArchivePrefetch

KEY = "bench:archive"


class TurnBatcher:
    """Ids asked for in one loop turn, read by one HMGET."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.waiting: list[tuple[str, asyncio.Future[bytes | None]]] = []
        self.calls = 0

    def get(self, order_id: str) -> asyncio.Future[bytes | None]:
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[bytes | None] = loop.create_future()
        if not self.waiting:
            loop.call_soon(lambda: loop.create_task(self._read()))
        self.waiting.append((order_id, fut))
        return fut

    async def _read(self) -> None:
        batch, self.waiting = self.waiting, []
        self.calls += 1
        found = await self.client.hmget(KEY, [i for i, _ in batch])
        for (_, fut), data in zip(batch, found, strict=True):
            fut.set_result(data)


async def one_round(url: str, mode: str, tasks: int, ids: int, redis_pid: int) -> dict[str, Any]:
    client, blocking = connect(url)
    batcher = TurnBatcher(client)
    owner = ArchivePrefetch(client, KEY)
    engine = Engine(MemoryJournal(), ManualClock(0))
    engine.state.archived_ids.load(b"\xff" * ids_size)  # saturated: every id is read
    per_task = ids // tasks
    calls = done = 0

    async def caller(t: int) -> None:
        nonlocal calls, done
        for k in range(per_task):
            order_id = f"{t:04d}-{k:09d}"  # never archived: a new order's miss
            if mode == "per-command":
                calls += 1
                await client.hmget(KEY, [order_id])
            elif mode == "owner":
                command = SubmitOrders([NewOrder(order_id, "pre", 0, b"")])
                wanted = owner.wanted(engine, command) or []
                owner.release(engine, await owner.hold(engine, wanted))
            else:
                await batcher.get(order_id)
            done += 1

    try:
        await client.hset(KEY, "archived-1", b"x")  # the hash exists, as on a real center
        cpu0, redis0, wall0 = time.process_time(), cpu_s(redis_pid), time.perf_counter()
        try:
            await asyncio.gather(*(caller(t) for t in range(tasks)))
        except RedisError as exc:
            return {"error": f"{type(exc).__name__}: {exc} after {done} of {ids} ids"}
        wall = time.perf_counter() - wall0
        n = per_task * tasks
        hmgets = {"per-command": calls, "owner": owner.reads}.get(mode, batcher.calls)
        return {
            "client_cpu_us_per_id": (time.process_time() - cpu0) / n * 1e6,
            "redis_cpu_us_per_id": (cpu_s(redis_pid) - redis0) / n * 1e6,
            "ids_per_s": n / wall,
            "ids_per_hmget": n / hmgets,
        }
    finally:
        await client.aclose()
        await blocking.aclose()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m bench.archive_prefetch",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--tasks", type=int, default=48, help="concurrent callers")
    p.add_argument("--ids", type=int, default=40_000)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--out", type=Path)
    args = p.parse_args(argv)
    report: dict[str, Any] = {"args": {k: str(v) for k, v in vars(args).items()}}
    with tempfile.TemporaryDirectory(prefix="seatflow-prefetch-") as tmp:
        redis = start_redis(Path(tmp) / "redis")
        try:
            rounds: dict[str, list[dict[str, Any]]] = {
                "per-command": [],
                "per-turn": [],
                "owner": [],
            }
            for _ in range(args.repeat):  # alternating, so both see the same machine
                for mode, results in rounds.items():
                    results.append(
                        asyncio.run(one_round(redis.url, mode, args.tasks, args.ids, redis.pid))
                    )
        finally:
            redis.stop()
    for mode, results in rounds.items():
        ok = [r for r in results if "error" not in r]
        medians = {k: round(statistics.median(r[k] for r in ok), 1) for k in ok[0]} if ok else {}
        report[mode] = medians
        report[mode]["errors"] = [r["error"] for r in results if "error" in r]
    emit(report, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
