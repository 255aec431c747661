"""A seat's details, Force logout, filters and the keyboard: what a floor manager does next.

Issue 15: click a seat (or Enter/Space on it) for its open orders and its time today, and
force its logout from there (after a confirmation); narrow the 400 seats by team, state
and agent name or id; and do all of it without a mouse. Every figure the page shows is
checked against the API, as another user would read it, and every text against the
catalogue of the tab's language (English and Chinese).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from .boardkit import (
    LANGS,
    TEAMS,
    WIDTHS,
    Floor,
    Tabs,
    build_floor,
    long_dur,
    open_live,
    percent,
    say,
    short_dur,
    tabs,
    tile,
)
from .support import Server, audit_entries, ok

pytestmark = pytest.mark.e2e

UPDATE_MS = 1000
# The agents this module logs out, one per language (the other tests only read).
FORCED = {"en": "a057", "zh-CN": "a059"}
BUSY = "a111"  # holds several orders (the floor's load is spread thin: one order a seat)


@pytest.fixture(scope="module")
def floor(shared_server: Server) -> Floor:
    f = build_floor(shared_server)
    # Skills only these have: their orders can go nowhere else.
    only = ((FORCED["en"], "returns"), (FORCED["zh-CN"], "swap"), (BUSY, "vip"))
    for agent_id, skill in only:
        a = ok(f.admin.get(f"/v1/agents/{agent_id}"))
        body = {"name": a["name"], "team": a["team"], "skills": [*a["skills"], skill],
                "capacity": 5}  # fmt: skip
        ok(f.admin.put(f"/v1/agents/{agent_id}", json=body))
    orders = [{"id": "r-1", "skill": "returns", "priority": 2}, {"id": "r-2", "skill": "returns"},
              {"id": "v-1", "skill": "vip", "priority": 5}, {"id": "v-2", "skill": "vip"},
              {"id": "v-3", "skill": "vip", "priority": 1}, {"id": "s-1", "skill": "swap"},
              {"id": "s-2", "skill": "swap", "priority": 3}]  # fmt: skip
    ok(f.platform.post("/v1/orders:batch", json={"orders": orders}))
    ok(f.admin.post("/v1/agents/a001/away", json={"reason": "coaching"}))
    return f


@pytest.fixture
def board(browser: Browser, floor: Floor) -> Iterator[Tabs]:
    with tabs(browser, floor.server.base_url) as t:
        yield t


def details(page: Page) -> Any:
    return page.get_by_role("dialog", name=re.compile(r"[(（]a\d{3}[)）]$"))


def facts(page: Page) -> dict[str, str]:
    """The dialog's facts (Team, State, Load...) as shown."""
    pairs = page.evaluate(
        """() => { const dl = document.getElementById('sd-facts'); const out = {};
              for (const dt of dl.querySelectorAll('dt')) out[dt.textContent] =
                dt.nextElementSibling.textContent; return out; }"""
    )
    return dict(pairs)


