"""The queues' service order, looked at without taking: `first_for` against brute force."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from router.order import Order, queue_key
from router.queue import OrderQueues

SKILLS = ("pre", "post", "vip")

waiting = st.lists(st.tuples(st.sampled_from((None, *SKILLS)), st.integers(0, 9)), max_size=60)


def _queues(specs: list[tuple[str | None, int]]) -> tuple[OrderQueues, list[Order]]:
    queues = OrderQueues()
    orders = [Order(f"o{i}", skill, prio, b"", i + 1, 0) for i, (skill, prio) in enumerate(specs)]
    for order in orders:
        queues.push(order)
    return queues, orders


@given(waiting, st.sets(st.sampled_from(SKILLS)), st.integers(1, 70))
def test_first_for_is_the_first_orders_an_agent_may_take_in_service_order(specs, skills, limit):
    queues, orders = _queues(specs)
    takeable = [o for o in orders if o.skill is None or o.skill in skills]
    expected = [o.id for o in sorted(takeable, key=queue_key)[:limit]]
    before = {s: queues.ordered(s) for s in (None, *SKILLS)}
    assert queues.first_for(sorted(skills), limit) == expected
    assert queues.best_for(sorted(skills)) == (expected[0] if expected else None)
    assert {s: queues.ordered(s) for s in (None, *SKILLS)} == before  # it only looks


def test_an_empty_floor_of_queues_offers_nothing():
    assert OrderQueues().first_for(["pre"], 5) == []
    assert OrderQueues().best_for(["pre"]) is None
