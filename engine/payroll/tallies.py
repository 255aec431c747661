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

from bisect import bisect_left
from collections.abc import Iterable

from engine.calendar import LocalDays

COMPLETED, QA_CHECKED, QA_PASSED, RESPONDED, RESPONSE_MS = 0, 1, 2, 3, 4


class Tallies:
    __slots__ = ("days", "by_agent", "log", "log_from")

    def __init__(self, timezone: str = "Asia/Shanghai") -> None:
        self.days = LocalDays(timezone)
        # agent id -> local date ordinal -> [completed, qa_checked, qa_passed, responded,
        # response_ms]
        self.by_agent: dict[str, dict[int, list[int]]] = {}
        # agent id -> (times, running total of ms) of its first responses, in time order:
        # any window's count and sum by bisection (utilization reports take any window).
        self.log: dict[str, tuple[list[int], list[int]]] = {}
        # The log holds every response given at or after this time (a local midnight).
        self.log_from = 0

    @property
    def timezone(self) -> str:
        return self.days.timezone

    def _day(self, agent_id: str, at: int) -> list[int]:
        ordinal = self.days.ordinal(at)
        days = self.by_agent.get(agent_id)
        if days is None:
            days = self.by_agent[agent_id] = {}
        row = days.get(ordinal)
        if row is None:
            row = days[ordinal] = [0, 0, 0, 0, 0]
        return row

    def completed(self, agent_id: str, at: int) -> None:
        self._day(agent_id, at)[COMPLETED] += 1

    def qa(self, agent_id: str, completed_at: int, before: bool | None, passed: bool) -> None:
        """A QA result on an order `agent_id` completed at `completed_at`."""
        row = self._day(agent_id, completed_at)
        if before is None:
            row[QA_CHECKED] += 1
        row[QA_PASSED] += int(passed) - int(bool(before))

    def responded(self, agent_id: str, at: int, response_ms: int) -> None:
        """A first response by `agent_id` at `at`, `response_ms` after the assignment."""
        row = self._day(agent_id, at)
        row[RESPONDED] += 1
        row[RESPONSE_MS] += response_ms
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
        if not days:
            return 0, 0, 0
        c = q = p = 0
        for ordinal in range(first, end):
            row = days.get(ordinal)
            if row is not None:
                c += row[0]
                q += row[1]
                p += row[2]
        return c, q, p

    def responses(self, agent_id: str, first: int, end: int) -> tuple[int, int]:
        """(first responses, their total ms since assignment) of days in [first, end)."""
        days = self.by_agent.get(agent_id)
        if not days:
            return 0, 0
        n = ms = 0
        for ordinal in range(first, end):
            row = days.get(ordinal)
            if row is not None:
                n += row[RESPONDED]
                ms += row[RESPONSE_MS]
        return n, ms

    def dump_log(self) -> dict[str, list[list[int]]]:
        """The single responses, per agent [times, running totals], for the fingerprint."""
        return {a: [list(t), list(s)] for a, (t, s) in sorted(self.log.items())}

    def dump(self) -> dict[str, dict[int, list[int]]]:
        """Plain data for the state fingerprint."""
        return {
            a: {d: list(row) for d, row in sorted(days.items())}
            for a, days in sorted(self.by_agent.items())
        }
