"""The presence decisions as tables: (agent, roster, time) in, events or an error out."""

from __future__ import annotations

import pytest

from engine.errors import Conflict, Invalid
from engine.events import (
    AgentBecameAvailable,
    AgentLoggedIn,
    AgentLoggedOut,
    AgentUpserted,
    AgentWentAway,
    LogoutDenied,
    LogoutRepeated,
    LogoutRequested,
    ShiftSpec,
)
from presence import guard
from presence.agent import AVAILABLE, AWAY, OFFLINE, Agent
from presence.requests import APPROVED, CLOSED, DENIED, PENDING, LogoutRequest
from presence.roster import Roster

MIN = 60_000
GRACE = 10 * MIN
SHIFT = (8 * 60 * MIN, 16 * 60 * MIN)  # 08:00..16:00 on day 0


def m(hhmm: str) -> int:
    h, mm = hhmm.split(":")
    return (int(h) * 60 + int(mm)) * MIN


def make_agent(state: str = AVAILABLE, pending: str | None = None) -> Agent:
    return Agent("a1", "A1", "t1", ("pre",), 2, state=state, pending_request=pending)


def roster(*shifts: tuple[int, int]) -> Roster:
    r = Roster()
    r.add(ShiftSpec("a1", s, e) for s, e in shifts)
    return r


LOGOUT_CASES = [
    # id, agent state, pending request, shifts, now, grace, expected events
    ("no shift at all", AVAILABLE, None, [], m("12:00"), GRACE, [AgentLoggedOut("a1", "self")]),
    (
        "mid-shift is held as a request",
        AVAILABLE,
        None,
        [SHIFT],
        m("12:00"),
        GRACE,
        [LogoutRequested("lr-7", "a1")],
    ),
    (
        "at shift start the shift is in progress",
        AVAILABLE,
        None,
        [SHIFT],
        m("08:00"),
        GRACE,
        [LogoutRequested("lr-7", "a1")],
    ),
    (
        "away agents are guarded too",
        AWAY,
        None,
        [SHIFT],
        m("12:00"),
        GRACE,
        [LogoutRequested("lr-7", "a1")],
    ),
    (
        "inside the grace window",
        AVAILABLE,
        None,
        [SHIFT],
        m("15:55"),
        GRACE,
        [AgentLoggedOut("a1", "self")],
    ),
    (
        "exactly at the grace boundary",
        AVAILABLE,
        None,
        [SHIFT],
        m("15:50"),
        GRACE,
        [AgentLoggedOut("a1", "self")],
    ),
    (
        "one ms before the grace boundary",
        AVAILABLE,
        None,
        [SHIFT],
        m("15:50") - 1,
        GRACE,
        [LogoutRequested("lr-7", "a1")],
    ),
    (
        "grace 0 holds until the end",
        AVAILABLE,
        None,
        [SHIFT],
        m("15:59"),
        0,
        [LogoutRequested("lr-7", "a1")],
    ),
    (
        "shift not started yet",
        AVAILABLE,
        None,
        [SHIFT],
        m("07:59"),
        GRACE,
        [AgentLoggedOut("a1", "self")],
    ),
    (
        "at the shift end",
        AVAILABLE,
        None,
        [SHIFT],
        m("16:00"),
        GRACE,
        [AgentLoggedOut("a1", "self")],
    ),
    (
        "after the shift end",
        AVAILABLE,
        None,
        [SHIFT],
        m("17:00"),
        GRACE,
        [AgentLoggedOut("a1", "self")],
    ),
    (
        "between two shifts",
        AVAILABLE,
        None,
        [(m("06:00"), m("10:00")), (m("14:00"), m("18:00"))],
        m("12:00"),
        GRACE,
        [AgentLoggedOut("a1", "self")],
    ),
    (
        "second of two shifts in progress",
        AVAILABLE,
        None,
        [(m("06:00"), m("10:00")), (m("14:00"), m("18:00"))],
        m("15:00"),
        GRACE,
        [LogoutRequested("lr-7", "a1")],
    ),
    (
        "pending request repeated gives the same id",
        AVAILABLE,
        "lr-3",
        [SHIFT],
        m("12:00"),
        GRACE,
        [LogoutRepeated("lr-3", "a1")],
    ),
    (
        "pending, now inside grace: allowed, the request closes",
        AVAILABLE,
        "lr-3",
        [SHIFT],
        m("15:55"),
        GRACE,
        [AgentLoggedOut("a1", "self", request_id="lr-3")],
    ),
    ("already offline: nothing to do", OFFLINE, None, [SHIFT], m("12:00"), GRACE, []),
]


@pytest.mark.parametrize(
    ("state", "pending", "shifts", "now", "grace", "expected"),
    [pytest.param(*case[1:], id=case[0]) for case in LOGOUT_CASES],
)
def test_logout_guard(state, pending, shifts, now, grace, expected):
    events = guard.logout(make_agent(state, pending), roster(*shifts), now, grace, "lr-7")
    assert events == expected


@pytest.mark.parametrize(
    ("now", "allowed"),
    [
        pytest.param(m("07:00"), True, id="before"),
        pytest.param(m("08:00"), False, id="start"),
        pytest.param(m("15:49"), False, id="before-grace"),
        pytest.param(m("15:50"), True, id="grace-boundary"),
        pytest.param(m("16:00"), True, id="end"),
    ],
)
def test_guard_allows(now, allowed):
    assert guard.guard_allows(roster(SHIFT), "a1", now, GRACE) is allowed


def pending_request(status: str = PENDING) -> LogoutRequest:
    return LogoutRequest("lr-1", "a1", m("12:00"), status=status)


