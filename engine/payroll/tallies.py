"""Per agent, per local day: completed orders, QA checked and passed, first responses.

Kept by the state fold as events are applied, O(1) per event; the day is the local
calendar day (setting `timezone`) on which the order was completed, and a QA result
counts on the day its order was completed, so a month's accuracy is that of the
month's work. A QA result that replaces an earlier one moves `passed` only. A first response
counts on the day it was given, with its time since the order's assignment (ms).
A timezone change re-buckets everything from the orders (rare, O(orders)).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable

from engine.calendar import LocalDays

COMPLETED, QA_CHECKED, QA_PASSED, RESPONDED, RESPONSE_MS = 0, 1, 2, 3, 4


class Tallies:
    __slots__ = ("days", "by_agent", "log")

    def __init__(self, timezone: str = "Asia/Shanghai") -> None:
        self.days = LocalDays(timezone)
        # agent id -> local date ordinal -> [completed, qa_checked, qa_passed, responded,
        # response_ms]
        self.by_agent: dict[str, dict[int, list[int]]] = {}
        # agent id -> (times, running total of ms) of its first responses, in time order:
        # any window's count and sum by bisection (utilization reports take any window).
        self.log: dict[str, tuple[list[int], list[int]]] = {}

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
        log = self.log.get(agent_id)
        if log is None:
            return 0, 0
        times, totals = log
        i, j = bisect_left(times, lo), bisect_left(times, hi)
        if j <= i:
            return 0, 0
        return j - i, totals[j - 1] - (totals[i - 1] if i else 0)

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

    def dump(self) -> dict[str, dict[int, list[int]]]:
        """Plain data for the state fingerprint."""
        return {
            a: {d: list(row) for d, row in sorted(days.items())}
            for a, days in sorted(self.by_agent.items())
        }
