"""`seatflow payroll` of a closed month: the live report's bytes, from the close's row.

A live API on a real SQLite journal (and on Redis) closes November; the command then
answers what `GET /v1/payroll/2026-11` answers, in every format, without replaying.
"""

from __future__ import annotations

import asyncio
import io
import sqlite3
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import openpyxl
import pytest
import redis
from api_support import ADMIN_KEY, START, Api, make_api
from redis_server import RedisServer
from test_api_reports import _november

from api.app import create_app
from api.cli import main
from engine.checkpoint import encode
from engine.checkpoint_files import CheckpointFiles
from engine.clock import ManualClock
from engine.core import Engine
from engine.redis_backend.keys import Keys
from engine.redis_backend.node import RedisNode
from engine.sqlite_journal import JOURNAL_FILE, SqliteJournal
from presence.timeutil import parse_time

DECEMBER = "2026-12-01T00:00:00Z"  # November has ended in Asia/Shanghai


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[Api]:
    """The in-process API on a SQLite journal in tmp_path/data."""
    async for a in make_api(SqliteJournal.in_dir(tmp_path / "data")):
        yield a


async def _closed_november(api: Api) -> None:
    await _november(api)
    await api.clock(DECEMBER)
    await api.ok("POST", "/v1/payroll/2026-11/close")
    # Changed after the close: the CSV's headers follow the center's language now.
    await api.ok("PUT", "/v1/settings", json={"language": "zh-CN"})


async def _live(api: Api, month: str, fmt: str) -> bytes:
    r = await api.call("GET", f"/v1/payroll/{month}?format={fmt}")
    assert r.status_code == 200, r.text
    return r.content


async def _run(*argv: str) -> int:
    """The command as a terminal runs it: its own event loops, so off this test's."""
    return await asyncio.to_thread(main, ["payroll", *argv])


async def _cli(capsys: pytest.CaptureFixture[bytes], *argv: str) -> bytes:
    assert await _run(*argv) == 0
    return capsys.readouterr().out


def _sheet_rows(data: bytes) -> list[tuple[Any, ...]]:
    book = openpyxl.load_workbook(io.BytesIO(data))
    return [row for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)]


def _checkpoint(data: Path, engine: Engine) -> None:
    """A checkpoint of the state as it stands, as `seatflow serve` writes them."""
    journal = engine.journal
    assert isinstance(journal, SqliteJournal)
    record = journal.record(engine.last_seq)
    assert record is not None
    CheckpointFiles(data).write(encode(engine.state, engine.last_seq, record), engine.last_seq)


@pytest.mark.parametrize("checkpointed", [False, True])
async def test_a_closed_month_prints_the_live_reports_bytes_in_every_format(
    api: Api, tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes], checkpointed: bool
) -> None:
    data = tmp_path / "data"
    await _november(api)
    await api.clock(DECEMBER)
    await api.ok("POST", "/v1/payroll/2026-11/close")
    if checkpointed:  # the language then comes from the checkpoint and the journal after it
        _checkpoint(data, api.engine)
    await api.ok("PUT", "/v1/settings", json={"language": "zh-CN"})
    out = tmp_path / "november.xlsx"
    assert await _cli(capsysbinary, "2026-11", "--data", str(data), "--format", "json") == (
        await _live(api, "2026-11", "json")
    )
    csv = await _cli(capsysbinary, "2026-11", "--data", str(data), "--format", "csv")
    assert csv == await _live(api, "2026-11", "csv")
    assert csv.startswith("\ufeff".encode())  # zh-CN: a byte-order mark, Chinese headers
    await _cli(
        capsysbinary, "2026-11", "--data", str(data), "--format", "xlsx", "--output", str(out)
    )
    assert _sheet_rows(out.read_bytes()) == _sheet_rows(await _live(api, "2026-11", "xlsx"))
    english = await _cli(
        capsysbinary, "2026-11", "--data", str(data), "--format", "csv", "--lang", "en"
    )
    assert english == (await api.call("GET", "/v1/payroll/2026-11?format=csv&lang=en")).content
    table = (await _cli(capsysbinary, "2026-11", "--data", str(data))).decode()
    assert "2026-11" in table and "a1" in table


async def test_a_closed_month_is_answered_from_its_row_without_replaying(
    api: Api, tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    """Proof that nothing is replayed: a record no build can decode after the close stops
    every replay (an open month), not the closed month's answer."""
    data = tmp_path / "data"
    await _closed_november(api)
    expected = {fmt: await _live(api, "2026-11", fmt) for fmt in ("json", "csv")}
    await api.engine.close()
    db = sqlite3.connect(data / JOURNAL_FILE)
    with db:
        db.execute("INSERT INTO journal (seq, data) SELECT max(seq) + 1, x'c1' FROM journal")
    db.close()
    for fmt, body in expected.items():
        assert await _cli(capsysbinary, "2026-11", "--data", str(data), "--format", fmt) == body
    with pytest.raises(Exception):  # noqa: B017, PT011 - whatever the decoder raises
        await _run("2026-12", "--data", str(data), "--format", "json")


async def test_a_month_closed_by_a_build_without_rows_is_replayed_to_the_same_bytes(
    api: Api, tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    data = tmp_path / "data"
    await _closed_november(api)
    db = sqlite3.connect(data / JOURNAL_FILE)
    with db:
        db.execute("DELETE FROM closed")  # as a journal written before the table existed
    db.close()
    for fmt in ("json", "csv"):
        cli = await _cli(capsysbinary, "2026-11", "--data", str(data), "--format", fmt)
        assert cli == await _live(api, "2026-11", fmt)


async def test_an_open_month_and_bad_input_work_as_before(
    api: Api, tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    data = tmp_path / "data"
    await _closed_november(api)
    december = await _cli(capsysbinary, "2026-12", "--data", str(data), "--format", "json")
    assert december == await _live(api, "2026-12", "json")
    assert await _run("2026-13", "--data", str(data)) == 2
    assert b"is not a month like '2026-11'" in capsysbinary.readouterr().err
    assert await _run("2026-11", "--data", str(tmp_path / "none")) == 2
    assert b"no journal at" in capsysbinary.readouterr().err


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis").start()
    try:
        yield server
    finally:
        server.kill9()


async def test_on_redis_a_closed_month_is_read_from_the_closed_hash(
    redis_server: RedisServer, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    node = RedisNode(redis_server.url, "north", ManualClock(0), start_ms=parse_time(START))
    await node.start()
    try:
        app = create_app(node, admin_key=ADMIN_KEY)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://seatflow"
        ) as client:
            api = Api(client, node, None)  # type: ignore[arg-type]
            await _closed_november(api)
            expected = {fmt: await _live(api, "2026-11", fmt) for fmt in ("json", "csv")}
    finally:
        await node.close()
    store = ["--redis", redis_server.url, "--center", "north"]
    for fmt, body in expected.items():
        assert await _cli(capsysbinary, "2026-11", *store, "--format", fmt) == body
    # Without the hash's row (a center closed by an older build): replayed, the same bytes.
    with redis.Redis.from_url(redis_server.url) as r:
        assert r.hdel(Keys("north").closed, "2026-11") == 1
    for fmt, body in expected.items():
        assert await _cli(capsysbinary, "2026-11", *store, "--format", fmt) == body
