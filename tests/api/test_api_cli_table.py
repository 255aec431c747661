"""The payroll table as a terminal shows it: columns by display width, user text harmless.

The table writer alone (api.cli.table), then `seatflow payroll` run for real on a SQLite
journal whose agents have Chinese, fullwidth, emoji and control-character ids and teams,
in English and in Chinese, from a closed month's row and replayed.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import unicodedata
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from api_support import Api, make_api, table_cells
from test_api_reports import NOV_SCHEME

from api.cli import main
from api.cli.table import Column, render, width
from engine import commands as cmd
from engine.sqlite_journal import JOURNAL_FILE, SqliteJournal

COLUMNS = [Column("坐席工号"), Column("班组"), Column("完成单量", right=True)]


def _placed(cells: list[list[str]], columns: list[Column]) -> None:
    """Every cell starts (text) or ends (numbers) at its column's edge."""
    for row in cells:
        for cell, column in zip(row, columns, strict=True):
            if cell.strip():
                assert cell == (cell.rstrip() if column.right else cell.lstrip()), row


def test_wide_characters_take_two_columns_and_marks_none() -> None:
    assert width("a1") == 2
    assert width("张伟") == 4  # CJK: W
    assert width("ＡＢ") == 4  # fullwidth Latin: F
    assert width("ｶﾞ") == 2  # halfwidth katakana: H, one column each
    assert width("e\u0301cole") == 5  # a combining acute accent: none
    assert width("😀") == 2
    assert width("–") == 1  # ambiguous (the table's "no value" dash): one, as terminals do


def test_columns_line_up_by_display_width_with_cjk_headings_and_names() -> None:
    rows = [["a1", "north", "12"], ["张伟", "华东一组", "3"], ["e\u0301cole", "ｅｍｏ😀", "1,204"]]
    title = "计件工资 2026-11（Asia/Shanghai，CNY）"
    text = render(title, COLUMNS, rows, ["3 名坐席", "", "1,219"])
    lines = text.splitlines()
    assert lines[0] == title
    assert lines[2] == lines[-2] == "────────  ────────  ────────"  # heading widths: 8 each
    cells = table_cells(text)
    _placed(cells, COLUMNS)
    assert [[c.strip() for c in row] for row in cells] == [
        ["坐席工号", "班组", "完成单量"],
        *rows,
        ["3 名坐席", "", "1,219"],
    ]
    assert lines[4] == "张伟      华东一组         3"
    assert all(line == line.rstrip() for line in lines)


def test_a_column_is_as_wide_as_its_widest_cell_heading_or_totals() -> None:
    columns = [Column("agent"), Column("n", right=True)]
    text = render("t", columns, [["张伟张伟张伟", "1"]], ["1 agents", "123456"])
    assert text.splitlines()[2] == "────────────  ──────"
    assert text.splitlines()[3] == "张伟张伟张伟       1"
    assert text.splitlines()[-1] == "1 agents      123456"


@pytest.mark.parametrize(
    ("name", "seen"),
    [
        ("\x1b[2J", "\\x1b[2J"),  # clear the screen
        ("\x1b]0;pwned\x07", "\\x1b]0;pwned\\x07"),  # retitle the window, then BEL
        ("\x9b31mred", "\\x9b31mred"),  # C1 CSI: an escape sequence without ESC
        ("a\rb\nc\td", "a\\rb\\nc\\td"),  # would overwrite the line, split the row, jump
        ("\u202eevil", "\\u202eevil"),  # a right-to-left override (Cf) would reverse the line
        ("[link=http://evil.example]x[/link]", "[link=http://evil.example]x[/link]"),
    ],
)
def test_control_characters_in_user_text_print_escaped(name: str, seen: str) -> None:
    text = render("t", COLUMNS, [[name, name, "1"], ["a1", "n", "2"]], [name, "", "3"])
    assert not [c for c in text if c != "\n" and unicodedata.category(c) in ("Cc", "Cf")]
    assert len(text.splitlines()) == 7  # title, headings, rule, 2 rows, rule, totals
    cells = [[c.strip() for c in row] for row in table_cells(text)]
    assert cells[1] == [seen, seen, "1"] and cells[-1] == [seen, "", "3"]


def test_a_row_of_the_wrong_length_is_refused() -> None:
    with pytest.raises(ValueError, match="a row of 2 cells in a table of 3 columns"):
        render("t", COLUMNS, [["a1", "north"]])


def test_a_table_without_rows_still_has_headings_and_totals() -> None:
    assert render("t", COLUMNS, [], ["0 名坐席", "", "0"]).splitlines() == [
        "t",
        "坐席工号  班组  完成单量",
        "────────  ────  ────────",
        "────────  ────  ────────",
        "0 名坐席               0",  # 8 columns, 2, 4, 2, then the 0 at the 8th of 8
    ]


# `seatflow payroll` on a real journal.

