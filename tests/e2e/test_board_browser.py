"""The live board page in a real browser: Playwright driving Debian's Chromium.

The server is the real `seatflow serve` process; the page is what it serves at
/board; every action goes through the page (typing a key, clicking Approve) or
through the HTTP API as another user would, and the test waits for what a floor
manager would see. Chromium is Debian's (`make setup-browser` installs it);
Playwright's own browser downloads are never used.

Set SEATFLOW_SCREENSHOT=path.png to save the 400-seat board at 1920x1080 (the
README's picture is made this way).
"""

from __future__ import annotations

import os
import random
import re
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from .support import Server, add_shifts, at, future_day, make_key, ok, set_clock

pytestmark = pytest.mark.e2e

SEATS = 400
TEAMS = ("north", "south", "east", "west", "central")
SKILLS = (["pre-sale"], ["after-sale"], ["pre-sale", "after-sale"], ["billing"])
UPDATE_MS = 1000  # the issue: a change shows on the board within a second


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh tab (fresh session storage) at 1920x1080, the floor's big screen."""
    context = browser.new_context(viewport={"width": 1920, "height": 1080})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        yield pg
    finally:
        context.close()
    assert errors == [], f"the page threw: {errors}"


def parallel(fn: Callable[[Any], Any], items: list[Any]) -> list[Any]:
    """Many requests at once: they share group commits, so setting up 400 seats is quick."""
    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(fn, items))


@dataclass
class Floor:
    server: Server
    admin: httpx.Client
    sup_key: str
    platform: httpx.Client
    day: date
    ids: list[str]

    def client(self, key: str) -> httpx.Client:
        return self.server.client(key)


def _traffic(f: Floor, rng: random.Random, minutes: int) -> None:
    """`minutes` of orders at the shift change: a batch each minute, some completed."""
    n = 0
    open_orders: list[str] = []
    for minute in range(minutes):
        set_clock(f.admin, at(f.day, f"13:{60 - minutes + minute:02d}:00"))
        batch = []
        for _ in range(rng.randint(25, 70) + minute):
            n += 1
            skill = rng.choices(["pre-sale", "after-sale", "billing", None], (3, 3, 5, 1))[0]
            batch.append({"id": f"o{n:05d}", "skill": skill, "priority": rng.randint(0, 3)})
        results = ok(f.platform.post("/v1/orders:batch", json={"orders": batch}))["results"]
        open_orders += [r["id"] for r in results if r.get("status") == "assigned"]
        rng.shuffle(open_orders)
        done, open_orders = open_orders[: rng.randint(20, 45)], open_orders[45:]
        parallel(lambda o: ok(f.platform.post(f"/v1/orders/{o}/complete")), done)


@pytest.fixture(scope="module")
def floor(shared_server: Server) -> Floor:
    """400 agents in five teams, on shift since 08:00 (some until 14:00), logged in at
    different times, some away; an hour of traffic up to 13:56 leaves loads and queues."""
    srv = shared_server
    admin = srv.client(srv.admin_key)
    day = future_day()
    rng = random.Random(4)
    set_clock(admin, at(day, "07:55"))
    ids = [f"a{i:03d}" for i in range(1, SEATS + 1)]

    def put(i: int) -> None:
        body = {"name": f"Agent {i + 1}", "team": TEAMS[i % len(TEAMS)],
                "skills": SKILLS[i % len(SKILLS)], "capacity": 3 + i % 3}  # fmt: skip
        r = admin.put(f"/v1/agents/{ids[i]}", json=body)
        assert r.status_code == 201, r.text

    parallel(put, list(range(SEATS)))
    add_shifts(admin, *[(a, at(day, "08:00"), at(day, "14:00" if i % 9 == 0 else "16:00"))
                        for i, a in enumerate(ids)])  # fmt: skip
    late = {a for i, a in enumerate(ids) if i % 7 == 3}
    set_clock(admin, at(day, "08:00"))
    parallel(lambda a: ok(admin.post(f"/v1/agents/{a}/login")), [a for a in ids if a not in late])
    set_clock(admin, at(day, "10:40"))
    parallel(lambda a: ok(admin.post(f"/v1/agents/{a}/login")), sorted(late))
    away = [a for i, a in enumerate(ids) if i % 13 == 5]
    set_clock(admin, at(day, "11:30"))
    parallel(lambda a: ok(admin.post(f"/v1/agents/{a}/away", json={"reason": "break"})), away)
    set_clock(admin, at(day, "12:30"))
    parallel(lambda a: ok(admin.post(f"/v1/agents/{a}/available")), away[::2])
    f = Floor(srv, admin, make_key(admin, "supervisor"), srv.client(make_key(admin, "platform")),
              day, ids)  # fmt: skip
    _traffic(f, rng, minutes=30 if os.environ.get("SEATFLOW_SCREENSHOT") else 8)
    return f


