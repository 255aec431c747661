"""The logout guard end to end through the real engine: requests, decisions, audit."""

from __future__ import annotations

import pytest

from engine.errors import Conflict, NotFound
from engine.views import LogoutDone, LogoutPending, StateView


async def staffed(center):
    """a1 and a2 on shift 08:00..16:00, logged in at 09:00; a1 holds o1."""
    await center.agent("a1", capacity=2)
    await center.agent("a2", capacity=2)
    await center.shifts(
        ("a1", center.at("08:00"), center.at("16:00")),
        ("a2", center.at("08:00"), center.at("16:00")),
    )
    await center.goto(center.at("09:00"))
    await center.login("a1", "a2")
    await center.order("o1")
    assert center.holder("o1") == "a1"


async def test_mid_shift_logout_is_held_and_the_agent_keeps_working(center):
    await staffed(center)
    reply = await center.logout("a1")
    assert reply.status == 202
    assert isinstance(reply.body, LogoutPending)
    assert reply.body.state == "available"
    assert (reply.body.logout_request.id, reply.body.logout_request.status) == ("lr-1", "pending")
    assert reply.body.logout_request.requested_at == "2026-11-23T09:00:00Z"
    assert center.state.agents["a1"].state == "available"
    assert center.open_orders("a1") == ["o1"]
    await center.order("o2")
    await center.order("o3")
    assert center.holder("o3") == "a1"  # a1 still receives orders


async def test_second_call_returns_the_same_pending_request(center):
    await staffed(center)
    first = await center.logout("a1")
    await center.goto(center.at("09:05"))
    second = await center.logout("a1")
    assert second.status == 202
    assert second.body.logout_request.id == first.body.logout_request.id == "lr-1"
    assert second.body.logout_request.attempts == 2
    assert list(center.state.requests) == ["lr-1"]


async def test_away_agent_logout_keeps_away(center):
    await staffed(center)
    await center.away("a1", "lunch")
    reply = await center.logout("a1")
    assert (reply.status, reply.body.state) == (202, "away")


async def test_approve_takes_the_agent_offline_and_reassigns(center):
    await staffed(center)
    await center.logout("a1")
    await center.goto(center.at("09:30"))
    reply = await center.approve("lr-1", by="sup9")
    assert reply.status == 200
    assert (reply.body.status, reply.body.decided_by) == ("approved", "sup9")
    assert reply.body.decided_at == "2026-11-23T09:30:00Z"
    a1 = center.state.agents["a1"]
    assert (a1.state, a1.pending_request, a1.open_orders) == ("offline", None, {})
    assert center.holder("o1") == "a2"


async def test_deny_keeps_the_agent_and_a_new_attempt_opens_a_new_request(center):
    await staffed(center)
    await center.logout("a1")
    reply = await center.deny("lr-1")
    assert reply.body.status == "denied"
    assert center.state.agents["a1"].state == "available"
    assert center.state.agents["a1"].pending_request is None
    again = await center.logout("a1")
    assert again.body.logout_request.id == "lr-2"


async def test_pending_request_closes_when_logout_becomes_free(center):
    await staffed(center)
    await center.logout("a1")
    await center.goto(center.at("15:50"))
    reply = await center.logout("a1")
    assert reply.status == 200
    assert reply.body == LogoutDone("offline", ["o1"])
    assert center.state.requests["lr-1"].status == "closed"
    assert center.holder("o1") == "a2"


async def test_free_logout_inside_grace_reassigns(center):
    await staffed(center)
    await center.goto(center.at("15:51"))
    reply = await center.logout("a1")
    assert (reply.status, reply.body) == (200, LogoutDone("offline", ["o1"]))


async def test_grace_follows_the_setting(center):
    await staffed(center)
    await center.settings(grace_s=3600)
    await center.goto(center.at("15:00"))
    assert (await center.logout("a1")).status == 200


async def test_force_logout_closes_a_pending_request(center):
    await staffed(center)
    await center.logout("a1")
    reply = await center.force("a1", by="sup2")
    assert (reply.status, reply.body) == (200, LogoutDone("offline", ["o1"]))
    assert center.state.requests["lr-1"].status == "closed"
    assert center.state.requests["lr-1"].decided_by == "sup2"


async def test_force_logout_of_offline_agent_is_a_noop(center):
    await center.agent("a1")
    reply = await center.force("a1")
    assert reply.body == LogoutDone("offline", [])
    assert center.state.audit == []


async def test_decided_request_cannot_be_decided_again(center):
    await staffed(center)
    await center.logout("a1")
    await center.approve("lr-1")
    for decide in (center.approve, center.deny):
        with pytest.raises(Conflict) as err:
            await decide("lr-1")
        assert err.value.code == "request_not_pending"
        assert err.value.message == "logout request 'lr-1' is already approved"


async def test_unknown_request_and_agent(center):
    with pytest.raises(NotFound) as err:
        await center.approve("lr-9")
    assert (err.value.code, err.value.message) == (
        "request_not_found",
        "logout request 'lr-9' does not exist",
    )
    with pytest.raises(NotFound) as err:
        await center.logout("ghost")
    assert (err.value.code, err.value.message) == (
        "agent_not_found",
        "agent 'ghost' does not exist",
    )


async def test_presence_state_machine_through_the_engine(center):
    await center.agent("a1")
    with pytest.raises(Conflict) as err:
        await center.away("a1")
    assert (err.value.status, err.value.code) == (409, "agent_offline")
    with pytest.raises(Conflict):
        await center.available("a1")
    await center.goto(center.at("08:00"))
    await center.login("a1")
    assert center.state.agents["a1"].state_since == center.at("08:00")
    await center.goto(center.at("09:00"))
    reply = await center.away("a1", "coffee")
    assert reply.body == StateView("away")
    a1 = center.state.agents["a1"]
    assert (a1.state, a1.reason, a1.state_since) == ("away", "coffee", center.at("09:00"))
    await center.goto(center.at("09:10"))
    await center.away("a1", "meeting")  # a new reason, same state: since stays
    assert (a1.reason, a1.state_since) == ("meeting", center.at("09:00"))
    assert (await center.available("a1")).body == StateView("available")
    assert (a1.state, a1.reason, a1.state_since) == ("available", None, center.at("09:10"))


async def test_every_attempt_grant_denial_and_force_is_audited(center):
    await staffed(center)
    await center.logout("a1")
    await center.logout("a1")
    await center.deny("lr-1", by="s1")
    await center.logout("a1")
    await center.approve("lr-2", by="s2")
    await center.logout("a2")
    await center.force("a2", by="s3")
    await center.goto(center.at("17:00"))
    await center.login("a1")
    await center.logout("a1")
    trail = [(e.agent_id, e.action, e.request_id, e.by) for e in center.state.audit]
    assert trail == [
        ("a1", "logout_requested", "lr-1", None),
        ("a1", "logout_repeated", "lr-1", None),
        ("a1", "logout_denied", "lr-1", "s1"),
        ("a1", "logout_requested", "lr-2", None),
        ("a1", "logout_approved", "lr-2", "s2"),
        ("a2", "logout_requested", "lr-3", None),
        ("a2", "logout_forced", "lr-3", "s3"),
        ("a1", "logout", None, None),
    ]
