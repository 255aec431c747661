"""The payout calculation over all agents: a numba kernel and a plain-Python reference.

`tier_counts(counts, thresholds, rates)` fills, for every agent, the number of orders
in each band and the payout in cents, all int64. The kernel walks the bands taking
what remains of the count; the reference clamps each band independently; a
hypothesis test holds the two equal. numba is imported on first use (or by `warm()`
in a background thread at server start), and `cache=True` keeps the compiled code
on disk, so only the very first run on a machine pays the compile.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

I64 = npt.NDArray[np.int64]
INT64_MAX = 2**63 - 1

_lock = threading.Lock()
_compiled: Callable[..., None] | None = None


def _walk_bands(
    counts: Any, thresholds: Any, rates: Any, tiers: Any, payouts: Any
) -> None:  # pragma: no cover - runs compiled; tested uncompiled via python_kernel
    n = counts.shape[0]
    k = thresholds.shape[0]
    for i in range(n):
        remaining = counts[i]
        previous = 0
        pay = 0
        for j in range(k):
            width = thresholds[j] - previous
            c = remaining if remaining < width else width
            tiers[i, j] = c
            pay += c * rates[j]
            remaining -= c
            previous = thresholds[j]
        tiers[i, k] = remaining
        payouts[i] = pay + remaining * rates[k]


def _kernel() -> Callable[..., None]:
    global _compiled
    if _compiled is None:
        with _lock:
            if _compiled is None:
                from numba import njit

                _compiled = njit(cache=True, nogil=True)(_walk_bands)
    return _compiled


def warm() -> None:
    """Import numba and load (or compile) the kernel now, not on a payroll request."""
    tier_counts(np.array([0, 3], dtype=np.int64), (2,), (1, 2))


def _check(counts: I64, thresholds: Sequence[int], rates: Sequence[int]) -> None:
    if len(rates) != len(thresholds) + 1:
        raise ValueError(f"{len(thresholds)} thresholds need {len(thresholds) + 1} rates")
    if len(counts) and int(counts.min()) < 0:
        raise ValueError("counts must not be negative")
    top = int(counts.max()) if len(counts) else 0
    if top * max(rates, default=0) > INT64_MAX:
        raise OverflowError(f"a count of {top} at these rates does not fit in int64 cents")


def tier_counts(counts: I64, thresholds: Sequence[int], rates: Sequence[int]) -> tuple[I64, I64]:
    """(orders per band, shape (n, bands); payout cents, shape (n,)) for every agent."""
    counts = np.ascontiguousarray(counts, dtype=np.int64)
    _check(counts, thresholds, rates)
    tiers = np.zeros((len(counts), len(rates)), dtype=np.int64)
    payouts = np.zeros(len(counts), dtype=np.int64)
    _kernel()(
        counts, np.asarray(thresholds, dtype=np.int64), np.asarray(rates, dtype=np.int64),
        tiers, payouts,
    )  # fmt: skip
    return tiers, payouts


def python_kernel(counts: I64, thresholds: Sequence[int], rates: Sequence[int]) -> tuple[I64, I64]:
    """The kernel's own code, uncompiled (to test the code numba compiles, line for line)."""
    counts = np.ascontiguousarray(counts, dtype=np.int64)
    tiers = np.zeros((len(counts), len(rates)), dtype=np.int64)
    payouts = np.zeros(len(counts), dtype=np.int64)
    _walk_bands(
        counts, np.asarray(thresholds, dtype=np.int64), np.asarray(rates, dtype=np.int64),
        tiers, payouts,
    )  # fmt: skip
    return tiers, payouts


# -- the reference ----------------------------------------------------------------------


def reference_one(count: int, thresholds: Sequence[int], rates: Sequence[int]) -> list[int]:
    """Orders in each band for one count: band j holds what lies in (lo_j, hi_j]."""
    lows = [0, *thresholds]
    highs: list[int | None] = [*thresholds, None]
    return [
        max(0, (count if hi is None else min(count, hi)) - lo)
        for lo, hi in zip(lows, highs, strict=True)
    ]


def reference(
    counts: Sequence[int], thresholds: Sequence[int], rates: Sequence[int]
) -> tuple[list[list[int]], list[int]]:
    """Plain Python integers, no numpy: the definition the kernel must match."""
    tiers = [reference_one(c, thresholds, rates) for c in counts]
    payouts = [sum(n * r for n, r in zip(row, rates, strict=True)) for row in tiers]
    return tiers, payouts


def warm_in_background() -> threading.Thread:
    """Server start-up: load the kernel while the server starts taking requests."""
    thread = threading.Thread(target=warm, name="payroll-kernel-warmup", daemon=True)
    thread.start()
    return thread
