"""Per-day tallies packed per agent (engine/payroll/tallies.py DayRows): any sequence of
additions, in any day order, sums over any range exactly as plain per-day rows would, and
the fingerprint's form round-trips."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from engine.payroll.tallies import WIDTH, DayRows, Tallies

adds = st.lists(
    st.tuples(
        st.integers(739_000, 739_060),  # local date ordinals, two months
        st.integers(0, WIDTH - 1),
        st.integers(-3, 50_000),
    ),
    min_size=1,
    max_size=80,
)


@given(adds, st.integers(738_990, 739_070), st.integers(0, 90))
def test_packed_days_sum_as_plain_rows(
    steps: list[tuple[int, int, int]], lo: int, span: int
) -> None:
    model: dict[int, list[int]] = {}
    rows = DayRows(steps[0][0])
    for ordinal, slot, delta in steps:
        rows.add(ordinal, slot, delta)
        model.setdefault(ordinal, [0] * WIDTH)[slot] += delta
    for slot in range(WIDTH):
        want = sum(r[slot] for d, r in model.items() if lo <= d < lo + span)
        assert rows.total(slot, lo, lo + span) == want
    assert rows.rows() == {d: r for d, r in model.items() if any(r)}
    tallies = Tallies("UTC")
    tallies.load({"a1": rows.rows()})
    assert tallies.dump() == ({"a1": rows.rows()} if rows.rows() else {})
