"""The routing rules of API.md as tables, each row played on the real engine.

A row is a list of steps and the agent the last order must go to (None: queued).
Steps: ("agent", id, capacity, skills) creates or updates an agent; ("login", id);
("away", id); ("available", id); ("logout", id); ("order", id, skill, priority);
("complete", order id); ("shift", agent, "HH:MM", "HH:MM"); ("at", "HH:MM") moves
the clock; ("stop", seconds) sets stop_new_before_end_s. The Center checks every
assignment against the rules and every state against the invariants as it goes.
"""

from __future__ import annotations

from typing import Any

import pytest

Step = tuple[Any, ...]


async def play(center, steps: list[Step]) -> None:
    await center.goto(center.at("09:00"))
    for step in steps:
        kind, *args = step
        match kind:
            case "agent":
                agent_id, capacity, skills = args
                await center.agent(agent_id, skills=skills, capacity=capacity)
            case "login":
                await center.login(*args)
            case "away":
                await center.away(args[0])
            case "available":
                await center.available(args[0])
            case "logout":
                await center.logout(args[0])
            case "order":
                await center.order(*args)
            case "complete":
                await center.complete(args[0])
            case "shift":
                agent_id, start, end = args
                await center.shifts((agent_id, center.at(start), center.at(end)))
            case "at":
                await center.goto(center.at(args[0]))
            case "stop":
                await center.settings(stop_s=args[0])
            case _:
                raise ValueError(f"unknown step {kind!r}")


def last_order(steps: list[Step]) -> str:
    return [s[1] for s in steps if s[0] == "order"][-1]


PRE = ("pre",)
BOTH = ("post", "pre")

ELIGIBILITY = {
    "available-with-skill-and-room": (
        [("agent", "a1", 1, PRE), ("login", "a1"), ("order", "o1", "pre", 0)],
        "a1",
    ),
    "away-gets-nothing": (
        [("agent", "a1", 1, PRE), ("login", "a1"), ("away", "a1"), ("order", "o1", "pre", 0)],
        None,
    ),
    "offline-gets-nothing": ([("agent", "a1", 1, PRE), ("order", "o1", "pre", 0)], None),
    "logged-out-gets-nothing": (
        [("agent", "a1", 1, PRE), ("login", "a1"), ("logout", "a1"), ("order", "o1", "pre", 0)],
        None,
    ),
    "missing-skill": ([("agent", "a1", 1, PRE), ("login", "a1"), ("order", "o1", "post", 0)], None),
    "order-without-skill-goes-to-anyone": (
        [("agent", "a1", 1, ("post",)), ("login", "a1"), ("order", "o1", None, 0)],
        "a1",
    ),
    "agent-without-skills-takes-skill-less-orders": (
        [("agent", "a1", 1, ()), ("login", "a1"), ("order", "o1", None, 0)],
        "a1",
    ),
    "full-agent-gets-nothing": (
        [
            ("agent", "a1", 1, PRE),
            ("login", "a1"),
            ("order", "o0", "pre", 0),
            ("order", "o1", "pre", 0),
        ],
        None,
    ),
    "skill-holder-chosen-over-emptier-agent": (
        [
            ("agent", "a1", 1, ("post",)),
            ("agent", "a2", 3, PRE),
            ("login", "a1", "a2"),
            ("order", "o0", "pre", 0),
            ("order", "o1", "pre", 0),
        ],
        "a2",
    ),
    "capacity-lowered-below-load": (
        [
            ("agent", "a1", 3, PRE),
            ("login", "a1"),
            ("order", "o0", "pre", 0),
            ("order", "o2", "pre", 0),
            ("agent", "a1", 1, PRE),
            ("complete", "o0"),
            ("order", "o1", "pre", 0),
        ],
        None,
    ),
}

RANKING = {
    "lowest-load-ratio-1/3-beats-1/2": (
        [
            ("agent", "a", 2, PRE),
            ("agent", "b", 3, PRE),
            ("login", "a"),
            ("order", "x1", "pre", 0),
            ("login", "b"),
            ("order", "x2", "pre", 0),
            ("order", "x3", "pre", 0),
        ],
        "b",
    ),
    "empty-small-agent-beats-loaded-big-one": (
        [
            ("agent", "a", 10, PRE),
            ("login", "a"),
            ("order", "x1", "pre", 0),
            ("agent", "b", 1, PRE),
            ("login", "b"),
            ("order", "x2", "pre", 0),
        ],
        "b",
    ),
    "equal-ratio-idle-longest-wins": (
        [
            ("agent", "a", 2, PRE),
            ("agent", "b", 2, PRE),
            ("login", "a", "b"),
            ("order", "x1", "pre", 0),
            ("at", "09:01"),
            ("order", "x2", "pre", 0),
            ("at", "09:02"),
            ("order", "x3", "pre", 0),
        ],
        "a",
    ),
    "equal-ratio-across-capacities-1/2-vs-2/4": (
        [
            ("agent", "a", 4, PRE),
            ("agent", "b", 2, PRE),
            ("login", "a"),
            ("order", "x1", "pre", 0),
            ("at", "09:01"),
            ("order", "x2", "pre", 0),
            ("at", "09:02"),
            ("login", "b"),
            ("order", "x3", "pre", 0),
            ("at", "09:03"),
            ("order", "x4", "pre", 0),
        ],
        "a",
    ),
    "never-assigned-beats-assigned-long-ago": (
        [
            ("agent", "a", 1, PRE),
            ("agent", "b", 1, PRE),
            ("login", "a"),
            ("order", "x1", "pre", 0),
            ("complete", "x1"),
            ("login", "b"),
            ("at", "12:00"),
            ("order", "x2", "pre", 0),
        ],
        "b",
    ),
    "full-tie-smaller-id": (
        [
            ("agent", "b", 2, PRE),
            ("agent", "a", 2, PRE),
            ("login", "b", "a"),
            ("order", "x1", "pre", 0),
        ],
        "a",
    ),
    "ids-compare-as-strings": (
        [
            ("agent", "a9", 2, PRE),
            ("agent", "a10", 2, PRE),
            ("login", "a9", "a10"),
            ("order", "x1", "pre", 0),
        ],
        "a10",
    ),
}

