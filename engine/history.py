"""Presence history behind the window: when a day folds, the fold, and reading across it.

Transitions, shifts and logout audit entries older than `presence.daybook.RAW_DAYS`
local days are folded into the day book (one packed row per agent per day) by a
record of their own (`PresenceFolded`), which the engine runs before a command once a
local midnight has passed, like the retention sweep. So the live state and each
checkpoint hold a week of raw presence history whatever the center's age, and reports
over whole days read the book for what is older. The journal keeps everything.
"""

from __future__ import annotations

from collections.abc import Iterable

from engine.errors import Invalid
from engine.state import State, audit_counts, first_moment, local_days
from presence.daybook import RAW_DAYS, add_splits, split_of
from presence.events import ShiftSpec
from presence.timeline import TimeSplit, split_time
from presence.timeutil import format_time


def horizon(state: State, now: int) -> int:
    """Where raw history should start at `now`: local midnight RAW_DAYS days back."""
    days = local_days(state)
    return days.start(days.ordinal(now) - RAW_DAYS)


def fold_target(state: State, now: int) -> int | None:
    """The horizon to fold up to, if a local midnight moved it past the folded days and
    there is history to fold (a new center folds nothing: its time zone stays free)."""
    before = horizon(state, now)
    if before <= state.history_from:
        return None
    if not state.history_from:
        first = first_moment(state)
        if first is None or first >= before:
            return None
    return before


def fold_due(state: State, now: int) -> bool:
    """O(1) but once a day: is a fold due? (not until the next local midnight if not)."""
    if now < state.fold_checked_until:
        return False
    if fold_target(state, now) is not None:
        return True
    days = local_days(state)
    state.fold_checked_until = days.start(days.ordinal(now) + 1)  # a cache
    return False


def check_shifts(state: State, shifts: Iterable[ShiftSpec]) -> None:
    """A folded day's time is final: no shift may reach into it (422)."""
    before = state.history_from
    for i, s in enumerate(shifts):
        if s.start < before:
            raise Invalid(
                f"shifts[{i}].start",
                f"shift of agent {s.agent_id!r} starts before {format_time(before)}: days "
                "before it are folded and their time accounting is final",
                code="history_by_day",
            )


def check_window(state: State, lo: int, hi: int, field: str = "from") -> None:
    """Before the raw history, time is kept per local day: a window reaching there must
    start and end on local midnights (422 naming the horizon otherwise)."""
    before = state.history_from
    if lo >= before:
        return
    days = local_days(state)
    for name, t in ((field, lo), ("to", hi)):
        if t < before and days.start(days.ordinal(t)) != t:
            raise Invalid(
                name,
                f"before {format_time(before)} time is kept per local day: {name} must be "
                "a local midnight there (the journal holds the raw history)",
                code="history_by_day",
            )


def check_raw(state: State, lo: int, what: str) -> None:
    """Listings of raw history (shifts, the logout audit) reach back to the horizon only:
    an explicit `from` before it is 422, not a silently shorter list."""
    if lo < state.history_from:
        raise Invalid(
            "from",
            f"{what} before {format_time(state.history_from)} are folded into per-day time "
            "accounting: the journal holds them (seatflow replay, journal segments)",
            code="history_by_day",
        )


def time_between(
    state: State, agent_ids: Iterable[str], lo: int, hi: int, now: int
) -> dict[str, tuple[TimeSplit, list[int]]]:
    """Per agent its time split (clipped at `now`: nobody is on duty in the future) and
    logout counts over [lo, hi): whole folded days from the book, the rest from raw
    history. Callers check the window (check_window)."""
    before = state.history_from
    folded = state.daybook.totals(lo, min(hi, before)) if lo < before else {}
    raw_lo = max(lo, before)
    logouts = audit_counts(state.audit, raw_lo, hi) if raw_lo < hi else {}
    top = min(hi, now)
    out = {}
    for agent_id in agent_ids:
        split = (
            split_time(state.transitions.get(agent_id, ()), state.roster.of(agent_id), raw_lo, top)
            if raw_lo < top
            else TimeSplit(0, 0, 0, 0)
        )
        counts = list(logouts.get(agent_id, (0, 0, 0, 0)))
        row = folded.get(agent_id)
        if row is not None:
            split = add_splits(split_of(row), split)
            counts = [a + b for a, b in zip(counts, row[5:], strict=True)]
        out[agent_id] = (split, counts)
    return out


__all__ = ["RAW_DAYS", "check_window", "fold_due", "time_between"]
