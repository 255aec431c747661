"""What the live board page shows: seats, team and skill rows, and the last hour by minute.

Everything here is pure over state and a given time, like `api.board` (the JSON
snapshot of `GET /v1/board`), whose rows it extends for the page: a seat also
carries its skills, away reason, shift end, a near-shift-end mark and its pending
logout request; team rows carry today's utilization; skill rows join head counts
with queue depth. `MinuteHistory` is the one stateful piece: a ring of per-minute
counts folded from journal records (their `at`, never a wall clock), so the chart
shows engine time and a manual test clock moves it as it moves everything else.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

from msgspec import Struct

from api.board import BoardQueue, BoardTotals, build_totals, count_seat, queue_rows
from engine import events as ev
from engine.calendar import day_start
from engine.reports import agent_time
from engine.state import State
from engine.views import LogoutRequestView, request_view
from presence.agent import OFFLINE, Agent
from presence.requests import PENDING
from presence.timeline import TimeSplit
from presence.timeutil import format_opt, format_time

MINUTE_MS = 60_000
HISTORY_MINUTES = 60


class Seat(Struct):
    """One agent's tile: the fields of a `GET /v1/board` agent, then the page's extras."""

    id: str
    name: str
    team: str
    state: str
    load: int
    capacity: int
    state_since: str
    utilization_today: float | None
    skills: list[str]
    reason: str | None
    # End of the shift in progress (or of the last one, if the agent stayed on past it).
    shift_end: str | None
    # Logged in and handing over (presence.roster.Roster.handover): inside the window of
    # setting stop_new_before_end_s before that end, or past it. The wire keeps this name.
    near_shift_end: bool
    pending_logout_request: str | None
    # Slots held in wrap-up (counted in `load`).
    wrapping: int = 0


class TeamRow(Struct):
    team: str
    available: int = 0
    away: int = 0
    offline: int = 0
    load: int = 0
    capacity: int = 0
    scheduled_s: int = 0
    on_duty_s: int = 0
    utilization_today: float | None = None
    not_responding: int = 0


class SkillRow(Struct):
    """Agents having the skill (an agent with two skills counts in both) and its queue."""

    skill: str | None
    available: int = 0
    away: int = 0
    offline: int = 0
    load: int = 0
    capacity: int = 0
    depth: int = 0
    oldest_wait_s: float = 0.0
    not_responding: int = 0


class Minute(Struct):
    """One minute of engine time: orders in, assigned, completed; queue depth at its end."""

    minute: str
    received: int = 0
    assigned: int = 0
    completed: int = 0
    queue_depth: int = 0


class Aggregates(Struct):
    """The small, whole-floor parts of the board: sent whole in every update."""

    now: str
    queues: list[BoardQueue]
    teams: list[TeamRow]
    skills: list[SkillRow]
    pending_logout_requests: list[LogoutRequestView]
    totals: BoardTotals
    handover_s: int


class FloorSnapshot(Struct):
    """The stream's `snapshot` event: the GET /v1/board fields (rows extended) and more."""

    now: str
    agents: list[Seat]
    queues: list[BoardQueue]
    teams: list[TeamRow]
    skills: list[SkillRow]
    pending_logout_requests: list[LogoutRequestView]
    totals: BoardTotals
    handover_s: int
    history: list[Minute]


class FloorDelta(Struct):
    """A `delta` event: changed seats (whole), every aggregate, the minutes that changed."""

    now: str
    agents: list[Seat]
    queues: list[BoardQueue]
    teams: list[TeamRow]
    skills: list[SkillRow]
    pending_logout_requests: list[LogoutRequestView]
    totals: BoardTotals
    handover_s: int
    history: list[Minute]


def time_splits(state: State, now: int, ids: Iterable[str]) -> dict[str, TimeSplit]:
    """Today's time split (local midnight to now) of each of these agents."""
    lo = day_start(now, state.settings.timezone)
    return {i: agent_time(state, i, lo, now) for i in ids}


def seat_mark(state: State, a: Agent, now: int) -> tuple[str | None, bool]:
    """(end of the latest started shift, whether the agent is handing over while on).

    The roster's handover rule, the one the router uses, taken at `now`: it moves with
    time alone, with no event, so the stream re-checks it on every update.
    """
    window = state.settings.stop_new_before_end_s * 1000
    handing_over, end, _ = state.roster.handover(a.id, now, window)
    return format_opt(end), a.state != OFFLINE and handing_over


def seat(state: State, a: Agent, now: int, split: TimeSplit) -> Seat:
    shift_end, near = seat_mark(state, a, now)
    return Seat(
        a.id,
        a.name,
        a.team,
        a.state,
        a.load,
        a.capacity,
        format_time(a.state_since),
        split.utilization,
        list(a.skills),
        a.reason,
        shift_end,
        near,
        a.pending_request,
        len(a.wrap_ends),
    )


