"""Baseline from history, weekly contests and KPI warnings, worked by hand, through the
real engine (two months, October and November 2026, in Asia/Shanghai)."""

from __future__ import annotations

import math

import pytest

from engine import commands as cmd
from engine.errors import Conflict, Invalid
from engine.payroll.baseline import baseline, z_values
from engine.payroll.contests import bottom, contest, rank, warnings
from presence.timeutil import parse_time

# Per agent: (orders completed in October, in November); None = not there that month.
WORK = {"a": (10, 10), "b": (8, 12), "c": (12, 14), "d": (2, 2), "e": (None, 10), "f": (10, 10)}
TEAMS = {"a": "north", "b": "north", "c": "south", "d": "south", "e": "south", "f": "north"}
LATE = {"f"}  # logs in half way through its shift: utilization 0.5


async def _history(make_center):  # type: ignore[no-untyped-def]
    center = make_center(start=parse_time("2026-10-01T00:00:00Z"))
    for agent_id, team in TEAMS.items():
        await center.agent(agent_id, skills=(agent_id,), capacity=50, team=team)
    n = 0
    for month, day in ((0, "2026-10-15"), (1, "2026-11-16")):
        present = [a for a in WORK if WORK[a][month] is not None]
        await center.shifts(*[
            (a, parse_time(f"{day}T01:00:00Z"), parse_time(f"{day}T09:00:00Z")) for a in present
        ])  # fmt: skip
        await center.goto(parse_time(f"{day}T01:00:00Z"))
        await center.login(*[a for a in present if a not in LATE])
        await center.goto(parse_time(f"{day}T05:00:00Z"))
        await center.login(*[a for a in present if a in LATE])
        for a in present:
            ids = [f"o{n + i}" for i in range(WORK[a][month] or 0)]
            n += len(ids)
            if ids:
                await center.orders(*[center.new_order(i, a) for i in ids])
            for i in ids:
                await center.complete(i)
        await center.goto(parse_time(f"{day}T09:00:00Z"))
        for a in present:
            await center.logout(a)
    await center.goto(parse_time("2026-12-02T00:00:00Z"))
    return center


async def test_baseline_reproduces_the_method(make_center) -> None:  # type: ignore[no-untyped-def]
    center = await _history(make_center)
    view = baseline(center.state, ["2026-10", "2026-11"], 0.8, 3, "stddev", center.state.now)
    # Candidates a, b, c, d with means 10, 10, 13, 2: mean 8.75, population std
    # sqrt(66.75 / 4); d is below mean - std (4.665) and is dropped.
    assert view.means == {"a": 10.0, "b": 10.0, "c": 13.0, "d": 2.0}
    assert view.mean == 8.75 and view.std == pytest.approx(math.sqrt(66.75 / 4))
    assert view.kept == ["a", "b", "c"]
    assert [(d.agent_id, d.why) for d in view.dropped] == [
        ("d", "mean 2.00 below mean - 1 std 4.66"),
        ("e", "not present in 2026-10 (nothing scheduled, nothing completed)"),
        ("f", "utilization 0.5000 below 0.8"),
    ]
    assert view.base == 11.0 and view.kept_std == pytest.approx(math.sqrt(2))
    # base + k*sigma, k = 0, 1, 2: 11, 12.41, 13.83 rounded.
    assert view.thresholds == [11, 12, 14]
    normal = baseline(center.state, ["2026-10", "2026-11"], 0.8, 2, "normal", center.state.now)
    # z = 0 and the upper quartile 0.6745: 11 and 11 + 0.954.
    assert normal.z == [0.0, pytest.approx(0.6744897501960817)]
    assert normal.thresholds == [11, 12]
    # Without the utilization floor, f (means 10) is kept too.
    assert (
        "f"
        in baseline(center.state, ["2026-10", "2026-11"], 0.0, 1, "normal", center.state.now).kept
    )


