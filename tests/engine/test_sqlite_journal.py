"""What only the embedded SQLite journal has: its data-dir lock, and a file another process reads.

The promises every journal makes (group commit, order, flush, replay, failure) are checked
on SQLite and Redis alike in test_journal_contract.py.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

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


async def test_another_process_replays_the_file_to_the_same_state(
    make_center: Callable[..., Any], tmp_path: Path
) -> None:
    center = make_center(journal=SqliteJournal.in_dir(tmp_path))
    await center.agent("a1", skills=("pre", "post"), capacity=2)
    await center.login("a1")
    await center.orders(*(center.new_order(f"o{i}", "pre", i % 3) for i in range(3)))
    await center.complete("o0")
    await center.goto(center.at("15:59"))
    live = fingerprint(center.state)
    records = len(list(center.journal.replay()))
    await center.engine.close()

    # As `seatflow replay` would: a new process, the file as the first one left it.
    out = subprocess.run(
        [sys.executable, "-c", REPLAY_SCRIPT, str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    replayed = json.loads(out.stdout)
    assert replayed["records"] == records > 0
    assert canonical(replayed["state"]) == canonical(live)


def test_lock_data_dir_refuses_a_second_holder(tmp_path: Path) -> None:
    fd = lock_data_dir(tmp_path)
    try:
        assert (tmp_path / "seatflow.lock").read_text() == f"{os.getpid()}\n"
        with pytest.raises(DataDirLocked) as err:
            lock_data_dir(tmp_path)  # a second open file description, same process
        assert str(err.value) == (
            f"data directory {str(tmp_path)!r} is in use by another seatflow process"
        )
        other = subprocess.run(
            [
                sys.executable,
                "-c",
                "import sys; from pathlib import Path; from engine.sqlite_journal import "
                "lock_data_dir; lock_data_dir(Path(sys.argv[1]))",
                str(tmp_path),
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert other.returncode != 0
        assert "DataDirLocked" in other.stderr
    finally:
        os.close(fd)
    os.close(lock_data_dir(tmp_path))  # free again once the holder is gone


def _mode(path) -> int:
    return path.stat().st_mode & 0o777


async def test_the_data_directory_and_its_files_are_the_owners_only(tmp_path):
    data = tmp_path / "data"
    lock = lock_data_dir(data)
    try:
        journal = SqliteJournal.in_dir(data)
        await journal.append(b"record")
        await journal.flush()
        files = sorted(p.name for p in data.iterdir())
        assert files == ["journal.sqlite3", "journal.sqlite3-shm", "journal.sqlite3-wal",
                         "seatflow.lock"]  # fmt: skip
        assert {p.name: _mode(p) for p in data.iterdir()} == dict.fromkeys(files, 0o600)
        assert _mode(data) == 0o700
        await journal.close()
    finally:
        os.close(lock)


async def test_files_an_older_seatflow_left_readable_are_tightened_on_open(tmp_path):
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    path = data / JOURNAL_FILE
    journal = SqliteJournal(path)
    await journal.append(b"record")
    await journal.close()
    os.chmod(data, 0o755)
    os.chmod(path, 0o644)
    journal = SqliteJournal.in_dir(data)
    assert _mode(path) == 0o600 and _mode(data) == 0o700
    assert [data for _, data in journal.replay()] == [b"record"]
    await journal.close()


def test_every_commit_is_fsynced_before_it_is_acknowledged(tmp_path):
    """A killed process keeps the page cache, so the SIGKILL test cannot tell FULL from NORMAL:
    pin what the journal asks of SQLite instead: WAL with synchronous=FULL fsyncs the WAL at
    every commit, and a waiter is resolved only once its batch's COMMIT has returned."""
    journal = SqliteJournal(tmp_path / JOURNAL_FILE)
    db = journal._db
    assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert db.execute("PRAGMA synchronous").fetchone() == (2,)  # FULL, not NORMAL (1)
    asyncio.run(journal.close())
