"""`seatflow payroll YYYY-MM [--data DIR | --redis URL --center C] [--format ...] [--output FILE]`.

The same monthly report as `GET /v1/payroll/{month}`, offline and read-only (it works
beside a running server, SQLite WAL). A closed month's frozen report is read from its
row beside the journal (written with the close's record), no state recovered: the
center's language, when the output needs it, comes from the newest checkpoint and the
journal after it. An open month, or one closed by a build that wrote no rows, is
replayed from the checkpoint and the journal and taken at the journal's last time.
`--format json` prints the bytes `GET /v1/payroll/{month}` answers.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import msgspec

from api.cli import stores
from engine.calendar import month_text, parse_month
from engine.errors import SeatflowError
from engine.i18n import LANGUAGES
from engine.payroll.views import PayrollReport, PayrollRow, PayrollTotals

_report = msgspec.json.Decoder(PayrollReport)


def add_parser(sub: Any) -> None:
    p = sub.add_parser("payroll", help="a month's payroll from the journal (offline)")
    p.add_argument("month", help="YYYY-MM, a calendar month in the center's time zone")
    stores.add_arguments(p)
    p.add_argument(
        "--format", choices=("table", "json", "csv", "xlsx"), default="table",
        help="table (default): one line per agent, never wrapped or cut to the terminal's"
        " width (wide names: pipe it to 'less -S')",
    )  # fmt: skip
    p.add_argument(
        "--lang", choices=LANGUAGES,
        help="the language of headers and sheet names (default: the center setting 'language')",
    )  # fmt: skip
    p.add_argument(
        "--bom", action=argparse.BooleanOptionalAction, default=None,
        help="start a CSV with a byte-order mark, for spreadsheets (default: with zh-CN)",
    )  # fmt: skip
    p.add_argument(
        "--output", "-o", type=Path,
        help="write here instead of stdout (xlsx default: payroll-YYYY-MM.xlsx)",
    )  # fmt: skip
    p.set_defaults(run=run)


def warm_kernel() -> None:
    """Called by `seatflow serve`: numba loads in the background, not on the first report."""
    from engine.payroll.kernel import warm_in_background

    warm_in_background()


def _money(cents: int) -> str:
    return f"{cents // 100:,}.{cents % 100:02d}"


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{x:.1%}"


def _seconds(x: float | None) -> str:
    return "–" if x is None else f"{x:.1f}"


_COLUMNS = (
    "agent",
    "team",
    "completed",
    "payout",
    "on_duty_h",
    "utilization",
    "accuracy",
    "logout_requests",
    "forced_logouts",
    "avg_first_response_s",
)


def _figures(x: PayrollRow | PayrollTotals) -> list[str]:
    """The number columns, the same for an agent's row and the totals."""
    return [
        str(x.completed), _money(x.payout_cents), f"{x.on_duty_s / 3600:.2f}",
        _pct(x.utilization), _pct(x.accuracy), str(x.logout_requests),
        str(x.forced_logouts), _seconds(x.avg_first_response_s),
    ]  # fmt: skip


def _table(report: PayrollReport, lang: str) -> str:
    from api.cli.table import Column, render
    from engine.i18n import strings

    t = strings(lang, "payroll", "table")
    title = t["title"].format(
        month=report.month, timezone=report.timezone, currency=report.scheme.currency
    )
    columns = [Column(t[key], right=key not in ("agent", "team")) for key in _COLUMNS]
    rows = [[r.agent_id, r.team, *_figures(r)] for r in report.agents]
    tot = report.totals
    return render(title, columns, rows, [t["agents"].format(n=tot.agents), "", *_figures(tot)])


def _frozen(args: argparse.Namespace) -> tuple[PayrollReport, str] | None:
    """A closed month's report and the language to show it in, from the row its close
    wrote; None when only the state can say (the caller recovers it)."""
    try:
        month = month_text(parse_month(args.month))
    except SeatflowError:
        return None  # the recovered path says what is wrong with it, as the API does
    needs_language = args.lang is None and args.format != "json"
    got = stores.read_closed(args, month, language=needs_language)
    if got is None:
        return None
    data, language = got
    lang = args.lang or language
    if lang is None:
        if needs_language:
            return None  # the center's language, which only its state can say
        lang = "en"  # unused: JSON has no headers
    return _report.decode(data), lang


def _recovered(args: argparse.Namespace) -> tuple[PayrollReport, str]:
    from engine.clock import RealClock
    from engine.payroll.report import payroll_report

    engine = stores.read_engine(args, RealClock())
    report = payroll_report(engine.state, args.month, engine.state.now)
    return report, args.lang or engine.state.settings.language


def run(args: argparse.Namespace) -> int:
    from engine.payroll.export import to_csv, to_xlsx

    try:
        report, lang = _frozen(args) or _recovered(args)
    except (SeatflowError, stores.NoJournal) as exc:
        print(f"seatflow: {getattr(exc, 'message', exc)}", file=sys.stderr)
        return 2
    if args.format == "json":  # the bytes of GET /v1/payroll/{month} (api.errors.json_response)
        body = msgspec.json.encode(report)
        if args.output is not None:
            args.output.write_bytes(body)
        else:
            sys.stdout.buffer.write(body)
        return 0
    if args.format == "xlsx":
        out = args.output or Path(f"payroll-{report.month}.xlsx")
        out.write_bytes(to_xlsx(report, lang))
        print(f"wrote {out}", file=sys.stderr)
        return 0
    text = to_csv(report, lang, bom=args.bom) if args.format == "csv" else _table(report, lang)
    if args.output is not None:
        args.output.write_text(text, encoding="utf-8", newline="")
    else:
        sys.stdout.write(text)
    return 0
