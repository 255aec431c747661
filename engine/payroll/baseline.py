"""The suggested base of a piece-rate scheme, from the last months' history (API.md).

1. Per agent, the completed count of each given month (tallies) and its utilization
   over all those months together (on-duty ÷ scheduled, presence.timeline).
2. Drop agents missing a month (no completed order and no scheduled time in it:
   joiners and leavers), then agents under `min_utilization` (or with nothing
   scheduled at all).
3. Of the rest, per-agent mean monthly counts: `mean` and population `std`; drop
   means below mean − 1·std; `base` is the mean of what is left.
4. Thresholds, rounded to whole orders, with σ the population std of the kept means:
   - "stddev": base + k·σ for k = 0 .. tiers-1;
   - "normal": base + z_k·σ with z_k = Φ⁻¹(1/2 + k/(2·tiers)), k = 0 .. tiers-1 — the
     standard normal quantiles that split the kept agents above the base into `tiers`
     bands of equal probability (for 3 tiers z = 0, 0.4307, 0.9674).
"""

from __future__ import annotations

import math
from statistics import NormalDist

from msgspec import Struct

from engine.errors import Conflict, Invalid
from engine.payroll.report import month_of
from engine.payroll.timesheet import agent_times
from engine.state import State

METHODS = ("normal", "stddev")
MAX_MONTHS = 36
MAX_TIERS = 5  # thresholds a baseline suggests
UTILIZATION = (0.0, 1.0)  # what min_utilization may be


class Dropped(Struct):
    agent_id: str
    why: str


class BaselineView(Struct):
    base: float
    mean: float
    std: float
    kept: list[str]
    dropped: list[Dropped]
    thresholds: list[int]
    method: str
    kept_std: float
    z: list[float]
    means: dict[str, float]


def z_values(method: str, tiers: int) -> list[float]:
    if method == "stddev":
        return [float(k) for k in range(tiers)]
    normal = NormalDist()
    return [normal.inv_cdf(0.5 + k / (2 * tiers)) for k in range(tiers)]


def _round(x: float) -> int:
    """Half up, to whole orders."""
    return math.floor(x + 0.5)


def _check(months: list[str], min_utilization: float, tiers: int, method: str) -> None:
    if not 1 <= len(months) <= MAX_MONTHS:
        raise Invalid("months", f"months needs 1..{MAX_MONTHS} months, got {len(months)}")
    if len(set(months)) != len(months):
        raise Invalid("months", "months lists the same month twice")
    lo, hi = UTILIZATION
    if not lo <= min_utilization <= hi:
        raise Invalid("min_utilization", f"min_utilization {min_utilization} is out of {lo}..{hi}")
    if not 1 <= tiers <= MAX_TIERS:
        raise Invalid("tiers", f"tiers {tiers} is out of range 1..{MAX_TIERS}")
    if method not in METHODS:
        raise Invalid("method", f"method {method!r} is not one of {', '.join(METHODS)}")


def baseline(
    state: State, months: list[str], min_utilization: float, tiers: int, method: str, now: int
) -> BaselineView:
    _check(months, min_utilization, tiers, method)
    spans = [month_of(state, m, f"months[{i}]") for i, m in enumerate(months)]
    agents = sorted(state.agents.values(), key=lambda a: a.id)
    scheduled = dict.fromkeys((a.id for a in agents), 0)
    on_duty = dict.fromkeys((a.id for a in agents), 0)
    counts: dict[str, list[int]] = {a.id: [] for a in agents}
    missing: dict[str, str] = {}
    for span in spans:
        for t in agent_times(state, agents, span.lo, span.hi, now):
            a = t.agent.id
            n = state.tallies.sums(a, span.first_day, span.end_day)[0]
            counts[a].append(n)
            scheduled[a] += t.split.scheduled_ms
            on_duty[a] += t.split.on_duty_ms
            if n == 0 and t.split.scheduled_ms == 0 and a not in missing:
                missing[a] = f"not present in {span.text} (nothing scheduled, nothing completed)"
    dropped: list[Dropped] = []
    candidates: dict[str, float] = {}
    for a in counts:
        if a in missing:
            dropped.append(Dropped(a, missing[a]))
        elif scheduled[a] == 0:
            dropped.append(Dropped(a, "nothing scheduled in these months"))
        elif on_duty[a] / scheduled[a] < min_utilization:
            util = on_duty[a] / scheduled[a]
            dropped.append(Dropped(a, f"utilization {util:.4f} below {min_utilization}"))
        else:
            candidates[a] = sum(counts[a]) / len(spans)
    if not candidates:
        raise Conflict(
            "no agent qualifies for the baseline in these months (see the drop rules)",
            code="baseline_empty",
        )
    values = list(candidates.values())
    mean = sum(values) / len(values)
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))
    cut = mean - std
    kept = {a: v for a, v in candidates.items() if v >= cut}
    for a, v in candidates.items():
        if v < cut:
            dropped.append(Dropped(a, f"mean {v:.2f} below mean - 1 std {cut:.2f}"))
    base = sum(kept.values()) / len(kept)
    kept_std = math.sqrt(sum((v - base) ** 2 for v in kept.values()) / len(kept))
    z = z_values(method, tiers)
    return BaselineView(
        base, mean, std, sorted(kept), sorted(dropped, key=lambda d: d.agent_id),
        [_round(base + zk * kept_std) for zk in z], method, kept_std, z, candidates,
    )  # fmt: skip
