"""The board speaks the floor's language (issue 15): English or Chinese, one catalogue each.

The page takes the browser's language (the first of navigator.languages that is Chinese,
any zh…, or English; else English) unless someone chose one with the page's switch (in
the header, and in the key dialog), which local storage remembers for every tab. Every
text it shows, its script's and board.html's, comes from the server's catalogue
(GET /i18n/{lang}.json, section "board"), loaded before anything shows; switching
re-labels the page in place: the stream, the key, the filters and an open seat stay.

Besides the layout tests (test_board_layout.py, both languages at every width) and the
other board tests run in Chinese too, these check the language itself: which one the page
picks, that nothing shows before the catalogue, that no text is left in the other
language, and that the catalogue shown is the one the server sends.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Route, expect

from engine.i18n import catalogue, leaves

from .boardkit import (
    RECORD_CHART,
    TEAMS,
    Floor,
    Tabs,
    build_floor,
    long_dur,
    open_board,
    open_live,
    say,
    stop_responding,
    tabs,
    tile,
    with_room,
    words,
)
from .support import Server, ok

pytestmark = pytest.mark.e2e

REQUESTS = ("a010", "a101")  # logout requests waiting (a010 near its shift's end too)
AWAY = "a005"  # away with a reason
LANG_KEY = "seatflow.board.lang"


@pytest.fixture(scope="module")
def floor(shared_server: Server) -> Floor:
    f = build_floor(shared_server)
    ok(f.admin.put("/v1/settings", json={"logout_grace_s": 30}))
    for a in REQUESTS:
        ok(f.admin.post(f"/v1/agents/{a}/logout"), 202)
    ok(f.admin.post(f"/v1/agents/{AWAY}/away", json={"reason": "coaching"}))
    stop_responding(f, with_room(f, 2, skip=(*REQUESTS, AWAY)))  # a seat not responding
    return f


@pytest.fixture
def board(browser: Browser, floor: Floor) -> Iterator[Tabs]:
    with tabs(browser, floor.server.base_url) as t:
        yield t


def key_dialog(page: Page, lang: str) -> Any:
    return page.get_by_role("dialog", name=say(lang, "keyHeading"))


# Every text of the page: its text nodes (hidden ones too, and the <title>) and the
# attributes a person meets through a screen reader or a tooltip.
_TEXTS = """() => {
  const where = (e) => e.id ? '#' + e.id
    : e.tagName.toLowerCase() + (e.classList.length ? '.' + e.classList[0] : '');
  const out = [];
  const walk = document.createTreeWalker(document.documentElement, NodeFilter.SHOW_TEXT);
  for (let n = walk.nextNode(); n; n = walk.nextNode()) {
    const t = n.textContent.trim();
    if (t) out.push([where(n.parentElement), t]);
  }
  for (const e of document.querySelectorAll('[aria-label], [title], [placeholder], [alt]')) {
    for (const a of ['aria-label', 'title', 'placeholder', 'alt']) {
      const v = e.getAttribute(a);
      if (v && v.trim()) out.push([where(e) + '@' + a, v]);
    }
  }
  for (const f of (window.__chartFrames || []).slice(-1)) {
    for (const l of f.labels) out.push(['canvas#chart', l.text]);
  }
  return out;
}"""

CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
# Ids the floor uses: agents a010, orders o00012 and r-1, logout requests lr-3.
IDS = re.compile(r"(?<![A-Za-z0-9])[a-z]{1,2}-?\d+(?![A-Za-z0-9])")
TIMEZONE = re.compile(r"\b[A-Z][a-z]+/[A-Za-z_]+\b")


def floor_data(floor: Floor) -> list[str]:
    """What the floor's data says, in whatever language it was entered: names, teams, skills,
    reasons. The board shows these as they are."""
    agents = ok(floor.sup.get("/v1/agents"))["agents"]
    data = {*TEAMS, *(a["name"] for a in agents), *(a["reason"] for a in agents if a["reason"])}
    data |= {s for a in agents for s in a["skills"]}
    return sorted(data, key=len, reverse=True)


def left_in_other_language(page: Page, lang: str, data: list[str]) -> list[str]:
    """Each text of the page that is in the other language: with `lang` "zh-CN", any Latin
    letter left once the floor's data, ids, times and the strings both catalogues share
    (seatflow, English, UTC) are taken out; with "en", any Chinese character left. Each is
    named with the English catalogue strings it holds, if any."""
    en, zh = leaves(words("en")), leaves(words("zh-CN"))
    shared = {v for k, v in en.items() if zh[k] == v}  # seatflow, English, 中文, {time} UTC...
    shared_words = {w for v in shared for w in re.findall(r"[A-Za-z]+", re.sub(r"\{\w+\}", "", v))}
    kept = sorted({*data, *(v for v in shared if "{" not in v)}, key=len, reverse=True)
    as_is = re.compile("|".join(rf"(?<![A-Za-z]){re.escape(v)}(?![A-Za-z])" for v in kept))
    english = {k: v for k, v in en.items() if zh[k] != v}
    found = []
    for where, text in page.evaluate(_TEXTS):
        rest = TIMEZONE.sub(" ", IDS.sub(" ", as_is.sub(" ", text)))
        rest = re.sub(r"[A-Za-z]+", lambda m: " " if m.group() in shared_words else m.group(), rest)
        if lang == "en" and CJK.search(rest) or lang != "en" and re.search("[A-Za-z]", rest):
            holds = [k for k, v in english.items() if _holds(text, v)]
            found.append(f"{where}: {text!r} (English: {holds})")
    return found


def _holds(text: str, template: str) -> bool:
    parts = [p.strip() for p in re.split(r"\{\w+\}", template)]
    parts = [p for p in parts if re.search("[A-Za-z]{2}", p)]
    return bool(parts) and all(p in text for p in parts)


def stream_requests(page: Page) -> list[str]:
    seen: list[str] = []
    page.on("request", lambda r: seen.append(r.url) if r.url.endswith("/board/stream") else None)
    return seen


@pytest.mark.parametrize(
    ("locale", "languages", "lang"),
    [
        ("en-US", None, "en"),
        ("zh-CN", None, "zh-CN"),
        ("zh-TW", None, "zh-CN"),  # any Chinese: the floor's Chinese is zh-CN
        ("fr-FR", None, "en"),
        ("de-DE", ["de-DE", "zh-HK", "en-US"], "zh-CN"),  # the first the board speaks
        ("en-GB", ["en-GB", "zh-CN"], "en"),
    ],
)
def test_the_page_follows_the_browsers_language(
    board: Tabs, floor: Floor, locale: str, languages: list[str] | None, lang: str
) -> None:
    page = board.open(1440, locale=locale)
    if languages:
        page.add_init_script(
            f"Object.defineProperty(navigator, 'languages', {{get: () => {languages!r}}})"
        )
    page.goto(f"{floor.server.base_url}/board")
    dialog = key_dialog(page, lang)
    expect(dialog).to_be_visible()
    assert page.evaluate("document.documentElement.lang") == lang
    expect(page).to_have_title(say(lang, "pageTitle"))
    expect(dialog).to_contain_text(say(lang, "keyNote"))
    expect(page.locator("#key-lang")).to_have_value(lang)
    expect(page.locator("#conn")).to_have_text(say(lang, "connIdle"))
    page.get_by_label(say(lang, "keyLabel")).fill(floor.sup_key)
    page.get_by_role("button", name=say(lang, "keySubmit")).click()
    expect(page.locator("#conn")).to_have_text(say(lang, "connLive"))
    expect(page.locator("h1")).to_have_text(say(lang, "brand") + " " + say(lang, "boardName"))
    expect(page.locator("#lang")).to_have_value(lang)
    expect(tile(page, AWAY).locator(".st")).to_have_text(say(lang, "stateShort.away"))
    expect(page.get_by_role("heading", name=say(lang, "skillsHeading"))).to_be_visible()
    assert page.evaluate(f"localStorage.getItem({LANG_KEY!r})") is None  # nobody chose one


def test_nothing_shows_until_the_catalogue_is_there(board: Tabs, floor: Floor) -> None:
    """No flash of another language: the page shows no text at all while its catalogue is
    on its way, then Chinese at once."""
    page = board.open(1440, lang="zh-CN")
    held: list[Route] = []
    page.route("**/i18n/*.json", lambda route: held.append(route))
    page.goto(f"{floor.server.base_url}/board")
    for _ in range(100):
        if held:
            break
        page.wait_for_timeout(20)
    assert [r.request.url for r in held] == [f"{floor.server.base_url}/i18n/zh-CN.json"]
    page.wait_for_timeout(300)
    assert page.evaluate("document.body.innerText.trim()") == ""
    assert page.evaluate("document.documentElement.lang") == ""
    assert page.title() == ""
    expect(page.get_by_role("dialog")).to_have_count(0)
    held[0].continue_()
    expect(key_dialog(page, "zh-CN")).to_be_visible()
    assert page.evaluate("document.documentElement.lang") == "zh-CN"


def test_the_catalogue_shown_is_the_one_the_server_sends(board: Tabs, floor: Floor) -> None:
    base = floor.server.base_url
    page = board.open(1440, lang="zh-CN")
    answers: list[Any] = []
    page.on("response", lambda r: answers.append(r) if "/i18n/" in r.url else None)
    page.goto(f"{base}/board")
    expect(key_dialog(page, "zh-CN")).to_be_visible()
    assert [r.url for r in answers] == [f"{base}/i18n/zh-CN.json"]  # its language's, once
    assert answers[0].status == 200 and answers[0].json() == catalogue("zh-CN")
    # What the page shows is what came: a catalogue with other words shows those words.
    changed = copy.deepcopy(catalogue("zh-CN"))
    changed["board"].update(keyHeading="值班看板（测试）", keySubmit="进入看板", connLive="在线")
    other = board.open(1440, lang="zh-CN")
    other.route("**/i18n/zh-CN.json", lambda route: route.fulfill(json=changed))
    other.goto(f"{base}/board")
    expect(other.get_by_role("dialog", name="值班看板（测试）")).to_be_visible()
    other.get_by_label(say("zh-CN", "keyLabel")).fill(floor.sup_key)
    other.get_by_role("button", name="进入看板").click()
    expect(other.locator("#conn")).to_have_text("在线")


def test_a_catalogue_that_cannot_load_shows_the_lost_connection_until_it_can(
    board: Tabs, floor: Floor
) -> None:
    """The catalogue comes from the server that served the page: if it cannot load, that
    server is down, and the page says so as it does for the stream, then carries on."""
    board.allow(r"^503 GET http://[^/]+/i18n/zh-CN\.json$")
    board.allow(r"^console error: Failed to load resource: .* status of 503")
    page = board.open(1440, lang="zh-CN")
    refused: list[str] = []

    def down(route: Route) -> None:
        refused.append(route.request.url)
        route.fulfill(status=503, body="down")

    page.route("**/i18n/zh-CN.json", down)
    page.goto(f"{floor.server.base_url}/board")
    conn = page.locator("#conn")
    expect(conn).to_have_attribute("data-conn", "lost")
    expect(conn).to_be_visible()
    for _ in range(100):  # it tries again by itself
        if len(refused) >= 2:
            break
        page.wait_for_timeout(50)
    assert len(refused) >= 2, refused
    assert page.evaluate("document.body.innerText.trim()") == ""  # no text in any language
    expect(page.get_by_role("dialog")).to_have_count(0)
    page.unroute("**/i18n/zh-CN.json")
    expect(key_dialog(page, "zh-CN")).to_be_visible(timeout=6000)
    expect(conn).to_have_text(say("zh-CN", "connIdle"))


def test_the_switch_changes_every_string_in_place_and_is_remembered(
    board: Tabs, floor: Floor
) -> None:
    page = board.open(1440, lang="en")
    streams = stream_requests(page)
    open_live(page, floor, "en")
    data = floor_data(floor)
    page.get_by_label(say("en", "filterTeam"), exact=True).select_option("east")
    page.get_by_label(say("en", "filterAgent"), exact=True).fill("agent 1")
    count = page.locator("#seat-count")
    expect(count).to_have_text(re.compile(r"^\(\d+ of 400\)$"))
    shown = int(count.inner_text()[1:].split()[0])
    page.evaluate("window.__samePage = true")
    assert left_in_other_language(page, "en", data) == []

    page.locator("#lang").select_option("zh-CN")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator("#conn")).to_have_text(say("zh-CN", "connLive"))
    expect(count).to_have_text(say("zh-CN", "seatCountFiltered", shown=shown, total=400))
    expect(page).to_have_title(say("zh-CN", "pageTitle"))
    assert left_in_other_language(page, "zh-CN", data) == []
    # In place: the same page, the same stream, the key and the filters as they were.
    assert page.evaluate("window.__samePage") is True
    assert len(streams) == 1, streams
    assert page.evaluate("sessionStorage.length") == 1
    expect(page.locator("#f-team")).to_have_value("east")
    expect(page.locator("#f-text")).to_have_value("agent 1")
    expect(page.locator(".tile:visible")).to_have_count(shown)
    # The stream goes on in the new language.
    ok(floor.admin.post("/v1/agents/a015/away", json={"reason": "break"}))
    expect(tile(page, "a015").locator(".st")).to_have_text(say("zh-CN", "stateShort.away"))
    ok(floor.admin.post("/v1/agents/a015/available"))

    # Remembered: a reload is in Chinese though the browser speaks English.
    assert page.evaluate(f"localStorage.getItem({LANG_KEY!r})") == "zh-CN"
    page.reload()
    expect(page.locator("#conn")).to_have_text(say("zh-CN", "connLive"))
    expect(page.locator("#lang")).to_have_value("zh-CN")
    assert left_in_other_language(page, "zh-CN", data) == []

    page.locator("#lang").select_option("en")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#conn")).to_have_text("Live")
    expect(count).to_have_text("(400)")
    assert left_in_other_language(page, "en", data) == []
    page.reload()
    expect(page.locator("#conn")).to_have_text("Live")
    expect(page.locator("html")).to_have_attribute("lang", "en")


def test_a_language_chosen_in_another_tab_applies_at_once_and_the_open_seat_stays(
    board: Tabs, floor: Floor
) -> None:
    page = board.open(1440, lang="en")
    streams = stream_requests(page)
    open_live(page, floor, "en")
    agents = ok(floor.sup.get("/v1/agents"))["agents"]
    busy = next(a for a in agents if a["state"] == "available" and a["load"] >= 1
                and a["id"] not in REQUESTS)  # fmt: skip
    tile(page, busy["id"]).click()
    dialog = page.locator("#seat-dialog")
    expect(dialog.locator("#sd-time dd")).to_have_count(5)
    expect(dialog.locator("#sd-orders tbody tr")).to_have_count(busy["load"])
    dialog.get_by_role("button", name=say("en", "forceButton")).click()
    ask = say("en", "forceAsk", name=busy["name"], id=busy["id"], load=busy["load"])
    expect(dialog.locator("#sd-confirm-q")).to_have_text(ask)

    # A second tab (a fresh one asks for its key) chooses Chinese in its key dialog.
    other = board.another_tab(page)
    other.goto(f"{floor.server.base_url}/board")
    expect(key_dialog(other, "en")).to_be_visible()
    other.locator("#key-lang").select_option("zh-CN")
    expect(key_dialog(other, "zh-CN")).to_be_visible()
    expect(other.locator("html")).to_have_attribute("lang", "zh-CN")

    # The first tab follows, its seat's details still open, now in Chinese, asking the same.
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    title = say("zh-CN", "seatTitle", name=busy["name"], id=busy["id"])
    expect(dialog.get_by_role("heading", level=2)).to_have_text(title)
    assert page.evaluate("document.getElementById('seat-dialog').open") is True
    ask = say("zh-CN", "forceAsk", name=busy["name"], id=busy["id"], load=busy["load"])
    expect(dialog.locator("#sd-confirm-q")).to_have_text(ask)
    expect(dialog.locator("#sd-confirm-q")).to_be_visible()
    u = ok(floor.sup.get(f"/v1/utilization?agent_id={busy['id']}"))["agents"][0]
    expect(dialog.locator('#sd-time dd[data-time="on_duty"]')).to_have_text(
        long_dur(u["on_duty_s"], "zh-CN")
    )
    expect(dialog.locator("#sd-time dt").first).to_have_text(say("zh-CN", "timeOnDuty"))
    expect(dialog.locator("#sd-orders tbody tr")).to_have_count(busy["load"])
    expect(dialog.locator("#sd-orders thead th").first).to_have_text(say("zh-CN", "colOrder"))
    assert left_in_other_language(page, "zh-CN", floor_data(floor)) == []
    assert len(streams) == 1, streams


def test_in_chinese_no_text_is_left_in_english(board: Tabs, floor: Floor) -> None:
    """Every state a manager meets: the key dialog, the board with requests, marks and an
    away seat, a seat's details, the question before a forced logout and where its orders
    went. The server's own data (names, teams, skills, reasons, ids) stays as entered."""
    page = board.open(1920, lang="zh-CN")
    page.add_init_script(RECORD_CHART)
    data = floor_data(floor)
    page.goto(f"{floor.server.base_url}/board")
    expect(key_dialog(page, "zh-CN")).to_be_visible()
    assert left_in_other_language(page, "zh-CN", data) == []

    open_board(page, floor.server.base_url, floor.sup_key, "zh-CN")
    expect(page.locator("#requests li[data-request]")).to_have_count(len(REQUESTS))
    expect(tile(page, REQUESTS[0]).locator(".end")).to_have_text(say("zh-CN", "markEnd"))
    page.wait_for_function("() => window.__chartFrames.length >= 1")
    assert left_in_other_language(page, "zh-CN", data) == []

    agents = ok(floor.sup.get("/v1/agents"))["agents"]
    forced = next(a for a in reversed(agents) if a["state"] == "available" and a["load"] >= 1)
    tile(page, forced["id"]).click()
    dialog = page.locator("#seat-dialog")
    expect(dialog.locator("#sd-time dd")).to_have_count(5)
    dialog.get_by_role("button", name=say("zh-CN", "forceButton")).click()
    expect(dialog.locator("#sd-confirm-q")).to_be_visible()
    assert left_in_other_language(page, "zh-CN", data) == []
    dialog.get_by_role("button", name=say("zh-CN", "forceYes"), exact=True).click()
    expect(dialog.locator("#sd-result li")).to_have_count(forced["load"])
    expect(tile(page, forced["id"])).to_have_attribute("data-state", "offline")
    assert left_in_other_language(page, "zh-CN", data) == []

    page.keyboard.press("Escape")
    page.get_by_label(say("zh-CN", "filterAgent"), exact=True).fill("nobody-by-this-name")
    expect(page.locator("#seat-empty")).to_have_text(say("zh-CN", "seatEmpty"))
    assert left_in_other_language(page, "zh-CN", data) == []
