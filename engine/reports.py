"""Read-side reports over state: time accounting per agent for a window.

Days are calendar days in the center's time zone (setting `timezone`); windows are
clipped at the engine's current time, since nobody is on duty in the future.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from presence.timeline import TimeSplit, split_time

if TYPE_CHECKING:  # state imports the payroll tallies, which use day_start from here
    from engine.state import State


def day_start(now_ms: int, timezone: str) -> int:
    """Epoch ms of local midnight, in `timezone`, of the day that contains `now_ms`.

    fold=0 picks the first midnight where clocks fall back across it (America/Havana
    repeats 00:00..01:00), even when `now_ms` lies in the repeated hour; where midnight
    is skipped it maps to the moment the day begins.
    """
    local = datetime.fromtimestamp(now_ms / 1000, UTC).astimezone(ZoneInfo(timezone))
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0, fold=0)
    return int(midnight.timestamp()) * 1000


def agent_time(state: State, agent_id: str, lo: int, hi: int) -> TimeSplit:
    hi = min(hi, state.now)
    return split_time(state.transitions.get(agent_id, ()), state.roster.of(agent_id), lo, hi)


def utilization_today(state: State, agent_id: str) -> float | None:
    """On-duty time ÷ scheduled time so far today (None when nothing was scheduled yet)."""
    lo = day_start(state.now, state.settings.timezone)
    return agent_time(state, agent_id, lo, state.now).utilization
