"""The `seatflow` command in-process: keys create and replay on a real SQLite journal.

`seatflow serve` is tested from outside, as a real process, in tests/e2e.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from api_support import table_cells

from api.auth import hash_key
from api.cli import main
from engine import commands as cmd
from engine.clock import ManualClock
from engine.core import Engine
from engine.sqlite_journal import SqliteJournal, lock_data_dir
from presence.timeutil import parse_time


def _seed(data: Path) -> None:
    async def run() -> None:
        engine = Engine(SqliteJournal.in_dir(data), ManualClock(parse_time("2026-11-23T09:00:00Z")))
        await engine.execute(cmd.UpsertAgent("a1", "Ann", "north", ["pre"], 1))
        await engine.execute(cmd.Login("a1"))
        digest = b"\0" * 16
        orders = [cmd.NewOrder(f"o{i}", "pre", 0, digest) for i in range(3)]
        await engine.execute(cmd.SubmitOrders(orders))
        await engine.close()

    asyncio.run(run())


def test_replay_summarizes_the_journal(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _seed(tmp_path)
    assert main(["replay", "--data", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "records        3 replayed in" in out
    assert "last event     2026-11-23T09:00:00Z" in out
    assert "agents         1: available 1" in out
    assert "orders         3 in memory: assigned 1, queued 2; 0 archived" in out
    assert "queues         pre 2" in out
    assert "logout pending 0" in out


def test_replay_reads_while_the_data_dir_is_locked(tmp_path: Path) -> None:
    _seed(tmp_path)
    fd = lock_data_dir(tmp_path)  # as a running server holds it
    try:
        assert main(["replay", "--data", str(tmp_path)]) == 0
    finally:
        import os

        os.close(fd)


def test_replay_without_a_journal_fails_clearly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["replay", "--data", str(tmp_path / "none")]) == 2
    assert "no journal at" in capsys.readouterr().err
    assert not (tmp_path / "none").exists()


def test_keys_create_offline_appends_a_hashed_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _seed(tmp_path)
    assert (
        main(["keys", "create", "--role", "agent", "--agent", "a1", "--data", str(tmp_path)]) == 0
    )
    key = capsys.readouterr().out.strip()
    engine = Engine(SqliteJournal.in_dir(tmp_path), ManualClock(0))
    assert engine.recover() == 4
    (made,) = engine.state.keys.values()
    assert (made.role, made.agent_id, made.id) == ("agent", "a1", hash_key(key)[:12])
    assert list(engine.state.keys) == [hash_key(key)]
    # The key did not move the journal's (virtual) time forward.
    assert engine.state.now == parse_time("2026-11-23T09:00:00Z")
    asyncio.run(engine.close())


def test_keys_create_refuses_bad_roles_and_a_running_server(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(["keys", "create", "--role", "agent", "--agent", "ghost", "--data", str(tmp_path)])
        == 2
    )
    assert capsys.readouterr().err == "seatflow: agent 'ghost' does not exist\n"
    fd = lock_data_dir(tmp_path)
    try:
        assert main(["keys", "create", "--role", "platform", "--data", str(tmp_path)]) == 2
    finally:
        import os

        os.close(fd)
    assert "the server is running" in capsys.readouterr().err


def test_serve_with_a_bad_redis_url_or_center_fails_clearly(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["serve", "--redis", "http://127.0.0.1:6379"]) == 2
    assert "--redis http://127.0.0.1:6379" in capsys.readouterr().err
    assert main(["serve", "--redis", "redis://127.0.0.1:6379/0", "--center", "a b"]) == 2
    assert "center name 'a b'" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--start", "2026-11-23T07:00:00Z"], "--start needs --clock manual"),
        (["--clock", "manual", "--start", "monday"], "--start: 'monday' is not an RFC 3339 time"),
        (["--clock", "manual", "--start", "2026-11-23T07:00:00"], "has no UTC offset"),
        (["--clock", "manual", "--start", "2200-01-01T00:00:00Z"], "outside 1970-01-01 .. 2200"),
        (["--clock", "manual", "--start", "1969-12-31T23:59:59Z"], "outside 1970-01-01 .. 2200"),
    ],
)
def test_serve_refuses_a_start_it_cannot_use_before_it_touches_anything(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], says: str
) -> None:
    data = tmp_path / "data"
    assert main(["serve", "--data", str(data), *args]) == 2
    assert says in capsys.readouterr().err
    assert not data.exists(), "a refused serve must not create its data directory"


def test_replay_and_payroll_never_pass_terminal_control_or_markup_from_the_journal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A platform's skill or an admin's team name reaches an operator's terminal as text."""
    clear_and_retitle = "\x1b]0;pwned\x07\x1b[2J"
    link = "[link=http://evil.example]click[/link]"

    async def seed() -> None:
        clock = ManualClock(parse_time("2026-11-23T09:00:00Z"))
        engine = Engine(SqliteJournal.in_dir(tmp_path), clock)
        await engine.execute(cmd.SetPayrollScheme("2026-11", "CNY", [], [100]))
        await engine.execute(cmd.UpsertAgent("a1", "Ann", link, ["pre"], 1))
        await engine.execute(cmd.Login("a1"))
        orders = [cmd.NewOrder(o, "pre", 0, b"\0" * 16) for o in ("o1",)]
        await engine.execute(cmd.SubmitOrders(orders))
        await engine.execute(cmd.CompleteOrder("o1"))
        queued = cmd.NewOrder("o2", clear_and_retitle, 0, b"\1" * 16)
        await engine.execute(cmd.SubmitOrders([queued]))
        await engine.close()

    asyncio.run(seed())
    assert main(["replay", "--data", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out
    assert "\\x1b]0;pwned\\x07\\x1b[2J 1" in out  # the queue, shown escaped
    assert main(["payroll", "2026-11", "--data", str(tmp_path)]) == 0
    table = capsys.readouterr().out
    assert "\x1b" not in table
    row = next(line for line in table.splitlines() if line.startswith("a1 "))
    assert row.split()[1] == link  # the markup shows as text: nothing reads it


def test_the_payroll_table_shows_the_response_kpi_of_the_report_rows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 14: the table has the rows' `avg_first_response_s` (assignment to first reply),
    "–" for an agent with no first response, and the center's in the totals row."""

    async def seed() -> None:
        clock = ManualClock(parse_time("2026-11-23T09:00:00Z"))
        engine = Engine(SqliteJournal.in_dir(tmp_path), clock)
        await engine.execute(cmd.SetPayrollScheme("2026-11", "CNY", [], [100]))
        await engine.execute(cmd.UpsertAgent("a1", "Ann", "north", ["pre"], 1))
        await engine.execute(cmd.UpsertAgent("b1", "Bo", "south", ["pre"], 1))
        await engine.execute(cmd.Login("a1"))
        for i, wait_s in enumerate((20, 45)):  # answered 20 s and 45 s after assignment
            await engine.execute(cmd.SubmitOrders([cmd.NewOrder(f"o{i}", "pre", 0, b"\0" * 16)]))
            clock.advance(wait_s * 1000)
            await engine.execute(cmd.RecordResponse(f"o{i}"))
            await engine.execute(cmd.CompleteOrder(f"o{i}"))
        await engine.close()

    asyncio.run(seed())
    for lang, header, total in (
        ("en", "avg 1st reply s", "2 agents"),
        ("zh-CN", "平均首响秒", "2 名坐席"),
    ):
        assert main(["payroll", "2026-11", "--data", str(tmp_path), "--lang", lang]) == 0
        heads, *cells = table_cells(capsys.readouterr().out)
        assert heads[-1].strip() == header, heads
        rows = {row[0].strip(): [c.strip() for c in row] for row in cells}
        assert (rows["a1"][2], rows["a1"][-1]) == ("2", "32.5"), rows
        assert (rows["b1"][2], rows["b1"][-1]) == ("0", "–"), rows
        assert rows[total][-1] == "32.5", rows


def test_serve_refuses_a_short_admin_key_before_it_touches_anything(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SEATFLOW_ADMIN_KEY", "dev-admin-key")
    data = tmp_path / "data"
    assert main(["serve", "--data", str(data)]) == 2
    err = capsys.readouterr().err
    assert "SEATFLOW_ADMIN_KEY is 13 characters; an admin key needs at least 16" in err
    assert "secrets.token_urlsafe" in err
    assert not data.exists()


def test_serve_refuses_a_header_timeout_out_of_range(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve", "--data", str(tmp_path / "d"), "--header-timeout", "0"]) == 2
    assert "--header-timeout 0 is out of range: (0, 3600] seconds" in capsys.readouterr().err


def test_keys_list_and_revoke_offline(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _seed(tmp_path)
    data = ["--data", str(tmp_path)]
    assert main(["keys", "create", "--role", "platform", *data]) == 0
    made = capsys.readouterr()
    key = made.out.strip()
    kid = hash_key(key)[:12]
    assert made.err == f"key id {kid}: revoke it with 'seatflow keys revoke {kid}'\n"

    assert main(["keys", "list", *data]) == 0
    listed = capsys.readouterr().out
    assert listed.startswith(f"{kid}  platform")
    assert "created 2026-11-23T09:00:00Z  -" in listed and key not in listed

    assert main(["keys", "revoke", kid, *data]) == 0
    assert capsys.readouterr().out == f"key {kid} revoked\n"
    assert main(["keys", "list", *data]) == 0
    assert "revoked 2026-11-23T09:00:00Z by cli" in capsys.readouterr().out

    assert main(["keys", "revoke", "nope", *data]) == 2
    assert capsys.readouterr().err == "seatflow: key 'nope' does not exist\n"
