"""`seatflow payroll YYYY-MM [--data DIR | --redis URL --center C] [--format ...] [--output FILE]`.

The same monthly report as `GET /v1/payroll/{month}`, offline: the journal is
replayed read-only (it works beside a running server, SQLite WAL) and the report
is taken at the journal's last recorded time.
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path
from typing import Any

from api.cli import stores
from engine.errors import SeatflowError


def add_parser(sub: Any) -> None:
    p = sub.add_parser("payroll", help="a month's payroll from the journal (offline)")
    p.add_argument("month", help="YYYY-MM, a calendar month in the center's time zone")
    stores.add_arguments(p)
    p.add_argument("--format", choices=("table", "csv", "xlsx"), default="table")
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


def _table(report) -> str:  # type: ignore[no-untyped-def]
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Payroll {report.month} ({report.timezone}, {report.scheme.currency})")
    for name in (
        "agent",
        "team",
        "completed",
        "payout",
        "on duty h",
        "utilization",
        "accuracy",
        "logout req.",
        "forced",
    ):
        table.add_column(name, justify="left" if name in ("agent", "team") else "right")
    for r in report.agents:
        table.add_row(
            r.agent_id, r.team, str(r.completed), _money(r.payout_cents),
            f"{r.on_duty_s / 3600:.2f}", _pct(r.utilization), _pct(r.accuracy),
            str(r.logout_requests), str(r.forced_logouts),
        )  # fmt: skip
    t = report.totals
    table.add_section()
    table.add_row(
        f"{t.agents} agents", "", str(t.completed), _money(t.payout_cents),
        f"{t.on_duty_s / 3600:.2f}", _pct(t.utilization), _pct(t.accuracy),
        str(t.logout_requests), str(t.forced_logouts),
    )  # fmt: skip
    out = io.StringIO()
    Console(file=out, width=120, color_system=None).print(table)
    return out.getvalue()


def run(args: argparse.Namespace) -> int:
    from engine.clock import RealClock
    from engine.payroll.export import to_csv, to_xlsx
    from engine.payroll.report import payroll_report

    try:
        engine = stores.read_engine(args, RealClock())
        report = payroll_report(engine.state, args.month, engine.state.now)
    except (SeatflowError, stores.NoJournal) as exc:
        print(f"seatflow: {getattr(exc, 'message', exc)}", file=sys.stderr)
        return 2
    if args.format == "xlsx":
        out = args.output or Path(f"payroll-{report.month}.xlsx")
        out.write_bytes(to_xlsx(report))
        print(f"wrote {out}", file=sys.stderr)
        return 0
    text = to_csv(report) if args.format == "csv" else _table(report)
    if args.output is not None:
        args.output.write_text(text, encoding="utf-8", newline="")
    else:
        sys.stdout.write(text)
    return 0