def open_board(page: Page, base_url: str, key: str) -> None:
    page.goto(f"{base_url}/board")
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    page.get_by_label("Supervisor key").fill(key)
    page.get_by_role("button", name="Open board").click()


def tile(page: Page, agent_id: str) -> Any:
    return page.locator(f'.tile[data-agent="{agent_id}"]')


def test_the_page_asks_for_a_key_and_rejects_a_wrong_one(page: Page, floor: Floor) -> None:
    base = floor.server.base_url
    open_board(page, base, "not-a-key")
    expect(page.get_by_role("dialog")).to_be_visible()
    expect(page.locator("#key-error")).to_contain_text("That key was not accepted")
    expect(page.locator("#key-error")).to_contain_text("unknown API key")
    expect(page.locator("#board")).to_be_hidden()

    page.get_by_label("Supervisor key").fill(make_key(floor.admin, "platform"))
    page.get_by_role("button", name="Open board").click()
    expect(page.locator("#key-error")).to_contain_text("may not watch the board")
    expect(page.locator("#board")).to_be_hidden()

    page.get_by_label("Supervisor key").fill(floor.sup_key)
    page.get_by_role("button", name="Open board").click()
    expect(page.get_by_role("dialog")).to_be_hidden()
    expect(page.locator("#conn")).to_have_text("Live")
    # Kept for this tab only: a reload does not ask again.
    assert page.evaluate("sessionStorage.length") == 1
    page.reload()
    expect(page.locator("#conn")).to_have_text("Live")
    expect(page.get_by_role("dialog")).to_be_hidden()


def test_it_shows_400_seats_by_state_with_queues_and_teams(page: Page, floor: Floor) -> None:
    board = ok(floor.client(floor.sup_key).get("/v1/board"))
    open_board(page, floor.server.base_url, floor.sup_key)
    expect(page.locator(".tile")).to_have_count(SEATS)
    by_state = {s: sum(a["state"] == s for a in board["agents"]) for s in ("available", "away")}
    expect(page.locator(".tile.available")).to_have_count(by_state["available"])
    expect(page.locator(".tile.away")).to_have_count(by_state["away"])
    # Text besides colour: each tile names its state and load.
    a = board["agents"][0]
    first = tile(page, a["id"])
    expect(first).to_contain_text({"available": "ON", "away": "AWAY"}[a["state"]])
    expect(first).to_contain_text(f"{a['load']}/{a['capacity']}")
    # Agents whose shift ends at 14:00 are marked (the clock is at 13:5x).
    assert a["id"] == "a001"
    expect(tile(page, "a010")).to_have_class(re.compile(r"\bnear-end\b"))
    expect(tile(page, "a010")).to_have_attribute("aria-label", re.compile("near shift end"))
    expect(page.locator("#teams tbody tr")).to_have_count(len(TEAMS))
    expect(page.locator("#lowest li")).to_have_count(10)
    depth = sum(q["depth"] for q in board["queues"])
    expect(page.locator("#totals .t-queue b")).to_have_text(str(depth))
    expect(page.locator("#chart-now")).to_contain_text("assigned")
    shot = os.environ.get("SEATFLOW_SCREENSHOT")
    if shot:  # the README's picture: add a little of everything the board can show
        for a in ("a101", "a202"):
            ok(floor.admin.post(f"/v1/agents/{a}/logout"), 202)
        for a in ("a301", "a302", "a303", "a304", "a305", "a306"):
            ok(floor.admin.post(f"/v1/agents/{a}/force-logout"))
        extra = [{"id": f"x{n:04d}", "skill": "billing"} for n in range(150)]
        ok(floor.platform.post("/v1/orders:batch", json={"orders": extra}))
        expect(page.locator("#requests li[data-request]")).to_have_count(2)
        expect(page.locator(".tile.offline")).to_have_count(6)
        page.wait_for_timeout(500)
        page.screenshot(path=shot)


