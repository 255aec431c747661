"""When the journal cannot write: refuse everything (503), and replay the durable truth.

The failure is real: SQLite's `max_page_count` caps the file, so the next write that
needs a page fails with SQLITE_FULL, exactly as a full disk would.
"""

from __future__ import annotations

import asyncio

import pytest

from engine import commands as cmd
from engine import events as ev
from engine.clock import ManualClock
from engine.core import Engine
from engine.errors import Conflict, Unavailable
from engine.fingerprint import fingerprint
from engine.handlers import HANDLERS
from engine.sqlite_journal import SqliteJournal

FULL = "journal write failed: database or disk is full"


def disk_full(journal: SqliteJournal) -> None:
    """Cap the database at its current size: the next page it needs is refused."""
    db = journal._db  # the journal's own connection: the cap is per connection
    pages = db.execute("PRAGMA page_count").fetchone()[0]
    db.execute(f"PRAGMA max_page_count = {pages}")


def big_order(order_id: str) -> cmd.SubmitOrders:
    return cmd.SubmitOrders([cmd.NewOrder(order_id, "pre", 0, b"d", b"x" * 64_000)])


async def setup(center) -> None:
    await center.agent("a1", capacity=1)
    await center.login("a1")
    await center.order("ok1")


def assert_journal_failed(err: pytest.ExceptionInfo[Unavailable], cause: str = FULL) -> None:
    assert (err.value.status, err.value.code, err.value.message) == (
        503,
        "journal_failed",
        f"the journal failed ({cause}); restart seatflow to recover",
    )


async def test_failed_write_refuses_this_and_every_later_command(make_center, tmp_path):
    center = make_center(journal=SqliteJournal.in_dir(tmp_path))
    reference = make_center()  # the same commands that became durable, in memory
    for c in (center, reference):
        await setup(c)
    disk_full(center.journal)
    with pytest.raises(Unavailable) as err:
        await center.engine.execute(big_order("lost"))
    assert_journal_failed(err)
    assert not center.engine.ready
    for later in (cmd.Login("a1"), cmd.CompleteOrder("ok1"), big_order("lost")):
        with pytest.raises(Unavailable) as err:
            await center.engine.execute(later)
        assert_journal_failed(err)
    with pytest.raises(Unavailable):
        await center.engine.durable()
    await center.engine.close()

    engine = Engine(SqliteJournal.in_dir(tmp_path), ManualClock())
    engine.recover()
    assert "lost" not in engine.state.orders
    assert fingerprint(engine.state) == fingerprint(reference.state)
    reply = await engine.execute(cmd.CompleteOrder("ok1"))  # a restart works again
    assert reply.status == 200
    await engine.close()


async def test_retry_racing_a_failing_write_is_not_acknowledged(make_center, tmp_path):
    """An idempotent retry answers from state; it must not ack an order that was lost."""
    center = make_center(journal=SqliteJournal.in_dir(tmp_path))
    await setup(center)
    disk_full(center.journal)
    first = asyncio.create_task(center.engine.execute(big_order("lost")))
    # Let the first command append and the writer take its batch into the thread.
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    with pytest.raises(Unavailable) as err:
        await center.engine.execute(big_order("lost"))  # same id, same body: no new events
    assert_journal_failed(err, "journal failed earlier: database or disk is full")
    with pytest.raises(Unavailable):
        await first
    await center.engine.close()

    engine = Engine(SqliteJournal.in_dir(tmp_path), ManualClock())
    engine.recover()
    assert "lost" not in engine.state.orders
    await engine.close()


async def test_commands_appended_with_a_failing_batch_all_fail(make_center, tmp_path):
    center = make_center(journal=SqliteJournal.in_dir(tmp_path))
    await setup(center)
    disk_full(center.journal)
    results = await asyncio.gather(
        *(center.engine.execute(big_order(f"b{i}")) for i in range(5)), return_exceptions=True
    )
    assert [type(r).__name__ for r in results] == ["Unavailable"] * 5
    await center.engine.close()
    engine = Engine(SqliteJournal.in_dir(tmp_path), ManualClock())
    engine.recover()
    assert sorted(engine.state.orders) == ["ok1"]
    await engine.close()


async def test_a_handler_failing_after_it_emitted_changes_nothing_and_says_so(
    make_center, monkeypatch, caplog
):
    """Handlers refuse before they emit; one that breaks that rule (a bug) must not leave
    state ahead of the journal: state is rebuilt from it, and the log says why."""
    center = make_center()
    await center.agent("a1")

    def broken(ch, c):
        ch.emit(ev.AgentLoggedIn(c.agent_id))
        raise Conflict("refused too late", code="late")

    monkeypatch.setitem(HANDLERS, cmd.Login, broken)
    with pytest.raises(Conflict):
        await center.run(cmd.Login("a1"))  # run: asserts nothing changed, nothing journaled
    assert "Login failed after changing state (Conflict: refused too late)" in caplog.text
    assert center.state.agents["a1"].state == "offline"
    assert center.engine.ready
    center.verify()
