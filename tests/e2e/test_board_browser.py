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
import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from .boardkit import (
    LANGS,
    SEATS,
    TEAMS,
    Floor,
    Tabs,
    build_floor,
    open_board,
    open_live,
    say,
    stop_responding,
    tabs,
    tile,
    with_room,
    wrap_up,
)
from .conftest import CHROMIUM, CHROMIUM_ARGS
from .support import Server, at, future_day, make_key, ok, set_clock

pytestmark = pytest.mark.e2e

UPDATE_MS = 1000  # the issue: a change shows on the board within a second


@pytest.fixture
def board(browser: Browser, floor: Floor) -> Iterator[Tabs]:
    """Tabs on the floor's server; the test fails on any fault they show that it did not allow."""
    with tabs(browser, floor.server.base_url) as t:
        yield t


@pytest.fixture
def page(board: Tabs) -> Page:
    """A fresh tab (fresh session storage) at 1920x1080, the floor's big screen."""
    return board.open(1920, 1080)


@pytest.fixture(scope="module")
def floor(shared_server: Server) -> Floor:
    """400 agents in five teams, on shift since 08:00 (some until 14:00), logged in at
    different times, some away; traffic up to 13:59 leaves loads (and queues, for the picture)."""
    return build_floor(shared_server, 30 if os.environ.get("SEATFLOW_SCREENSHOT") else 8)


@pytest.mark.parametrize("lang", LANGS)
def test_the_page_asks_for_a_key_and_rejects_a_wrong_one(
    board: Tabs, floor: Floor, lang: str
) -> None:
    # The stream refuses the wrong keys (the browser logs each refusal): nothing else may fail.
    board.allow(r"^(401|403) GET http://[^/]+/v1/board/stream$")
    board.allow(
        r"^console error: Failed to load resource: .* status of (401|403) .*/v1/board/stream"
    )
    page = board.open(1920, 1080, lang=lang)
    base = floor.server.base_url
    open_board(page, base, "not-a-key", lang)
    dialog = page.get_by_role("dialog", name=say(lang, "keyHeading"))
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text(say(lang, "keyNote"))
    why = "unknown API key"  # the server's own words (its API speaks English)
    expect(page.locator("#key-error")).to_have_text(say(lang, "keyRejected", why=why))
    expect(page.locator("#board")).to_be_hidden()
    box = page.locator("#key-form").bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 1920, box

    key, submit = say(lang, "keyLabel"), say(lang, "keySubmit")
    page.get_by_label(key).fill(make_key(floor.admin, "platform"))
    page.get_by_role("button", name=submit).click()
    expect(page.locator("#key-error")).to_contain_text(say(lang, "keyForbidden", why="").strip())
    expect(page.locator("#board")).to_be_hidden()

    page.get_by_label(key).fill(floor.sup_key)
    page.get_by_role("button", name=submit).click()
    expect(page.get_by_role("dialog")).to_be_hidden()
    expect(page.locator("#conn")).to_have_text(say(lang, "connLive"))
    # Kept for this tab only: a reload does not ask again.
    assert page.evaluate("sessionStorage.length") == 1
    page.reload()
    expect(page.locator("#conn")).to_have_text(say(lang, "connLive"))
    expect(page.get_by_role("dialog")).to_be_hidden()


