"""Reports: utilization over any window, the payroll scheme and monthly payroll
(JSON, CSV, XLSX), the baseline from history, weekly contests and KPI warnings.

Readers are admin, supervisor and payroll (roles.md); the scheme is set by admin
and payroll. Reports only read state; numbers are built in engine.payroll.
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from api.auth import require
from api.body import read_json
from api.context import answer_read, engine_of, run
from api.openapi import route_doc
from api.params import (
    FLAGS,
    FORMATS,
    AgentIdQuery,
    BomQuery,
    BottomNQuery,
    FormatQuery,
    FromQuery,
    LangQuery,
    MonthPath,
    PointsQuery,
    ToQuery,
    WeekPath,
)
from api.patterns import MONTH, anchored, one_of
from api.query import agent_window
from api.schemas import Body, stated
from engine import commands as cmd
from engine.calendar import day_start
from engine.errors import Invalid
from engine.i18n import check_language
from engine.payroll import baseline as bl
from engine.payroll.contests import ContestView, WarningsView, contest, warnings
from engine.payroll.export import to_csv, to_xlsx
from engine.payroll.report import payroll_report, utilization_report
from engine.payroll.scheme import CURRENCY_CHARS, MAX_RATE_CENTS, MAX_THRESHOLD, MAX_TIERS
from engine.payroll.views import (
    MonthClosedView,
    PayrollReport,
    SchemeList,
    SchemeView,
    UtilizationReport,
)
from engine.payroll.views import scheme_view as view_of_scheme
from engine.settings import MAX_BOTTOM_N, MAX_PLACES, MAX_POINTS

router = APIRouter(tags=["reports"])

READERS = frozenset({"admin", "supervisor", "payroll"})
SCHEME_WRITERS = frozenset({"admin", "payroll"})
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


Month = Annotated[str, stated(MONTH)]


class SchemeIn(Body):
    effective_from: Annotated[str, stated(MONTH, description="first month in force")]
    thresholds: Annotated[
        list[Annotated[int, stated(minimum=1, maximum=MAX_THRESHOLD)]],
        stated(maxItems=MAX_TIERS, description="orders per month, strictly rising"),
    ]
    rates_cents: Annotated[
        list[Annotated[int, stated(minimum=0, maximum=MAX_RATE_CENTS)]],
        stated(
            minItems=1,
            maxItems=MAX_TIERS + 1,
            description="cents per order, one per band: one more than thresholds",
        ),
    ]
    currency: Annotated[
        str, stated(pattern=anchored(CURRENCY_CHARS), description="ISO 4217 code")
    ] = "CNY"


class BaselineIn(Body):
    months: Annotated[list[Month], stated(minItems=1, maxItems=bl.MAX_MONTHS, uniqueItems=True)]
    min_utilization: Annotated[
        float, stated(minimum=bl.UTILIZATION[0], maximum=bl.UTILIZATION[1])
    ] = 0.0
    tiers: Annotated[
        int, stated(minimum=1, maximum=bl.MAX_TIERS, description="thresholds to suggest")
    ] = 3
    method: Annotated[str, stated(one_of(bl.METHODS))] = "normal"


_scheme_in = msgspec.json.Decoder(SchemeIn)
_baseline_in = msgspec.json.Decoder(BaselineIn)


@router.get("/v1/utilization", **route_doc({200: UtilizationReport}, errors="401 403 404 422"))
async def utilization(
    request: Request,
    from_: FromQuery = None,
    to: ToQuery = None,
    agent_id: AgentIdQuery = None,
    team: str | None = None,
) -> Response:
    """Per agent and team: scheduled, on duty, away, outside schedule, utilization
    (conformance) and logout counts in [from, to). Defaults: from local midnight
    today (setting `timezone`) to now; the window is clipped at now."""
    require(request, READERS)
    engine = engine_of(request)
    now = engine.now()
    midnight = day_start(now, engine.state.settings.timezone)
    lo, hi = agent_window(agent_id, from_, to, midnight, now)
    report = utilization_report(engine.state, lo, hi, now, agent_id, team)
    return await answer_read(request, report)


@router.put(
    "/v1/payroll/scheme",
    **route_doc({200: SchemeView, 201: SchemeView}, SchemeIn, "400 401 403 409 413 422"),
)
async def put_scheme(request: Request) -> Response:
    """Add the scheme version in force from `effective_from` (201), or replace it (200)."""
    require(request, SCHEME_WRITERS)
    b = await read_json(request, _scheme_in)
    return await run(
        request, cmd.SetPayrollScheme(b.effective_from, b.currency, b.thresholds, b.rates_cents)
    )


@router.post(
    "/v1/payroll/{month}/close", **route_doc({200: MonthClosedView}, None, "401 403 409 422")
)
async def close_month(request: Request, month: MonthPath) -> Response:
    """Freeze an ended month's payroll for good (409 `month_not_over` before its end)."""
    who = require(request, SCHEME_WRITERS)
    return await run(request, cmd.ClosePayrollMonth(month, who.by))