def times(page: Page) -> dict[str, str]:
    pairs = page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('#sd-time dd')]
              .map((dd) => [dd.dataset.time, dd.textContent]))"""
    )
    return dict(pairs)


def expected_times(floor: Floor, agent_id: str, lang: str) -> dict[str, str]:
    u = ok(floor.sup.get(f"/v1/utilization?agent_id={agent_id}"))["agents"][0]
    return {
        "on_duty": long_dur(u["on_duty_s"], lang),
        "away": long_dur(u["away_s"], lang),
        "outside_schedule": long_dur(u["outside_schedule_s"], lang),
        "scheduled": long_dur(u["scheduled_s"], lang),
        "utilization": percent(u["utilization"], lang),
    }


def shown_orders(page: Page) -> list[str]:
    return list(
        page.evaluate(
            "() => [...document.querySelectorAll('#sd-orders tbody tr')]"
            ".map((tr) => tr.dataset.order)"
        )
    )


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("width", WIDTHS)
def test_clicking_a_seat_shows_its_open_orders_and_its_time_today(
    board: Tabs, floor: Floor, width: int, lang: str
) -> None:
    page = board.open(width, lang=lang)
    open_live(page, floor, lang)
    a = ok(floor.sup.get(f"/v1/agents/{BUSY}"))
    assert a["state"] == "available" and a["load"] >= 3, a
    now = ok(floor.sup.get("/v1/admin/clock"))["now"]
    tile(page, a["id"]).click()
    dialog = details(page)
    expect(dialog).to_be_visible()
    title = say(lang, "seatTitle", name=a["name"], id=a["id"])
    expect(dialog.get_by_role("heading", level=2)).to_have_text(title)
    expect(dialog.locator("#sd-orders-count")).to_have_text(say(lang, "count", n=a["load"]))
    assert sorted(shown_orders(page)) == sorted(a["open_orders"])
    # Each order as the API has it: skill, priority, when it was assigned, for how long.
    first = ok(floor.sup.get("/v1/orders/v-1"))
    row = dialog.locator(f'#sd-orders tr[data-order="{first["id"]}"] td')
    since = _seconds(now) - _seconds(first["assigned_at"])
    expect(row).to_have_text([first["id"], first["skill"] or say(lang, "anySkill"),
                              str(first["priority"]),
                              say(lang, "clock", time=first["assigned_at"][11:19]),
                              short_dur(since, lang)])  # fmt: skip
    expect(dialog.locator("#sd-time dd")).to_have_count(5)
    assert times(page) == expected_times(floor, a["id"], lang)
    shown = facts(page)
    load = say(lang, "factLoadValue", load=a["load"], capacity=a["capacity"])
    assert shown[say(lang, "factTeam")] == a["team"], shown
    assert shown[say(lang, "factLoad")] == load, shown
    since_state = _seconds(now) - _seconds(a["state_since"])
    state = say(lang, "factStateSince", time=a["state_since"][11:16],
                ago=short_dur(since_state, lang))  # fmt: skip
    assert shown[say(lang, "factState")] == say(lang, "stateName.available") + " " + state, shown
    # The dialog is whole on the screen (it scrolls inside itself if it must).
    box = dialog.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, box
    assert box["y"] >= 0 and box["y"] + box["height"] <= page.viewport_size["height"], box  # type: ignore[index]
    assert page.evaluate("document.scrollingElement.scrollWidth <= innerWidth")
    if width == 360:  # an away agent says why, and an agent with nothing open says so
        page.get_by_role("button", name=say(lang, "close")).click()
        expect(dialog).to_be_hidden()
        tile(page, "a001").click()
        expect(details(page)).to_be_visible()
        expect(page.locator("#sd-facts")).to_contain_text("coaching")
        assert facts(page)[say(lang, "factReason")] == "coaching"


def _seconds(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


@pytest.mark.parametrize("lang", LANGS)
def test_force_logout_from_the_seat_asks_first_then_takes_it_offline(
    board: Tabs, floor: Floor, lang: str
) -> None:
    page = board.open(1440, lang=lang)
    open_live(page, floor, lang)
    forced = FORCED[lang]
    before = ok(floor.sup.get(f"/v1/agents/{forced}"))
    assert before["state"] == "available" and before["load"] >= 1, before
    held = set(before["open_orders"])
    tile(page, forced).click()
    dialog = details(page)
    expect(dialog).to_be_visible()
    force = dialog.get_by_role("button", name=say(lang, "forceButton"))
    # Asked first; Cancel leaves the agent as it was.
    force.click()
    question = dialog.locator("#sd-confirm-q")
    ask = say(lang, "forceAsk", name=before["name"], id=forced, load=len(held))
    expect(question).to_have_text(ask)
    dialog.get_by_role("button", name=say(lang, "forceNo")).click()
    expect(question).to_be_hidden()
    expect(force).to_be_focused()
    assert ok(floor.sup.get(f"/v1/agents/{forced}"))["state"] == "available"

    force.click()
    dialog.get_by_role("button", name=say(lang, "forceYes"), exact=True).click()
    result = dialog.locator("#sd-result")
    expect(result).to_contain_text(say(lang, "forceDone", name=before["name"], id=forced))
    # The seat goes offline on the board, with nothing left open.
    expect(tile(page, forced)).to_have_attribute("data-state", "offline", timeout=UPDATE_MS)
    expect(tile(page, forced)).to_contain_text("0/")
    expect(dialog.locator("#sd-facts")).to_contain_text(say(lang, "stateName.offline"))
    expect(dialog.locator("#sd-orders-none")).to_be_visible()
    expect(dialog.locator("#sd-orders-none")).to_have_text(say(lang, "ordersNone"))
    expect(force).to_be_hidden()
    after = ok(floor.sup.get(f"/v1/agents/{forced}"))
    assert (after["state"], after["open_orders"]) == ("offline", []), after
    # Its orders were reassigned; the result says where each one went, as the API says.
    lines = result.locator("li")
    expect(lines).to_have_count(len(held))
    for o in sorted(held):
        now = ok(floor.sup.get(f"/v1/orders/{o}"))
        assert now["agent_id"] != forced, now
        if now["status"] == "assigned":
            who = ok(floor.sup.get(f"/v1/agents/{now['agent_id']}"))
            to = say(lang, "requestWho", name=who["name"], id=who["id"])
            line = say(lang, "forceMovedTo", order=o, agent=to)
            expect(lines.filter(has_text=o)).to_have_text(line)
        else:
            assert now["status"] == "queued", now
            line = (say(lang, "forceMovedAnyQueue", order=o) if now["skill"] is None
                    else say(lang, "forceMovedQueue", order=o, skill=now["skill"]))  # fmt: skip
            expect(lines.filter(has_text=o)).to_have_text(line)
    done = [e for e in audit_entries(floor.admin, forced) if e["action"] == "logout_forced"]
    assert len(done) == 1 and done[0]["by"].startswith("supervisor:"), done


def visible_ids(page: Page) -> set[str]:
    return set(
        page.evaluate(
            "() => [...document.querySelectorAll('.tile')]"
            ".filter((t) => t.checkVisibility()).map((t) => t.dataset.agent)"
        )
    )


def expect_seats(page: Page, wanted: set[str], total: int, lang: str = "en") -> None:
    expect(page.locator(".tile:visible")).to_have_count(len(wanted))
    assert visible_ids(page) == wanted
    count = (say(lang, "seatCount", total=total) if len(wanted) == total
             else say(lang, "seatCountFiltered", shown=len(wanted), total=total))  # fmt: skip
    expect(page.locator("#seat-count")).to_have_text(count)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("width", [360, 1920])
def test_filters_narrow_the_seats_by_team_state_and_name_and_clearing_restores_them(
    board: Tabs, floor: Floor, width: int, lang: str
) -> None:
    page = board.open(width, lang=lang)
    open_live(page, floor, lang)
    agents = {a["id"]: a for a in ok(floor.sup.get("/v1/agents"))["agents"]}
    total = len(agents)
    every = set(agents)
    team, state = say(lang, "filterTeam"), say(lang, "filterState")
    clear = page.get_by_role("button", name=say(lang, "clearFilters"))

    page.get_by_label(team, exact=True).select_option("east")
    east = {i for i, a in agents.items() if a["team"] == "east"}
    expect_seats(page, east, total, lang)
    assert page.locator("#seat-map .team:visible").all_inner_texts()[0].startswith("east")
    expect(page.locator("#seat-map .team:visible")).to_have_count(1)

    page.get_by_label(state, exact=True).select_option("away")
    expect_seats(page, {i for i in east if agents[i]["state"] == "away"}, total, lang)

    # The filter holds as the floor moves: a seat that goes away joins the list.
    joining = sorted(i for i in east if agents[i]["state"] == "available")[0]
    ok(floor.admin.post(f"/v1/agents/{joining}/away", json={"reason": "break"}))
    expect(tile(page, joining)).to_be_visible(timeout=UPDATE_MS)
    ok(floor.admin.post(f"/v1/agents/{joining}/available"))
    expect(tile(page, joining)).to_be_hidden(timeout=UPDATE_MS)
    agents = {a["id"]: a for a in ok(floor.sup.get("/v1/agents"))["agents"]}

    clear.click()
    expect_seats(page, every, total, lang)
    expect(page.get_by_label(team, exact=True)).to_have_value("")
    expect(page.get_by_label(state, exact=True)).to_have_value("")

    name = page.get_by_label(say(lang, "filterAgent"), exact=True)
    name.fill("wang")  # agents' names, any case
    expect_seats(page, {i for i, a in agents.items() if "wang" in a["name"].lower()}, total, lang)
    assert len(visible_ids(page)) == 2
    name.fill("A12")  # or ids
    wanted = {i for i, a in agents.items() if "a12" in i or "a12" in a["name"].lower()}
    expect_seats(page, wanted, total, lang)
    page.get_by_label(state, exact=True).select_option("offline")
    expect_seats(page, {i for i in wanted if agents[i]["state"] == "offline"}, total, lang)
    name.fill("nobody-by-this-name")
    expect(page.locator(".tile:visible")).to_have_count(0)
    expect(page.locator("#seat-empty")).to_be_visible()
    expect(page.locator("#seat-empty")).to_have_text(say(lang, "seatEmpty"))
    assert page.evaluate("document.scrollingElement.scrollWidth <= innerWidth")

    clear.click()
    expect_seats(page, every, total, lang)
    expect(name).to_have_value("")
    expect(page.locator("#seat-empty")).to_be_hidden()
    expect(page.locator("#seat-map .team:visible")).to_have_count(len(TEAMS))


def focused(page: Page) -> dict[str, Any]:
    return dict(
        page.evaluate(
            """() => { const e = document.activeElement; const cs = getComputedStyle(e);
                  return {agent: e.dataset ? e.dataset.agent || null : null, id: e.id,
                          tag: e.tagName, inDialog: !!e.closest('dialog[open]'),
                          outline: cs.outlineStyle, outlineWidth: parseFloat(cs.outlineWidth)};
               }"""
        )
    )


def test_keyboard_only_tab_to_a_seat_open_it_with_enter_close_with_escape(
    board: Tabs, floor: Floor
) -> None:
    page = board.open(1920)
    open_live(page, floor)
    page.locator("body").click(position={"x": 5, "y": 5})  # start from nowhere in particular
    # Tab through the header and the filters to the seats: one stop, the first seat.
    for _ in range(12):
        page.keyboard.press("Tab")
        if focused(page)["agent"]:
            break
    first = focused(page)
    assert first["agent"] == page.locator(".tile").first.get_attribute("data-agent"), first
    assert first["outline"] == "solid" and first["outlineWidth"] >= 2, first  # focus is visible
    # Arrows move within the seats; Tab leaves them (one tab stop for 400 seats).
    page.keyboard.press("ArrowRight")
    second = focused(page)["agent"]
    assert second == page.locator(".tile").nth(1).get_attribute("data-agent")
    page.keyboard.press("ArrowDown")
    below = focused(page)["agent"]
    a, b = tile(page, second).bounding_box(), tile(page, below).bounding_box()
    assert a is not None and b is not None
    assert b["y"] > a["y"] and abs(b["x"] - a["x"]) < 2, (a, b)
    page.keyboard.press("ArrowUp")
    assert focused(page)["agent"] == second

    page.keyboard.press("Enter")
    dialog = details(page)
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("heading", level=2)).to_contain_text(f"({second})")
    assert focused(page)["inDialog"]
    expect(dialog.locator("#sd-time dd")).to_have_count(5)
    for _ in range(6):  # the dialog is modal: focus stays inside it
        page.keyboard.press("Tab")
        assert focused(page)["inDialog"], focused(page)
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    back = focused(page)
    assert back["agent"] == second and back["outline"] == "solid", back  # focus returns

    page.keyboard.press("Space")  # Space opens it too
    expect(details(page)).to_be_visible()
    expect(details(page).get_by_role("heading", level=2)).to_contain_text(f"({second})")
    page.keyboard.press("Escape")
    expect(details(page)).to_be_hidden()
    assert focused(page)["agent"] == second

    page.keyboard.press("Tab")
    assert focused(page)["agent"] is None, focused(page)  # past the seats in one press
    page.keyboard.press("Shift+Tab")
    assert focused(page)["agent"] == second  # and back to the seat it left
    page.keyboard.press("Shift+Tab")
    assert focused(page)["id"] == "f-clear", focused(page)
