"""What the board's browser tests share: the 400-seat floor, opening the board, a watched tab.

A `Floor` is 400 agents in five teams on the real server with its manual clock at 13:5x:
on shift since 08:00 (every ninth until 14:00, so near its end), logged in at different
times, some away, after minutes of traffic that leave loads and queues. Each test module
builds one for its own server (module scope), so modules never disturb each other.

The board speaks English and Chinese (zh-CN): a tab opens with a browser language
(`Tabs.open(lang=...)`), and tests say what the page should show with the same catalogue
the page reads (`say`), so one test checks either language.

`Tabs` opens tabs at a given size and records everything a person (or the console)
would call a fault: script errors, console errors and warnings, failed requests, answers
>= 400 and requests off the server. A test fails at its end on any it did not allow.
"""

from __future__ import annotations

import itertools
import math
import random
import re
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import httpx
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect

from engine.i18n import catalogue

from .support import Server, add_shifts, at, future_day, make_key, ok, set_clock

SEATS = 400
TEAMS = ("north", "south", "east", "west", "central")
SKILLS = (["pre-sale"], ["after-sale"], ["pre-sale", "after-sale"], ["billing"])
# A phone, a small tablet, a laptop, the floor's big screen, a wall screen.
WIDTHS = (360, 760, 1440, 1920, 2560)
HEIGHTS = {360: 780, 760: 1000, 1440: 900, 1920: 1080, 2560: 1440}
# A few agents with real names, for the name filter (the rest are "Agent N").
NAMES = {"a007": "Wang Fang", "a123": "Wang Lei", "a244": "Li Na", "a318": "Zhang Wei"}
# The board's languages, and the browser language each tab of a test has for it.
LANGS = ("en", "zh-CN")
LOCALES = {"en": "en-US", "zh-CN": "zh-CN"}


def words(lang: str) -> dict[str, Any]:
    """The board's strings in a language: the catalogue's "board" section, as the page has it."""
    strings: dict[str, Any] = catalogue(lang)["board"]
    return strings


def say(lang: str, path: str, **fields: Any) -> str:
    """A string of the board as the page shows it: say("zh-CN", "stateShort.away")."""
    found: Any = words(lang)
    for part in path.split("."):
        found = found[part]
    assert isinstance(found, str), path
    return found.format(**fields) if fields else found


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
    names: dict[str, str] = field(default_factory=dict)

    def client(self, key: str) -> httpx.Client:
        return self.server.client(key)

    @property
    def sup(self) -> httpx.Client:
        return self.server.client(self.sup_key)


def agent_name(i: int, agent_id: str) -> str:
    return NAMES.get(agent_id, f"Agent {i + 1}")


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


def build_floor(srv: Server, traffic_minutes: int = 8) -> Floor:
    admin = srv.client(srv.admin_key)
    day = future_day()
    rng = random.Random(4)
    set_clock(admin, at(day, "07:55"))
    ids = [f"a{i:03d}" for i in range(1, SEATS + 1)]

    def put(i: int) -> None:
        body = {"name": agent_name(i, ids[i]), "team": TEAMS[i % len(TEAMS)],
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
              day, ids, {a: agent_name(i, a) for i, a in enumerate(ids)})  # fmt: skip
    _traffic(f, rng, traffic_minutes)
    return f


def with_room(f: Floor, n: int, skip: tuple[str, ...] = ()) -> list[str]:
    """`n` agents available with room and not near their shift's end, by id."""
    agents = ok(f.sup.get("/v1/agents"))["agents"]
    board = {s["id"]: s for s in ok(f.sup.get("/v1/board"))["agents"]}
    handing = set(near_end(f))
    found = [
        a["id"] for a in agents
        if a["state"] == "available" and a["load"] < a["capacity"] and a["id"] not in skip
        and a["id"] not in handing and a["id"] in board
    ]  # fmt: skip
    assert len(found) >= n, found
    return found[:n]


def near_end(f: Floor) -> list[str]:
    """Agents whose shift ends at 14:00: handing over at 13:5x (the router prefers them last)."""
    return [a for i, a in enumerate(f.ids) if i % 9 == 0]


_NR_ORDERS = itertools.count(1)


