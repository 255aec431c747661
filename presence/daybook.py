"""Time accounting of the days behind the raw-history window, per local day and agent.

A center keeps every agent's state transitions, shifts and logout audit only for a
window of recent days (`RAW_DAYS`); older days are folded into one packed row per
agent per day: the time split (presence.timeline.TimeSplit) and the logout counts.
Reports over whole days read the rows; the journal keeps the raw history for audit.
A day of 1,200 agents is ~90 KB here against ~1.5 MB as transitions, shifts and
audit entries, so memory and start-up follow the window, not the center's age.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from dataclasses import dataclass

from presence.timeline import TimeSplit

# Days of raw presence history kept before a day is folded (a week: audit listings,
# schedules and utilization over any window reach that far back).
RAW_DAYS = 7

# A row: the TimeSplit's five durations (ms), then logout requests, denials, approvals
# and forced logouts.
WIDTH = 9
SPLIT = 5

Totals = dict[str, list[int]]


@dataclass(slots=True, frozen=True)
class Day:
    """One folded local day [start, end): `values[i*WIDTH:(i+1)*WIDTH]` is agents[i]'s."""

    start: int
    end: int
    agents: tuple[str, ...]  # sorted; days with the same agents share one tuple
    values: array[int]

    def row(self, agent_id: str) -> list[int] | None:
        i = bisect_left(self.agents, agent_id)
        if i == len(self.agents) or self.agents[i] != agent_id:
            return None
        return list(self.values[i * WIDTH : (i + 1) * WIDTH])


class DayBook:
    """Folded days in time order."""

    __slots__ = ("days",)

    def __init__(self) -> None:
        self.days: list[Day] = []

    def add(self, start: int, end: int, rows: dict[str, list[int]]) -> None:
        agents = tuple(sorted(rows))
        if self.days and self.days[-1].agents == agents:
            agents = self.days[-1].agents  # the same roster as the day before: share it
        values = array("q")
        for agent_id in agents:
            values.extend(rows[agent_id])
        self.days.append(Day(start, end, agents, values))

    def load(self, start: int, end: int, agents: list[str], values: bytes) -> None:
        """A day as a checkpoint holds it (agents sorted, WIDTH values each)."""
        shared = tuple(agents)
        if self.days and self.days[-1].agents == shared:
            shared = self.days[-1].agents
        row = array("q")
        row.frombytes(values)
        if len(row) != WIDTH * len(shared):
            raise ValueError(f"day at {start}: {len(row)} values for {len(shared)} agents")
        self.days.append(Day(start, end, shared, row))

    def totals(self, lo: int, hi: int) -> Totals:
        """Per agent, its rows summed over the folded days inside [lo, hi)."""
        days = self.days
        out: Totals = {}
        for k in range(bisect_left(days, lo, key=lambda d: d.start), len(days)):
            day = days[k]
            if day.end > hi:
                break
            values = day.values
            for i, agent_id in enumerate(day.agents):
                acc = out.get(agent_id)
                if acc is None:
                    out[agent_id] = list(values[i * WIDTH : (i + 1) * WIDTH])
                else:
                    for j in range(WIDTH):
                        acc[j] += values[i * WIDTH + j]
        return out


def split_of(row: list[int]) -> TimeSplit:
    return TimeSplit(*row[:SPLIT])


def row_of(split: TimeSplit, logouts: list[int]) -> list[int]:
    s = split
    return [
        s.scheduled_ms, s.on_duty_ms, s.away_ms, s.outside_schedule_ms, s.not_responding_ms,
        *logouts,
    ]  # fmt: skip


def add_splits(a: TimeSplit, b: TimeSplit) -> TimeSplit:
    return TimeSplit(
        a.scheduled_ms + b.scheduled_ms,
        a.on_duty_ms + b.on_duty_ms,
        a.away_ms + b.away_ms,
        a.outside_schedule_ms + b.outside_schedule_ms,
        a.not_responding_ms + b.not_responding_ms,
    )
