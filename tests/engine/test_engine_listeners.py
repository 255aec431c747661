"""`Engine.listeners`: each record once it is durable, in journal order, never breaking the engine.

The live board feeds on this hook; a listener that saw a record before it was durable
could show a floor manager an order that a crash then loses.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from engine import commands as cmd
from engine import events as ev
from engine.clock import ManualClock
from engine.core import Engine
from engine.errors import Unavailable
from engine.sqlite_journal import SqliteJournal


def agent(i: int) -> cmd.UpsertAgent:
    return cmd.UpsertAgent(f"a{i}", f"A{i}", "north", ["en"], 2)


async def test_listeners_see_each_durable_record_in_journal_order(tmp_path: Path) -> None:
    journal = SqliteJournal(tmp_path / "j.sqlite3")
    engine = Engine(journal, ManualClock(1_000))
    seen: list[tuple[str, int]] = []

    def listener(record: ev.Record) -> None:
        (event,) = record.events
        assert isinstance(event, ev.AgentUpserted)
        # durable: already in the file when the listener hears of it
        stored = [s for s, _ in journal.replay()]
        seen.append((event.agent_id, len(stored)))

    engine.listeners.append(listener)
    # 50 commands at once share group commits; replies come back only after listeners ran
    await asyncio.gather(*(engine.execute(agent(i)) for i in range(50)))
    assert [a for a, _ in seen] == [f"a{i}" for i in range(50)]
    assert all(stored >= n + 1 for n, (_, stored) in enumerate(seen)), seen
    await engine.close()


async def test_a_failing_listener_is_logged_and_the_engine_goes_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    engine = Engine(SqliteJournal(tmp_path / "j.sqlite3"), ManualClock(1_000))
    got: list[int] = []

    def broken(record: ev.Record) -> None:
        raise RuntimeError("listener bug")

    engine.listeners += [broken, lambda r: got.append(r.at)]
    with caplog.at_level(logging.ERROR, "seatflow.engine"):
        reply = await engine.execute(agent(1))
        await engine.execute(cmd.Login("a1"))
    assert reply.status == 201 and len(got) == 2
    assert "engine listener" in caplog.text and "listener bug" in caplog.text
    assert engine.state.agents["a1"].state == "available"
    await engine.close()


async def test_a_record_the_journal_failed_to_write_is_never_heard(tmp_path: Path) -> None:
    journal = SqliteJournal(tmp_path / "j.sqlite3")
    engine = Engine(journal, ManualClock(1_000))
    heard: list[ev.Record] = []
    engine.listeners.append(heard.append)
    await engine.execute(agent(1))
    db = journal._db  # cap the file at its size: the next page is refused (disk full)
    db.execute(f"PRAGMA max_page_count = {db.execute('PRAGMA page_count').fetchone()[0]}")
    with pytest.raises(Unavailable):
        await engine.execute(cmd.SubmitOrders([cmd.NewOrder("big", None, 0, b"d", b"x" * 64_000)]))
    assert len(heard) == 1
    await engine.close()