@router.get("/v1/payroll/scheme", **route_doc({200: SchemeList}))
async def get_schemes(request: Request) -> Response:
    """Every scheme version, oldest first."""
    require(request, READERS)
    schemes = engine_of(request).state.schemes
    return await answer_read(
        request, SchemeList([view_of_scheme(schemes[m]) for m in sorted(schemes)])
    )


@router.post(
    "/v1/payroll/baseline",
    **route_doc({200: bl.BaselineView}, BaselineIn, "400 401 403 409 413 422"),
)
async def baseline(request: Request) -> Response:
    """The suggested base and thresholds from the given months (method in docs)."""
    require(request, READERS)
    b = await read_json(request, _baseline_in)
    engine = engine_of(request)
    view = bl.baseline(engine.state, b.months, b.min_utilization, b.tiers, b.method, engine.now())
    return await answer_read(request, view)


_PAYROLL_DOC = route_doc({200: PayrollReport}, errors="401 403 409 422")
_PAYROLL_DOC["responses"][200]["content"].update(
    {
        "text/csv": {"schema": {"type": "string", "description": "?format=csv"}},
        XLSX: {"schema": {"type": "string", "format": "binary", "description": "?format=xlsx"}},
    }
)


@router.get("/v1/payroll/{month}", **_PAYROLL_DOC)
async def payroll(
    request: Request,
    month: MonthPath,
    format: FormatQuery = "json",
    lang: LangQuery = None,
    bom: BomQuery = None,
) -> Response:
    """The month's payroll per agent and totals; `?format=csv` or `?format=xlsx`, headers
    in `?lang=en|zh-CN` (default: the setting `language`); `?bom=true|false` (default:
    true for zh-CN) starts a CSV with a byte-order mark, for spreadsheets."""
    require(request, READERS)
    if format not in FORMATS:
        raise Invalid("format", f"format {format[:20]!r} is not one of {', '.join(FORMATS)}")
    engine = engine_of(request)
    language = check_language(engine.state.settings.language if lang is None else lang)
    with_bom = None if bom is None else _flag(bom, "bom")
    report = payroll_report(engine.state, month, engine.now())
    if format == "json":
        return await answer_read(request, report)
    await engine.durable()
    name = f"payroll-{report.month}.{format}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    if format == "csv":
        text = to_csv(report, language, bom=with_bom)
        return Response(text, media_type="text/csv; charset=utf-8", headers=headers)
    return Response(to_xlsx(report, language), media_type=XLSX, headers=headers)


def _flag(text: str, field: str) -> bool:
    if text not in FLAGS:
        raise Invalid(field, f"{field} {text[:20]!r} is not one of true, false")
    return text in ("true", "1")


def _ascii_number(text: str) -> bool:
    """Whole ASCII digits: str.isdigit() also says yes to "²", which int() refuses."""
    return text.isascii() and text.isdigit() and len(text) <= 9


def _points(text: str | None, default: tuple[int, ...]) -> tuple[int, ...]:
    if text is None:
        return default
    parts = text.split(",")
    if not 1 <= len(parts) <= MAX_PLACES or not all(_ascii_number(p.strip()) for p in parts):
        raise Invalid(
            "points", f"points {text[:40]!r} must be 1..{MAX_PLACES} whole numbers like '3,2,1'"
        )
    values = tuple(int(p) for p in parts)
    if max(values) > MAX_POINTS:
        raise Invalid("points", f"points must each be 0..{MAX_POINTS}")
    return values


@router.get("/v1/contests/{week}", **route_doc({200: ContestView}, errors="401 403 422"))
async def get_contest(request: Request, week: WeekPath, points: PointsQuery = None) -> Response:
    """An ISO week's boards (`2026-W48`); `?points=3,2,1` overrides the setting
    `contest_points` (the points of places 1, 2, 3, ...)."""
    require(request, READERS)
    engine = engine_of(request)
    view = contest(
        engine.state, week, _points(points, engine.state.settings.contest_points), engine.now()
    )
    return await answer_read(request, view)


@router.get("/v1/warnings/{month}", **route_doc({200: WarningsView}, errors="401 403 422"))
async def get_warnings(
    request: Request, month: MonthPath, bottom_n: BottomNQuery = None
) -> Response:
    """Agents in the bottom N of a key KPI this month and the month before; `?bottom_n=`
    overrides the setting `warning_bottom_n`."""
    require(request, READERS)
    engine = engine_of(request)
    default = engine.state.settings.warning_bottom_n
    n = default if bottom_n is None else int(bottom_n) if _ascii_number(bottom_n) else 0
    if not 1 <= n <= MAX_BOTTOM_N:
        raise Invalid(
            "bottom_n", f"bottom_n {str(bottom_n)[:20]!r} is not a number 1..{MAX_BOTTOM_N}"
        )
    return await answer_read(request, warnings(engine.state, month, n, engine.now()))
