"""The archived-ids filter (engine/archived_ids.py): it never rules out an archived id, it
rules out nearly every new one, so a new order reads no archive, and it survives a restart
from a checkpoint."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_retention import _day_of_work, _floor, at  # the retention tests' center and day

from engine import commands as cmd
from engine.archived_ids import EXACT_UP_TO, SIZE, ArchivedIds, false_positive_rate
from engine.checkpoint import Body, CheckpointError, decode, encode, read_header
from engine.clock import ManualClock
from engine.core import Engine
from engine.fingerprint import fingerprint
from engine.sqlite_journal import SqliteJournal


@given(st.lists(st.text(max_size=40), max_size=60))
def test_an_added_id_is_never_ruled_out(ids: list[str]) -> None:
    ids_filter = ArchivedIds()
    for order_id in ids:
        ids_filter.add(order_id)
    assert all(ids_filter.may_hold(order_id) for order_id in ids)


def test_new_ids_are_ruled_out_but_for_the_expected_few() -> None:
    ids_filter = ArchivedIds()
    assert not ids_filter.may_hold("anything") and not ids_filter.bits  # no bits yet
    n = 100_000
    for i in range(n):
        ids_filter.add(f"archived-{i}")
    held = sum(ids_filter.may_hold(f"new-{i}") for i in range(n))
    # Expected n * 1e-9: a broken hash (few distinct positions) would let most through.
    assert held <= 2 and false_positive_rate(n) < 1e-6
    assert false_positive_rate(120_000_000) == pytest.approx(0.40, abs=0.01)


def test_bits_of_another_size_are_refused() -> None:
    with pytest.raises(ValueError, match="not an archived-ids filter"):
        ArchivedIds().load(bytes(SIZE // 2))


def test_a_small_filter_is_the_exact_set_then_bits_that_keep_every_id() -> None:
    ids_filter = ArchivedIds()
    for i in range(EXACT_UP_TO):
        ids_filter.add(f"a-{i}")
    assert not ids_filter.bits and not ids_filter.may_hold("a-new")  # exact: no false positive
    again = ArchivedIds()
    again.load(ids_filter.dump())
    assert again.digest() == ids_filter.digest()
    ids_filter.add("one-more")  # past the exact set: the bits take every id so far
    assert len(ids_filter.bits) == SIZE and ids_filter.ids is None
    assert all(ids_filter.may_hold(f"a-{i}") for i in range(EXACT_UP_TO))
    assert ids_filter.may_hold("one-more")


async def _archived_day(center: Any) -> list[str]:
    """The retention tests' floor; day 0's orders, moved out by the sweep on day 3."""
    await _floor(center)
    ids = await _day_of_work(center, 0)
    await center.goto(at("12:00", 3))
    await center.order("sweeper")
    return ids


class Selects:
    """The archive reads a SQLite journal's connection runs (its trace callback)."""

    def __init__(self, journal: SqliteJournal) -> None:
        self.sql: list[str] = []
        journal._db.set_trace_callback(self.sql.append)

    def archive_reads(self) -> int:
        return sum("FROM archive" in s for s in self.sql)


async def test_a_new_order_reads_no_archive_an_archived_id_still_does(
    tmp_path: Path, make_center: Any
) -> None:
    path = tmp_path / "journal.sqlite3"
    center = make_center(journal=SqliteJournal(path))
    ids = await _archived_day(center)
    assert center.state.counters.archived == len(ids)
    await center.engine.close()
    journal = SqliteJournal(path)  # restarted: no rows held in memory (engine.archive.Recent)
    engine = Engine(journal, ManualClock(at("12:05", 3)))
    engine.recover()
    selects = Selects(journal)
    try:
        for i in range(20):
            reply = await engine.execute(cmd.SubmitOrders([center.new_order(f"new-{i}")]))
            assert reply.status == 201
        assert selects.archive_reads() == 0
        reply = await engine.execute(cmd.SubmitOrders([center.new_order(ids[0])]))
        assert reply.status == 200 and reply.body.archived
        reply = await engine.execute(cmd.SubmitOrders([center.new_order(ids[1], "post")]))
        assert reply.status == 409
        assert selects.archive_reads() == 2
    finally:
        await engine.close()


async def test_a_restart_from_a_checkpoint_keeps_every_archived_id_taken(
    tmp_path: Path, make_center: Any
) -> None:
    path = tmp_path / "journal.sqlite3"
    center = make_center(journal=SqliteJournal(path))
    ids = await _archived_day(center)
    data = encode(center.state, center.engine.last_seq, b"r")
    await center.engine.close()
    _, restored = decode(data)
    assert fingerprint(restored) == fingerprint(center.state)
    assert all(restored.archived_ids.may_hold(i) for i in ids)
    # The restored state, no replay of the sweep: the retry is still the archived order.
    engine = Engine(SqliteJournal(path), ManualClock(at("12:05", 3)))
    engine.state, engine.last_seq = restored, center.engine.last_seq
    try:
        reply = await engine.execute(cmd.SubmitOrders([center.new_order(ids[2])]))
        assert reply.status == 200 and reply.body.archived
    finally:
        await engine.close()


async def test_a_checkpoint_whose_filter_does_not_match_its_state_is_refused(
    make_center: Any,
) -> None:
    """Bits from elsewhere (another build, a bug) would take archived ids for new: refused,
    so start-up falls back to an older checkpoint or a full replay."""
    center = make_center()
    await _archived_day(center)
    data = encode(center.state, 1, b"r")
    size = int.from_bytes(data[:4], "big")
    header = read_header(data)
    body = msgspec.msgpack.decode(data[4 + size :], type=Body)
    forged = msgspec.msgpack.encode(msgspec.structs.replace(body, archived_ids=bytes(SIZE)))
    head = msgspec.msgpack.encode(
        msgspec.structs.replace(header, body_sha256=hashlib.sha256(forged).digest())
    )
    with pytest.raises(CheckpointError, match="does not match"):
        decode(len(head).to_bytes(4, "big") + head + forged)
    assert decode(data)[1].archived_ids.digest() == center.state.archived_ids.digest()
