"""Every answer of the tour (tests/api/tour.py) is what it was before the layering change.

The answers were recorded by the code of 2026-12-01; a change that means to alter one
re-records them on purpose (`.venv/bin/python tests/api/tour.py --answers`) and says so.
"""

from __future__ import annotations

import json
import re
import sqlite3
import typing

from tour import ANSWERS, JOURNAL, run_tour

from engine import commands as cmd
from engine import events as ev
from engine.clock import ManualClock
from engine.core import Engine
from engine.fingerprint import fingerprint
from engine.journal import MemoryJournal

# Event types the journal fixture cannot hold: they came after it was written.
ADDED_SINCE_THE_FIXTURE = {
    "KeyRevoked",
    "OrderResponded",
    "ResponseTimedOut",
    "WrapUpEnded",
    "PayrollMonthClosed",
    "OrdersArchived",
    "PresenceFolded",
}
# Commands the engine runs by itself, never sent over HTTP: lifecycle timers fire before
# any command (with a manual clock, as of the move that passes them).
RUN_BY_THE_ENGINE = {"FireTimers", "ArchiveOrders", "FoldPresence"}

# A KeyCreated record carries the hash of a random key: the one part that differs per run.
_KEY_HASH = re.compile(rb"(KeyCreated\xd9@)[0-9a-f]{64}")
_NO_HASH = rb"\g<1>" + b"0" * 64  # the same length: the record still decodes


def _records(path: object) -> list[bytes]:
    db = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)  # no side files
    try:
        return [data for (data,) in db.execute("SELECT data FROM journal ORDER BY seq")]
    finally:
        db.close()


async def test_every_answer_and_board_frame_is_byte_for_byte_what_it_was(tmp_path):
    tour = await run_tour(tmp_path / "journal.sqlite3")
    want = json.loads(ANSWERS.read_text())
    got = tour.record()
    assert len(got["answers"]) == len(want["answers"])
    for mine, theirs in zip(got["answers"], want["answers"], strict=True):
        assert mine == theirs, mine["request"]
    assert got["board_stream"] == want["board_stream"]


async def test_the_tour_journals_what_it_journaled_before(tmp_path):
    """Record for record, the same events as the code of 2026-12-01 wrote (read with today's
    decoder: a field added since, with its default, reads the same in both)."""
    await run_tour(tmp_path / "journal.sqlite3")
    mine, before = _records(tmp_path / "journal.sqlite3"), _records(JOURNAL)
    # Steps added to the tour since come after the fixture's, and journal after its records.
    assert len(mine) > len(before)
    for new, old in zip(mine, before, strict=False):
        assert ev.decode_record(_KEY_HASH.sub(_NO_HASH, new)) == ev.decode_record(
            _KEY_HASH.sub(_NO_HASH, old)
        )


async def test_the_tour_runs_every_command_and_journals_every_event_type(tmp_path):
    tour = await run_tour(tmp_path / "journal.sqlite3")
    every_command = {t.__name__ for t in typing.get_args(cmd.AnyCommand)}
    assert every_command - tour.commands == RUN_BY_THE_ENGINE
    every_event = {t.__name__ for t in typing.get_args(ev.AnyEvent)}
    journaled = {
        type(e).__name__
        for data in _records(tmp_path / "journal.sqlite3")
        for e in ev.decode_record(data).events
    }
    assert every_event - journaled == set()
    # The fixture, written before some of them existed, still holds all that existed then.
    in_fixture = {
        type(e).__name__ for data in _records(JOURNAL) for e in ev.decode_record(data).events
    }
    assert every_event - in_fixture <= ADDED_SINCE_THE_FIXTURE


async def test_the_tour_replays_to_the_state_it_left(tmp_path):
    tour = await run_tour(tmp_path / "journal.sqlite3")
    journal = MemoryJournal()
    journal.records = _records(tmp_path / "journal.sqlite3")
    replayed = Engine(journal, ManualClock(0))
    replayed.recover()
    assert fingerprint(replayed.state) == fingerprint(tour.engine.state)