EVIL = "\x1b[2J\x9b31m\u202e"
AGENTS = [  # id, team, as the table must show them
    ("a1", "华东一组", "a1", "华东一组"),
    ("张伟", "north", "张伟", "north"),
    ("ｅｍｏ😀", "e\u0301quipe", "ｅｍｏ😀", "e\u0301quipe"),
    (EVIL, "\x07bell\r\nnext", "\\x1b[2J\\x9b31m\\u202e", "\\x07bell\\r\\nnext"),
]
HEADINGS = {
    "en": [
        "agent", "team", "completed", "payout", "on duty h", "utilization", "accuracy",
        "logout req.", "forced", "avg 1st reply s",
    ],
    "zh-CN": [
        "坐席工号", "班组", "完成单量", "应发金额", "在岗小时", "在岗率", "准确率", "下线申请",
        "强制下线", "平均首响秒",
    ],
}  # fmt: skip
TOTALS = {"en": "4 agents", "zh-CN": "4 名坐席"}


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[Api]:
    """The in-process API on a SQLite journal in tmp_path/data."""
    async for a in make_api(SqliteJournal.in_dir(tmp_path / "data")):
        yield a


async def _closed_november(api: Api) -> None:
    """a1 completes 5 orders (580 cents, QA 1 of 2) and 张伟 1 (100); November closed.
    The ids the API would refuse are in the journal as an older build or a tool wrote them."""
    await api.ok("PUT", "/v1/payroll/scheme", json=NOV_SCHEME)
    for agent_id, team, _, _ in AGENTS:
        await api.engine.execute(cmd.UpsertAgent(agent_id, agent_id, team, [], 10))
    await api.clock("2026-11-23T08:00:00Z")
    await api.engine.execute(cmd.Login("a1"))
    for i in range(5):
        await api.ok("POST", "/v1/orders", json={"id": f"a{i}"})
    await api.engine.execute(cmd.Login("张伟"))
    await api.ok("POST", "/v1/orders", json={"id": "z0"})
    await api.clock("2026-11-23T10:00:00Z")
    for order_id in ("a0", "a1", "a2", "a3", "a4", "z0"):
        await api.ok("POST", f"/v1/orders/{order_id}/complete")
    await api.ok("POST", "/v1/orders/a0/qa", json={"passed": True})
    await api.ok("POST", "/v1/orders/a1/qa", json={"passed": False})
    await api.clock("2026-12-01T00:00:00Z")
    await api.ok("POST", "/v1/payroll/2026-11/close")


async def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert await asyncio.to_thread(main, ["payroll", "2026-11", *argv]) == 0
    return capsys.readouterr().out


def _expected(report: dict[str, Any], lang: str) -> list[list[str]]:
    """The table's cells from the month's JSON report: what rich's table showed."""

    def money(c: int) -> str:
        return f"{c // 100:,}.{c % 100:02d}"

    def figures(x: dict[str, Any]) -> list[str]:
        pct = [("–" if x[k] is None else f"{x[k]:.1%}") for k in ("utilization", "accuracy")]
        first = x["avg_first_response_s"]
        return [
            str(x["completed"]), money(x["payout_cents"]), f"{x['on_duty_s'] / 3600:.2f}",
            *pct, str(x["logout_requests"]), str(x["forced_logouts"]),
            "–" if first is None else f"{first:.1f}",
        ]  # fmt: skip

    shown = {agent_id: (as_id, as_team) for agent_id, _, as_id, as_team in AGENTS}
    rows = [[*shown[r["agent_id"]], *figures(r)] for r in report["agents"]]
    return [HEADINGS[lang], *rows, [TOTALS[lang], "", *figures(report["totals"])]]


async def test_the_payroll_table_in_english_and_chinese_lines_up_and_adds_up(
    api: Api, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = str(tmp_path / "data")
    await _closed_november(api)
    report = json.loads(await _cli(capsys, "--data", data, "--format", "json"))
    assert [r["agent_id"] for r in report["agents"]] == [EVIL, "a1", "张伟", "ｅｍｏ😀"]
    tables = {}
    for lang, title in (
        ("en", "Payroll 2026-11 (Asia/Shanghai, CNY)"),
        ("zh-CN", "计件工资 2026-11（Asia/Shanghai，CNY）"),
    ):
        text = tables[lang] = await _cli(capsys, "--data", data, "--lang", lang)
        assert text.splitlines()[0] == title
        assert not [c for c in text if c != "\n" and unicodedata.category(c) in ("Cc", "Cf")]
        cells = table_cells(text)  # every character inside its heading's column
        columns = [Column(h, right=i > 1) for i, h in enumerate(HEADINGS[lang])]
        _placed(cells, columns)
        stripped = [[c.strip() for c in row] for row in cells]
        assert stripped == _expected(report, lang)
        by_id = {row[0]: row for row in stripped}
        assert by_id["a1"][1:4] == ["华东一组", "5", "5.80"]
        assert by_id["a1"][6] == "50.0%"
        assert by_id["张伟"][2:4] == ["1", "1.00"]
        assert stripped[-1][:4] == [TOTALS[lang], "", "6", "6.80"]
    # The center's language is the default; a month closed by a build without rows, or an
    # open month, is replayed to the same table.
    await api.ok("PUT", "/v1/settings", json={"language": "zh-CN"})
    assert await _cli(capsys, "--data", data) == tables["zh-CN"]
    await api.engine.close()
    db = sqlite3.connect(tmp_path / "data" / JOURNAL_FILE)
    with db:
        assert db.execute("DELETE FROM closed").rowcount == 1
    db.close()
    assert await _cli(capsys, "--data", data) == tables["zh-CN"]
    assert await _cli(capsys, "--data", data, "--lang", "en") == tables["en"]