HANDOVER = {
    "handing-over-agent-skipped-while-another-has-room": (
        [
            ("agent", "a", 2, PRE),
            ("agent", "b", 2, PRE),
            ("shift", "a", "08:00", "16:00"),
            ("login", "a", "b"),
            ("order", "x0", "pre", 0),
            ("at", "15:56"),
            ("order", "x1", "pre", 0),
        ],
        "b",
    ),
    "handing-over-agent-skipped-even-when-emptier": (
        [
            ("agent", "a", 4, PRE),
            ("agent", "b", 2, PRE),
            ("shift", "a", "08:00", "16:00"),
            ("login", "b"),
            ("order", "x0", "pre", 0),
            ("login", "a"),
            ("at", "15:55"),
            ("order", "x1", "pre", 0),
        ],
        "b",
    ),
    "handing-over-agent-used-when-nobody-else-has-room": (
        [
            ("agent", "a", 2, PRE),
            ("agent", "b", 1, PRE),
            ("shift", "a", "08:00", "16:00"),
            ("login", "a", "b"),
            ("at", "15:56"),
            ("order", "x0", "pre", 0),
            ("order", "x1", "pre", 0),
        ],
        "a",
    ),
    "handing-over-agent-used-when-others-lack-the-skill": (
        [
            ("agent", "a", 2, BOTH),
            ("agent", "b", 2, PRE),
            ("shift", "a", "08:00", "16:00"),
            ("login", "a", "b"),
            ("at", "15:56"),
            ("order", "x1", "post", 0),
        ],
        "a",
    ),
    "before-the-window-normal-rules": (
        [
            ("agent", "a", 2, PRE),
            ("agent", "b", 2, PRE),
            ("shift", "a", "08:00", "16:00"),
            ("login", "a", "b"),
            ("at", "15:54"),
            ("order", "x1", "pre", 0),
        ],
        "a",
    ),
    "past-shift-end-still-last": (
        [
            ("agent", "a", 2, PRE),
            ("agent", "b", 2, PRE),
            ("shift", "a", "08:00", "16:00"),
            ("login", "a", "b"),
            ("order", "x0", "pre", 0),
            ("at", "18:00"),
            ("order", "x1", "pre", 0),
        ],
        "b",
    ),
    "next-shift-started-normal-again": (
        [
            ("agent", "a", 2, PRE),
            ("agent", "b", 2, PRE),
            ("shift", "a", "08:00", "16:00"),
            ("shift", "a", "17:00", "23:00"),
            ("login", "a", "b"),
            ("at", "16:30"),
            ("order", "x0", "pre", 0),
            ("at", "17:00"),
            ("order", "x1", "pre", 0),
        ],
        "a",
    ),
    "window-follows-the-setting": (
        [
            ("agent", "a", 2, PRE),
            ("agent", "b", 2, PRE),
            ("shift", "a", "08:00", "16:00"),
            ("login", "a", "b"),
            ("stop", 3600),
            ("at", "15:01"),
            ("order", "x1", "pre", 0),
        ],
        "b",
    ),
    "window-zero-disables-handover": (
        [
            ("agent", "a", 2, PRE),
            ("agent", "b", 2, PRE),
            ("shift", "a", "08:00", "16:00"),
            ("login", "a", "b"),
            ("stop", 0),
            ("at", "15:59"),
            ("order", "x1", "pre", 0),
        ],
        "a",
    ),
    "shift-added-while-handing-over-ends-handover": (
        [
            ("agent", "a", 2, PRE),
            ("agent", "b", 2, PRE),
            ("shift", "a", "08:00", "09:30"),
            ("login", "a", "b"),
            ("at", "10:00"),
            ("shift", "a", "10:00", "18:00"),
            ("order", "x1", "pre", 0),
        ],
        "a",
    ),
}


def table(rows: dict[str, tuple[list[Step], str | None]]) -> list[Any]:
    return [pytest.param(steps, expected, id=name) for name, (steps, expected) in rows.items()]


@pytest.mark.parametrize(("steps", "expected"), table(ELIGIBILITY))
async def test_eligibility(center, steps, expected):
    await play(center, steps)
    order_id = last_order(steps)
    assert center.holder(order_id) == expected
    assert center.status(order_id) == ("queued" if expected is None else "assigned")


@pytest.mark.parametrize(("steps", "expected"), table(RANKING))
async def test_ranking(center, steps, expected):
    await play(center, steps)
    assert center.holder(last_order(steps)) == expected


@pytest.mark.parametrize(("steps", "expected"), table(HANDOVER))
async def test_handover(center, steps, expected):
    await play(center, steps)
    assert center.holder(last_order(steps)) == expected