@pytest.mark.parametrize("lang", LANGS)
def test_it_shows_400_seats_by_state_with_queues_and_teams(
    board: Tabs, floor: Floor, lang: str
) -> None:
    page = board.open(1920, 1080, lang=lang)
    snap = ok(floor.client(floor.sup_key).get("/v1/board"))
    open_board(page, floor.server.base_url, floor.sup_key, lang)
    expect(page.locator(".tile")).to_have_count(SEATS)
    by_state = {s: sum(a["state"] == s for a in snap["agents"]) for s in ("available", "away")}
    expect(page.locator(".tile.available")).to_have_count(by_state["available"])
    expect(page.locator(".tile.away")).to_have_count(by_state["away"])
    # Text besides colour: each tile names its state and load.
    a = snap["agents"][0]
    first = tile(page, a["id"])
    expect(first.locator(".st")).to_have_text(say(lang, f"stateShort.{a['state']}"))
    expect(first).to_contain_text(f"{a['load']}/{a['capacity']}")
    # Agents whose shift ends at 14:00 are marked (the clock is at 13:5x).
    assert a["id"] == "a001"
    expect(tile(page, "a010")).to_have_class(re.compile(r"\bnear-end\b"))
    near = re.compile(re.escape(say(lang, "tileNearEnd")))
    expect(tile(page, "a010")).to_have_attribute("aria-label", near)
    expect(page.locator("#teams tbody tr")).to_have_count(len(TEAMS))
    expect(page.locator("#lowest li")).to_have_count(10)
    depth = sum(q["depth"] for q in snap["queues"])
    expect(page.locator("#totals .t-queue b")).to_have_text(str(depth))
    expect(page.locator("#chart-now")).to_have_text(re.compile(_template(say(lang, "chartNow"))))
    shot = os.environ.get("SEATFLOW_SCREENSHOT")
    if shot and lang == "en":  # the README's picture: add a little of everything the board can show
        for a in ("a101", "a202"):
            ok(floor.admin.post(f"/v1/agents/{a}/logout"), 202)
        for a in ("a301", "a302", "a303", "a304", "a305", "a306"):
            ok(floor.admin.post(f"/v1/agents/{a}/force-logout"))
        extra = [{"id": f"x{n:04d}", "skill": "billing"} for n in range(150)]
        ok(floor.platform.post("/v1/orders:batch", json={"orders": extra}))
        expect(page.locator("#requests li[data-request]")).to_have_count(2)
        expect(page.locator(".tile.offline")).to_have_count(6)
        page.wait_for_timeout(1200)  # changed seats flash for 0.6 s: let them settle
        page.screenshot(path=shot)


def _template(text: str) -> str:
    """A catalogue template as a pattern: each {field} any text."""
    return "^" + re.sub(r"\\\{\w+\\\}", ".+", re.escape(text)) + "$"


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


NOT_RESPONDING_COLOUR = "rgb(190, 18, 60)"  # --nr: no other state's colour


@pytest.mark.parametrize("lang", LANGS)
def test_a_seat_that_stops_responding_shows_it_and_the_header_counts_it(
    board: Tabs, floor: Floor, lang: str
) -> None:
    """Issue 14: an order left unanswered past the response timeout; the seat turns its own
    colour with its own label, the header counts it, and `available` brings it back."""
    page = board.open(1920, 1080, lang=lang)
    open_live(page, floor, lang)
    (agent_id,) = with_room(floor, 1)
    seat = tile(page, agent_id)
    stop_responding(floor, [agent_id])
    expect(seat).to_have_attribute("data-state", "not_responding", timeout=UPDATE_MS)
    expect(seat.locator(".st")).to_have_text(say(lang, "stateShort.not_responding"))
    expect(seat).to_have_attribute(
        "aria-label", re.compile(re.escape(say(lang, "stateWord.not_responding")))
    )
    colours = page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('.tile')].map((t) =>
             [t.dataset.state, getComputedStyle(t).backgroundColor]))"""
    )
    assert colours["not_responding"] == NOT_RESPONDING_COLOUR, colours
    assert list(colours.values()).count(NOT_RESPONDING_COLOUR) == 1, colours
    n = ok(floor.sup.get("/v1/board"))["totals"]["not_responding"]
    count = page.locator("#totals .t-nr")
    expect(count).to_have_text(say(lang, "totalNotResponding", n=n))
    legend = page.locator(".legend .s-not_responding + span")
    expect(legend).to_have_text(say(lang, "legendNotResponding"))
    ok(floor.admin.post(f"/v1/agents/{agent_id}/available"))
    expect(seat).to_have_attribute("data-state", "available", timeout=UPDATE_MS)
    expect(count).to_have_text(say(lang, "totalNotResponding", n=n - 1))


@pytest.mark.parametrize("lang", LANGS)
def test_a_seat_in_wrap_up_is_marked_until_its_wrap_up_ends(
    board: Tabs, floor: Floor, lang: str
) -> None:
    """Issue 14: after a completion with `wrap_up_s` the slot stays taken; the seat shows a
    wrap-up mark (and says so to a screen reader) until the clock passes the wrap-up's end."""
    page = board.open(1920, 1080, lang=lang)
    open_live(page, floor, lang)
    (agent_id,) = with_room(floor, 1)
    seat = tile(page, agent_id)
    expect(seat.locator(".wrap")).to_have_count(0)
    view = ok(floor.sup.get(f"/v1/agents/{agent_id}"))
    wrap_up(floor, [agent_id], wrap_up_s=5)
    expect(seat.locator(".wrap")).to_have_text(say(lang, "markWrap"), timeout=UPDATE_MS)
    expect(seat).to_have_attribute(
        "aria-label", re.compile(re.escape(say(lang, "tileWrapping", n=1)))
    )
    # The wrap-up slot is in the load: the order came and went, its slot stays.
    expect(seat.locator(".ld")).to_have_text(f"{view['load'] + 1}/{view['capacity']}")
    assert page.locator(".tile .wrap").count() == 1  # nobody else is wrapping up
    legend = page.locator(".legend .mark-wrap")
    expect(legend).to_have_text(say(lang, "markWrap"))
    expect(page.locator(".legend .mark-wrap + span")).to_have_text(say(lang, "legendWrap"))
    ok(floor.admin.post("/v1/admin/clock", json={"advance_s": 5}))
    expect(seat.locator(".wrap")).to_have_count(0, timeout=UPDATE_MS)
    expect(seat).not_to_have_attribute(
        "aria-label", re.compile(re.escape(say(lang, "tileWrapping", n=1)))
    )
    assert ok(floor.sup.get(f"/v1/agents/{agent_id}"))["wrapping"] == 0


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


