"""Retention (issue 12): completed orders past `order_retention_days` leave memory for the
archive, and nothing a user sees changes because of it: the order still reads (archived),
its id stays taken, a late QA result counts as it would have, and replay agrees."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from engine import commands as cmd
from engine.archive import SWEEP_LIMIT
from engine.checkpoint import decode, encode
from engine.clock import ManualClock
from engine.core import Engine
from engine.errors import Conflict
from engine.events import OrdersArchived, decode_record
from engine.fingerprint import fingerprint
from engine.payroll.report import payroll_report, utilization_report
from engine.sqlite_journal import SqliteJournal
from engine.views import order_view
from presence.timeutil import parse_time

T0 = parse_time("2026-11-23T00:00:00Z")  # a Monday, as in tests/conftest.py


def at(hhmm: str, day: int = 0) -> int:
    h, m = hhmm.split(":")
    return T0 + ((day * 24 + int(h)) * 60 + int(m)) * 60_000


async def _floor(center: Any, retention_days: int = 2) -> None:
    s = center.state.settings
    await center.run(
        cmd.ChangeSettings(
            *dataclasses.astuple(
                dataclasses.replace(s, timezone="UTC", order_retention_days=retention_days)
            )
        )
    )
    await center.agent("a1", capacity=3)
    await center.agent("a2", capacity=3)
    await center.shifts(
        *((a, at("00:00", d), at("00:00", d + 1)) for a in ("a1", "a2") for d in range(12))
    )
    await center.run(cmd.SetPayrollScheme("2026-11", "CNY", [3], [100, 150]))
    await center.goto(at("09:00"))
    await center.login("a1", "a2")


async def _day_of_work(center: Any, day: int, n: int = 6) -> list[str]:
    """n orders on `day`, each answered and completed an hour after it came."""
    ids = []
    for i in range(n):
        await center.goto(at("09:00", day) + i * 10 * 60_000)
        order_id = f"d{day}-{i}"
        await center.order(order_id)
        await center.responded(order_id)
        await center.complete(order_id)
        ids.append(order_id)
    return ids


async def test_completed_orders_leave_memory_after_the_window_and_still_read(center: Any):
    await _floor(center)
    first = await _day_of_work(center, 0)
    await center.goto(at("09:00", 2))
    await center.order("early")  # 2 days after, not yet past the window and its minute
    assert set(first) <= set(center.state.orders)
    await center.goto(at("11:00", 2))
    await center.order("fresh")  # any command runs the sweep once it is due
    assert not set(first) & set(center.state.orders)
    assert center.state.counters.archived == len(first)
    view = order_view(center.engine.archived(first[0]) or pytest.fail("not archived"))
    assert view.archived and view.status == "completed" and view.agent_id in ("a1", "a2")
    assert view.first_response_at is not None
    assert "fresh" in center.state.orders and center.engine.archived("fresh") is None
    # Open orders never leave, however old.
    await center.goto(at("09:00", 9))
    await center.order("later")
    assert "fresh" in center.state.orders


async def test_an_archived_id_stays_taken(center: Any):
    await _floor(center)
    ids = await _day_of_work(center, 0)
    await center.goto(at("12:00", 3))
    await center.order("x")
    records = len(center.journal.records)  # type: ignore[attr-defined]
    reply = await center.run(cmd.SubmitOrders([center.new_order(ids[0])]))  # the same body again
    assert reply.status == 200 and reply.body.archived and reply.body.status == "completed"
    assert len(center.journal.records) == records  # type: ignore[attr-defined]
    reply = await center.run(cmd.SubmitOrders([center.new_order(ids[1], "post")]))  # another body
    assert reply.status == 409 and reply.body.error.code == "order_conflict"
    batch = await center.run(cmd.SubmitOrders([center.new_order(ids[2]), center.new_order("y")]))
    assert [r.status for r in batch.body.results] == ["completed", "assigned"]
    assert ids[2] not in center.state.orders
    with pytest.raises(Conflict, match="not assigned"):
        await center.complete(ids[3])
    assert (await center.responded(ids[3])).body.archived  # answered before: a no-op


async def _late_qa_script(center: Any, retention_days: int) -> None:
    await _floor(center, retention_days)
    for day in range(3):
        await _day_of_work(center, day)
    await center.goto(at("10:00", 6))
    for i, passed in enumerate([True, False, True]):  # QA of day 0's work, days later
        await center.run(cmd.RecordQa(f"d0-{i}", passed, "qa"))
    await center.run(cmd.RecordQa("d0-0", False, "qa"))  # a second result replaces the first
    await center.goto(at("10:00", 8))
    await center.order("z")


async def test_late_qa_on_an_archived_order_counts_as_for_a_live_one(make_center: Any):
    kept, archived = make_center(), make_center()
    await _late_qa_script(kept, 400)
    await _late_qa_script(archived, 1)
    assert kept.state.counters.archived == 0
    assert archived.state.counters.archived == 18
    now = kept.state.now
    assert payroll_report(archived.state, "2026-11", now) == payroll_report(
        kept.state, "2026-11", now
    )
    # Utilization over whole days is exact; its response KPI before the window is by day.
    lo, hi = at("00:00"), at("00:00", 3)
    u = utilization_report(archived.state, lo, hi, now)
    assert u == utilization_report(kept.state, lo, hi, now)
    assert [(r.agent_id, r.first_responses) for r in u.agents] == [("a1", 9), ("a2", 9)]
    row = archived.engine.archived("d0-0")
    assert row is not None and row.qa_passed is False  # the archive row follows the QA


async def test_replay_and_checkpoints_agree_with_the_live_state(tmp_path: Path, make_center: Any):
    center = make_center(journal=SqliteJournal(tmp_path / "journal.sqlite3"))
    await _late_qa_script(center, 1)
    await center.run(cmd.SubmitOrders([center.new_order("d1-0")]))  # an archived id again
    live = fingerprint(center.state)
    restarted = Engine(SqliteJournal(tmp_path / "journal.sqlite3"), ManualClock(0))
    try:
        restarted.recover()
        assert fingerprint(restarted.state) == live
        view = restarted.archived("d0-1")
        assert view is not None and view.archived and view.qa_passed is False
        _, restored = decode(encode(restarted.state, restarted.last_seq, b"r"))
        assert fingerprint(restored) == live
        assert list(restored.done) == list(restarted.state.done)
    finally:
        await restarted.close()
        await center.engine.close()


async def test_a_backlog_leaves_in_chunks_and_memory_follows_the_window(center: Any):
    await _floor(center)
    n = SWEEP_LIMIT + 500
    await center.goto(at("10:00"))
    engine = center.engine  # the bulk straight through the engine; checked once at the end
    for i in range(0, n, 500):
        await engine.execute(
            cmd.SubmitOrders([center.new_order(f"b{j}", "pre") for j in range(i, i + 500)])
        )
        for j in range(i, i + 500):
            if center.state.orders[f"b{j}"].status == "assigned":
                await engine.execute(cmd.CompleteOrder(f"b{j}"))
    completed = center.state.counters.completed
    await center.goto(at("09:00", 5))
    swept = [
        len(e.order_ids)
        for _, data in center.journal.replay()
        for e in decode_record(data).events
        if isinstance(e, OrdersArchived)
    ]
    assert swept == [SWEEP_LIMIT]  # moving the clock: one chunk, before the move
    await center.order("next")
    assert center.state.counters.archived == completed
    assert "completed" not in {o.status for o in center.state.orders.values()}


async def test_the_time_zone_is_locked_once_orders_are_archived(center: Any):
    await _floor(center)
    await _day_of_work(center, 0)
    await center.goto(at("10:00", 3))
    await center.order("x")
    with pytest.raises(Conflict) as refused:
        await center.settings(tz="Europe/Berlin")
    assert refused.value.code == "timezone_locked"


async def test_responses_older_than_the_window_are_kept_per_day(center: Any):
    await _floor(center)
    for day in range(6):
        await _day_of_work(center, day)
    tallies = center.state.tallies
    kept = sum(len(times) for times, _ in tallies.log.values())
    assert kept <= 3 * 6  # the days inside the window (and today), not all six
    assert tallies.log_from > at("00:00")
    n = sum(tallies.responses_between(a, at("00:00"), at("00:00", 6))[0] for a in ("a1", "a2"))
    assert n == 36
    # A window starting mid-day before the log counts the whole days that start in it.
    n = sum(tallies.responses_between(a, at("12:00"), at("00:00", 2))[0] for a in ("a1", "a2"))
    assert n == 6
