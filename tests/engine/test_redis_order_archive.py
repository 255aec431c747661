"""Archived orders' rows leave Redis memory for DIR/orders.sqlite3 when the stream is
trimmed (engine/redis_backend/order_archive.py): moved only under the lease, never
replacing a newer row by an older one, never dropping a row rewritten meanwhile, and
readable by id from any process after a trim, a failover or a kill -9 mid-move."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import random
import signal
from pathlib import Path
from typing import Any

import msgspec
import pytest
import redis
from redis.asyncio import Redis
from redis_server import RedisServer
from redis_support import (
    DAY,
    Nodes,
    eventually,
    floor_script,
    more_orders,
    order,
    owned_engine,
    play,
    raises,
    retention_floor,
)

from engine import commands as cmd
from engine import segments
from engine.core import Engine
from engine.errors import Unavailable
from engine.redis_backend import order_archive, snapshot, stream, trim
from engine.redis_backend.keys import Keys
from engine.redis_backend.node import Role
from engine.redis_backend.order_archive import DiskArchive
from engine.redis_backend.stream import RedisJournal


async def archived_center(engine: Engine, orders: int) -> list[str]:
    """A floor of `orders` orders, retention one day, then two days later: the completed
    ones are archived (their rows in the hash). Their ids, in order."""
    settings = dataclasses.replace(engine.state.settings, timezone="UTC", order_retention_days=1)
    await engine.execute(cmd.ChangeSettings(*dataclasses.astuple(settings)))
    await play(engine, floor_script(orders))
    await engine.set_clock(engine.now() + 2 * DAY)  # the sweep runs first
    ids = [f"o{i}" for i in range(orders - 3)]  # the last three are still assigned
    assert engine.state.counters.archived == len(ids)
    return ids


def snapshot_now(url: str, keys: Keys, engine: Engine, value: str) -> int:
    journal = engine.journal
    assert isinstance(journal, RedisJournal)
    seq = engine.last_seq
    assert snapshot.save_now(url, keys, engine.state, seq, journal.appended_record, value) == 1
    return seq


async def test_rows_move_only_under_the_lease_and_a_row_rewritten_meanwhile_stays(
    redis_server: RedisServer, client: Redis, keys: Keys, tmp_path: Path
) -> None:
    engine, value = await owned_engine(client, keys)
    ids = await archived_center(engine, 9)
    hashed = {k.decode(): v for k, v in (await client.hgetall(keys.archive)).items()}
    assert sorted(hashed) == sorted(ids)
    records = await stream.read_after(client, keys, 0, 100_000)
    assert sorted(order_archive.rows_written(records)) == sorted(ids)
    sync = redis.Redis.from_url(redis_server.url)
    disk = DiskArchive(tmp_path)
    try:
        fenced = order_archive.move(sync, keys, "1:someone-else", tmp_path, ids)
        assert fenced == order_archive.FENCED
        assert await client.hlen(keys.archive) == len(ids) and disk.get_many(ids) == {}

        rows = order_archive.read_rows(sync, keys, value, ids)
        assert rows is not None and {i: d for i, _, d in rows} == hashed
        assert {s for _, s, _ in rows} == {engine.last_seq}  # as of the stream's last record
        # A late QA result rewrites o1's row between the read and the drop.
        assert (await engine.execute(cmd.RecordQa("o1", False, "qa"))).status == 200
        newer = await client.hget(keys.archive, "o1")
        assert newer is not None and newer != hashed["o1"]
        order_archive.store(tmp_path, rows)
        assert order_archive.drop_rows(sync, keys, "1:someone-else", rows) == order_archive.FENCED
        assert await client.hlen(keys.archive) == len(ids)
        assert order_archive.drop_rows(sync, keys, value, rows) == len(ids) - 1
        assert await client.hkeys(keys.archive) == [b"o1"]  # the newer row stays
        assert disk.get_many(ids) == hashed  # every row moved, o1 as read

        # A demoted owner's late write of an older read never replaces a newer one.
        as_of = rows[0][1]
        order_archive.store(tmp_path, [("o1", as_of + 5, newer)])
        order_archive.store(tmp_path, [("o1", as_of, hashed["o1"]), ("o2", as_of - 1, b"old")])
        assert disk.get("o1") == newer and disk.get("o2") == hashed["o2"]
    finally:
        disk.close()
        sync.close()


async def test_a_late_qa_result_after_the_move_lands_and_wins_on_every_process(
    nodes: Nodes, client: Redis, keys: Keys, tmp_path: Path
) -> None:
    """The owner's child trims; the next owner (nothing of its own in memory) answers
    archived ids from the file, a late QA result rewrites the row, and a process without
    the DIR refuses to answer wrongly or to own the center."""
    segs = tmp_path / "segs"
    node = await nodes.start("node-a", segments_dir=segs, snapshot_every=5)
    await eventually(lambda: node.role is Role.OWNER, what="the node owns the center")
    await retention_floor(node, 12)  # o0..o8 completed, o9..o11 open
    views = {f"o{i}": node.state.orders[f"o{i}"] for i in range(9)}
    await node.set_clock(node.now() + 2 * DAY)  # the sweep: o0..o8 leave memory
    assert await client.hlen(keys.archive) == 9
    for i in range(12, 30):  # records after the sweep's: snapshots past it, trims
        await node.execute(cmd.SubmitOrders([order(f"o{i}")]))

    async def moved_out() -> bool:
        return await client.hlen(keys.archive) == 0

    await eventually(moved_out, 15, "the rows moved out")
    assert await client.exists(keys.archive_moved)
    await nodes.close(node)

    node = await nodes.start("node-b", segments_dir=segs)
    await eventually(lambda: node.role is Role.OWNER, what="the next node owns the center")
    for order_id, live in views.items():
        found = await node.find_archived(order_id)
        assert found is not None and found == msgspec.structs.replace(live, archived=True)
    retry = await node.execute(cmd.SubmitOrders([order("o0")]))
    assert retry.status == 200 and retry.body.archived and retry.body.status == "completed"
    clash = cmd.NewOrder("o1", "pre", 5, b"another body")
    assert (await node.execute(cmd.SubmitOrders([clash]))).status == 409
    assert (await node.execute(cmd.RecordQa("o2", False, "qa"))).status == 200
    assert await client.hkeys(keys.archive) == [b"o2"]  # hash first: the newer row
    found = await node.find_archived("o2")
    assert found is not None and found.qa_passed is False
    assert (await node.execute(cmd.RecordQa("o2", True, "qa"))).status == 200
    found = await node.find_archived("o2")
    assert found is not None and found.qa_passed is True

    blind = await nodes.start("node-c", standby=True)  # no --segments
    error = await raises(blind.find_archived("o3"), Unavailable)
    assert error.code == "archive_unavailable"  # type: ignore[attr-defined]
    found = await blind.find_archived("o2")  # still in the hash: readable anywhere
    assert found is not None and found.qa_passed is True
    await nodes.close(node)
    taker = await nodes.start("node-d")  # no --segments, the center free: it stays follower
    await asyncio.sleep(1.0)
    assert taker.role is Role.FOLLOWER


def _move_in_child(
    url: str, keys: Keys, seq: int, value: str, directory: Path, die_after: str = ""
) -> int:
    """A child process running one move; with `die_after`, it SIGKILLs itself as soon as
    that step has returned ("half-dropped": once half the rows have left the hash)."""
    pid = os.fork()
    if pid:
        return pid
    code = 1
    try:
        _die_after(die_after)
        client = redis.Redis.from_url(url)
        code = 0 if trim.move_before(client, keys, seq, value, directory) == trim.TRIMMED else 4
    finally:
        os._exit(code)


def _die_after(step: str) -> None:
    """In the child only: wrap the step's function so the process dies right after it."""

    def then_die(module: Any, name: str, half: bool = False) -> None:
        step_fn = getattr(module, name)

        def dying(*args: Any) -> Any:
            if half:  # drop_rows(client, keys, value, rows): only the first half of rows
                args = (*args[:3], args[3][: len(args[3]) // 2])
            step_fn(*args)
            os.kill(os.getpid(), signal.SIGKILL)

        setattr(module, name, dying)

    if step == "segment-written":
        then_die(segments, "write")
    elif step == "rows-stored":
        then_die(order_archive, "store")
    elif step in ("half-dropped", "rows-dropped"):
        then_die(order_archive, "drop_rows", half=step == "half-dropped")


async def _archive_state(
    client: Redis, keys: Keys, disk: DiskArchive, ids: list[str], rows: dict[str, bytes], seq: int
) -> tuple[int, int, bool]:
    """Rows in the hash, rows in the file, and whether the stream is trimmed; fails if any
    archived order's row is in neither place, or differs from what it was."""
    hashed = {bytes(k).decode(): v for k, v in (await client.hgetall(keys.archive)).items()}
    on_disk = disk.get_many(ids)
    assert {**on_disk, **hashed} == rows, "an archived order's row is lost"
    return len(hashed), len(on_disk), await stream.first_seq(client, keys) == seq


async def _killed_move_center(
    redis_server: RedisServer, client: Redis, keys: Keys
) -> tuple[list[str], dict[str, bytes], int, str]:
    engine, value = await owned_engine(client, keys)
    ids = await archived_center(engine, 1500)
    hashed = (await client.hgetall(keys.archive)).items()
    rows = {bytes(k).decode(): bytes(v) for k, v in hashed}
    await play(engine, more_orders(1500, 5))  # records after the sweep's
    seq = snapshot_now(redis_server.url, keys, engine, value)
    return ids, rows, seq, value


def _reap(pid: int) -> int:
    """The child's exit: its code, or minus the signal that ended it."""
    _, status = os.waitpid(pid, 0)
    return os.WEXITSTATUS(status) if os.WIFEXITED(status) else -os.WTERMSIG(status)


# After each step (the segment, the rows stored, half and all of them dropped from the
# hash), what a kill -9 leaves: (rows in the hash, rows in the file, stream trimmed).
KILLED_AFTER = {
    "segment-written": lambda n: (n, 0, False),
    "rows-stored": lambda n: (n, n, False),
    "half-dropped": lambda n: (n - n // 2, n, False),
    "rows-dropped": lambda n: (0, n, False),
}


@pytest.mark.parametrize("step", list(KILLED_AFTER))
async def test_kill_9_after_each_step_of_the_move_loses_no_row_and_the_next_move_finishes(
    redis_server: RedisServer, client: Redis, keys: Keys, tmp_path: Path, step: str
) -> None:
    ids, rows, seq, value = await _killed_move_center(redis_server, client, keys)
    disk = DiskArchive(tmp_path)
    try:
        pid = _move_in_child(redis_server.url, keys, seq, value, tmp_path, die_after=step)
        assert _reap(pid) == -signal.SIGKILL
        assert await _archive_state(client, keys, disk, ids, rows, seq) == KILLED_AFTER[step](
            len(rows)
        )
        assert _reap(_move_in_child(redis_server.url, keys, seq, value, tmp_path)) == 0
        assert await _archive_state(client, keys, disk, ids, rows, seq) == (0, len(rows), True)
    finally:
        disk.close()


async def test_kill_9_at_random_moments_of_the_move_loses_no_archived_order(
    redis_server: RedisServer, client: Redis, keys: Keys, tmp_path: Path
) -> None:
    ids, rows, seq, value = await _killed_move_center(redis_server, client, keys)
    disk = DiskArchive(tmp_path)
    rng = random.Random(1)
    try:
        for attempt in range(500):
            pid = _move_in_child(redis_server.url, keys, seq, value, tmp_path)
            # Later and later, 2 % a time: however long the move takes on a busy machine,
            # kills land all through it before one comes after it has finished. Where
            # they land is up to the machine; the test above kills after each step.
            await asyncio.sleep(min(0.0005 * 1.02**attempt * (1 + rng.random() / 2), 5.0))
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            *_, trimmed = await _archive_state(client, keys, disk, ids, rows, seq)
            if trimmed:
                break  # the move finished, before or after the kill
        else:
            pytest.fail("the move never finished")
        assert attempt > 0, "the first kill came after the move had finished"
        assert await _archive_state(client, keys, disk, ids, rows, seq) == (0, len(rows), True)
    finally:
        disk.close()
