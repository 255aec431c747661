"""Read-side reports over state: time accounting per agent for a window.

Days are calendar days in the center's time zone (setting `timezone`); windows are
clipped at the engine's current time, since nobody is on duty in the future.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.calendar import day_start
from presence.timeline import TimeSplit, split_time

if TYPE_CHECKING:
    from engine.state import State


def agent_time(state: State, agent_id: str, lo: int, hi: int) -> TimeSplit:
    hi = min(hi, state.now)
    return split_time(state.transitions.get(agent_id, ()), state.roster.of(agent_id), lo, hi)


def utilization_today(state: State, agent_id: str) -> float | None:
    """On-duty time ÷ scheduled time so far today (None when nothing was scheduled yet)."""
    lo = day_start(state.now, state.settings.timezone)
    return agent_time(state, agent_id, lo, state.now).utilization
