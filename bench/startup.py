"""Start-up with and without a checkpoint, on a real SQLite journal (bench/RESULTS.md).

    .venv/bin/python -m bench.startup --orders 300000 --data /tmp/sf-startup

Builds a journal through the real engine (400 agents; orders submitted 100 to a
batch and completed, each completion its own command and record, group-committed),
then times, each `--repeat` times (medians quoted): a full replay; writing a
checkpoint (encode + durable write, what the forked child does); and start-up from
the checkpoint with an empty tail and with `--tail` more records after it.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import shutil
import statistics
import time
from pathlib import Path

from engine import checkpoint_files
from engine import commands as cmd
from engine.checkpoint import encode
from engine.checkpoint_files import CheckpointFiles
from engine.clock import ManualClock
from engine.core import Engine
from engine.events import ShiftSpec
from engine.sqlite_journal import SqliteJournal
from presence.timeutil import parse_time

T0 = parse_time("2026-11-23T00:00:00Z")


async def build(data: Path, orders: int, agents: int, first: int = 0) -> int:
    engine = Engine(SqliteJournal.in_dir(data), ManualClock(T0))
    engine.recover()
    if first == 0:
        for i in range(agents):
            await engine.execute(cmd.UpsertAgent(f"a{i:03d}", f"A{i}", f"t{i % 8}", [], 50))
        shifts = [ShiftSpec(f"a{i:03d}", T0, T0 + 24 * 3_600_000) for i in range(agents)]
        await engine.execute(cmd.AddShifts(shifts))
        for i in range(agents):
            await engine.execute(cmd.Login(f"a{i:03d}"))
    for start in range(first, first + orders, 100):
        ids = [f"o{n}" for n in range(start, min(start + 100, first + orders))]
        digest = hashlib.sha256(b"x").digest()[:16]
        await engine.execute(cmd.SubmitOrders([cmd.NewOrder(i, None, 0, digest) for i in ids]))
        await asyncio.gather(*(engine.execute(cmd.CompleteOrder(i)) for i in ids))
    seq = engine.last_seq
    await engine.close()
    return seq


def full_replay(data: Path) -> float:
    engine = Engine(SqliteJournal.in_dir(data), ManualClock(0))
    t = time.perf_counter()
    engine.recover()
    took = time.perf_counter() - t
    asyncio.run(engine.close())
    return took


def write_checkpoint(data: Path) -> tuple[float, int]:
    journal = SqliteJournal.in_dir(data)
    engine = Engine(journal, ManualClock(0))
    engine.recover()
    record = journal.record(engine.last_seq)
    assert record is not None
    t = time.perf_counter()
    blob = encode(engine.state, engine.last_seq, record)
    CheckpointFiles(data).write(blob, engine.last_seq)
    took = time.perf_counter() - t
    asyncio.run(engine.close())
    return took, len(blob)


def from_checkpoint(data: Path) -> tuple[float, int]:
    engine = Engine(SqliteJournal.in_dir(data), ManualClock(0))
    _, replayed, took = checkpoint_files.recover(engine, CheckpointFiles(data))
    asyncio.run(engine.close())
    return took, replayed


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--orders", type=int, default=300_000)
    p.add_argument("--agents", type=int, default=400)
    p.add_argument("--tail", type=int, default=25_000, help="orders after the checkpoint")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--data", type=Path, default=Path("/tmp/sf-startup"))
    args = p.parse_args()
    shutil.rmtree(args.data, ignore_errors=True)
    t = time.perf_counter()
    seq = asyncio.run(build(args.data, args.orders, args.agents))
    print(f"journal: {seq} records ({args.orders} orders) built in {time.perf_counter() - t:.0f} s")
    med = statistics.median
    full = med(full_replay(args.data) for _ in range(args.repeat))
    writes = [write_checkpoint(args.data) for _ in range(args.repeat)]
    print(f"full replay            {full:7.3f} s")
    print(
        f"checkpoint write       {med(w for w, _ in writes):7.3f} s  ({writes[0][1] / 1e6:.1f} MB)"
    )
    empty = med(from_checkpoint(args.data)[0] for _ in range(args.repeat))
    print(f"from checkpoint, tail 0 {empty:6.3f} s  ({full / empty:.1f}x faster than full)")
    tail_seq = asyncio.run(build(args.data, args.tail, args.agents, first=args.orders))
    runs = [from_checkpoint(args.data) for _ in range(args.repeat)]
    full_tail = med(full_replay(args.data) for _ in range(args.repeat))
    print(
        f"from checkpoint, tail {runs[0][1]} records {med(r for r, _ in runs):.3f} s; "
        f"full replay of all {tail_seq} records {full_tail:.3f} s"
    )


if __name__ == "__main__":
    main()