def test_deny_keeps_the_agent_on_and_a_failed_action_says_why(
    board: Tabs, page: Page, floor: Floor
) -> None:
    agent_id = "a006"
    board.allow(r"^409 POST http://[^/]+/v1/logout-requests/[^/]+/deny$")  # the lost race
    board.allow(r"^console error: Failed to load resource: .* status of 409 .*/deny")
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


def test_the_reconnect_state_shows_while_the_server_is_down(
    browser: Browser, server: Server
) -> None:
    with tabs(browser, server.base_url) as own:
        # While the server is down the page's attempts to reconnect are refused (and logged).
        own.allow(r"^request failed: http://[^/]+/v1/(board/stream|admin/clock) \(net::ERR_")
        own.allow(r"^console error: Failed to load resource: net::ERR_CONNECTION_REFUSED")
        _reconnects(own.open(1920, 1080), server)


def _reconnects(page: Page, server: Server) -> None:
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


def test_loading_and_using_the_board_logs_no_error_at_all(browser: Browser, floor: Floor) -> None:
    """A browser that never saw the board before: it asks for a favicon once (a 404 was logged
    as a console error). Loading, opening a seat, filtering and closing log nothing."""
    fresh = browser.browser_type.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    try:
        with tabs(fresh, floor.server.base_url) as board:
            page = board.open(1440)
            open_live(page, floor)
            page.wait_for_timeout(1000)  # the icon request, if any, comes after the load
            assert board.problems == [], f"while loading: {board.problems}"
            tile(page, "a050").click()
            expect(page.locator("#sd-time dd")).to_have_count(5)
            page.keyboard.press("Escape")
            page.get_by_label("Team", exact=True).select_option("west")
            page.get_by_label("Agent", exact=True).fill("agent 1")
            expect(page.locator("#seat-count")).to_have_text(re.compile(r"^\(\d+ of 400\)$"))
            page.get_by_role("button", name="Clear filters").click()
            expect(page.locator("#seat-count")).to_have_text("(400)")
            assert board.problems == [], f"while using it: {board.problems}"
            icon = page.evaluate(
                """async () => { const link = document.querySelector('link[rel~="icon"]');
                      if (!link) return null;
                      const img = new Image(); img.src = link.href; await img.decode();
                      return {href: link.href.slice(0, 19), width: img.naturalWidth}; }"""
            )
            assert icon is not None and icon["width"] > 0, icon  # an icon the page can show
    finally:
        fresh.close()
