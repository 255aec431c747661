"""Replay of a 1,000,000-event journal (a simulated day and more of a 400-seat center).

The journal is generated once per session (bench.day; set SEATFLOW_BENCH_CACHE to
keep it between runs) and is not what is measured. `Engine.recover()` on a fresh
engine over the SqliteJournal is; each round must rebuild exactly the state the
generating engine had. The split benchmarks (read, decode, fold) say where the
time goes.
"""

from __future__ import annotations

import asyncio
import gc
from typing import Any

import pytest

from bench.day import DayJournal
from engine.clock import ManualClock
from engine.core import Engine
from engine.events import Record, decode_record
from engine.fingerprint import digest
from engine.sqlite_journal import SqliteJournal
from engine.state import State, apply_record

ROUNDS = 3


def _open(day: DayJournal) -> Engine:
    return Engine(SqliteJournal.in_dir(day.path), ManualClock(0))


def _close(engine: Engine) -> None:
    asyncio.run(engine.close())


def check_day(day: DayJournal) -> None:
    s = day.stats
    assert s.events >= 1_000_000 and s.sim_hours >= 24
    for kind in ("AgentLoggedOut", "OrderQueued", "OrderReleased", "LogoutRequested"):
        assert s.by_type[kind] > 0, kind


@pytest.mark.benchmark(group="replay: 1M events, Engine.recover() from SqliteJournal")
@pytest.mark.parametrize("collector", ["gc-on", "gc-off"])
def test_recover(benchmark: Any, day_journal: DayJournal, collector: str):
    """gc-on is recover as it is; gc-off measures what pausing Python's cyclic garbage
    collector during recover (a possible core change) would save."""
    check_day(day_journal)

    def setup() -> tuple[tuple[Engine], dict[str, Any]]:
        gc.collect()
        if collector == "gc-off":
            gc.disable()
        return (_open(day_journal),), {}

    def teardown(engine: Engine) -> None:
        gc.enable()
        assert digest(engine.state) == day_journal.stats.digest
        _close(engine)

    n = benchmark.pedantic(
        Engine.recover, setup=setup, teardown=teardown, rounds=ROUNDS, warmup_rounds=1
    )
    assert n == day_journal.stats.records
    benchmark.extra_info.update(
        {
            "records": day_journal.stats.records,
            "events": day_journal.stats.events,
            "sim_hours": round(day_journal.stats.sim_hours, 1),
            "events_per_s": round(day_journal.stats.events / benchmark.stats.stats.median),
        }
    )


@pytest.fixture(scope="module")
def raw_records(day_journal: DayJournal) -> list[bytes]:
    engine = _open(day_journal)
    try:
        return [data for _, data in engine.journal.replay()]
    finally:
        _close(engine)


@pytest.mark.benchmark(group="replay split: SQLite read, msgpack decode, fold (apply)")
def test_split_read(benchmark: Any, day_journal: DayJournal):
    def read(engine: Engine) -> int:
        return sum(1 for _ in engine.journal.replay())

    n = benchmark.pedantic(
        read,
        setup=lambda: ((_open(day_journal),), {}),
        teardown=_close,
        rounds=ROUNDS,
        warmup_rounds=1,
    )
    assert n == day_journal.stats.records


@pytest.mark.benchmark(group="replay split: SQLite read, msgpack decode, fold (apply)")
def test_split_decode(benchmark: Any, raw_records: list[bytes], day_journal: DayJournal):
    """Decode every record and drop it (as recover does: nothing decoded is kept)."""

    def decode_all() -> int:
        events = 0
        for data in raw_records:
            events += len(decode_record(data).events)
        return events

    assert benchmark.pedantic(decode_all, rounds=ROUNDS, warmup_rounds=1) == (
        day_journal.stats.events
    )


@pytest.mark.benchmark(group="replay split: SQLite read, msgpack decode, fold (apply)")
def test_split_fold(benchmark: Any, raw_records: list[bytes], day_journal: DayJournal):
    """apply_record over records decoded beforehand, into a fresh State."""
    records: list[Record] = [decode_record(data) for data in raw_records]

    def fold(state: State) -> State:
        for record in records:
            apply_record(state, record)
        return state

    def setup() -> tuple[tuple[State], dict[str, Any]]:
        gc.collect()
        return (State(),), {}

    state = benchmark.pedantic(fold, setup=setup, rounds=ROUNDS, warmup_rounds=1)
    assert digest(state) == day_journal.stats.digest
