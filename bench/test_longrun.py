"""A few tiny days of the long run (bench/longrun.py), outside the default test run:

    PYTHONPATH=. .venv/bin/pytest bench/test_longrun.py -q

The simulated center crosses a month end with retention 1: orders in memory stay
bounded by the window while the archive takes the rest, January closes, late QA results
reach archived January orders and show in February as adjustments, and start-up from
what the bench's Checkpointer left rebuilds exactly the live state.
"""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

from bench.longrun import open_center, simulate, sizes_of, start
from bench.longrun_center import Shape
from engine import checkpoint_files
from engine.checkpoint_files import Checkpointer, CheckpointFiles
from engine.clock import ManualClock
from engine.core import Engine
from engine.fingerprint import digest
from engine.payroll.report import payroll_report
from engine.sqlite_journal import SqliteJournal

ORDERS_PER_DAY = 1500
SHAPE = Shape(seats=10, orders_per_day=ORDERS_PER_DAY, retention_days=1, late_qa=20,
              late_qa_days=(2, 2))  # fmt: skip


def test_four_days_across_a_month_end(tmp_path: Path) -> None:
    live, orders = asyncio.run(_four_days(tmp_path))
    # What the bench measures at start-up is the live state: the newest checkpoint the
    # Checkpointer wrote, then the journal after it.
    got = start(tmp_path, full=False)
    assert got["checkpoint_seq"] > 0 and got["orders"] == orders
    again = Engine(SqliteJournal.in_dir(tmp_path), ManualClock(0))
    checkpoint_files.recover(again, CheckpointFiles(tmp_path))
    assert digest(again.state) == live
    asyncio.run(again.close())


async def _four_days(tmp_path: Path) -> tuple[str, int]:
    center = await open_center(tmp_path, SHAPE, date(2026, 1, 29), grace_s=0.0)
    engine = center.engine
    assert isinstance(engine.clock, ManualClock)
    keeper = Checkpointer(engine, CheckpointFiles(tmp_path), 0, every_records=2000)
    in_memory: list[int] = []

    async def day_end(day: int, _: date) -> None:
        in_memory.append(sizes_of(engine)["orders"])

    await simulate(center, engine.clock, keeper, 4, day_end)
    keeper.reap(wait=True)
    state, tally = engine.state, center.tally
    assert tally.refused == 0 and tally.completions > 3 * ORDERS_PER_DAY
    # A day's orders and the window's (1 day) at most, however many days went by.
    assert max(in_memory) <= 2 * ORDERS_PER_DAY + 10, in_memory
    assert state.counters.archived >= 2 * ORDERS_PER_DAY - 10
    assert state.counters.archived + len(state.orders) == tally.orders
    assert list(state.closed_months) == ["2026-01"] and "2026-01" in center.closes
    # Feb 1, noon: QA results on orders of Jan 30, archived, their month closed.
    assert tally.late_qa_archived >= 15
    february = payroll_report(state, "2026-02", engine.now())
    late = [a for r in february.agents for a in r.adjustments]
    assert {a.month for a in late} == {"2026-01"}
    # Feb 1's late batch at least, and QA half an hour after Jan 31's last completions.
    assert SHAPE.late_qa <= sum(a.orders for a in late) <= SHAPE.late_qa + tally.qa - tally.late_qa
    live = digest(state)
    await engine.close()
    return live, len(state.orders)
