"""Group commit on the real SqliteJournal (WAL, synchronous=FULL) in a tmp dir on this disk.

Baselines from the same run: one raw write+fsync of a plain file, and one durable
append awaited alone. Then 1, 10, 100 and 1000 concurrent appenders (asyncio
tasks, each appending a ~150-byte record and awaiting it, again and again);
records/s and commits (fsyncs)/s go to extra_info and RESULTS.md.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from statistics import median
from typing import Any

import pytest

from engine import events as ev
from engine.sqlite_journal import SqliteJournal

# (appenders, appends each per round): about 2,000 records a round past 10 appenders
CONCURRENCY = ((1, 100), (10, 200), (100, 20), (1000, 2))
RECORD = ev.encode_record(
    ev.Record(
        1_795_420_800_000,
        [
            ev.OrderReceived(
                "o00012345",
                "pre",
                0,
                bytes(range(16)),
                b'{"channel":"chat","customer":"c0012345","shop":"s042"}',
            ),
            ev.OrderAssigned("o00012345", "a00123"),
        ],
    )
)


@pytest.mark.benchmark(group="journal: baselines (one durable write)")
def test_raw_fsync(benchmark: Any, tmp_path: Path):
    """The disk's floor: write 150 bytes to a plain file and fsync it."""
    fd = os.open(tmp_path / "raw", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:

        def write_sync() -> None:
            os.write(fd, RECORD)
            os.fsync(fd)

        benchmark.pedantic(write_sync, rounds=300, warmup_rounds=20)
    finally:
        os.close(fd)
    assert (tmp_path / "raw").stat().st_size == 320 * len(RECORD) == 320 * 147


@pytest.mark.benchmark(group="journal: baselines (one durable write)")
def test_single_append_latency(benchmark: Any, tmp_path: Path):
    """One append awaited alone: one transaction, one WAL fsync."""
    seqs: list[int] = []
    with asyncio.Runner() as runner:
        journal = SqliteJournal.in_dir(tmp_path)

        async def append_one() -> None:
            seqs.append(await journal.append(RECORD))

        def setup() -> tuple[tuple[Any], dict[str, Any]]:
            return (append_one(),), {}

        try:
            benchmark.pedantic(runner.run, setup=setup, rounds=300, warmup_rounds=20)
        finally:
            runner.run(journal.close())
    assert seqs == list(range(1, 321))
    assert journal.commits == 320


@pytest.mark.benchmark(group="journal: group commit, concurrent appenders")
@pytest.mark.parametrize(("appenders", "each"), CONCURRENCY, ids=lambda v: str(v))
def test_group_commit(benchmark: Any, tmp_path: Path, appenders: int, each: int):
    per_round = appenders * each
    commits: list[int] = []
    seqs: list[int] = []
    with asyncio.Runner() as runner:
        journal = SqliteJournal.in_dir(tmp_path)

        async def appender() -> None:
            for _ in range(each):
                seqs.append(await journal.append(RECORD))

        async def burst() -> None:
            await asyncio.gather(*(appender() for _ in range(appenders)))

        def setup() -> tuple[tuple[Any], dict[str, Any]]:
            commits.append(journal.commits)
            return (burst(),), {}

        def teardown(_: Any) -> None:
            commits[-1] = journal.commits - commits[-1]

        try:
            benchmark.pedantic(
                runner.run, setup=setup, teardown=teardown, rounds=15, warmup_rounds=2
            )
        finally:
            runner.run(journal.close())
    assert sorted(seqs) == list(range(1, 17 * per_round + 1))
    t = benchmark.stats.stats.median
    per_commit = per_round / median(commits)
    benchmark.extra_info.update(
        {
            "records_per_round": per_round,
            "commits_per_round_median": median(commits),
            "records_per_commit": round(per_commit, 1),
            "records_per_s": round(per_round / t),
            "commits_per_s": round(median(commits) / t),
        }
    )
    if appenders >= 10:
        assert per_commit > 1, "concurrent appends must share commits"
