"""A day on the floor, through the real server on the manual clock.

Six agents in two teams, a morning and an evening shift. Orders are routed by the
rules of API.md (lowest load/capacity, then idle longest, then smaller id), queue
when no one has room, are served from the queue by priority then age, and the
shift change hands work over from the morning to the evening agents.

Morning (08:00-16:00Z)            Evening (16:00-24:00Z)
  m1 north  billing,en  cap 2       e1 north  billing,en  cap 3
  m2 north  en          cap 3       e2 south  en          cap 3
  m3 south  billing     cap 2       e3 south  billing,en  cap 3
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from .support import (
    Server,
    add_shifts,
    agent,
    at,
    future_day,
    holding,
    is_rfc3339_utc,
    login,
    make_key,
    ok,
    order,
    push,
    set_clock,
)

pytestmark = pytest.mark.e2e

AGENTS = [
    ("m1", "north", ["billing", "en"], 2),
    ("m2", "north", ["en"], 3),
    ("m3", "south", ["billing"], 2),
    ("e1", "north", ["billing", "en"], 3),
    ("e2", "south", ["en"], 3),
    ("e3", "south", ["billing", "en"], 3),
]
MORNING = ("m1", "m2", "m3")
EVENING = ("e1", "e2", "e3")


def board(c: httpx.Client) -> dict[str, Any]:
    body = ok(c.get("/v1/board"))
    for key in ("now", "agents", "queues", "teams", "pending_logout_requests", "totals"):
        assert key in body, f"GET /v1/board has no {key!r}: {body}"
    return dict(body)


def test_a_day_on_the_floor(server: Server, admin: httpx.Client) -> None:
    day = future_day()
    set_clock(admin, at(day, "07:50"))

    sup = server.client(make_key(admin, "supervisor"))
    platform = server.client(make_key(admin, "platform"))
    for agent_id, team, skills, capacity in AGENTS:
        created = ok(
            sup.put(
                f"/v1/agents/{agent_id}",
                json={"name": f"Agent {agent_id}", "team": team, "skills": skills,
                      "capacity": capacity},
            ),
            201,
        )  # fmt: skip
        assert created["id"] == agent_id and created["state"] == "offline", created
        assert created["load"] == 0 and created["open_orders"] == [], created
    as_m1 = server.client(make_key(admin, "agent", "m1"))
    as_m2 = server.client(make_key(admin, "agent", "m2"))

    shifts = add_shifts(
        sup,
        *[(a, at(day, "08:00"), at(day, "16:00")) for a in MORNING],
        *[(a, at(day, "16:00"), at(day, "00:00", days=1)) for a in EVENING],
    )
    assert {(s["agent_id"], s["start"], s["end"]) for s in shifts} == {
        *[(a, at(day, "08:00"), at(day, "16:00")) for a in MORNING],
        *[(a, at(day, "16:00"), at(day, "00:00", days=1)) for a in EVENING],
    }
    listed = ok(sup.get("/v1/schedule", params={"from": at(day, "12:00"), "to": at(day, "13:00")}))
    assert sorted(s["agent_id"] for s in listed["shifts"]) == list(MORNING)
    # [from, to) is half-open: a shift starting at `to` or ending at `from` is outside.
    listed = ok(sup.get("/v1/schedule", params={"from": at(day, "15:00"), "to": at(day, "16:00")}))
    assert sorted(s["agent_id"] for s in listed["shifts"]) == list(MORNING)
    listed = ok(sup.get("/v1/schedule", params={"from": at(day, "16:00"), "to": at(day, "17:00")}))
    assert sorted(s["agent_id"] for s in listed["shifts"]) == list(EVENING)
    listed = ok(sup.get("/v1/schedule", params={"agent_id": "e2"}))
    assert listed["shifts"] == [
        {"agent_id": "e2", "start": at(day, "16:00"), "end": at(day, "00:00", days=1)}
    ]

    # 07:55: the morning logs in (the supervisor for m1 and m3, m2 by itself).
    set_clock(admin, at(day, "07:55"))
    login(sup, "m1")
    login(as_m2, "m2")
    login(sup, "m3")

    _morning_routing(day, admin, platform, as_m1)
    _away_keeps_own_orders(day, admin, platform, sup, as_m2)
    _shift_change(day, admin, platform, sup)


def _morning_routing(
    day: Any, admin: httpx.Client, platform: httpx.Client, as_m1: httpx.Client
) -> None:
    def push_at(hhmm: str, order_id: str, skill: str | None = None, priority: int = 0) -> Any:
        set_clock(admin, at(day, hhmm))
        view = push(platform, order_id, skill, priority)
        assert view["created_at"] == at(day, hhmm), view
        return view["agent_id"]

    # Everyone at 0 load and never assigned: the smaller id wins.
    assert push_at("08:01", "o1", "billing") == "m1"
    # m1 is at 1/2; m2 and m3 tie at 0, never assigned: smaller id m2.
    assert push_at("08:02", "o2") == "m2"
    # m1 1/2, m2 1/3, m3 0/2: lowest load/capacity.
    assert push_at("08:03", "o3") == "m3"
    set_clock(admin, at(day, "08:04"))
    ok(as_m1.post("/v1/orders/o1/complete"))  # the assigned agent completes
    assert push_at("08:05", "o4") == "m1"  # m1 back at 0/2
    assert push_at("08:06", "o5") == "m2"  # m1 1/2, m2 1/3, m3 1/2
    # billing: m1 and m3 both at 1/2; m3 was last assigned at 08:03, m1 at 08:05:
    # idle longest beats the smaller id.
    assert push_at("08:07", "o6", "billing") == "m3"
    assert push_at("08:08", "o7", "en") == "m1"  # m1 1/2 beats m2 2/3
    assert push_at("08:09", "o8") == "m2"  # the only one with room
    assert holding(admin, "m1") == {"o4", "o7"}
    assert holding(admin, "m2") == {"o2", "o5", "o8"}
    assert holding(admin, "m3") == {"o3", "o6"}

    # Everyone is full: orders queue.
    for hhmm, order_id, skill, priority in [
        ("08:10", "o9", "billing", 1),
        ("08:11", "o10", "billing", 5),
        ("08:12", "o11", None, 0),
        ("08:13", "o12", None, 5),
        ("08:14", "o13", "en", 9),
    ]:
        set_clock(admin, at(day, hhmm))
        view = push(platform, order_id, skill, priority)
        assert view["status"] == "queued" and view["agent_id"] is None, view
        queued = order(platform, order_id)
        assert queued["status"] == "queued" and queued["assigned_at"] is None, queued

    # Completions serve the queue at once: highest priority first, then oldest,
    # among the orders the freed agent can take.
    set_clock(admin, at(day, "08:15"))
    ok(as_m1.post("/v1/orders/o4/complete"))
    assert order(admin, "o13")["agent_id"] == "m1"  # p9 en beats p5 billing/none
    set_clock(admin, at(day, "08:16"))
    ok(platform.post("/v1/orders/o2/complete"))
    assert order(admin, "o12")["agent_id"] == "m2"  # m2 (en) takes the p5 no-skill order
    set_clock(admin, at(day, "08:17"))
    ok(platform.post("/v1/orders/o3/complete"))
    o10 = order(admin, "o10")  # m3 (billing): p5 billing before p1 billing and p0 none
    assert (o10["status"], o10["agent_id"], o10["assigned_at"]) == (
        "assigned", "m3", at(day, "08:17")
    )  # fmt: skip
    assert o10["created_at"] == at(day, "08:11"), o10
    assert order(admin, "o9")["status"] == "queued"
    assert order(admin, "o11")["status"] == "queued"
    done = order(admin, "o3")
    assert (done["status"], done["completed_at"]) == ("completed", at(day, "08:17")), done


def _away_keeps_own_orders(
    day: Any, admin: httpx.Client, platform: httpx.Client, sup: httpx.Client, as_m2: httpx.Client
) -> None:
    set_clock(admin, at(day, "08:20"))
    assert ok(as_m2.post("/v1/agents/m2/away", json={"reason": "break"})) == {"state": "away"}
    set_clock(admin, at(day, "08:21"))
    ok(platform.post("/v1/orders/o5/complete"))  # away m2 now has room but takes nothing
    assert order(admin, "o11")["status"] == "queued"
    set_clock(admin, at(day, "08:22"))
    # en: m1 is full, m2 has room but is away -> queued.
    assert push(platform, "o14", "en")["status"] == "queued"

    m2 = agent(as_m2, "m2")  # an agent may read its own record
    expected = {
        "id": "m2", "name": "Agent m2", "team": "north", "skills": ["en"], "capacity": 3,
        "state": "away", "load": 2, "state_since": at(day, "08:20"),
    }  # fmt: skip
    assert {k: m2[k] for k in expected} == expected, m2
    assert set(m2["open_orders"]) == {"o8", "o12"}, m2

    b = board(sup)
    assert b["now"] == at(day, "08:22")
    rows = {a["id"]: a for a in b["agents"]}
    assert set(rows) == {a for a, *_ in AGENTS}
    assert {a: (r["state"], r["load"], r["capacity"]) for a, r in rows.items()} == {
        "m1": ("available", 2, 2), "m2": ("away", 2, 3), "m3": ("available", 2, 2),
        "e1": ("offline", 0, 3), "e2": ("offline", 0, 3), "e3": ("offline", 0, 3),
    }  # fmt: skip
    assert rows["m2"]["state_since"] == at(day, "08:20")
    assert rows["m1"]["team"] == "north" and rows["m1"]["name"] == "Agent m1"
    for r in rows.values():
        u = r["utilization_today"]
        assert u is None or (isinstance(u, int | float) and 0 <= u <= 1), r
    queues = {q["skill"]: (q["depth"], q["oldest_wait_s"]) for q in b["queues"] if q["depth"]}
    # o9 billing since 08:10, o11 none since 08:12, o14 en since 08:22.
    assert queues == {"billing": (1, 720), None: (1, 600), "en": (1, 0)}, b["queues"]
    teams = {t["team"]: t for t in b["teams"]}
    assert {n: (t["available"], t["away"], t["offline"], t["load"]) for n, t in teams.items()} == {
        "north": (1, 1, 1, 4),
        "south": (1, 0, 2, 2),
    }, b["teams"]
    assert b["pending_logout_requests"] == []

    set_clock(admin, at(day, "08:25"))
    assert ok(as_m2.post("/v1/agents/m2/available")) == {"state": "available"}
    # Back with room for one: the older of the p0 orders it can take (o11 before o14).
    assert holding(admin, "m2") == {"o8", "o12", "o11"}
    assert order(admin, "o14")["status"] == "queued"


def _shift_change(day: Any, admin: httpx.Client, platform: httpx.Client, sup: httpx.Client) -> None:
    # 15:55: the morning is in its last 5 minutes; the evening logs in.
    set_clock(admin, at(day, "15:55"))
    login(sup, "e1")  # takes the waiting o9 (p1 billing) and o14 (p0 en)
    assert holding(admin, "e1") == {"o9", "o14"}
    login(sup, "e2")
    login(sup, "e3")
    set_clock(admin, at(day, "15:56"))
    ok(platform.post("/v1/orders/o7/complete"))  # m1 now has room (1/2) but is handing over

    def push_at(hhmm: str, order_id: str, skill: str | None = None) -> Any:
        set_clock(admin, at(day, hhmm))
        return push(platform, order_id, skill)["agent_id"]

    assert push_at("15:57:00", "o15") == "e2"  # e2, e3 at 0: smaller id; m1 handing over
    assert push_at("15:57:10", "o16", "billing") == "e3"  # e1 2/3, e3 0/3
    assert push_at("15:57:20", "o17", "billing") == "e3"
    assert push_at("15:57:30", "o18", "billing") == "e1"  # e1, e3 at 2/3: e1 idle longer
    # e3 at 2/3 is preferred to m1 at 1/2: m1 is in its last 5 minutes.
    assert push_at("15:57:40", "o19", "billing") == "e3"
    # Now no evening agent with billing has room: the handing-over m1 takes it.
    assert push_at("15:57:50", "o20", "billing") == "m1"

    # 15:58: inside the 10-minute grace window the morning may log out at once;
    # open orders go back to routing, best first, and land on the evening.
    set_clock(admin, at(day, "15:58"))
    ok(platform.post("/v1/orders/o9/complete"))  # e1 back to 2/3
    done = ok(sup.post("/v1/agents/m1/logout"))
    assert done == {"state": "offline", "reassigned": ["o13", "o20"]}, done
    assert order(admin, "o13")["agent_id"] == "e2"  # p9 en: e2 1/3 beats e1 2/3
    assert order(admin, "o20")["agent_id"] == "e1"  # billing: e3 is full
    m1 = agent(admin, "m1")
    assert (m1["state"], m1["load"], m1["open_orders"]) == ("offline", 0, []), m1
    assert m1["state_since"] == at(day, "15:58")

    set_clock(admin, at(day, "15:59"))
    done = ok(sup.post("/v1/agents/m2/logout"))
    # Released p5 first, then by arrival: o12 goes to e2 (the last room), the rest wait.
    assert done == {"state": "offline", "reassigned": ["o12", "o8", "o11"]}, done
    done = ok(sup.post("/v1/agents/m3/logout"))
    assert done == {"state": "offline", "reassigned": ["o10", "o6"]}, done
    assert holding(admin, "e1") == {"o14", "o18", "o20"}
    assert holding(admin, "e2") == {"o15", "o13", "o12"}
    assert holding(admin, "e3") == {"o16", "o17", "o19"}
    for order_id in ("o8", "o11", "o10", "o6"):
        view = order(admin, order_id)
        assert (view["status"], view["agent_id"]) == ("queued", None), view
    assert order(admin, "o6")["created_at"] == at(day, "08:07")  # arrival time kept

    b = board(sup)
    queues = {q["skill"]: (q["depth"], q["oldest_wait_s"]) for q in b["queues"] if q["depth"]}
    # Released orders wait with their original arrival: o6 since 08:07, o8 since 08:09.
    assert queues == {"billing": (2, 7 * 3600 + 52 * 60), None: (2, 7 * 3600 + 50 * 60)}

    # Re-queued orders are served by original priority, then original arrival.
    set_clock(admin, at(day, "16:05"))
    ok(platform.post("/v1/orders/o14/complete"))
    assert order(admin, "o10")["agent_id"] == "e1"  # p5 billing before p0 o8 / o6
    ok(platform.post("/v1/orders/o15/complete"))
    assert order(admin, "o8")["agent_id"] == "e2"  # en-only e2: the oldest no-skill
    ok(platform.post("/v1/orders/o16/complete"))
    assert order(admin, "o6")["agent_id"] == "e3"  # o6 (08:07) before o11 (08:12)
    ok(platform.post("/v1/orders/o17/complete"))
    assert order(admin, "o11")["agent_id"] == "e3"
    assert all(q["depth"] == 0 for q in board(sup)["queues"])

    teams = {t["team"]: t for t in board(sup)["teams"]}
    assert {n: (t["available"], t["away"], t["offline"]) for n, t in teams.items()} == {
        "north": (1, 0, 2),
        "south": (2, 0, 1),
    }
    for order_id in ("o1", "o10", "o20"):
        view = order(admin, order_id)
        for field in ("created_at", "assigned_at"):
            assert is_rfc3339_utc(view[field]), view
