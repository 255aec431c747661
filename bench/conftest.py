"""Fixtures shared by the benchmarks: loaded floors of N agents and the day's journal.

Run: `.venv/bin/pytest bench/ --benchmark-only` (add `--benchmark-json=FILE` to keep
the numbers; `python -m bench.report FILE` prints the tables of RESULTS.md).
Set SEATFLOW_BENCH_CACHE=DIR to keep the generated 1M-event journal between runs.
"""

from __future__ import annotations

import asyncio
import os
import platform
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bench.day import DayJournal, ensure_day_journal
from bench.floor import Floor, build_floor


async def _build(n: int) -> Floor:
    return build_floor(n)


@pytest.fixture(scope="session")
def floor_of() -> Callable[[int], Floor]:
    """A floor of N agents, built once per session per N (benchmarks keep it steady)."""
    floors: dict[int, Floor] = {}

    def get(n: int) -> Floor:
        if n not in floors:
            try:
                asyncio.get_running_loop()
            except RuntimeError:  # a plain test: give the build a loop of its own
                floors[n] = asyncio.run(_build(n))
            else:  # an async test: build_floor runs in its loop
                floors[n] = build_floor(n)
        return floors[n]

    return get


@pytest.fixture(scope="session")
def day_journal(tmp_path_factory: pytest.TempPathFactory) -> DayJournal:
    cache = os.environ.get("SEATFLOW_BENCH_CACHE")
    path = Path(cache) if cache else tmp_path_factory.mktemp("day")
    path.mkdir(parents=True, exist_ok=True)
    return ensure_day_journal(path)


def pytest_benchmark_update_machine_info(config: Any, machine_info: dict[str, Any]) -> None:
    mem_kb = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    machine_info["nproc"] = os.cpu_count()
    machine_info["mem_total_gib"] = round(mem_kb / 2**20, 1)
    machine_info["python"] = platform.python_version()