def test_approve_pending_logs_the_agent_out_naming_the_supervisor():
    assert guard.approve(pending_request(), "sup1") == [
        AgentLoggedOut("a1", "approved", request_id="lr-1", by="sup1")
    ]


def test_deny_pending():
    assert guard.deny(pending_request(), "sup1") == [LogoutDenied("lr-1", "sup1")]


@pytest.mark.parametrize("decide", [guard.approve, guard.deny], ids=["approve", "deny"])
@pytest.mark.parametrize("status", [APPROVED, DENIED, CLOSED])
def test_deciding_a_decided_request_is_a_conflict(decide, status):
    with pytest.raises(Conflict) as err:
        decide(pending_request(status), "sup1")
    assert err.value.code == "request_not_pending"
    assert err.value.message == f"logout request 'lr-1' is already {status}"


@pytest.mark.parametrize(
    ("state", "pending", "expected"),
    [
        pytest.param(AVAILABLE, None, [AgentLoggedOut("a1", "forced", by="sup1")], id="available"),
        pytest.param(AWAY, None, [AgentLoggedOut("a1", "forced", by="sup1")], id="away"),
        pytest.param(
            AVAILABLE,
            "lr-2",
            [AgentLoggedOut("a1", "forced", request_id="lr-2", by="sup1")],
            id="closes-pending",
        ),
        pytest.param(OFFLINE, None, [], id="offline-noop"),
    ],
)
def test_force_logout(state, pending, expected):
    assert guard.force_logout(make_agent(state, pending), "sup1") == expected


@pytest.mark.parametrize(
    ("state", "action", "expected"),
    [
        pytest.param(OFFLINE, "login", [AgentLoggedIn("a1")], id="login-from-offline"),
        pytest.param(AWAY, "login", [AgentLoggedIn("a1")], id="login-from-away"),
        pytest.param(AVAILABLE, "login", [], id="login-when-available"),
        pytest.param(AVAILABLE, "away", [AgentWentAway("a1", "lunch")], id="away-from-available"),
        pytest.param(AWAY, "away", [], id="away-same-reason"),
        pytest.param(AVAILABLE, "available", [], id="available-when-available"),
        pytest.param(AWAY, "available", [AgentBecameAvailable("a1")], id="available-from-away"),
    ],
)
def test_state_transitions(state, action, expected):
    agent = make_agent(state)
    agent.reason = "lunch" if state == AWAY else None
    events = {
        "login": lambda: guard.login(agent),
        "away": lambda: guard.away(agent, "lunch"),
        "available": lambda: guard.available(agent),
    }[action]()
    assert events == expected


def test_away_with_a_new_reason_is_recorded():
    agent = make_agent(AWAY)
    agent.reason = "lunch"
    assert guard.away(agent, "training") == [AgentWentAway("a1", "training")]


@pytest.mark.parametrize("action", ["away", "available"])
def test_offline_agent_cannot_go_away_or_available(action):
    agent = make_agent(OFFLINE)
    with pytest.raises(Conflict) as err:
        guard.away(agent, "lunch") if action == "away" else guard.available(agent)
    assert (err.value.status, err.value.code) == (409, "agent_offline")
    assert err.value.message == "agent 'a1' is offline; log in first"


@pytest.mark.parametrize("reason", ["", "x" * 201], ids=["empty", "too-long"])
def test_away_reason_length(reason):
    with pytest.raises(Invalid) as err:
        guard.away(make_agent(), reason)
    assert err.value.detail == {"field": "reason"}
    assert err.value.message == "away reason for agent 'a1' must be 1..200 characters"


@pytest.mark.parametrize(
    ("name", "team", "skills", "capacity", "field", "message"),
    [
        pytest.param(
            "", "t", [], 1, "name", "name of agent 'a7' must be 1..200 characters", id="empty-name"
        ),
        pytest.param(
            "n" * 201,
            "t",
            [],
            1,
            "name",
            "name of agent 'a7' must be 1..200 characters",
            id="long-name",
        ),
        pytest.param(
            "N", "", [], 1, "team", "team of agent 'a7' must be 1..200 characters", id="empty-team"
        ),
        pytest.param(
            "N",
            "t",
            ["s"] * 51,
            1,
            "skills",
            "agent 'a7' has more than 50 skills",
            id="too-many-skills",
        ),
        pytest.param(
            "N",
            "t",
            ["pre", ""],
            1,
            "skills[1]",
            "skill of agent 'a7' must be 1..200 characters",
            id="empty-skill",
        ),
        pytest.param(
            "N",
            "t",
            [],
            0,
            "capacity",
            "capacity 0 for agent 'a7' is out of range 1..50",
            id="capacity-0",
        ),
        pytest.param(
            "N",
            "t",
            [],
            51,
            "capacity",
            "capacity 51 for agent 'a7' is out of range 1..50",
            id="capacity-51",
        ),
        pytest.param(
            "N",
            "t",
            [],
            -3,
            "capacity",
            "capacity -3 for agent 'a7' is out of range 1..50",
            id="capacity-negative",
        ),
    ],
)
def test_check_agent_names_field_and_agent(name, team, skills, capacity, field, message):
    with pytest.raises(Invalid) as err:
        guard.check_agent("a7", name, team, skills, capacity)
    assert (err.value.status, err.value.code) == (422, "invalid_field")
    assert err.value.detail == {"field": field}
    assert err.value.message == message


@pytest.mark.parametrize("capacity", [1, 50])
def test_check_agent_accepts_bounds_and_normalises_skills(capacity):
    event = guard.check_agent("a7", "N", "t", ["post", "pre", "post"], capacity)
    assert event == AgentUpserted("a7", "N", "t", ("post", "pre"), capacity)
