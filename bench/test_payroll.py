"""Payroll benchmarks: a month of a 400-seat center, about 1,000,000 completed orders.

The month's journal is written by `month_journal` (below): 1,200 agents in three
8-hour shifts (400 seats), every day of November 2026, each agent completing about
28 orders a shift, one order after the other (the completion of one order and the
arrival and assignment of the next share a record, as on the floor); logins and
logouts at shift edges; 2% of orders QA-checked. It is folded by the real
`Engine.recover()`, and then measured:

- the monthly report (`payroll_report`, JSON-encoded) from the live engine's state;
- `seatflow payroll 2026-11 --format csv` on the journal (a subprocess: replay + report);
- the payout kernel over 1,000,000 agents vs the plain-Python reference (ratio).

Run: `.venv/bin/pytest bench/test_payroll.py --benchmark-only -s`
(SEATFLOW_BENCH_CACHE=DIR keeps the generated journal between runs.)
"""

from __future__ import annotations

import asyncio
import os
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
import pytest

from bench.day import _write
from engine import events as ev
from engine.clock import ManualClock
from engine.core import Engine
from engine.payroll.kernel import reference, tier_counts, warm
from engine.payroll.report import payroll_report
from engine.sqlite_journal import JOURNAL_FILE, SqliteJournal
from presence.timeutil import parse_time

SEATS = 400
AGENTS = 3 * SEATS
DAYS = 30
ORDERS_PER_SHIFT = 28  # 1,200 agents x 30 days x 28 = 1,008,000 orders
MONTH_START = parse_time("2026-10-31T16:00:00Z")  # 2026-11-01 00:00 Asia/Shanghai
HOUR = 3_600_000
SCHEME = ev.PayrollSchemeSet("2026-11", "CNY", (600, 750), (100, 120, 140))
SEATFLOW = str(Path(sys.executable).parent / "seatflow")


def _records(seed: int = 20261101) -> list[tuple[int, list[Any]]]:
    rng = random.Random(seed)
    ids = [f"a{i:04d}" for i in range(AGENTS)]
    out: list[tuple[int, list[Any]]] = [
        (MONTH_START - HOUR, [ev.AgentUpserted(a, f"Agent {a}", f"team{i % 20:02d}", ("pre",), 5)
                              for i, a in enumerate(ids)] + [SCHEME]),
    ]  # fmt: skip
    shifts = [
        ev.ShiftSpec(a, start, start + 8 * HOUR)
        for d in range(DAYS)
        for i, a in enumerate(ids)
        for start in [MONTH_START + d * 24 * HOUR + (i % 3) * 8 * HOUR]
    ]
    out.append((MONTH_START - HOUR + 1, [ev.ShiftsAdded(tuple(shifts))]))
    n = 0
    for s in shifts:
        login = s.start + rng.randrange(-5, 10) * 60_000
        out.append((login, [ev.AgentLoggedIn(s.agent_id)]))
        step = (s.end - login) // (ORDERS_PER_SHIFT + 1)
        previous = None
        for k in range(ORDERS_PER_SHIFT):
            when = login + 1000 + k * step
            oid = f"o{n:07d}"
            n += 1
            events: list[Any] = []
            if previous is not None:
                events.append(ev.OrderCompleted(previous, s.agent_id))
            events += [ev.OrderReceived(oid, "pre", 0, n.to_bytes(16, "big")),
                       ev.OrderAssigned(oid, s.agent_id)]  # fmt: skip
            out.append((when, events))
            previous = oid
        end = s.end - rng.randrange(0, 5) * 60_000
        done: list[Any] = [ev.OrderCompleted(previous or "", s.agent_id)]
        if rng.random() < 0.02:
            done.append(ev.QaRecorded(previous or "", rng.random() < 0.9, "qa"))
        out.append((end - 1000, done))
        out.append((end, [ev.AgentLoggedOut(s.agent_id, "self")]))
    out.sort(key=lambda r: r[0])
    return out


def _ensure_month(path: Path) -> Path:
    marker = path / "month.v1"
    if marker.exists() and (path / JOURNAL_FILE).exists():
        return path
    for name in (JOURNAL_FILE, JOURNAL_FILE + "-wal", JOURNAL_FILE + "-shm"):
        (path / name).unlink(missing_ok=True)
    enc = msgspec.msgpack.Encoder()
    records = [enc.encode(ev.Record(at, events)) for at, events in _records()]
    asyncio.run(_write(path, records))
    marker.write_text(f"{len(records)} records\n")
    return path


@pytest.fixture(scope="module")
def month_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cache = os.environ.get("SEATFLOW_BENCH_CACHE")
    path = Path(cache) / "month" if cache else tmp_path_factory.mktemp("month")
    path.mkdir(parents=True, exist_ok=True)
    return _ensure_month(path)


@pytest.fixture(scope="module")
def live(month_dir: Path) -> Engine:
    engine = Engine(SqliteJournal(month_dir / JOURNAL_FILE), ManualClock(0))
    started = time.perf_counter()
    engine.recover()
    print(f"\nrecovered the month in {time.perf_counter() - started:.1f} s, "
          f"{engine.state.counters.completed} completed orders")  # fmt: skip
    warm()
    return engine


def test_monthly_report_live(benchmark: Any, live: Engine) -> None:
    state = live.state
    report = benchmark(lambda: msgspec.json.encode(payroll_report(state, "2026-11", state.now)))
    body = msgspec.json.decode(report)
    assert len(body["agents"]) == AGENTS
    assert body["totals"]["completed"] == AGENTS * DAYS * ORDERS_PER_SHIFT


def test_cli_payroll_from_the_journal(benchmark: Any, month_dir: Path) -> None:
    def run() -> str:
        done = subprocess.run(
            [SEATFLOW, "payroll", "2026-11", "--data", str(month_dir), "--format", "csv"],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        return done.stdout

    out = benchmark.pedantic(run, rounds=2, iterations=1)
    assert out.count("\n") == AGENTS + 1


N = 1_000_000
THRESHOLDS, RATES = (2000, 2500), (100, 120, 140)


@pytest.fixture(scope="module")
def counts() -> np.ndarray:
    return np.random.default_rng(7).integers(0, 4000, N, dtype=np.int64)


def test_kernel_1m_agents(benchmark: Any, counts: np.ndarray) -> None:
    warm()
    tiers, payouts = benchmark(tier_counts, counts, THRESHOLDS, RATES)
    assert int(payouts.sum()) > 0


def test_reference_1m_agents(benchmark: Any, counts: np.ndarray) -> None:
    as_list = counts.tolist()
    tiers, payouts = benchmark.pedantic(
        reference, args=(as_list, THRESHOLDS, RATES), rounds=2, iterations=1
    )
    assert payouts == tier_counts(counts, THRESHOLDS, RATES)[1].tolist()
