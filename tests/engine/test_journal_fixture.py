"""A journal written by older code replays to the state it described.

`tests/fixtures/tour/journal.sqlite3` was written by the tour (tests/api/tour.py) with
the code of 2026-12-01, before the layering change; `fingerprint.json` is the state it
left. Event names, field order and the SQLite layout are the journal format: a change
that breaks any of them fails here.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from engine.clock import ManualClock
from engine.core import Engine
from engine.fingerprint import canonical, fingerprint
from engine.invariants import check
from engine.sqlite_journal import SqliteJournal

TOUR = Path(__file__).resolve().parent.parent / "fixtures" / "tour"


async def test_the_journal_of_2026_12_01_replays_to_the_same_state(tmp_path):
    copy = tmp_path / "journal.sqlite3"
    shutil.copyfile(TOUR / "journal.sqlite3", copy)  # opening it may add WAL files
    engine = Engine(SqliteJournal(copy), ManualClock(0))
    try:
        assert engine.recover() > 0
    finally:
        await engine.close()
    assert canonical(fingerprint(engine.state)) == (TOUR / "fingerprint.json").read_text().strip()
    assert check(engine.state) == []
