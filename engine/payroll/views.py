"""What the report routes answer: msgspec Structs (also their OpenAPI schemas).

Durations are seconds: an integer when the milliseconds behind them make a whole
second, else a fraction with millisecond precision; sums are taken in integer ms
first, so they are exact. Money is integer cents.
"""

from __future__ import annotations

import msgspec
from msgspec import Struct

from engine.payroll.scheme import Scheme

Seconds = int | float


def seconds(ms: int) -> Seconds:
    return ms // 1000 if ms % 1000 == 0 else ms / 1000


def ratio(part: int, whole: int) -> float | None:
    return None if whole == 0 else part / whole


def avg_seconds(total_ms: int, n: int) -> float | None:
    """The mean of `n` durations summing to `total_ms`, in seconds (None for none)."""
    return None if n == 0 else round(total_ms / n / 1000, 3)


class SchemeView(Struct):
    effective_from: str
    currency: str
    thresholds: list[int]
    rates_cents: list[int]


class SchemeList(Struct):
    schemes: list[SchemeView]


def scheme_view(s: Scheme) -> SchemeView:
    return SchemeView(s.effective_from, s.currency, list(s.thresholds), list(s.rates_cents))


# -- utilization ---------------------------------------------------------------------------


class TimeRow(Struct):
    agent_id: str
    name: str
    team: str
    scheduled_s: Seconds
    on_duty_s: Seconds
    away_s: Seconds
    outside_schedule_s: Seconds
    utilization: float | None
    logout_requests: int
    logout_denials: int
    logout_approvals: int
    forced_logouts: int
    # not responding inside shifts (not on duty), and the KPI response time: assignment to
    # first response, over the first responses the agent gave in the window
    not_responding_s: Seconds
    first_responses: int
    avg_first_response_s: float | None


class TimeSum(Struct):
    """A team's (or everyone's) sums; utilization is on-duty ÷ scheduled of the sums."""

    team: str | None
    agents: int
    scheduled_s: Seconds
    on_duty_s: Seconds
    away_s: Seconds
    outside_schedule_s: Seconds
    utilization: float | None
    logout_requests: int
    logout_denials: int
    logout_approvals: int
    forced_logouts: int
    not_responding_s: Seconds
    first_responses: int
    avg_first_response_s: float | None


class UtilizationReport(Struct):
    from_: str = msgspec.field(name="from")
    to: str
    timezone: str
    agents: list[TimeRow]
    teams: list[TimeSum]
    totals: TimeSum


# -- payroll ---------------------------------------------------------------------------------


class TierView(Struct):
    from_: int = msgspec.field(name="from")
    to: int | None
    count: int
    rate_cents: int
    amount_cents: int


class Adjustment(Struct):
    """What arrived about a closed month's work after it closed, carried by this month."""

    month: str
    kind: str
    orders: int
    amount_cents: int


class PayrollRow(Struct):
    agent_id: str
    name: str
    team: str
    completed: int
    tiers: list[TierView]
    payout_cents: int
    scheduled_s: Seconds
    on_duty_s: Seconds
    utilization: float | None
    qa_checked: int
    qa_passed: int
    accuracy: float | None
    logout_requests: int
    forced_logouts: int
    # Fields added after the first closed months need defaults: a closed month answers its
    # report as journaled when it closed, decoded with these types (engine.payroll.closing).
    first_responses: int = 0
    avg_first_response_s: float | None = None
    adjustments: list[Adjustment] = msgspec.field(default_factory=list)


class PayrollTotals(Struct):
    agents: int
    completed: int
    tiers: list[TierView]
    payout_cents: int
    scheduled_s: Seconds
    on_duty_s: Seconds
    utilization: float | None
    qa_checked: int
    qa_passed: int
    accuracy: float | None
    logout_requests: int
    forced_logouts: int
    first_responses: int = 0  # defaults: see PayrollRow
    avg_first_response_s: float | None = None


class PayrollReport(Struct):
    month: str
    timezone: str
    from_: str = msgspec.field(name="from")
    to: str
    scheme: SchemeView
    agents: list[PayrollRow]
    totals: PayrollTotals
    # Set once the month is closed: the report is then this one, frozen, for good.
    closed_at: str | None = None


class MonthClosedView(Struct):
    month: str
    closed_at: str
    totals: PayrollTotals