def stop_responding(f: Floor, agent_ids: list[str], timeout_s: int = 10) -> None:
    """These agents leave an order unanswered past the response timeout: `not_responding`.

    Every other open order gets its first response first and the timeout is off again
    after, so nobody else changes state; the order each one left goes to another agent.
    """
    agents = ok(f.sup.get("/v1/agents"))["agents"]
    waiting = [o for a in agents for o in a["open_orders"]]
    parallel(lambda o: ok(f.platform.post(f"/v1/orders/{o}/responded")), waiting)
    ok(f.admin.put("/v1/settings", json={"response_timeout_s": timeout_s}))
    for a in agent_ids:
        order = {"id": f"nr-{a}-{next(_NR_ORDERS)}", "preferred_agent_id": a}
        view = ok(f.platform.post("/v1/orders", json=order), 201)
        assert (view["agent_id"], view["routed_by"]) == (a, "preferred"), view
    ok(f.admin.post("/v1/admin/clock", json={"advance_s": timeout_s}))
    ok(f.admin.put("/v1/settings", json={"response_timeout_s": 0}))
    listed = ok(f.sup.get("/v1/agents?state=not_responding"))["agents"]
    assert set(agent_ids) <= {a["id"] for a in listed}, listed


_WRAP_ORDERS = itertools.count(1)


def wrap_up(f: Floor, agent_ids: list[str], wrap_up_s: int) -> None:
    """These agents complete an order each with `wrap_up_s` of wrap-up: one slot more each
    in wrap-up (`wrapping`) until the clock passes it. The settings are as they were after
    (a slot keeps the wrap-up in force at its completion), so nobody else's changes. For
    an agent handing over, the handover window is off while its order is routed to it."""
    agents = {a["id"]: a for a in ok(f.sup.get("/v1/agents"))["agents"]}
    window = ok(f.admin.get("/v1/settings"))["stop_new_before_end_s"]
    handing = set(agent_ids) & set(near_end(f))
    ok(f.admin.put("/v1/settings", json={"wrap_up_s": wrap_up_s}))
    if handing:
        ok(f.admin.put("/v1/settings", json={"stop_new_before_end_s": 0}))
    for a in agent_ids:
        order = {"id": f"wrap-{a}-{next(_WRAP_ORDERS)}", "preferred_agent_id": a}
        view = ok(f.platform.post("/v1/orders", json=order), 201)
        assert (view["agent_id"], view["routed_by"]) == (a, "preferred"), view
        ok(f.platform.post(f"/v1/orders/{view['id']}/complete"))
    ok(f.admin.put("/v1/settings", json={"wrap_up_s": 0, "stop_new_before_end_s": window}))
    for a in agent_ids:
        got = ok(f.sup.get(f"/v1/agents/{a}"))["wrapping"]
        assert got == agents[a]["wrapping"] + 1, (a, got)


def open_board(page: Page, base_url: str, key: str, lang: str = "en") -> None:
    page.goto(f"{base_url}/board")
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    page.get_by_label(say(lang, "keyLabel")).fill(key)
    page.get_by_role("button", name=say(lang, "keySubmit")).click()


def open_live(page: Page, floor: Floor, lang: str = "en") -> None:
    """The board open and showing every seat."""
    open_board(page, floor.server.base_url, floor.sup_key, lang)
    expect(page.locator("#conn")).to_have_text(say(lang, "connLive"))
    expect(page.locator(".tile")).to_have_count(len(floor.ids))


def tile(page: Page, agent_id: str) -> Locator:
    return page.locator(f'.tile[data-agent="{agent_id}"]')


