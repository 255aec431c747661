"""Time accounting: how an agent's time splits between states, inside and outside shifts.

Pure interval arithmetic over two sorted, non-overlapping lists: the agent's state
transitions and its shifts. Everything is integer milliseconds, so sums are exact.
A window starts by bisection in both lists, so a report of this month costs this
month's transitions and shifts, not the center's whole history.
Utilization is what workforce-management tools call conformance: time `available`
inside scheduled shifts divided by scheduled time.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from presence.agent import AVAILABLE, AWAY, NOT_RESPONDING, OFFLINE

Transition = tuple[int, str]  # (at, new state)
Span = tuple[int, int]


@dataclass(slots=True, frozen=True)
class TimeSplit:
    scheduled_ms: int
    on_duty_ms: int  # available inside shifts
    away_ms: int  # away inside shifts
    outside_schedule_ms: int  # logged in (any state but offline) outside shifts
    not_responding_ms: int = 0  # not responding inside shifts (not on duty)

    @property
    def utilization(self) -> float | None:
        return None if self.scheduled_ms == 0 else self.on_duty_ms / self.scheduled_ms


def state_spans(
    transitions: Sequence[Transition], lo: int, hi: int
) -> Iterator[tuple[int, int, str]]:
    """(start, end, state) pieces of [lo, hi); before the first transition the agent is offline."""
    first = bisect_right(transitions, lo, key=lambda t: t[0])  # the state at lo: the last before
    state, since = (transitions[first - 1][1] if first else OFFLINE), lo
    for k in range(first, len(transitions)):
        at, new = transitions[k]
        if at >= hi:
            break
        if at > since:
            yield since, at, state
            since = at
        state = new
    if since < hi:
        yield max(since, lo), hi, state


def _overlap(a: Span, b: Span) -> int:
    return max(0, min(a[1], b[1]) - max(a[0], b[0]))


def split_time(
    transitions: Sequence[Transition], shifts: Sequence[Span], lo: int, hi: int
) -> TimeSplit:
    """Split [lo, hi) for one agent. Callers clip `hi` to now: the future has no duty."""
    if hi <= lo:
        return TimeSplit(0, 0, 0, 0)
    start_at = max(0, bisect_left(shifts, (lo,)) - 1)  # only the one before lo can reach into it
    window = []
    for k in range(start_at, len(shifts)):
        s, e = shifts[k]
        if s >= hi:
            break
        if lo < e:
            window.append((max(s, lo), min(e, hi)))
    scheduled = sum(e - s for s, e in window)
    on_duty = away = not_responding = logged_in = 0
    i = 0
    for start, end, state in state_spans(transitions, lo, hi):
        if state == OFFLINE:
            continue
        logged_in += end - start
        while i < len(window) and window[i][1] <= start:
            i += 1
        inside = 0
        j = i
        while j < len(window) and window[j][0] < end:
            inside += _overlap((start, end), window[j])
            j += 1
        if state == AVAILABLE:
            on_duty += inside
        elif state == AWAY:
            away += inside
        elif state == NOT_RESPONDING:
            not_responding += inside
    inside_shifts = on_duty + away + not_responding
    return TimeSplit(scheduled, on_duty, away, logged_in - inside_shifts, not_responding)
