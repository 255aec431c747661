"""The monthly payroll as CSV (one row per agent, cents as integers) and as a spreadsheet.

Both carry exactly the rows of the JSON report. The spreadsheet has a bold header
row, frozen panes (header and agent id stay in view), money as currency amounts
(cents / 100 with a currency number format), ratios as percentages and a totals row.
Headers and the sheet's name come from the language's catalogue (engine.i18n); the
English CSV header is the machine names integrations read, unchanged. A CSV for a
spreadsheet may start with a byte-order mark, so that Excel reads its UTF-8 (Chinese
names intact) instead of guessing a local code page.

Payroll staff open these files in a spreadsheet, and names and teams are text anyone
with an admin key typed: a cell of user text that would start a formula is written as
text, prefixed with `'` (OWASP's CSV-injection rule), and the spreadsheet writer never
turns a string into a formula, a link or a number.
"""

from __future__ import annotations

import csv
import io

from engine.i18n import strings
from engine.payroll.views import PayrollReport, PayrollRow

BOM = "\ufeff"
# Languages whose CSV is meant for a spreadsheet first: a byte-order mark unless told not to.
BOM_BY_DEFAULT = frozenset({"zh-CN"})
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutral(value: object) -> object:
    """A cell as written: text that a spreadsheet would run as a formula gets a leading `'`."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


_CURRENCY_FORMATS = {
    "CNY": '"¥"#,##0.00',
    "USD": '"$"#,##0.00',
    "EUR": '"€"#,##0.00',
    "GBP": '"£"#,##0.00',
    "JPY": '"¥"#,##0',
}


def columns(report: PayrollReport, lang: str = "en") -> list[str]:
    """CSV header: fixed columns, then count and amount of each band (`tier1_count`, ...)."""
    t = strings(lang, "payroll", "csv")
    tiers = [
        t[name].format(n=i)
        for i in range(1, len(report.scheme.rates_cents) + 1)
        for name in ("tier_count", "tier_amount_cents")
    ]
    return [
        t["month"], t["agent_id"], t["name"], t["team"], t["completed"], *tiers,
        t["payout_cents"], t["currency"], t["scheduled_s"], t["on_duty_s"], t["utilization"],
        t["qa_checked"], t["qa_passed"], t["accuracy"], t["logout_requests"], t["forced_logouts"],
        t["avg_first_response_s"],
    ]  # fmt: skip


def _opt(value: float | None) -> float | str:
    return "" if value is None else value


def csv_rows(report: PayrollReport) -> list[list[object]]:
    return [
        [
            report.month,
            r.agent_id,
            r.name,
            r.team,
            r.completed,
            *(x for t in r.tiers for x in (t.count, t.amount_cents)),
            r.payout_cents,
            report.scheme.currency,
            r.scheduled_s,
            r.on_duty_s,
            _opt(r.utilization),
            r.qa_checked,
            r.qa_passed,
            _opt(r.accuracy),
            r.logout_requests,
            r.forced_logouts,
            _opt(r.avg_first_response_s),
        ]  # fmt: skip
        for r in report.agents
    ]


def to_csv(report: PayrollReport, lang: str = "en", *, bom: bool | None = None) -> str:
    """The CSV; `bom` None: a byte-order mark for the languages of BOM_BY_DEFAULT."""
    out = io.StringIO()
    if lang in BOM_BY_DEFAULT if bom is None else bom:
        out.write(BOM)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns(report, lang))
    writer.writerows([neutral(v) for v in row] for row in csv_rows(report))
    return out.getvalue()


# -- xlsx ---------------------------------------------------------------------------------


def _sheet_header(report: PayrollReport, t: dict[str, str]) -> list[str]:
    tiers = []
    for i, (lo, hi, rate) in enumerate(_bands(report), start=1):
        span = f"{lo}+" if hi is None else f"{lo}-{hi}"
        tiers += [
            t["tier_orders"].format(n=i, span=span),
            t["tier_pay"].format(n=i, rate=f"{rate / 100:.2f}"),
        ]
    return [
        t["agent"], t["name"], t["team"], t["completed"], *tiers, t["payout"], t["scheduled_h"],
        t["on_duty_h"], t["utilization"], t["qa_checked"], t["qa_passed"], t["accuracy"],
        t["logout_requests"], t["forced_logouts"], t["avg_first_response_s"],
    ]  # fmt: skip


def _bands(report: PayrollReport) -> list[tuple[int, int | None, int]]:
    return [(t.from_, t.to, t.rate_cents) for t in report.totals.tiers]


def _values(r: PayrollRow) -> list[object]:
    """One sheet row: money in currency units, hours, ratios (None for an empty cell)."""
    return [
        r.agent_id, r.name, r.team, r.completed,
        *(x for t in r.tiers for x in (t.count, t.amount_cents / 100)),
        r.payout_cents / 100, r.scheduled_s / 3600, r.on_duty_s / 3600, r.utilization,
        r.qa_checked, r.qa_passed, r.accuracy, r.logout_requests, r.forced_logouts,
        r.avg_first_response_s,
    ]  # fmt: skip


def to_xlsx(report: PayrollReport, lang: str = "en") -> bytes:
    import xlsxwriter  # only the spreadsheet export needs it

    t = strings(lang, "payroll", "sheet")
    out = io.BytesIO()
    book = xlsxwriter.Workbook(
        out,
        {
            "in_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    sheet = book.add_worksheet(t["title"].format(month=report.month))
    bold = book.add_format({"bold": True, "bottom": 1, "text_wrap": True})
    money_format = _CURRENCY_FORMATS.get(
        report.scheme.currency, f'#,##0.00 "{report.scheme.currency}"'
    )
    money = book.add_format({"num_format": money_format})
    money_bold = book.add_format({"num_format": money_format, "bold": True})
    hours = book.add_format({"num_format": "0.00"})
    percent = book.add_format({"num_format": "0.0%"})
    header = _sheet_header(report, t)
    n_tiers = len(report.scheme.rates_cents)
    money_cols = {5 + 2 * i for i in range(n_tiers)} | {4 + 2 * n_tiers}
    hour_cols = {5 + 2 * n_tiers, 6 + 2 * n_tiers}
    pct_cols = {7 + 2 * n_tiers, 10 + 2 * n_tiers}
    by_col = {**dict.fromkeys(money_cols, money), **dict.fromkeys(hour_cols, hours)}
    by_col.update(dict.fromkeys(pct_cols, percent))
    formats = [by_col.get(c) for c in range(len(header))]
    sheet.write_row(0, 0, header, bold)
    for i, r in enumerate(report.agents, start=1):
        for c, value in enumerate(_values(r)):
            if value is None:
                sheet.write_blank(i, c, None, formats[c])
            else:
                sheet.write(i, c, neutral(value), formats[c])
    tot = report.totals
    total_row = len(report.agents) + 1
    totals: list[object] = [
        t["total"], t["agents"].format(n=tot.agents), "", tot.completed,
        *(x for tier in tot.tiers for x in (tier.count, tier.amount_cents / 100)),
        tot.payout_cents / 100, tot.scheduled_s / 3600, tot.on_duty_s / 3600, tot.utilization,
        tot.qa_checked, tot.qa_passed, tot.accuracy, tot.logout_requests, tot.forced_logouts,
        tot.avg_first_response_s,
    ]  # fmt: skip
    for c, value in enumerate(totals):
        fmt = money_bold if c in money_cols else formats[c]
        if value is None:
            sheet.write_blank(total_row, c, None, fmt)
        else:
            sheet.write(total_row, c, value, fmt)
    sheet.freeze_panes(1, 1)
    sheet.set_column(0, 2, 14)
    sheet.set_column(3, len(header) - 1, 13)
    sheet.set_row(0, 45)
    book.close()
    return out.getvalue()