def test_an_agent_going_away_changes_its_tile_within_a_second(page: Page, floor: Floor) -> None:
    open_board(page, floor.server.base_url, floor.sup_key)
    agent_id = "a002"
    seat = tile(page, agent_id)
    expect(seat).to_have_attribute("data-state", "available")
    ok(floor.admin.post(f"/v1/agents/{agent_id}/away", json={"reason": "coach"}))
    expect(seat).to_have_attribute("data-state", "away", timeout=UPDATE_MS)
    expect(seat).to_contain_text("AWAY")
    label = re.compile(r"^Agent 2 \(a002\), team south: away \(coach\), load \d+ of \d+")
    expect(seat).to_have_attribute("aria-label", label)


def test_approving_a_pending_logout_request_takes_the_agent_offline(
    page: Page, floor: Floor
) -> None:
    agent_id = "a004"  # mid-shift: the guard holds its logout for a supervisor
    open_board(page, floor.server.base_url, floor.sup_key)
    expect(tile(page, agent_id)).to_have_attribute("data-state", "available")
    held = ok(floor.admin.post(f"/v1/agents/{agent_id}/logout"), 202)["logout_request"]
    row = page.locator(f'#requests li[data-request="{held["id"]}"]')
    expect(row).to_be_visible(timeout=UPDATE_MS)
    expect(row).to_contain_text(agent_id)
    expect(tile(page, agent_id)).to_contain_text("LOGOUT?")
    # Keyboard: focus the button and press Enter, as a manager without a mouse would.
    row.get_by_role("button", name=f"Approve logout of {agent_id}").focus()
    page.keyboard.press("Enter")
    expect(tile(page, agent_id)).to_have_attribute("data-state", "offline", timeout=UPDATE_MS)
    expect(row).to_have_count(0)
    got = ok(floor.client(floor.sup_key).get(f"/v1/agents/{agent_id}"))
    assert (got["state"], got["load"]) == ("offline", 0), got
    request = ok(floor.admin.get("/v1/logout-requests?status=approved"))["logout_requests"]
    assert [r["decided_by"] for r in request if r["id"] == held["id"]] != [], request


def test_deny_keeps_the_agent_on_and_a_failed_action_says_why(page: Page, floor: Floor) -> None:
    agent_id = "a006"
    open_board(page, floor.server.base_url, floor.sup_key)
    held = ok(floor.admin.post(f"/v1/agents/{agent_id}/logout"), 202)["logout_request"]
    row = page.locator(f'#requests li[data-request="{held["id"]}"]')
    expect(row).to_be_visible(timeout=UPDATE_MS)
    # Someone else decides first: the page's click then fails, and says so.
    ok(floor.admin.post(f"/v1/logout-requests/{held['id']}/deny"))
    expect(row).to_have_count(0, timeout=UPDATE_MS)
    expect(tile(page, agent_id)).to_have_attribute("data-state", "available")
    held2 = ok(floor.admin.post(f"/v1/agents/{agent_id}/logout"), 202)["logout_request"]
    row2 = page.locator(f'#requests li[data-request="{held2["id"]}"]')
    expect(row2).to_be_visible(timeout=UPDATE_MS)
    page.route(  # the stream stays; only this one decision races a colleague's
        f"**/v1/logout-requests/{held2['id']}/deny",
        lambda route: (ok(floor.admin.post(f"/v1/logout-requests/{held2['id']}/approve")),
                       route.continue_()),
    )  # fmt: skip
    row2.get_by_role("button", name=f"Deny logout of {agent_id}").click()
    expect(page.locator("#req-msg")).to_contain_text(f"Could not deny {held2['id']}")
    expect(page.locator("#req-msg")).to_contain_text("is already approved")
    expect(tile(page, agent_id)).to_have_attribute("data-state", "offline", timeout=UPDATE_MS)


def test_the_reconnect_state_shows_while_the_server_is_down(page: Page, server: Server) -> None:
    admin = server.client(server.admin_key)
    set_clock(admin, at(future_day(), "09:00"))
    r = admin.put("/v1/agents/r1", json={"name": "R", "team": "north", "capacity": 2})
    assert r.status_code == 201, r.text
    open_board(page, server.base_url, make_key(admin, "supervisor"))
    conn = page.locator("#conn")
    expect(conn).to_have_text("Live")
    expect(page.locator(".tile")).to_have_count(1)

    server.stop()
    expect(conn).to_have_attribute("data-conn", "lost")
    expect(conn).to_contain_text("Connection lost")
    expect(conn).to_contain_text("reconnecting")

    server.start(port=server.port)
    expect(conn).to_have_text("Live", timeout=10_000)
    ok(admin.post("/v1/agents/r1/login"))  # and it is live again, not just connected
    expect(tile(page, "r1")).to_have_attribute("data-state", "available", timeout=UPDATE_MS)
