"""Payroll end to end: the real server on the manual clock, a month's tallies as JSON,
CSV and XLSX matching a hand calculation, identical after a restart, and the same
numbers from `seatflow payroll` on the journal."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import openpyxl
import pytest

from .support import Server, add_shifts, login, make_key, ok, put_agent, set_clock

pytestmark = pytest.mark.e2e


def _next_month() -> date:
    today = datetime.now(UTC).date()
    return date(today.year + today.month // 12, today.month % 12 + 1, 1)


def _z(d: date, hours: float) -> str:
    """UTC time `hours` after UTC midnight of `d` (Shanghai is UTC+8)."""
    t = datetime(d.year, d.month, d.day, tzinfo=UTC) + timedelta(hours=hours)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_a_month_of_payroll_survives_restart_and_matches_the_cli(server: Server) -> None:
    month = _next_month()
    m = f"{month.year:04d}-{month.month:02d}"
    nxt = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    admin = server.client(server.admin_key)
    payroll = server.client(make_key(admin, "payroll"))
    scheme = {"effective_from": m, "currency": "CNY", "thresholds": [2, 4],
              "rates_cents": [100, 120, 140]}  # fmt: skip
    assert ok(payroll.put("/v1/payroll/scheme", json=scheme), 201) == scheme
    put_agent(admin, "a1", capacity=10)
    put_agent(admin, "b1", capacity=10)
    last_day = nxt - timedelta(days=1)
    # a1 works the last local evening of the month into the next (shift across midnight).
    add_shifts(
        admin,
        ("a1", _z(last_day, 10), _z(last_day, 18)),
        ("b1", _z(last_day, 10), _z(last_day, 14)),
    )
    set_clock(admin, _z(last_day, 10))
    login(admin, "a1")
    for i in range(6):
        ok(admin.post("/v1/orders", json={"id": f"pay-{i}"}), 201)
    login(admin, "b1")
    ok(admin.post("/v1/orders", json={"id": "pay-b"}), 201)
    set_clock(admin, _z(last_day, 12))
    for i in range(5):
        ok(admin.post(f"/v1/orders/pay-{i}/complete"))
    ok(admin.post("/v1/orders/pay-b/complete"))
    ok(admin.post("/v1/orders/pay-0/qa", json={"passed": True}))
    ok(admin.post("/v1/orders/pay-1/qa", json={"passed": False}))
    set_clock(admin, _z(last_day, 17))  # 01:00 local on the 1st of the next month
    ok(admin.post("/v1/orders/pay-5/complete"))
    set_clock(admin, _z(last_day, 20))

    report = ok(payroll.get(f"/v1/payroll/{m}"))
    by_id = {a["agent_id"]: a for a in report["agents"]}
    # By hand: 5 orders = 2 x 100 + 2 x 120 + 1 x 140 = 580 cents; b1 1 x 100.
    assert by_id["a1"]["completed"] == 5 and by_id["a1"]["payout_cents"] == 580
    assert [t["count"] for t in by_id["a1"]["tiers"]] == [2, 2, 1]
    assert by_id["b1"]["payout_cents"] == 100
    assert (by_id["a1"]["qa_checked"], by_id["a1"]["qa_passed"]) == (2, 1)
    # a1 was scheduled and on duty 10:00Z..16:00Z of the month (then local midnight).
    assert by_id["a1"]["scheduled_s"] == 6 * 3600 and by_id["a1"]["utilization"] == 1.0
    assert report["totals"]["payout_cents"] == 680
    following = ok(payroll.get(f"/v1/payroll/{nxt.year:04d}-{nxt.month:02d}"))
    assert {a["agent_id"]: a["completed"] for a in following["agents"]} == {"a1": 1, "b1": 0}

    csv_text = payroll.get(f"/v1/payroll/{m}?format=csv").text
    xlsx = payroll.get(f"/v1/payroll/{m}?format=xlsx").content
    zh_csv = payroll.get(f"/v1/payroll/{m}?format=csv&lang=zh-CN").content
    util = ok(payroll.get(f"/v1/utilization?from={_z(last_day, 0)}&to={_z(last_day, 24)}"))

    server.restart()
    assert ok(payroll.get(f"/v1/payroll/{m}")) == report
    assert payroll.get(f"/v1/payroll/{m}?format=csv").text == csv_text
    assert ok(payroll.get(f"/v1/utilization?from={_z(last_day, 0)}&to={_z(last_day, 24)}")) == util
    after = payroll.get(f"/v1/payroll/{m}?format=xlsx").content
    assert _cells(after) == _cells(xlsx)

    server.stop()
    done = server.cli("payroll", m, "--format", "csv")
    assert done.returncode == 0, done.stderr
    # The same bytes; text=True reading turned the CSV's CRLF line ends into LF.
    assert done.stdout == csv_text.replace("\r\n", "\n")
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert [(r["agent_id"], r["payout_cents"]) for r in rows] == [("a1", "580"), ("b1", "100")]
    table = server.cli("payroll", m)
    assert table.returncode == 0, table.stderr
    assert "a1" in table.stdout and "5.80" in table.stdout and "6.80" in table.stdout
    out = server.root / "out.xlsx"
    made = server.cli("payroll", m, "--format", "xlsx", "--output", str(out))
    assert made.returncode == 0, made.stderr
    assert _cells(out.read_bytes()) == _cells(xlsx)
    zh = server.cli("payroll", m, "--format", "csv", "--lang", "zh-CN", "--output", str(out))
    assert zh.returncode == 0, zh.stderr
    assert out.read_bytes() == zh_csv and zh_csv.startswith(b"\xef\xbb\xbf")
    zh_table = server.cli("payroll", m, "--lang", "zh-CN")
    assert "计件工资" in zh_table.stdout, zh_table.stdout
    assert "2 名坐席" in zh_table.stdout and "应发金额" in zh_table.stdout
    bad = server.cli("payroll", "2026-13")
    assert bad.returncode == 2 and "month '2026-13' is not a month like '2026-11'" in bad.stderr


def _cells(data: bytes) -> list[list[object]]:
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    return [[c.value for c in row] for row in sheet.iter_rows()]
