"""Preferred and sticky routing, and the one re-routing rule (avoid), as router decisions.

Pure tests of router.policy.place, router.index.AgentIndex.best(avoid) and
router.customers.Customers, then the same rules played on the real engine (the
Center checks each assignment against invariants.chosen_agent, by brute force).
"""

from __future__ import annotations

import pytest

from presence.agent import AVAILABLE, AWAY, Agent
from router import policy
from router.customers import Customers
from router.index import AgentIndex
from router.order import Order

HOUR = 3_600_000


def floor(*specs: tuple[str, int, int]) -> tuple[dict[str, Agent], AgentIndex]:
    """Agents (id, load, capacity), all available with skill 'pre', indexed."""
    agents: dict[str, Agent] = {}
    for agent_id, load, capacity in specs:
        a = agents[agent_id] = Agent(agent_id, agent_id, "t", ("pre",), capacity, state=AVAILABLE)
        a.open_orders = {f"{agent_id}-{i}": None for i in range(load)}
    index = AgentIndex(agents)
    index.rebuild()
    return agents, index


def order(order_id: str = "o1", skill: str | None = "pre") -> Order:
    return Order(order_id, skill, 0, b"", 1, 0)


def test_preferred_first_then_sticky_then_load():
    agents, index = floor(("a1", 0, 2), ("a2", 1, 2), ("a3", 1, 2))
    o = order()
    assert policy.place(index, o).agent_id == "a1"  # type: ignore[union-attr]
    got = policy.place(index, o, preferred=agents["a2"], sticky=agents["a3"])
    assert (got.agent_id, got.routed_by) == ("a2", "preferred")  # type: ignore[union-attr]
    got = policy.place(index, o, sticky=agents["a3"])
    assert (got.agent_id, got.routed_by) == ("a3", "sticky")  # type: ignore[union-attr]


@pytest.mark.parametrize("why", ["full", "away", "skill", "handing_over", "avoided"])
def test_a_chosen_agent_that_cannot_take_it_falls_back_to_load(why):
    agents, index = floor(("a1", 0, 2), ("a2", 1, 2))
    a2 = agents["a2"]
    o, avoid = order(), None
    if why == "full":
        a2.open_orders["x"] = None
    elif why == "away":
        a2.state = AWAY
    elif why == "skill":
        a2.skills = ("post",)
    elif why == "handing_over":
        a2.handing_over = True
    else:
        avoid = "a2"
    got = policy.place(index, o, preferred=a2, sticky=a2, avoid=avoid)
    assert (got.agent_id, got.routed_by) == ("a1", "load")  # type: ignore[union-attr]


def test_avoid_goes_to_the_next_best_unless_nobody_else_has_room():
    agents, index = floor(("a1", 0, 2), ("a2", 1, 2))
    assert index.best("pre", avoid="a1") is agents["a2"]
    assert index.best("pre") is agents["a1"]  # the heap is as it was
    agents["a2"].open_orders["y"] = None
    index.refresh(agents["a2"])
    assert index.best("pre", avoid="a1") is agents["a1"]  # the only one with room


def test_the_customer_map_is_bounded_by_the_window():
    agents, _ = floor(("a1", 0, 2), ("a2", 0, 2))
    a1, a2 = agents["a1"], agents["a2"]
    c = Customers()
    for i in range(10_000):  # a day of customers, one a second, a 10-minute window
        c.seen(f"c{i}", a1, i * 1000, 600_000)
        assert len(c) <= 601
    assert c.last("c9999", 9_999_000) is a1  # the agent itself, no lookup by id
    assert c.agent_of("c9999", 9_999_000) == "a1"
    assert c.last("c9000", 9_999_000) is None  # 999 s ago: outside
    assert c.agent_of("c9000", 9_999_000) is None
    c.seen("c9999", a2, 10_000_000, 600_000)  # touched again: moves to the newest end
    assert list(c.items())[-1] == ("c9999", "a2", 10_000_000)
    c.expire(10_000_000, 0)  # the window turned off: nothing is remembered
    assert len(c) == 0
    c.seen("c1", a1, 1, 0)
    assert len(c) == 0


