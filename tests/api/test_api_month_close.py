"""Closing a payroll month: frozen for good, and what arrives later is an adjustment."""

from __future__ import annotations

from api_support import Api, error
from test_api_reports import _november

from engine.checkpoint import restore
from engine.clock import ManualClock
from engine.core import Engine
from engine.fingerprint import fingerprint
from engine.journal import MemoryJournal
from engine.payroll.report import payroll_report

DECEMBER = "2026-12-01T00:00:00Z"  # November has ended in Asia/Shanghai (16:00Z on the 30th)


async def _payroll(api: Api, month: str, fmt: str = "json") -> bytes:
    r = await api.call("GET", f"/v1/payroll/{month}?format={fmt}")
    assert r.status_code == 200, r.text
    return r.content


async def test_a_month_closes_only_once_it_has_ended(api: Api) -> None:
    await _november(api)
    records = len(api.journal.records)
    err = error(await api.call("POST", "/v1/payroll/2026-11/close"), 409, "month_not_over")
    assert err["message"] == (
        "payroll month 2026-11 has not ended: it ends at 2026-11-30T16:00:00Z (Asia/Shanghai)"
    )
    assert err["detail"] == {"ends_at": "2026-11-30T16:00:00Z"}
    assert len(api.journal.records) == records
    error(await api.call("POST", "/v1/payroll/2026-13/close"), 422, "invalid_field")
    error(await api.call("POST", "/v1/payroll/2026-09/close"), 409, "no_payroll_scheme")


async def test_a_closed_month_never_changes(api: Api) -> None:
    await _november(api)
    await api.clock(DECEMBER)
    before = {fmt: await _payroll(api, "2026-11", fmt) for fmt in ("json", "csv")}
    closed = await api.ok("POST", "/v1/payroll/2026-11/close")
    assert closed["month"] == "2026-11" and closed["closed_at"] == DECEMBER
    assert closed["totals"]["payout_cents"] == 680
    frozen = await api.ok("GET", "/v1/payroll/2026-11")
    assert frozen["closed_at"] == DECEMBER
    records = len(api.journal.records)
    assert await api.ok("POST", "/v1/payroll/2026-11/close") == closed  # again: the same
    assert len(api.journal.records) == records

    # Late news about November's work: a QA result, a changed schedule.
    await api.ok("POST", "/v1/orders/a2/qa", json={"passed": True})
    await api.ok("POST", "/v1/orders/a0/qa", json={"passed": False})
    assert await api.ok("GET", "/v1/payroll/2026-11") == frozen
    assert await _payroll(api, "2026-11", "csv") == before["csv"]
    # A scheme for November, or a time zone that would move November's work, is refused.
    scheme = {"effective_from": "2026-11", "currency": "CNY", "thresholds": [1],
              "rates_cents": [1, 2]}  # fmt: skip
    err = error(await api.call("PUT", "/v1/payroll/scheme", json=scheme), 409, "month_closed")
    assert "a scheme can take effect from 2026-12 on" in err["message"]
    err = error(await api.call("PUT", "/v1/settings", json={"timezone": "UTC"}), 409,
                "timezone_locked")  # fmt: skip
    december_scheme = {**scheme, "effective_from": "2026-12"}
    assert (await api.call("PUT", "/v1/payroll/scheme", json=december_scheme)).status_code == 201

    # December carries the two late QA results as an adjustment of a1's row.
    december = await api.ok("GET", "/v1/payroll/2026-12")
    a1 = next(r for r in december["agents"] if r["agent_id"] == "a1")
    assert a1["adjustments"] == [{"month": "2026-11", "kind": "qa", "orders": 2, "amount_cents": 0}]

    # Replayed from the journal, and through a checkpoint, November is the same report.
    journal = MemoryJournal()
    journal.records = list(api.journal.records)
    again = Engine(journal, ManualClock(0))
    again.recover()
    now = api.engine.now()
    through = restore(fingerprint(again.state), archived_ids=again.state.archived_ids.dump())
    for state in (again.state, through):
        assert payroll_report(state, "2026-11", now) == payroll_report(
            api.engine.state, "2026-11", now
        )


async def test_closing_the_next_month_carries_the_adjustment_for_good(api: Api) -> None:
    await _november(api)
    await api.clock(DECEMBER)
    await api.ok("POST", "/v1/payroll/2026-11/close")
    await api.ok("POST", "/v1/orders/a2/qa", json={"passed": True})
    await api.clock("2027-01-01T00:00:00Z")
    december = await api.ok("POST", "/v1/payroll/2026-12/close")
    assert december["month"] == "2026-12"
    frozen = await api.ok("GET", "/v1/payroll/2026-12")
    a1 = next(r for r in frozen["agents"] if r["agent_id"] == "a1")
    assert a1["adjustments"] == [{"month": "2026-11", "kind": "qa", "orders": 1,
                                  "amount_cents": 0}]  # fmt: skip
    january = await api.ok("GET", "/v1/payroll/2027-01")
    assert all(r["adjustments"] == [] for r in january["agents"])  # carried once only
    assert api.engine.state.late == {}


async def test_a_report_frozen_before_later_fields_existed_still_answers(api: Api) -> None:
    """A month closed by an older build answers its report as frozen, new fields defaulted."""
    import msgspec

    from engine.payroll.closing import ClosedMonth

    await _november(api)
    await api.clock(DECEMBER)
    await api.ok("POST", "/v1/payroll/2026-11/close")
    closed = api.engine.state.closed_months["2026-11"]
    report = msgspec.json.decode(closed.report)
    for row in (*report["agents"], report["totals"]):
        for later in ("first_responses", "avg_first_response_s", "adjustments"):
            row.pop(later, None)
    old = ClosedMonth(closed.closed_at, closed.by, msgspec.json.encode(report))
    api.engine.state.closed_months["2026-11"] = old
    body = await api.ok("GET", "/v1/payroll/2026-11")
    assert body["totals"]["payout_cents"] == 680 and body["agents"][0]["adjustments"] == []
    assert (await api.call("GET", "/v1/payroll/2026-11?format=csv")).status_code == 200
