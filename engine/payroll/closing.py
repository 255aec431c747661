"""Closed payroll months: frozen as paid, and what arrives about them later.

Closing a month journals its payroll report as it stands (the JSON payroll got):
`GET /v1/payroll/{month}` answers that report from then on, whatever changes, also
after restarts and upgrades (the report is in the journal, not recomputed). What
arrives later about the month's work (today: a QA result on an order completed in it)
is kept per (month, agent) until it is carried, as an adjustment, by the first open
month after it: shown in that month's rows, and frozen with it when it closes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from engine.calendar import month_text, next_month, parse_month

# Kinds of adjustments: a QA result that arrived after its month closed.
LATE_QA = "qa"


@dataclass(slots=True, frozen=True)
class ClosedMonth:
    closed_at: int
    by: str
    # The payroll report as frozen (JSON of engine.payroll.views.PayrollReport).
    report: bytes


def month_of_day(ordinal: int) -> str:
    """The month ("YYYY-MM") of a local date ordinal."""
    return month_text(date.fromordinal(ordinal).replace(day=1))


def first_open_after(closed: dict[str, ClosedMonth], month: str) -> str:
    """The first month after `month` that is not closed: where its late news is shown."""
    first = next_month(parse_month(month))
    while month_text(first) in closed:
        first = next_month(first)
    return month_text(first)


def latest_closed(closed: dict[str, ClosedMonth]) -> str | None:
    return max(closed) if closed else None