def short_dur(seconds: float, lang: str = "en") -> str:
    """A time in state as a tile shows it: 45s, 12m, 5h09 (45秒, 12分, 5时09)."""
    s = max(0, int(seconds))
    if s < 60:
        return say(lang, "durS", s=s)
    m = s // 60
    return say(lang, "durM", m=m) if m < 60 else say(lang, "durH", h=m // 60, mm=f"{m % 60:02d}")


def long_dur(seconds: float, lang: str = "en") -> str:
    """A time as the seat's details show it: 45 s, 12 min, 5 h 09 min (45秒, 12分钟...)."""
    s = max(0, int(seconds))
    if s < 60:
        return say(lang, "longS", s=s)
    m = s // 60
    if m < 60:
        return say(lang, "longM", m=m)
    return say(lang, "longH", h=m // 60, mm=f"{m % 60:02d}")


def percent(u: float | None, lang: str = "en") -> str:
    return say(lang, "none") if u is None else say(lang, "pct", n=math.floor(u * 100 + 0.5))


# Records every label the chart draws, where it really lands: measureText under the
# context's alignment, baseline and transform at the moment of the call (device pixels).
RECORD_CHART = """(() => {
  const frames = [];
  window.__chartFrames = frames;
  const P = CanvasRenderingContext2D.prototype;
  const clear = P.clearRect, fill = P.fillText;
  P.clearRect = function (...args) {
    if (this.canvas.id === 'chart') {
      frames.push({width: this.canvas.width, height: this.canvas.height, labels: []});
    }
    return clear.apply(this, args);
  };
  P.fillText = function (text, x, y, ...rest) {
    if (this.canvas.id === 'chart' && frames.length) {
      const m = this.measureText(text);
      const t = this.getTransform();
      frames[frames.length - 1].labels.push({
        text: String(text),
        left: t.a * (x - m.actualBoundingBoxLeft) + t.e,
        right: t.a * (x + m.actualBoundingBoxRight) + t.e,
        top: t.d * (y - m.actualBoundingBoxAscent) + t.f,
        bottom: t.d * (y + m.actualBoundingBoxDescent) + t.f,
      });
    }
    return fill.call(this, text, x, y, ...rest);
  };
})()"""


class Tabs:
    """Browser tabs for one test, each watched for faults; `check()` fails on any not allowed.

    A test that provokes a fault on purpose (a rejected key answers 401, a stopped server
    refuses connections) allows it by a pattern first.
    """

    def __init__(self, browser: Browser, base_url: str) -> None:
        self.browser = browser
        self.base_url = base_url
        self.problems: list[str] = []
        self.allowed: list[re.Pattern[str]] = []
        self._contexts: list[BrowserContext] = []

    def open(
        self, width: int = 1920, height: int | None = None, lang: str = "en",
        locale: str | None = None,
    ) -> Page:  # fmt: skip
        """A tab whose browser speaks `lang` (navigator.language, Accept-Language), or
        exactly `locale` ("zh-TW", "fr-FR") when given."""
        size = {"width": width, "height": height or HEIGHTS.get(width, 1080)}
        context = self.browser.new_context(
            viewport=size,  # type: ignore[arg-type]
            locale=locale or LOCALES[lang],
        )
        self._contexts.append(context)
        page = context.new_page()
        watch(page, self.base_url, self.problems)
        return page

    def another_tab(self, page: Page) -> Page:
        """A second tab of the same browser profile as `page` (its local storage, not its
        session storage)."""
        other = page.context.new_page()
        watch(other, self.base_url, self.problems)
        return other

    def allow(self, pattern: str) -> None:
        self.allowed.append(re.compile(pattern))

    def unexpected(self) -> list[str]:
        return [p for p in self.problems if not any(a.search(p) for a in self.allowed)]

    def close(self) -> None:
        for c in self._contexts:
            c.close()
        self._contexts.clear()

    def check(self) -> None:
        bad = self.unexpected()
        assert bad == [], f"the board showed faults a person or the console would see: {bad}"


@contextmanager
def tabs(browser: Browser, base_url: str) -> Iterator[Tabs]:
    t = Tabs(browser, base_url)
    try:
        yield t
    finally:
        t.close()
    t.check()


def watch(page: Page, base_url: str, problems: list[str] | None = None) -> list[str]:
    """Record on `page` every fault a person or the console would see."""
    problems = [] if problems is None else problems
    page.on("pageerror", lambda exc: problems.append(f"script error: {exc}"))
    page.on(
        "console",
        lambda msg: (
            problems.append(f"console {msg.type}: {msg.text} {msg.location}")
            if msg.type in ("error", "warning")
            else None
        ),
    )
    page.on("requestfailed", lambda req: _failed(problems, req.url, req.failure))
    page.on(
        "response",
        lambda resp: (
            problems.append(f"{resp.status} {resp.request.method} {resp.url}")
            if resp.status >= 400
            else None
        ),
    )
    page.on(
        "request",
        lambda req: (
            None
            if req.url.startswith((base_url, "data:"))
            else problems.append(f"left the server: {req.url}")
        ),
    )
    return problems


def _failed(problems: list[str], url: str, failure: str | None) -> None:
    # The page aborts its own requests when it reloads, closes or reconnects (its stream,
    # a fetch still in flight at a reload): the browser's doing, not a fault. A server
    # that fails shows as a status or a connection error, which are still faults.
    if failure == "net::ERR_ABORTED":
        return
    problems.append(f"request failed: {url} ({failure})")
