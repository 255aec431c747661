"""Queues: service order, serving whenever capacity appears, release on logout, replies."""

from __future__ import annotations

import pytest

from engine import commands as cmd
from engine.events import decode_record
from engine.fingerprint import fingerprint
from engine.views import BatchResult, ErrorBody, OrderView


async def test_queue_is_served_by_priority_then_arrival(center):
    await center.agent("a1", capacity=1)
    specs = [("q1", 0), ("q2", 5), ("q3", 0), ("q4", 5), ("q5", 9)]
    for order_id, priority in specs:
        await center.order(order_id, "pre", priority)
    assert center.queue("pre") == ["q5", "q2", "q4", "q1", "q3"]
    taken = []
    await center.login("a1")
    for _ in specs:
        (current,) = center.open_orders("a1")
        taken.append(current)
        await center.complete(current)
    assert taken == ["q5", "q2", "q4", "q1", "q3"]


async def test_agent_with_two_skills_takes_the_best_across_its_queues(center):
    await center.agent("a1", skills=("post", "pre"), capacity=1)
    await center.order("old-pre", "pre", 1)
    await center.order("no-skill", None, 1)
    await center.order("post-p5", "post", 5)
    await center.order("other", "vip", 9)  # a skill a1 lacks: never taken
    await center.login("a1")
    assert center.open_orders("a1") == ["post-p5"]
    await center.complete("post-p5")
    assert center.open_orders("a1") == ["old-pre"]
    await center.complete("old-pre")
    assert center.open_orders("a1") == ["no-skill"]
    await center.complete("no-skill")
    assert center.open_orders("a1") == []
    assert center.queue("vip") == ["other"]


async def queued_one(center):
    await center.agent("a1", capacity=1)
    await center.login("a1")
    await center.order("busy")
    await center.order("waiting")
    assert center.queue() == ["waiting"]


async def by_login(center):
    await center.agent("a2")
    await center.order("waiting")
    await center.login("a2")
    return "a2"


async def by_available(center):
    await center.agent("a2")
    await center.login("a2")
    await center.away("a2")
    await center.order("waiting")
    await center.available("a2")
    return "a2"


async def by_completion(center):
    await queued_one(center)
    await center.complete("busy")
    return "a1"


async def by_capacity_raise(center):
    await queued_one(center)
    await center.agent("a1", capacity=2)
    return "a1"


async def by_skill_added(center):
    await center.agent("a2", skills=("post",))
    await center.login("a2")
    await center.order("waiting", "pre")
    assert center.queue() == ["waiting"]
    await center.agent("a2", skills=("post", "pre"))
    return "a2"


async def by_logout_elsewhere_nothing(center):
    # An agent going offline is no new capacity: the queue stays as it is.
    await queued_one(center)
    await center.agent("a2")
    await center.login("a2")  # takes "waiting" at once
    await center.order("more")
    await center.order("more2")
    await center.order("still-waiting")
    await center.logout("a2")  # its orders go back: a1 is full, so they queue
    return None


@pytest.mark.parametrize(
    "scenario",
    [by_login, by_available, by_completion, by_capacity_raise, by_skill_added],
    ids=lambda f: f.__name__,
)
async def test_waiting_order_is_served_when_capacity_appears(center, scenario):
    agent_id = await scenario(center)
    assert center.holder("waiting") == agent_id
    assert center.queue() == []


async def test_logout_is_not_capacity(center):
    await by_logout_elsewhere_nothing(center)
    assert center.queue() == ["waiting", "more", "more2", "still-waiting"]


async def test_release_keeps_original_priority_and_arrival(center):
    await center.agent("a1", capacity=2)
    await center.agent("a2", capacity=5)
    await center.login("a1")
    await center.order("o1", "pre", 0)
    await center.order("o2", "pre", 5)
    await center.order("o3", "pre", 0)
    await center.order("o4", "pre", 5)
    await center.order("o5", "pre", 0)
    assert center.queue() == ["o4", "o3", "o5"]
    reply = await center.logout("a1")
    assert reply.body.reassigned == ["o2", "o1"]
    assert center.queue() == ["o2", "o4", "o1", "o3", "o5"]
    await center.login("a2")
    assert center.open_orders("a2") == ["o2", "o4", "o1", "o3", "o5"]
    created = [center.state.orders[o].created_at for o in ("o1", "o2")]
    assert created == [center.at("00:00")] * 2


async def test_a_released_order_keeps_its_arrival_when_the_clock_moved_on(center):
    """Released an hour after it arrived, an order waits from its arrival, not its release:
    it goes back ahead of an order that arrived later, and its wait counts from 08:00."""
    await center.agent("a1", capacity=1)
    await center.agent("a2", capacity=1)
    await center.goto(center.at("08:00"))
    await center.login("a1")
    await center.order("early", "pre", 2)
    await center.goto(center.at("08:30"))
    await center.order("later", "pre", 2)  # a1 is full: it waits
    await center.goto(center.at("09:00"))
    await center.force("a1")  # "early" goes back to routing at 09:00
    assert center.state.orders["early"].created_at == center.at("08:00")
    assert center.queue() == ["early", "later"]
    await center.login("a2")
    assert center.open_orders("a2") == ["early"]


