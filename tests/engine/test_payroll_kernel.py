"""The payout kernel: hand-worked tables, and numba == uncompiled == the plain reference."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.payroll.kernel import python_kernel, reference, reference_one, tier_counts

T, R = (2000, 2500), (100, 120, 140)

# (count, orders per band, payout in cents), worked by hand with thresholds [2000, 2500]
# and rates [100, 120, 140]: up to 2000 at 100, 2001..2500 at 120, above 2500 at 140.
HAND = {
    "nothing": (0, [0, 0, 0], 0),
    "one order": (1, [1, 0, 0], 100),
    "just under the first threshold": (1999, [1999, 0, 0], 199_900),
    "exactly the first threshold": (2000, [2000, 0, 0], 200_000),
    "first order of band 2": (2001, [2000, 1, 0], 200_120),
    "exactly the second threshold": (2500, [2000, 500, 0], 260_000),
    "first order of band 3": (2501, [2000, 500, 1], 260_140),
    "2,600 orders": (2600, [2000, 500, 100], 274_000),
    "a huge month": (10**9, [2000, 500, 10**9 - 2500], 200_000 + 60_000 + (10**9 - 2500) * 140),
}


@pytest.mark.parametrize(("count", "bands", "cents"), HAND.values(), ids=HAND.keys())
def test_hand_worked_payouts(count: int, bands: list[int], cents: int) -> None:
    tiers, payouts = tier_counts(np.array([count], dtype=np.int64), T, R)
    assert tiers.tolist() == [bands]
    assert payouts.tolist() == [cents]
    assert reference([count], T, R) == ([bands], [cents])


def test_all_agents_at_once_and_dtypes() -> None:
    counts = np.array([c for c, _, _ in HAND.values()], dtype=np.int64)
    tiers, payouts = tier_counts(counts, T, R)
    assert tiers.dtype == np.int64 and payouts.dtype == np.int64
    assert payouts.tolist() == [cents for _, _, cents in HAND.values()]
    assert tier_counts(np.array([], dtype=np.int64), T, R)[1].tolist() == []


def test_a_flat_rate_has_one_band() -> None:
    tiers, payouts = tier_counts(np.array([0, 7], dtype=np.int64), (), (250,))
    assert tiers.tolist() == [[0], [7]] and payouts.tolist() == [0, 1750]


def test_refuses_what_would_overflow_or_make_no_sense() -> None:
    with pytest.raises(OverflowError, match="does not fit in int64"):
        tier_counts(np.array([2**62], dtype=np.int64), (10,), (1, 3))
    with pytest.raises(ValueError, match="must not be negative"):
        tier_counts(np.array([-1], dtype=np.int64), T, R)
    with pytest.raises(ValueError, match="2 thresholds need 3 rates"):
        tier_counts(np.array([1], dtype=np.int64), T, (1, 2))


@st.composite
def schemes(draw: st.DrawFn) -> tuple[list[int], list[int], list[int]]:
    gaps = draw(st.lists(st.integers(1, 10**6), max_size=6))
    thresholds = list(np.cumsum(gaps).tolist()) if gaps else []
    rates = draw(st.lists(st.integers(0, 10**6), min_size=len(gaps) + 1, max_size=len(gaps) + 1))
    edges = [t + d for t in thresholds for d in (-1, 0, 1)]
    count = st.one_of(
        st.just(0), st.integers(0, 10**7), st.integers(0, 10**12),
        st.sampled_from(edges) if edges else st.just(1),
    )  # fmt: skip
    counts = draw(st.lists(count.filter(lambda c: c >= 0), max_size=40))
    return thresholds, rates, counts


@settings(max_examples=300, deadline=None)
@given(schemes())
def test_kernel_equals_reference(scheme: tuple[list[int], list[int], list[int]]) -> None:
    thresholds, rates, counts = scheme
    ref_tiers, ref_pay = reference(counts, thresholds, rates)
    arr = np.array(counts, dtype=np.int64)
    tiers, payouts = tier_counts(arr, thresholds, rates)
    assert tiers.tolist() == ref_tiers
    assert payouts.tolist() == ref_pay
    # The source numba compiles, run as plain Python, agrees too.
    py_tiers, py_pay = python_kernel(arr, thresholds, rates)
    assert py_tiers.tolist() == ref_tiers and py_pay.tolist() == ref_pay
    for c, row in zip(counts, ref_tiers, strict=True):
        assert sum(row) == c  # every order is in exactly one band


def test_reference_bands_are_the_marginal_definition() -> None:
    assert reference_one(2600, [2000, 2500], [1, 1, 1]) == [2000, 500, 100]
    assert reference_one(0, [], [5]) == [0]