async def test_baseline_errors(make_center) -> None:  # type: ignore[no-untyped-def]
    center = make_center()
    await center.agent("a")
    now = center.state.now
    with pytest.raises(Conflict, match="no agent qualifies") as exc:
        baseline(center.state, ["2026-11"], 0.0, 1, "normal", now)
    assert exc.value.code == "baseline_empty"
    cases = [
        (([], 0.0, 1, "normal"), "months"),
        ((["2026-11", "2026-11"], 0.0, 1, "normal"), "months"),
        ((["2026-11", "11/2026"], 0.0, 1, "normal"), "months[1]"),
        ((["2026-11"], 1.5, 1, "normal"), "min_utilization"),
        ((["2026-11"], 0.0, 6, "normal"), "tiers"),
        ((["2026-11"], 0.0, 1, "mean"), "method"),
    ]
    for args, field in cases:
        with pytest.raises(Invalid) as bad:
            baseline(center.state, *args, now)  # type: ignore[arg-type]
        assert bad.value.field == field


def test_normal_quantiles_split_the_upper_half_evenly() -> None:
    assert z_values("stddev", 3) == [0.0, 1.0, 2.0]
    z = z_values("normal", 3)
    assert z[0] == 0.0 and z[1] == pytest.approx(0.4307, abs=1e-4)
    assert z[2] == pytest.approx(0.9674, abs=1e-4)


async def test_weekly_contest(make_center) -> None:  # type: ignore[no-untyped-def]
    center = await _history(make_center)
    # 2026-11-16 is the Monday of ISO week 47.
    view = contest(center.state, "2026-W47", (3, 2, 1), center.state.now)
    assert (view.from_, view.to) == ("2026-11-15T16:00:00Z", "2026-11-22T16:00:00Z")
    assert [(p.id, p.value, p.place, p.points) for p in view.individual_volume] == [
        ("c", 14, 1, 3),
        ("b", 12, 2, 2),
        ("a", 10, 3, 1),
        ("e", 10, 3, 1),
        ("f", 10, 3, 1),
        ("d", 2, 6, 0),
    ]
    # north a + b + f = 32, south c + d + e = 26.
    assert [(p.id, p.value, p.points) for p in view.team_volume] == [
        ("north", 32, 3),
        ("south", 26, 2),
    ]
    assert view.individual_utilization[-1].id == "f"
    assert view.individual_utilization[-1].value == 0.5
    assert [p.place for p in view.individual_utilization] == [1, 1, 1, 1, 1, 6]
    assert view.points == {"a": 4, "b": 5, "c": 6, "d": 3, "e": 4, "f": 1}
    assert view.team_points == {"north": 3, "south": 2}
    empty = contest(center.state, "2026-W40", (3, 2, 1), center.state.now)
    assert empty.individual_volume == [] and empty.individual_utilization == []
    with pytest.raises(Invalid, match="week '2026-W54' is not an ISO week like '2026-W48'"):
        contest(center.state, "2026-W54", (3,), center.state.now)


async def test_warnings_two_months_running(make_center) -> None:  # type: ignore[no-untyped-def]
    center = await _history(make_center)
    await center.run(cmd.RecordQa("o0", False, "sup"))  # a's October work
    view = warnings(center.state, "2026-11", 1, center.state.now)
    assert view.previous_month == "2026-10"
    # d is last on volume both months; f last on utilization both months; e was not there
    # in October; accuracy has no November QA at all.
    assert [(w.agent_id, w.kpi, w.this_month, w.previous_month) for w in view.warnings] == [
        ("d", "volume", 2, 2),
        ("f", "utilization", 0.5, 0.5),
    ]
    assert warnings(center.state, "2026-10", 1, center.state.now).warnings == []


def test_ranking_and_bottom_ties() -> None:
    board = rank([("x", None, 5.0), ("y", None, 7.0), ("z", None, 5.0), ("w", None, 1.0)], (3, 2))
    assert [(p.id, p.place, p.points) for p in board] == [
        ("y", 1, 3),
        ("x", 2, 2),
        ("z", 2, 2),
        ("w", 4, 0),
    ]
    assert bottom({"a": 1.0, "b": 2.0, "c": 2.0, "d": 3.0}, 2) == {"a", "b", "c"}
    assert bottom({"a": 1.0}, 5) == {"a"} and bottom({}, 3) == set()
