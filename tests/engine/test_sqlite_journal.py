"""The embedded journal on real SQLite: durability, group commit, order, the data-dir lock."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import textwrap

import pytest

from engine import commands as cmd
from engine.clock import ManualClock
from engine.core import Engine
from engine.events import decode_record
from engine.fingerprint import canonical, fingerprint
from engine.sqlite_journal import JOURNAL_FILE, DataDirLocked, SqliteJournal, lock_data_dir

REPLAY_SCRIPT = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    from engine.clock import ManualClock
    from engine.core import Engine
    from engine.fingerprint import fingerprint
    from engine.sqlite_journal import SqliteJournal

    engine = Engine(SqliteJournal.in_dir(Path(sys.argv[1])), ManualClock())
    n = engine.recover()
    print(json.dumps({"records": n, "state": fingerprint(engine.state)}, sort_keys=True))
    """
)


async def busy_day(center) -> None:
    """A little of everything: agents, shifts, orders, a held logout, a release."""
    await center.agent("a1", skills=("pre", "post"), capacity=2)
    await center.agent("a2", capacity=1)
    await center.shifts(("a1", center.at("08:00"), center.at("16:00")))
    await center.goto(center.at("09:00"))
    await center.login("a1", "a2")
    await center.orders(*(center.new_order(f"o{i}", "pre", i % 3) for i in range(5)))
    await center.complete("o0")
    await center.logout("a1")
    await center.force("a2")
    await center.settings(grace_s=120)
    await center.goto(center.at("15:59"))


async def test_records_survive_reopen_in_another_process(make_center, tmp_path):
    center = make_center(journal=SqliteJournal.in_dir(tmp_path))
    await busy_day(center)
    live = fingerprint(center.state)
    records = len(list(center.journal.replay()))
    await center.engine.close()

    # In this process: a fresh journal and engine on the same directory.
    engine = Engine(SqliteJournal.in_dir(tmp_path), ManualClock())
    assert engine.recover() == records
    assert fingerprint(engine.state) == live
    assert engine.clock.now_ms() == center.at("15:59")  # the manual clock resumes
    await engine.close()

    # In a new process, as `seatflow replay` would.
    out = subprocess.run(
        [sys.executable, "-c", REPLAY_SCRIPT, str(tmp_path)],
        capture_output=True, text=True, check=True, timeout=60,
    )
    replayed = json.loads(out.stdout)
    assert replayed["records"] == records
    assert canonical(replayed["state"]) == canonical(live)


async def test_concurrent_appends_share_commits_and_keep_their_order(tmp_path):
    journal = SqliteJournal(tmp_path / JOURNAL_FILE)
    seqs = await asyncio.gather(*(journal.append(f"r{i}".encode()) for i in range(200)))
    assert seqs == list(range(1, 201))
    assert journal.commits == 1  # appended in one loop turn: one transaction, one fsync
    assert [data for _, data in journal.replay()] == [f"r{i}".encode() for i in range(200)]
    assert [seq for seq, _ in journal.replay(after=197)] == [198, 199, 200]
    await journal.close()


async def test_concurrent_commands_are_grouped_and_replay_in_order(tmp_path):
    journal = SqliteJournal.in_dir(tmp_path)
    engine = Engine(journal, ManualClock(1_000))
    await engine.execute(cmd.UpsertAgent("a1", "A", "t", ["pre"], 50))
    await engine.execute(cmd.Login("a1"))
    commits_before = journal.commits
    n = 100

    async def submit(i: int):
        order = cmd.NewOrder(f"o{i}", "pre", 0, b"d%d" % i)
        return await engine.execute(cmd.SubmitOrders([order]))

    replies = await asyncio.gather(*(submit(i) for i in range(n)))
    assert [r.status for r in replies] == [201] * n
    assert journal.commits - commits_before < n
    assert engine.last_seq == n + 2
    ids = [decode_record(data).events[0].order_id for _, data in journal.replay(after=2)]
    assert ids == [f"o{i}" for i in range(n)]
    assert list(engine.state.agents["a1"].open_orders) == [f"o{i}" for i in range(50)]
    await engine.close()


async def test_flush_waits_for_appends_in_flight(tmp_path):
    journal = SqliteJournal(tmp_path / JOURNAL_FILE)
    pending = journal.append(b"x")
    await journal.flush()
    assert pending.done()  # type: ignore[attr-defined]
    reopened = SqliteJournal(tmp_path / JOURNAL_FILE)
    assert list(reopened.replay()) == [(1, b"x")]
    await reopened.close()
    await journal.close()


def test_lock_data_dir_refuses_a_second_holder(tmp_path):
    fd = lock_data_dir(tmp_path)
    try:
        assert (tmp_path / "seatflow.lock").read_text() == f"{os.getpid()}\n"
        with pytest.raises(DataDirLocked) as err:
            lock_data_dir(tmp_path)  # a second open file description, same process
        assert str(err.value) == (
            f"data directory {str(tmp_path)!r} is in use by another seatflow process"
        )
        other = subprocess.run(
            [sys.executable, "-c",
             "import sys; from pathlib import Path; from engine.sqlite_journal import "
             "lock_data_dir; lock_data_dir(Path(sys.argv[1]))", str(tmp_path)],
            capture_output=True, text=True, timeout=60,
        )
        assert other.returncode != 0
        assert "DataDirLocked" in other.stderr
    finally:
        os.close(fd)
    os.close(lock_data_dir(tmp_path))  # free again once the holder is gone