async def test_released_orders_follow_the_rules_to_other_agents(center):
    await center.agent("a1", capacity=4)
    await center.login("a1")
    for order_id in ("o1", "o2", "o3", "o4"):
        await center.order(order_id)
    await center.agent("b", capacity=1)
    await center.agent("c", capacity=2)
    await center.login("b", "c")
    reply = await center.force("a1")
    assert reply.body.reassigned == ["o1", "o2", "o3", "o4"]
    # o1: b and c tie at 0, never assigned -> "b"; o2: c (0/2 < 1/1); o3: c; o4 waits.
    assert [center.holder(o) for o in ("o1", "o2", "o3", "o4")] == ["b", "c", "c", None]
    assert center.queue() == ["o4"]


async def test_work_conservation_in_a_burst(center):
    for agent_id, capacity in (("a1", 2), ("a2", 3), ("a3", 1)):
        await center.agent(agent_id, capacity=capacity)
        await center.login(agent_id)
    reply = await center.orders(*(center.new_order(f"o{i}") for i in range(10)))
    assert isinstance(reply.body, BatchResult)
    statuses = [r.status for r in reply.body.results]
    assert statuses == ["assigned"] * 6 + ["queued"] * 4
    loads = {a: len(center.open_orders(a)) for a in ("a1", "a2", "a3")}
    assert loads == {"a1": 2, "a2": 3, "a3": 1}
    await center.complete("o0")
    assert center.queue() == ["o7", "o8", "o9"]


async def test_order_replies_and_idempotent_retries(center):
    await center.agent("a1", capacity=1)
    await center.login("a1")
    first = await center.order("o1", "pre", 3)
    assert first.status == 201
    assert first.body == OrderView(
        "o1",
        "pre",
        3,
        "assigned",
        "a1",
        "2026-11-23T00:00:00Z",
        "2026-11-23T00:00:00Z",
        None,
        None,
        0,
        None,
        None,
        False,
        "load",
    )
    await center.goto(center.at("00:05"))
    await center.complete("o1")
    again = await center.order("o1", "pre", 3)
    assert again.status == 200
    assert (again.body.status, again.body.completed_at) == ("completed", "2026-11-23T00:05:00Z")
    clash = await center.order("o1", "pre", 4)
    assert clash.status == 409
    assert isinstance(clash.body, ErrorBody)
    assert clash.body.error.code == "order_conflict"
    assert clash.body.error.message == "order 'o1' already exists with a different body"
    assert len(center.state.orders) == 1


async def test_batch_with_duplicates_and_conflicts(center):
    reply = await center.orders(
        center.new_order("b1"),
        center.new_order("b1"),
        center.new_order("b1", priority=2),
        center.new_order("b2", None),
    )
    results = reply.body.results
    assert reply.status == 200
    assert [type(r).__name__ for r in results] == [
        "OrderView",
        "OrderView",
        "ErrorBody",
        "OrderView",
    ]
    assert results[1] == results[0]
    assert sorted(center.state.orders) == ["b1", "b2"]


async def test_completing_an_unassigned_order(center):
    from engine.errors import Conflict, Forbidden, NotFound

    await center.agent("a1")
    await center.order("q")
    with pytest.raises(Conflict) as err:
        await center.complete("q")
    assert (err.value.code, err.value.message) == (
        "order_not_assigned",
        "order 'q' is queued, not assigned",
    )
    with pytest.raises(NotFound) as nf:
        await center.complete("nope")
    assert (nf.value.code, nf.value.message) == ("order_not_found", "order 'nope' does not exist")
    await center.login("a1")
    with pytest.raises(Forbidden) as fb:
        await center.run(cmd.CompleteOrder("q", as_agent="a2"))
    assert fb.value.message == "order 'q' is not assigned to agent 'a2'"
    await center.run(cmd.CompleteOrder("q", as_agent="a1"))
    with pytest.raises(Conflict) as err:
        await center.complete("q")
    assert err.value.message == "order 'q' is completed, not assigned"


async def test_routing_is_deterministic(make_center, rng, script_player):
    """The same commands at the same times give the same journal, byte for byte."""
    random_script, play_script = script_player
    script = random_script(rng, 150)
    runs = []
    for _ in range(2):
        center = make_center()
        await play_script(center, script)
        runs.append((center.journal.records, fingerprint(center.state)))
    assert runs[0] == runs[1]
    assert sum(len(decode_record(r).events) for r in runs[0][0]) > 50
