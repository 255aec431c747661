"""Shifts per agent: overlap checks, the shift in progress, and handover windows."""

from __future__ import annotations

from bisect import bisect_right, insort
from collections.abc import Iterable
from typing import NamedTuple

from presence.errors import Invalid
from presence.events import ShiftSpec
from presence.timeutil import format_time

MAX_SHIFT_HOURS = 24
MAX_SHIFT_MS = MAX_SHIFT_HOURS * 3600 * 1000
_AFTER_ANY_END = 1 << 62  # sorts after every (start, end) that starts at a given time


class Handover(NamedTuple):
    """Where an agent stands against the end of its latest started shift, at one moment."""

    handing_over: bool
    # End of the latest started shift (the one in progress, or the last one), if any.
    shift_end: int | None
    # When `handing_over` next changes by time alone, if it ever does.
    changes_at: int | None


class Roster:
    """Per agent, its shifts as a sorted list of (start, end) epoch-ms pairs."""

    __slots__ = ("_shifts",)

    def __init__(self) -> None:
        self._shifts: dict[str, list[tuple[int, int]]] = {}

    def check_new(self, shifts: Iterable[ShiftSpec]) -> None:
        """Raise Invalid naming the first shift that is malformed or overlaps another."""
        added: dict[str, list[tuple[int, int]]] = {}
        for i, s in enumerate(shifts):
            where = f"shifts[{i}]"
            if s.end <= s.start:
                raise Invalid(
                    f"{where}.end", f"shift of agent {s.agent_id!r} does not end after it starts"
                )
            if s.end - s.start > MAX_SHIFT_MS:
                raise Invalid(
                    f"{where}.end",
                    f"shift of agent {s.agent_id!r} is longer than {MAX_SHIFT_HOURS} hours",
                )
            for start, end in (*self._shifts.get(s.agent_id, ()), *added.get(s.agent_id, ())):
                if s.start < end and start < s.end:
                    raise Invalid(
                        where,
                        f"shift {format_time(s.start)}..{format_time(s.end)} of agent "
                        f"{s.agent_id!r} overlaps its shift "
                        f"{format_time(start)}..{format_time(end)}",
                        code="shift_overlap",
                    )
            added.setdefault(s.agent_id, []).append((s.start, s.end))

    def add(self, shifts: Iterable[ShiftSpec]) -> None:
        for s in shifts:
            insort(self._shifts.setdefault(s.agent_id, []), (s.start, s.end))

    def load(self, agent_id: str, shifts: list[tuple[int, int]]) -> None:
        """An agent's shifts as `of` gave them (sorted, checked when they were added)."""
        self._shifts[agent_id] = sorted(shifts)

    def forget_before(self, before: int) -> None:
        """Drop shifts that ended by `before`, but each agent's latest (its handover is
        measured against the latest started shift)."""
        for shifts in self._shifts.values():
            k = bisect_right(shifts, (before, _AFTER_ANY_END))  # started by `before`
            while k and shifts[k - 1][1] > before:
                k -= 1  # shifts are disjoint: only ones ending after `before` stay
            if k > 1:
                del shifts[: k - 1]

    def of(self, agent_id: str) -> list[tuple[int, int]]:
        return self._shifts.get(agent_id, [])

    def agents(self) -> Iterable[str]:
        return self._shifts.keys()

    def _started(self, agent_id: str, now: int) -> tuple[list[tuple[int, int]], int]:
        """The agent's shifts and how many of them have started by `now`."""
        shifts = self._shifts.get(agent_id, [])
        return shifts, bisect_right(shifts, (now, _AFTER_ANY_END))

    def in_progress(self, agent_id: str, now: int) -> tuple[int, int] | None:
        """The shift with start <= now < end, if any (shifts never overlap)."""
        shifts, i = self._started(agent_id, now)
        return shifts[i - 1] if i and now < shifts[i - 1][1] else None

    def handover(self, agent_id: str, now: int, window_ms: int) -> Handover:
        """Whether the agent is handing over at `now`, its shift's end, and when that changes.

        Handing over: inside the last `window_ms` of its latest started shift, or past
        that shift's end with no new shift begun (an agent who stayed logged in after
        its shift). It ends when the next shift starts. The router prefers such an agent
        last; the board marks it near its shift's end.
        """
        shifts, i = self._started(agent_id, now)
        next_start = shifts[i][0] if i < len(shifts) else None
        if i == 0:
            return Handover(False, None, next_start)
        start, end = shifts[i - 1]
        wind_at = max(start, end - window_ms)
        if now < wind_at:
            return Handover(False, end, wind_at)
        return Handover(True, end, next_start)

    def between(self, agent_id: str | None, lo: int, hi: int) -> list[tuple[str, int, int]]:
        """Shifts that intersect [lo, hi), by agent then start."""
        ids = [agent_id] if agent_id is not None else sorted(self._shifts)
        return [(a, s, e) for a in ids for (s, e) in self._shifts.get(a, ()) if s < hi and lo < e]
