"""Checkpoints: checkpoint + journal tail == full replay, and a bad one is never used.

Random scripts on a real SQLite journal, checkpoints cut at random records; damaged,
foreign, torn and other-build checkpoints fall back to an older one or a full replay.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
from pathlib import Path
from typing import Any

import msgspec
import pytest

from engine import checkpoint, checkpoint_files
from engine import commands as cmd
from engine.checkpoint import CheckpointError, encode, restore
from engine.checkpoint_files import Checkpointer, CheckpointFiles
from engine.clock import ManualClock
from engine.core import Engine
from engine.fingerprint import fingerprint
from engine.invariants import check
from engine.segments import Segment
from engine.sqlite_journal import SqliteJournal


def full_replay(data: Path) -> Engine:
    engine = Engine(SqliteJournal.in_dir(data), ManualClock(0))
    engine.recover()
    return engine


def from_checkpoint(data: Path) -> tuple[Engine, int, int]:
    engine = Engine(SqliteJournal.in_dir(data), ManualClock(0))
    covered, replayed, _ = checkpoint_files.recover(engine, CheckpointFiles(data))
    return engine, covered, replayed


async def played(tmp_path: Path, make_center, script_player, rng, n: int = 300) -> Any:
    """A random script on a SQLite journal; returns the center (still open)."""
    random_script, play_script = script_player
    center = make_center(journal=SqliteJournal.in_dir(tmp_path))
    await play_script(center, random_script(rng, n))
    return center


def checkpoint_at(data: Path, seq: int) -> Path:
    """The checkpoint a server would have written after record `seq`."""
    journal = SqliteJournal.in_dir(data)
    engine = Engine(journal, ManualClock(0))
    engine.recover(r for r in journal.replay() if r[0] <= seq)
    record = journal.record(seq)
    assert record is not None
    return CheckpointFiles(data).write(encode(engine.state, seq, record), seq)


async def test_restore_is_the_inverse_of_the_fingerprint(make_center, script_player, rng):
    random_script, play_script = script_player
    center = make_center()
    await play_script(center, random_script(rng, 400))
    fp = fingerprint(center.state)
    state = restore(msgspec.msgpack.decode(msgspec.msgpack.encode(fp)))
    assert fingerprint(state) == fp
    assert check(state) == []


async def test_a_restored_state_routes_as_the_replayed_one(make_center, script_player, rng):
    """Caches (routing index, handover timers) are rebuilt, not stored: the same commands
    after the cut give the same decisions on both."""
    random_script, play_script = script_player
    script = random_script(rng, 400)
    live = make_center()
    await play_script(live, script[:200])
    twin = make_center()
    twin.engine.state = restore(fingerprint(live.state))
    twin.engine.journal.records = list(live.journal.records)
    twin.follower = restore(fingerprint(live.follower))
    twin.seen = live.seen
    twin.clock.set(live.clock.now_ms())
    for c in (live, twin):
        await play_script_from(c, script[200:])
    assert fingerprint(twin.state) == fingerprint(live.state)


async def play_script_from(center, script: list[cmd.Command]) -> None:
    from engine.errors import SeatflowError

    for command in script:
        center.clock.set(max(center.clock.now_ms(), center.state.now) + 60_000)
        try:
            await center.run(command)
        except SeatflowError:
            pass


@pytest.mark.parametrize("cuts", [1, 3])
async def test_checkpoint_plus_tail_is_the_full_replay_at_random_cuts(
    tmp_path, make_center, script_player, rng, cuts
):
    center = await played(tmp_path, make_center, script_player, rng)
    last = center.engine.last_seq
    await center.engine.close()
    for _ in range(5):
        for seq in sorted(rng.sample(range(1, last + 1), cuts)):
            checkpoint_at(tmp_path, seq)
        newest = max(int(p.name[11:23]) for p in CheckpointFiles(tmp_path).paths())
        engine, covered, replayed = from_checkpoint(tmp_path)
        assert (covered, replayed) == (newest, last - newest)
        assert fingerprint(engine.state) == fingerprint(full_replay(tmp_path).state)
        assert check(engine.state) == []
        for p in CheckpointFiles(tmp_path).paths():
            p.unlink()


async def test_a_checkpoint_at_the_last_record_replays_nothing(
    tmp_path, make_center, script_player, rng
):
    center = await played(tmp_path, make_center, script_player, rng, 50)
    last = center.engine.last_seq
    await center.engine.close()
    checkpoint_at(tmp_path, last)
    engine, covered, replayed = from_checkpoint(tmp_path)
    assert (covered, replayed) == (last, 0)
    # And the center goes on from there: new records land after it.
    await engine.execute(cmd.UpsertAgent("new", "New", "t", [], 1))
    assert engine.last_seq == last + 1
    await engine.close()


def _corrupt(path: Path, how: str) -> None:
    data = bytearray(path.read_bytes())
    if how == "flipped byte":
        data[len(data) // 2] ^= 0xFF
    elif how == "truncated":
        data = data[: len(data) // 2]
    elif how == "empty":
        data = bytearray()
    elif how == "other build":
        header = checkpoint.read_header(bytes(data))
        header.shape = "0" * 16
        head = msgspec.msgpack.encode(header)
        body = bytes(data[4 + int.from_bytes(data[:4], "big") :])
        data = bytearray(len(head).to_bytes(4, "big") + head + body)
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("how", ["flipped byte", "truncated", "empty", "other build"])
async def test_a_bad_checkpoint_falls_back_to_an_older_one(
    tmp_path, make_center, script_player, rng, caplog, how
):
    center = await played(tmp_path, make_center, script_player, rng, 200)
    last = center.engine.last_seq
    await center.engine.close()
    older = last // 3
    checkpoint_at(tmp_path, older)
    _corrupt(checkpoint_at(tmp_path, 2 * last // 3), how)
    caplog.set_level(logging.WARNING)
    engine, covered, replayed = from_checkpoint(tmp_path)
    assert (covered, replayed) == (older, last - older)
    assert "ignoring checkpoint checkpoint-" in caplog.text
    assert fingerprint(engine.state) == fingerprint(full_replay(tmp_path).state)


async def test_a_checkpoint_of_another_journal_is_never_used(
    tmp_path, make_center, script_player, rng, caplog
):
    a, b = tmp_path / "a", tmp_path / "b"
    for data in (a, b):
        center = await played(data, make_center, script_player, rng, 120)
        await center.engine.close()
    foreign = checkpoint_at(b, 40)
    (a / "checkpoints").mkdir(mode=0o700, exist_ok=True)
    os.replace(foreign, a / "checkpoints" / foreign.name)
    engine, covered, _ = from_checkpoint(a)
    assert covered == 0  # a full replay
    assert "not made from this journal (its record 40 differs)" in caplog.text
    assert fingerprint(engine.state) == fingerprint(full_replay(a).state)


async def test_a_checkpoint_past_the_journals_end_is_never_used(
    tmp_path, make_center, script_player, rng, caplog
):
    """A journal restored from an older backup, with a newer checkpoint beside it."""
    center = await played(tmp_path, make_center, script_player, rng, 60)
    last = center.engine.last_seq
    await center.engine.close()
    checkpoint_at(tmp_path, last)
    db = sqlite3.connect(tmp_path / "journal.sqlite3")
    with db:
        db.execute("DELETE FROM journal WHERE seq > ?", (last - 10,))
    db.close()
    engine, covered, _ = from_checkpoint(tmp_path)
    assert covered == 0
    assert engine.last_seq == last - 10
    assert f"not made from this journal (its record {last} is missing)" in caplog.text


async def test_a_torn_write_leaves_the_older_checkpoints_usable(
    tmp_path, make_center, script_player, rng
):
    """What a kill in the middle of writing leaves: a temporary file, never a torn one."""
    center = await played(tmp_path, make_center, script_player, rng, 100)
    last = center.engine.last_seq
    await center.engine.close()
    checkpoint_at(tmp_path, last // 2)
    tmp = tmp_path / "checkpoints" / f".checkpoint-{last:012d}.sfck.999.tmp"
    tmp.write_bytes(b"\x00\x00\x00\x10half a checkpo")
    _, covered, _ = from_checkpoint(tmp_path)
    assert covered == last // 2
    assert [p.name for p in CheckpointFiles(tmp_path).paths()] == [
        f"checkpoint-{last // 2:012d}.sfck"
    ]


def test_the_shape_follows_the_fingerprint_and_format(monkeypatch):
    before = checkpoint.shape()
    checkpoint.shape.cache_clear()
    real = checkpoint.fingerprint
    monkeypatch.setattr(checkpoint, "fingerprint", lambda s: {**real(s), "new_field": 1})
    try:
        assert checkpoint.shape() != before
    finally:
        checkpoint.shape.cache_clear()
    with pytest.raises(CheckpointError, match="not a seatflow checkpoint"):
        checkpoint.read_header(b"PK\x03\x04 a zip, say")


# -- the checkpointer: written off the event loop, whenever due --------------------------


async def test_the_checkpointer_writes_from_a_child_when_due_and_keeps_three(tmp_path, make_center):
    center = make_center(journal=SqliteJournal.in_dir(tmp_path))
    keeper = Checkpointer(center.engine, CheckpointFiles(tmp_path), 0, every_records=5)
    written = []
    for i in range(30):
        await center.agent(f"a{i}")
        if keeper.due() and keeper.fork() is not None:
            keeper.reap(wait=True)
            written.append(keeper.seq)
    assert written == [5, 10, 15, 20, 25, 30]
    names = [p.name for p in CheckpointFiles(tmp_path).paths()]
    assert names == [f"checkpoint-{s:012d}.sfck" for s in (30, 25, 20)]
    assert all(p.stat().st_mode & 0o777 == 0o600 for p in CheckpointFiles(tmp_path).paths())
    assert 0 <= keeper.age_s() < 60  # type: ignore[operator]
    await center.engine.close()
    engine, covered, replayed = from_checkpoint(tmp_path)
    assert (covered, replayed) == (30, 0)


async def test_a_checkpoint_that_cannot_be_written_is_logged_and_retried(
    tmp_path, make_center, caplog
):
    center = make_center(journal=SqliteJournal.in_dir(tmp_path))
    files = CheckpointFiles(tmp_path)
    files.dir.write_bytes(b"")  # a file where the directory goes: every write fails (as root too)
    keeper = Checkpointer(center.engine, files, 0, every_records=1)
    await center.agent("a1")
    assert keeper.fork() is not None
    keeper.reap(wait=True)
    assert keeper.failures == 1 and keeper.seq == 0
    assert "writing the checkpoint at seq 1 failed (exit 2); retrying later" in caplog.text
    await center.agent("a2")  # intake goes on
    files.dir.unlink()
    assert keeper.fork() is not None
    keeper.reap(wait=True)
    assert keeper.seq == 2
    await center.engine.close()


async def test_no_checkpoint_while_records_wait_to_be_written(tmp_path, make_center):
    center = make_center(journal=SqliteJournal.in_dir(tmp_path))
    keeper = Checkpointer(center.engine, CheckpointFiles(tmp_path), 0, every_records=1)
    await center.agent("a1")
    pending = asyncio.ensure_future(center.engine.execute(cmd.Login("a1")))
    await asyncio.sleep(0)  # appended, not yet committed
    assert center.engine.journal.settled() is None
    assert keeper.fork() is None
    await pending
    await center.engine.close()


async def test_shutdown_writes_a_last_checkpoint(tmp_path, make_center):
    center = make_center(journal=SqliteJournal.in_dir(tmp_path))
    keeper = Checkpointer(center.engine, CheckpointFiles(tmp_path), 0)
    center.engine.closers.append(keeper.stop)
    for i in range(7):
        await center.agent(f"a{i}")
    await center.engine.close()
    engine, covered, replayed = from_checkpoint(tmp_path)
    assert (covered, replayed) == (7, 0)
    assert sorted(engine.state.agents) == [f"a{i}" for i in range(7)]


async def test_a_checkpoint_keeps_the_lifecycle_running_as_the_replay_does(make_center):
    """Deadlines are a cache, rebuilt from a restored state: the same timeouts and wrap-up
    ends fire after the cut, and the sticky map sends a returning customer alike."""
    live = make_center()
    await live.lifecycle(timeout_s=60, wrap_s=30, sticky_s=3600)
    for agent_id in ("a1", "a2", "a3"):
        await live.agent(agent_id, capacity=2)
        await live.login(agent_id)
    for i in range(5):
        await live.customer_order(f"o{i}", f"c{i % 2}")
    await live.responded("o0")
    await live.complete("o1")  # a wrap-up slot until 30 s from now
    twin = make_center()
    twin.engine.state = restore(fingerprint(live.state))
    # The sticky map holds agents: the restored one holds the restored state's own.
    remembered = list(twin.engine.state.customers.items())
    assert [c for c, _, _ in remembered] == ["c0", "c1"]
    for customer, agent_id, _ in remembered:
        got = twin.engine.state.customers.last(customer, live.state.now)
        assert got is twin.engine.state.agents[agent_id] is not live.state.agents[agent_id]
    twin.engine.journal.records = list(live.journal.records)
    twin.follower = restore(fingerprint(live.follower))
    twin.seen = live.seen
    cut = live.clock.now_ms()
    for c in (live, twin):
        c.clock.set(cut)
        await c.goto(cut + 61_000)  # timeouts and the wrap-up end fire
        await c.customer_order("o9", "c0")  # sticky, or not, alike
        assert check(c.state) == []
    assert fingerprint(twin.state) == fingerprint(live.state)
    assert any(a.state == "not_responding" for a in live.state.agents.values())


async def test_a_checkpoint_naming_an_unknown_agent_for_a_customer_is_damaged(make_center):
    center = make_center()
    await center.lifecycle(sticky_s=3600)
    await center.agent("a1")
    await center.login("a1")
    await center.customer_order("o1", "c-1")
    fp = fingerprint(center.state)
    assert fp["customers"] == [["c-1", "a1", center.state.now]]
    fp["customers"][0][1] = "ghost"
    with pytest.raises(ValueError, match="customer 'c-1': last agent 'ghost' is unknown"):
        restore(fp)


async def settings_now(data: Path) -> Any:
    journal = SqliteJournal.in_dir(data)
    try:
        return checkpoint_files.settings_now(CheckpointFiles(data), journal)
    finally:
        await journal.close()


@pytest.mark.parametrize("cut", ["none", "before the change", "after the change", "damaged"])
async def test_the_settings_now_without_the_state_are_the_replayed_ones(
    tmp_path, make_center, script_player, rng, cut
):
    """What `seatflow payroll` of a closed month reads instead of recovering: the newest
    usable checkpoint's settings, then every change in the journal after it."""
    random_script, play_script = script_player
    center = make_center(journal=SqliteJournal.in_dir(tmp_path))
    await play_script(center, random_script(rng, 200))  # changes settings too, at times
    before = center.engine.last_seq
    changed = cmd.ChangeSettings(900, 300, "Asia/Shanghai", language="zh-CN", wrap_up_s=30)
    await center.engine.execute(changed)
    last = center.engine.last_seq
    await center.engine.close()
    if cut == "before the change":
        checkpoint_at(tmp_path, before // 2)
    elif cut == "after the change":
        checkpoint_at(tmp_path, last)
    elif cut == "damaged":
        checkpoint_at(tmp_path, before // 2)
        _corrupt(checkpoint_at(tmp_path, last), "flipped byte")
    replayed = full_replay(tmp_path).state.settings
    assert replayed.language == "zh-CN"
    assert await settings_now(tmp_path) == replayed


async def test_without_a_checkpoint_settings_of_a_moved_out_head_are_unknown(
    tmp_path, make_center, script_player, rng
):
    center = await played(tmp_path, make_center, script_player, rng, 100)
    last = center.engine.last_seq
    await center.engine.close()
    journal = SqliteJournal.in_dir(tmp_path)
    journal.move_out(Segment("segment-1", 1, last // 2, "0" * 64))
    await journal.close()
    assert await settings_now(tmp_path) is None  # the caller recovers (and says what is missing)
