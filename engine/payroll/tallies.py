"""Per agent, per local day: completed orders, QA checked and passed, first responses.

Kept by the state fold as events are applied, O(1) per event; the day is the local
calendar day (setting `timezone`) on which the order was completed, and a QA result
counts on the day its order was completed, so a month's accuracy is that of the
month's work. A QA result that replaces an earlier one moves `passed` only. A first response
counts on the day it was given, with its time since the order's assignment (ms).
A timezone change re-buckets everything from the orders (rare, O(orders); refused once
orders are archived). The log of single responses (any window, to the millisecond) is
kept for the retention window only: before its first local day, a window counts the
responses of the whole local days that start inside it (`log_from`).
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Iterable, Mapping

from engine.calendar import LocalDays

COMPLETED, QA_CHECKED, QA_PASSED, RESPONDED, RESPONSE_MS = 0, 1, 2, 3, 4
WIDTH = 5  # slots per day


class DayRows:
    """One agent's days as one packed array, WIDTH int64 slots a day from `first` on.

    A dict of 5-item lists per day cost ~200 bytes a row and grew a dict per agent for
    ever (bench/RESULTS.md, the long run: the largest part of what still grew per day);
    packed, a day costs 40 bytes and a range's sums are strided slices summed in C.
    """

    __slots__ = ("first", "values")

    def __init__(self, first: int) -> None:
        self.first = first
        self.values = array("q")

    def __len__(self) -> int:
        """Days spanned, from the first to the last held."""
        return len(self.values) // WIDTH

    def add(self, ordinal: int, slot: int, delta: int) -> None:
        i = ordinal - self.first
        values = self.values
        if i < 0:  # a day before the first held (a time zone rebuild goes in any order)
            self.values = values = array("q", bytes(8 * WIDTH * -i)) + values
            self.first, i = ordinal, 0
        end = (i + 1) * WIDTH
        if end > len(values):
            values.frombytes(bytes(8 * (end - len(values))))  # zeros
        values[i * WIDTH + slot] += delta

    def total(self, slot: int, first: int, end: int) -> int:
        """The sum of `slot` over days with ordinals in [first, end)."""
        lo = max(first - self.first, 0) * WIDTH
        hi = min(end - self.first, len(self)) * WIDTH
        return sum(self.values[lo + slot : hi : WIDTH]) if hi > lo else 0

    def rows(self) -> dict[int, list[int]]:
        """ordinal -> slots of every day that holds anything (the fingerprint's form)."""
        v, first = self.values, self.first
        return {
            first + d: row
            for d in range(len(self))
            if any(row := list(v[d * WIDTH : (d + 1) * WIDTH]))
        }


class Tallies:
    __slots__ = ("days", "by_agent", "log", "log_from")

    def __init__(self, timezone: str = "Asia/Shanghai") -> None:
        self.days = LocalDays(timezone)
        # agent id -> its days: [completed, qa_checked, qa_passed, responded, response_ms]
        # per local date ordinal
        self.by_agent: dict[str, DayRows] = {}
        # agent id -> (times, running total of ms) of its first responses, in time order:
        # any window's count and sum by bisection (utilization reports take any window).
        self.log: dict[str, tuple[list[int], list[int]]] = {}
        # The log holds every response given at or after this time (a local midnight).
        self.log_from = 0

    @property
    def timezone(self) -> str:
        return self.days.timezone

    def _add(self, agent_id: str, at: int, slot: int, delta: int) -> None:
        ordinal = self.days.ordinal(at)
        days = self.by_agent.get(agent_id)
        if days is None:
            days = self.by_agent[agent_id] = DayRows(ordinal)
        days.add(ordinal, slot, delta)

    def completed(self, agent_id: str, at: int) -> None:
        self._add(agent_id, at, COMPLETED, 1)

    def qa(self, agent_id: str, completed_at: int, before: bool | None, passed: bool) -> None:
        """A QA result on an order `agent_id` completed at `completed_at`."""
        if before is None:
            self._add(agent_id, completed_at, QA_CHECKED, 1)
        self._add(agent_id, completed_at, QA_PASSED, int(passed) - int(bool(before)))

    def responded(self, agent_id: str, at: int, response_ms: int) -> None:
        """A first response by `agent_id` at `at`, `response_ms` after the assignment."""
        self._add(agent_id, at, RESPONDED, 1)
        self._add(agent_id, at, RESPONSE_MS, response_ms)
        log = self.log.get(agent_id)
        if log is None:
            log = self.log[agent_id] = ([], [])
        times, totals = log
        times.append(at)
        totals.append((totals[-1] if totals else 0) + response_ms)

    def responses_between(self, agent_id: str, lo: int, hi: int) -> tuple[int, int]:
        """(first responses, their total ms since assignment) given in [lo, hi)."""
        n = ms = 0
        if lo < self.log_from:  # older than the log: whole local days starting in [lo, hi)
            top = min(hi, self.log_from)
            first = self.days.ordinal(lo)
            if self.days.start(first) < lo:
                first += 1
            n, ms = self.responses(agent_id, first, self.days.ordinal(top - 1) + 1)
            lo = self.log_from
        log = self.log.get(agent_id)
        if log is None or hi <= lo:
            return n, ms
        times, totals = log
        i, j = bisect_left(times, lo), bisect_left(times, hi)
        if j <= i:
            return n, ms
        return n + j - i, ms + totals[j - 1] - (totals[i - 1] if i else 0)

    def forget_responses_before(self, at: int) -> None:
        """Drop single responses before the local day of `at` (their days keep them)."""
        start = self.days.start(self.days.ordinal(at))
        if start <= self.log_from:
            return
        self.log_from = start
        for agent_id, (times, totals) in list(self.log.items()):
            i = bisect_left(times, start)
            if not i:
                continue
            if i == len(times):
                del self.log[agent_id]
                continue
            cut = totals[i - 1]
            self.log[agent_id] = (times[i:], [t - cut for t in totals[i:]])

    def rebuild(
        self,
        timezone: str,
        done: Iterable[tuple[str, int, bool | None]],
        responses: Iterable[tuple[str, int, int]] = (),
    ) -> None:
        """Start over in `timezone` from (agent_id, completed_at, qa_passed) of completed
        orders and (agent_id, first_response_at, response_ms) of answered ones."""
        self.days = LocalDays(timezone)
        self.by_agent = {}
        self.log = {}
        self.log_from = 0
        for agent_id, completed_at, qa_passed in done:
            self.completed(agent_id, completed_at)
            if qa_passed is not None:
                self.qa(agent_id, completed_at, None, qa_passed)
        for agent_id, at, response_ms in sorted(responses, key=lambda r: r[1]):
            self.responded(agent_id, at, response_ms)

    def sums(self, agent_id: str, first: int, end: int) -> tuple[int, int, int]:
        """(completed, qa_checked, qa_passed) of local days with ordinals in [first, end)."""
        days = self.by_agent.get(agent_id)
        if days is None:
            return 0, 0, 0
        return (
            days.total(COMPLETED, first, end),
            days.total(QA_CHECKED, first, end),
            days.total(QA_PASSED, first, end),
        )

    def responses(self, agent_id: str, first: int, end: int) -> tuple[int, int]:
        """(first responses, their total ms since assignment) of days in [first, end)."""
        days = self.by_agent.get(agent_id)
        if days is None:
            return 0, 0
        return days.total(RESPONDED, first, end), days.total(RESPONSE_MS, first, end)

    def dump_log(self) -> dict[str, list[list[int]]]:
        """The single responses, per agent [times, running totals], for the fingerprint."""
        return {a: [list(t), list(s)] for a, (t, s) in sorted(self.log.items())}

    def dump(self) -> dict[str, dict[int, list[int]]]:
        """Plain data for the state fingerprint: the days that hold anything."""
        dumped = {a: days.rows() for a, days in sorted(self.by_agent.items())}
        return {a: rows for a, rows in dumped.items() if rows}

    def load(self, dumped: Mapping[str, Mapping[int, list[int]]]) -> None:
        """The inverse of `dump` (a checkpoint's days): one flat list and one array per
        agent, not an add per slot, so start-up stays a small part of the decode."""
        self.by_agent = {}
        for agent_id, rows in dumped.items():
            if not rows:
                continue
            days = sorted((int(d), r) for d, r in rows.items())
            first = days[0][0]
            flat = [0] * (WIDTH * (days[-1][0] - first + 1))
            for ordinal, row in days:
                i = (ordinal - first) * WIDTH
                flat[i : i + WIDTH] = row
            packed = self.by_agent[agent_id] = DayRows(first)
            packed.values = array("q", flat)
