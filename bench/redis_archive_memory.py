"""Redis memory over a run long past the retention window (issue 12, "used_memory flat").

The long run's center (bench.longrun_center: 1,200 agents on three shifts, orders along
the day's curve, late QA results on archived orders) runs through a real `RedisNode`
owning the center on a real redis-server, on a manual clock, with `--segments DIR` as
`seatflow serve --redis URL --segments DIR` runs it: a snapshot every 50,000 records,
the stream trimmed behind it. At the end of each simulated day it prints Redis's
`used_memory`, the archive hash's HLEN, the stream's XLEN and the order archive file's
size, one JSON line per day.

    PYTHONPATH=. python -m bench.redis_archive_memory --days 8 --orders-per-day 30000

The same script runs against older code (it needs only RedisNode and the long run's
center): `cd /path/to/old && PYTHONPATH=/path/to/old python /path/to/this/file ...`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any, cast

import redis

from bench.load.redis_proc import start_redis
from bench.longrun_center import HOUR, MIN, TIMEZONE, Center, Shape
from engine.calendar import date_start
from engine.clock import ManualClock
from engine.redis_backend.keys import Keys
from engine.redis_backend.node import RedisNode, Role


def redis_figures(client: redis.Redis, keys: Keys) -> dict[str, Any]:
    info: Any = client.info("memory")
    return {
        "used_memory_mb": round(int(info["used_memory"]) / 2**20, 2),
        "archive_hlen": int(client.hlen(keys.archive)),  # type: ignore[arg-type]
        "stream_xlen": int(client.xlen(keys.journal)),  # type: ignore[arg-type]
        "snapshot_mb": round(int(client.memory_usage(keys.snapshot) or 0) / 2**20, 2),  # type: ignore[arg-type]
        "archive_hash_mb": round(int(client.memory_usage(keys.archive, samples=0) or 0) / 2**20, 2),  # type: ignore[arg-type]
    }


async def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    root: Path = args.data
    shutil.rmtree(root, ignore_errors=True)
    server = start_redis(root / "redis", appendfsync=args.appendfsync)
    segs = root / "segments"
    first = date.fromisoformat(args.start)
    begin = date_start(first, TIMEZONE) - 3 * HOUR
    clock = ManualClock(begin)
    keys = Keys("bench")
    node = RedisNode(
        server.url, keys.center, clock, node="bench", start_ms=begin, segments_dir=segs
    )
    sync = redis.Redis.from_url(server.url)
    rows: list[dict[str, Any]] = []
    try:
        await node.start()
        while node.role is not Role.OWNER:
            await asyncio.sleep(0.05)
        shape = Shape(orders_per_day=args.orders_per_day, retention_days=args.retention)
        center = Center(cast(Any, node), shape, first)
        await center.setup()
        center.plan_day()
        t = time.perf_counter()
        for d in range(args.days):
            today = first + timedelta(days=d)
            center.plan_day()
            center.plan_late_qa(today)
            start = date_start(today, TIMEZONE)
            end = date_start(today + timedelta(days=1), TIMEZONE)
            for now in range(start + MIN, end + 1, MIN):
                clock.set(now)
                await center.minute(now, today)
            center.end_of_day(today)
            await asyncio.sleep(1.0)  # the supervisor's turn: a snapshot child, a trim
            disk = segs / "orders.sqlite3"
            row = {"day": d + 1, "archived": node.state.counters.archived}
            row |= redis_figures(sync, keys)
            row |= {"records": node.engine.last_seq, "refused": center.tally.refused}
            row |= {"late_qa_archived": center.tally.late_qa_archived}
            row |= {"orders_file_mb": round(disk.stat().st_size / 2**20, 2) if disk.exists() else 0}
            row |= {"wall_s": round(time.perf_counter() - t, 1)}
            rows.append(row)
            print(json.dumps(row), flush=True)
            t = time.perf_counter()
    finally:
        await node.close()
        sync.close()
        server.stop()
    return rows


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench.redis_archive_memory")
    p.add_argument("--days", type=int, default=8)
    p.add_argument("--orders-per-day", type=int, default=30_000)
    p.add_argument("--retention", type=int, default=2, help="order_retention_days")
    p.add_argument("--start", default="2026-01-01", help="the first local day (Asia/Shanghai)")
    p.add_argument("--appendfsync", default="everysec", help="the AOF setting (memory: no matter)")
    p.add_argument("--data", type=Path, default=Path("/tmp/sf-redis-archive"))
    p.add_argument("--out", type=Path, help="where the days' rows go (JSON)")
    args = p.parse_args()
    rows = asyncio.run(run(args))
    if args.out is not None:
        args.out.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
