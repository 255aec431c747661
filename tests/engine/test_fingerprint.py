"""The fingerprint: plain data, equal for equal states, blind to caches only."""

from __future__ import annotations

import json

from engine.fingerprint import fingerprint


async def small_day(center):
    await center.agent("a1", capacity=1)
    await center.shifts(("a1", center.at("08:00"), center.at("16:00")))
    await center.order("o1", None, 1)
    await center.order("o2", "pre", 2)
    await center.order("o3", "pre", 0)


async def test_fingerprint_is_plain_data_with_queues_in_service_order(center):
    await small_day(center)
    fp = fingerprint(center.state)
    assert json.loads(json.dumps(fp)) == fp
    assert fp["queues"] == [[None, ["o1"]], ["pre", ["o2", "o3"]]]
    assert fp["roster"] == {"a1": [[center.at("08:00"), center.at("16:00")]]}
    assert fp["agents"]["a1"]["state"] == "offline"


async def test_same_history_same_fingerprint_any_difference_shows(make_center):
    first, second = make_center(), make_center()
    for c in (first, second):
        await small_day(c)
    assert fingerprint(first.state) == fingerprint(second.state)
    await second.login("a1")
    after = fingerprint(second.state)
    assert after != fingerprint(first.state)
    assert after["agents"]["a1"]["open_orders"] == ["o2"]


async def test_caches_are_not_part_of_it(center):
    await small_day(center)
    before = fingerprint(center.state)
    center.state.agents["a1"].version += 7  # index bookkeeping
    center.state.timers.append((center.at("23:00"), "a1"))  # a spare re-check
    assert fingerprint(center.state) == before