def seats(
    state: State,
    now: int,
    ids: Iterable[str] | None = None,
    known: dict[str, TimeSplit] | None = None,
) -> tuple[list[Seat], dict[str, TimeSplit]]:
    """Seats of these agents (all when None), by id, and the time splits they used.

    Splits found in `known` are reused (utilization today moves slowly; the stream
    refreshes them all every few seconds); the others are computed.
    """
    agents = state.agents
    chosen = sorted(agents) if ids is None else sorted(i for i in ids if i in agents)
    known = known or {}
    splits = time_splits(state, now, [i for i in chosen if i not in known])
    for i in chosen:
        if i not in splits:
            splits[i] = known[i]
    return [seat(state, agents[i], now, splits[i]) for i in chosen], splits


def team_rows(state: State, splits: dict[str, TimeSplit]) -> list[TeamRow]:
    """Per team; utilization from the agents' time splits (agents without one count 0)."""
    teams: dict[str, TeamRow] = {}
    for a in state.agents.values():
        row = teams.get(a.team)
        if row is None:
            row = teams[a.team] = TeamRow(a.team)
        count_seat(row, a)
        split = splits.get(a.id)
        if split is not None:
            row.scheduled_s += split.scheduled_ms // 1000
            row.on_duty_s += split.on_duty_ms // 1000
    for row in teams.values():
        row.utilization_today = row.on_duty_s / row.scheduled_s if row.scheduled_s else None
    return sorted(teams.values(), key=lambda t: t.team)


def skill_rows(state: State, queues: list[BoardQueue]) -> list[SkillRow]:
    rows: dict[str | None, SkillRow] = {}
    for a in state.agents.values():
        for skill in a.skills:
            row = rows.get(skill)
            if row is None:
                row = rows[skill] = SkillRow(skill)
            count_seat(row, a)
    for q in queues:
        row = rows.get(q.skill)
        if row is None:
            row = rows[q.skill] = SkillRow(q.skill)
        row.depth, row.oldest_wait_s = q.depth, q.oldest_wait_s
    return sorted(rows.values(), key=lambda r: (r.skill is not None, r.skill or ""))


def aggregates(state: State, now: int, splits: dict[str, TimeSplit]) -> Aggregates:
    queues = queue_rows(state, now)
    pending = sorted(
        (r for r in state.requests.values() if r.status == PENDING), key=lambda r: r.requested_at
    )
    return Aggregates(
        format_time(now),
        queues,
        team_rows(state, splits),
        skill_rows(state, queues),
        [request_view(r) for r in pending],
        build_totals(state, len(pending)),
        state.settings.stop_new_before_end_s,
    )


class MinuteHistory:
    """The last hour by minute of engine time, folded from journal records as they land.

    `observe` is the engine listener's share of the work: O(events in the record).
    Queue depth is read from state when the record is seen (the listener runs right
    after the record is durable, in journal order), so it is the depth after it.
    """

    def __init__(self, minutes: int = HISTORY_MINUTES) -> None:
        self.minutes = minutes
        self._ring: deque[list[int]] = deque(maxlen=minutes)  # [minute, rec, asg, done, depth]

    def _bucket(self, minute: int) -> list[int]:
        ring = self._ring
        if ring and ring[-1][0] >= minute:
            if ring[-1][0] == minute:
                return ring[-1]
            for b in reversed(ring):  # a record of an earlier minute (clock set back: never)
                if b[0] == minute:
                    return b
            return [minute, 0, 0, 0, 0]  # older than the ring: counted nowhere
        depth = ring[-1][4] if ring else 0
        b = [minute, 0, 0, 0, depth]
        ring.append(b)
        return b

    def observe(self, record: ev.Record, queue_depth: int) -> None:
        b = self._bucket(record.at // MINUTE_MS)
        for e in record.events:
            t = type(e)
            if t is ev.OrderAssigned:
                b[2] += 1
            elif t is ev.OrderReceived:
                b[1] += 1
            elif t is ev.OrderCompleted:
                b[3] += 1
        b[4] = queue_depth

    def window(self, now: int, since_minute: int | None = None) -> list[Minute]:
        """The minutes of the hour ending at `now` (or only those from `since_minute` on).

        Minutes with no record are filled in: nothing happened, the queue stayed as it was.
        """
        last = now // MINUTE_MS
        first = last - self.minutes + 1
        if since_minute is not None:
            first = max(first, since_minute)
        known = {b[0]: b for b in self._ring}
        depth = 0
        for b in self._ring:
            if b[0] < first:
                depth = b[4]
        out = []
        for m in range(first, last + 1):
            seen = known.get(m)
            if seen is not None:
                depth = seen[4]
                out.append(Minute(format_time(m * MINUTE_MS), seen[1], seen[2], seen[3], depth))
            else:
                out.append(Minute(format_time(m * MINUTE_MS), queue_depth=depth))
        return out