def test_agent_of_is_exact_at_the_window_edge():
    agents, _ = floor(("a1", 0, 2))
    c = Customers()
    c.seen("c1", agents["a1"], 1000, HOUR)
    assert c.agent_of("c1", 1000 + HOUR - 1) == "a1"
    assert c.agent_of("c1", 1000 + HOUR) is None
    c.expire(1000 + HOUR, 2 * HOUR)  # a longer window re-derives the stored ends
    assert c.last("c1", 1000 + 2 * HOUR - 1) is agents["a1"]
    assert c.last("c1", 1000 + 2 * HOUR) is None


def test_the_map_loads_what_it_gave_and_names_an_unknown_agent():
    agents, _ = floor(("a1", 0, 2), ("a2", 0, 2))
    c = Customers()
    c.seen("c1", agents["a2"], 1000, HOUR)
    c.seen("c2", agents["a1"], 2000, HOUR)
    again = Customers()
    again.load(list(c.items()), HOUR, agents)
    assert list(again.items()) == [("c1", "a2", 1000), ("c2", "a1", 2000)]
    assert again.last("c1", 2000) is agents["a2"]
    with pytest.raises(ValueError, match="customer 'c3': last agent 'a9' is unknown"):
        again.load([("c3", "a9", 1000)], HOUR, agents)
    assert list(again.items()) == [("c1", "a2", 1000), ("c2", "a1", 2000)]  # unchanged


# -- on the engine ---------------------------------------------------------------------


async def test_a_returning_customer_goes_back_to_its_agent_inside_the_window(center):
    await center.lifecycle(sticky_s=1800)
    for a in ("a1", "a2", "a3"):
        await center.agent(a, capacity=3)
    await center.login("a1", "a2", "a3")
    await center.customer_order("o1", "c-1")
    assert center.holder("o1") == "a1"
    await center.customer_order("o2", None)  # a2
    await center.customer_order("o3", "c-1")  # a3 is least loaded: sticky wins
    assert center.holder("o3") == "a1"
    assert center.state.orders["o3"].routed_by == "sticky"
    await center.complete("o3")  # completion refreshes the customer's last contact
    await center.goto(center.at("00:29"))
    await center.customer_order("o4", "c-1")
    assert (center.holder("o4"), center.state.orders["o4"].routed_by) == ("a1", "sticky")
    await center.goto(center.at("01:00"))
    await center.customer_order("o5", "c-1")
    assert center.state.orders["o5"].routed_by == "load"


async def test_a_preferred_agent_that_does_not_exist_is_routed_by_load_and_said_so(center):
    await center.agent("a1")
    await center.login("a1")
    reply = await center.customer_order("o1", None, preferred="nobody")
    assert (reply.body.agent_id, reply.body.routed_by) == ("a1", "load")
    assert reply.body.preferred_agent_unknown is True
    await center.agent("a2")
    await center.login("a2")
    reply = await center.customer_order("o2", None, preferred="a1")
    assert (reply.body.agent_id, reply.body.routed_by) == ("a1", "preferred")
    assert reply.body.preferred_agent_unknown is False


async def test_a_timed_out_order_avoids_the_sticky_agent_it_left(center):
    await center.lifecycle(timeout_s=10, sticky_s=3600)
    await center.agent("a1", capacity=2)
    await center.agent("a2", capacity=2)
    await center.login("a1", "a2")
    await center.customer_order("o1", "c-1")
    await center.responded("o1")
    await center.customer_order("o2", "c-1")  # sticky to a1, never answered
    assert center.holder("o2") == "a1"
    await center.goto(center.at("00:00") + 10_000)
    assert (center.holder("o2"), center.state.orders["o2"].routed_by) == ("a2", "load")
    # c-1's last agent is a2 now: the one that took the order over
    await center.available("a1")
    await center.customer_order("o3", "c-1")
    assert (center.holder("o3"), center.state.orders["o3"].routed_by) == ("a2", "sticky")
