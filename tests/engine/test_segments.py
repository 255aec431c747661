"""Journal segments (engine.segments): old records moved out whole, the chain checked, and
nothing that starts a center reads them once a checkpoint covers them."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from engine import commands as cmd
from engine import events as ev
from engine import handlers
from engine import segments as seg
from engine.changes import Changes, Reply
from engine.checkpoint import encode
from engine.checkpoint_files import CheckpointFiles, recover
from engine.clock import ManualClock
from engine.core import Engine
from engine.fingerprint import fingerprint
from engine.journal import JournalError
from engine.sqlite_journal import SqliteJournal

T0 = 1_795_400_000_000


async def _center(data: Path, n: int = 30) -> Engine:
    engine = Engine(SqliteJournal.in_dir(data), ManualClock(T0))
    recover(engine, CheckpointFiles(data))
    await engine.execute(cmd.UpsertAgent("a1", "A", "t", ["pre"], 50))
    await engine.execute(cmd.Login("a1"))
    for i in range(n):
        await engine.execute(cmd.SubmitOrders([cmd.NewOrder(f"o{i}", "pre", 0, b"d")]))
    return engine


def _checkpoint(engine: Engine, data: Path) -> None:
    journal = engine.journal
    assert isinstance(journal, SqliteJournal)
    record = journal.record(engine.last_seq)
    assert record is not None
    CheckpointFiles(data).write(encode(engine.state, engine.last_seq, record), engine.last_seq)


def _move(journal: SqliteJournal, directory: Path, upto: int) -> seg.Segment:
    records = [(s, d) for s, d in journal.replay(journal.first - 1) if s <= upto]
    segment = seg.write(directory, records)
    journal.move_out(segment)
    return segment


async def test_moved_records_read_back_whole_and_in_order(tmp_path: Path) -> None:
    engine = await _center(tmp_path / "data")
    journal = engine.journal
    assert isinstance(journal, SqliteJournal)
    everything = list(journal.replay())
    first = _move(journal, tmp_path / "segs", 10)
    second = _move(journal, tmp_path / "segs", 20)
    assert (first.first, first.last, second.first, second.last) == (1, 10, 11, 20)
    assert journal.first == 21 and journal.moved_out() == [first, second]
    history = list(seg.history(tmp_path / "segs", journal.moved_out()))
    assert history + list(journal.replay(20)) == everything
    await engine.close()


async def test_a_gap_a_missing_or_a_changed_segment_is_an_error(tmp_path: Path) -> None:
    engine = await _center(tmp_path / "data")
    journal = engine.journal
    assert isinstance(journal, SqliteJournal)
    a, b = _move(journal, tmp_path / "segs", 5), _move(journal, tmp_path / "segs", 9)
    with pytest.raises(seg.SegmentError, match="starts at 6, not 1"):
        list(seg.history(tmp_path / "segs", [b]))
    with sqlite3.connect(tmp_path / "segs" / b.name) as db:
        db.execute("DELETE FROM journal WHERE seq = 7")
    with pytest.raises(seg.SegmentError, match="damaged"):
        list(seg.history(tmp_path / "segs", [a, b]))
    (tmp_path / "segs" / a.name).unlink()
    with pytest.raises(seg.SegmentError, match="not in"):
        list(seg.history(tmp_path / "segs", [a, b]))
    with pytest.raises(seg.SegmentError, match="not contiguous"):
        seg.write(tmp_path / "other", [(1, b"x"), (3, b"y")])
    with pytest.raises(JournalError, match="does not start"):  # not where the journal starts
        journal.move_out(seg.write(tmp_path / "other", [(12, b"x"), (13, b"y")]))
    await engine.close()


async def test_the_last_record_never_leaves(tmp_path: Path) -> None:
    engine = await _center(tmp_path / "data", n=3)
    journal = engine.journal
    assert isinstance(journal, SqliteJournal)
    every = list(journal.replay())
    with pytest.raises(JournalError):  # a checkpoint names the last record: it must stay
        journal.move_out(seg.write(tmp_path / "segs", every))
    assert journal.first == 1 and list(journal.replay()) == every
    await engine.close()


async def test_start_up_needs_a_checkpoint_once_records_moved_out(tmp_path: Path) -> None:
    data = tmp_path / "data"
    engine = await _center(data)
    _checkpoint(engine, data)
    live = fingerprint(engine.state)
    journal = engine.journal
    assert isinstance(journal, SqliteJournal)
    _move(journal, tmp_path / "segs", engine.last_seq - 1)
    await engine.close()

    again = Engine(SqliteJournal.in_dir(data), ManualClock(0))
    at, replayed, _ = recover(again, CheckpointFiles(data))
    assert (at, replayed) == (again.last_seq, 0) and fingerprint(again.state) == live
    await again.close()
    for path in CheckpointFiles(data).paths():
        path.unlink()
    bare = Engine(SqliteJournal.in_dir(data), ManualClock(0))
    with pytest.raises(JournalError, match="moved out to journal segments"):
        recover(bare, CheckpointFiles(data))
    await bare.close()


async def test_a_rebuild_after_an_internal_error_starts_from_the_checkpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    engine = await _center(data)
    _checkpoint(engine, data)
    journal = engine.journal
    assert isinstance(journal, SqliteJournal)
    _move(journal, tmp_path / "segs", engine.last_seq - 1)
    await engine.close()
    engine = Engine(SqliteJournal.in_dir(data), ManualClock(T0))
    recover(engine, CheckpointFiles(data))
    before = fingerprint(engine.state)

    def broken(ch: Changes, c: cmd.GoAway) -> Reply:
        ch.emit(ev.AgentWentAway(c.agent_id, c.reason))
        raise RuntimeError("a bug after the first event")

    monkeypatch.setitem(handlers.HANDLERS, cmd.GoAway, broken)
    with pytest.raises(RuntimeError):
        await engine.execute(cmd.GoAway("a1", "lunch"))
    assert engine.failure is None and fingerprint(engine.state) == before
    await engine.close()
