"""The board's layout as a person sees it, from a 360 px phone to a 2560 px wall screen.

Issue 15: the chart's left axis labels were cut off after its first redraw; the END and
LOGOUT? marks covered a tile's time in state; at 760 px the header overflowed and the
page scrolled sideways. Each test runs at every width in `boardkit.WIDTHS`, in English and
in Chinese (longer or wider words: 临下班, 申请下线, 话后...), on one 400-seat floor whose tiles
show every mark: END alone, LOGOUT? alone, WRAP (issue 14's wrap-up) alone, LOGOUT? with
WRAP, and all three. The boxes measured are the real font's: the
machine has a CJK font (`make setup-browser` installs Noto CJK), or Chinese would be boxes.

Set SEATFLOW_BOARD_SHOTS=DIR to save what each width looks like (for a person to look at).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from .boardkit import (
    LANGS,
    RECORD_CHART,
    WIDTHS,
    Floor,
    Tabs,
    build_floor,
    open_live,
    say,
    stop_responding,
    tabs,
    tile,
    with_room,
    wrap_up,
)
from .support import Server, ok

pytestmark = pytest.mark.e2e

BOTH = "a010"  # its shift ends at 14:00 (END) and its logout waits for a supervisor (LOGOUT?)
REQUEST_ONLY = ("a101", "a202")  # mid-shift logout requests
WRAPPING = (BOTH, REQUEST_ONLY[0], "a030")  # in wrap-up: all three marks, two, WRAP alone
SHOTS = os.environ.get("SEATFLOW_BOARD_SHOTS")


@pytest.fixture(scope="module")
def floor(shared_server: Server) -> Floor:
    f = build_floor(shared_server)
    # A short grace: a logout 60 s before the shift's end is held too (END and LOGOUT? at once).
    ok(f.admin.put("/v1/settings", json={"logout_grace_s": 30}))
    for a in (BOTH, *REQUEST_ONLY):
        ok(f.admin.post(f"/v1/agents/{a}/logout"), 202)
    ok(f.admin.post("/v1/agents/a005/away", json={"reason": "coaching"}))
    stop_responding(f, with_room(f, 3, skip=(BOTH, *REQUEST_ONLY, "a005", *WRAPPING)))
    wrap_up(f, list(WRAPPING), wrap_up_s=600)  # the clock stays inside it for the module
    return f


@pytest.fixture
def board(browser: Browser, floor: Floor) -> Iterator[Tabs]:
    with tabs(browser, floor.server.base_url) as t:
        yield t


def shot(page: Page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"))


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("width", WIDTHS)
def test_nothing_scrolls_sideways_and_every_seat_is_on_screen(
    board: Tabs, floor: Floor, width: int, lang: str
) -> None:
    page = board.open(width, lang=lang)
    open_live(page, floor, lang)
    expect(page.locator("#totals .t-req b")).to_have_text(str(1 + len(REQUEST_ONLY)))
    assert page.evaluate("document.documentElement.lang") == lang
    shot(page, f"board-{lang}-{width}")
    sizes = page.evaluate(
        """() => ({scroll: document.scrollingElement.scrollWidth, inner: innerWidth,
                  header: document.querySelector('header').scrollWidth})"""
    )
    assert sizes["scroll"] <= sizes["inner"], f"the page scrolls sideways at {width} px: {sizes}"
    assert sizes["header"] <= sizes["inner"], f"the header overflows at {width} px: {sizes}"
    outside = page.evaluate(
        """() => [...document.querySelectorAll('.tile')].map((t) => {
              const r = t.getBoundingClientRect();
              return [t.dataset.agent, r.left, r.right];
            }).filter(([, l, r]) => l < 0 || r > innerWidth)"""
    )
    assert outside == [], f"tiles outside the screen at {width} px: {outside[:10]}"
    # What the header holds is all there, each item in one piece on the screen.
    for sel in ("h1", "#totals .t-on", "#totals .t-req", "#clock", "#conn", "#lang", "#change-key"):
        box = page.locator(sel).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, (sel, box)
    # The side panels too: the skills table fits its panel (no cut-off column).
    fits = page.evaluate(
        """() => [...document.querySelectorAll('.panel')].map((p) =>
              [p.querySelector('h2').textContent, p.scrollWidth <= p.clientWidth,
               p.getBoundingClientRect().right <= innerWidth])"""
    )
    assert all(inside and right for _, inside, right in fits), fits


# Every text of a tile and every mark, as boxes on the screen (the tile's inside too).
_TILE_BOXES = """(ids) => ids.map((id) => {
  const t = document.querySelector(`.tile[data-agent="${id}"]`);
  const box = (e) => { const r = e.getBoundingClientRect();
    return {name: e.className || e.tagName, text: e.textContent,
            left: r.left, right: r.right, top: r.top, bottom: r.bottom}; };
  const cs = getComputedStyle(t);
  const r = t.getBoundingClientRect();
  const inner = {left: r.left + parseFloat(cs.borderLeftWidth),
                 right: r.right - parseFloat(cs.borderRightWidth),
                 top: r.top + parseFloat(cs.borderTopWidth),
                 bottom: r.bottom - parseFloat(cs.borderBottomWidth)};
  return {id, inner,
          texts: [...t.querySelectorAll('.id, .st, .ld, .tm')].map(box),
          marks: [...t.querySelectorAll('.end, .req, .wrap')].map(box)};
})"""


def _overlap(a: dict[str, Any], b: dict[str, Any]) -> bool:
    eps = 0.5
    return (
        a["left"] < b["right"] - eps
        and b["left"] < a["right"] - eps
        and a["top"] < b["bottom"] - eps
        and b["top"] < a["bottom"] - eps
    )


def _inside(a: dict[str, Any], outer: dict[str, Any]) -> bool:
    eps = 0.5
    return (
        a["left"] >= outer["left"] - eps
        and a["right"] <= outer["right"] + eps
        and a["top"] >= outer["top"] - eps
        and a["bottom"] <= outer["bottom"] + eps
    )


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("width", WIDTHS)
def test_marks_never_cover_a_tiles_figures(
    board: Tabs, floor: Floor, width: int, lang: str
) -> None:
    page = board.open(width, lang=lang)
    open_live(page, floor, lang)
    expect(tile(page, BOTH).locator(".req")).to_have_text(say(lang, "markReq"))
    expect(tile(page, BOTH).locator(".end")).to_have_text(say(lang, "markEnd"))
    for a in REQUEST_ONLY:
        expect(tile(page, a).locator(".req")).to_have_text(say(lang, "markReq"))
    for a in WRAPPING:
        expect(tile(page, a).locator(".wrap")).to_have_text(say(lang, "markWrap"))
    expect(tile(page, BOTH).locator(".marks > *")).to_have_count(3)
    marked = page.evaluate(
        "() => [...document.querySelectorAll('.tile')]"
        ".filter((t) => t.querySelector('.end, .req, .wrap')).map((t) => t.dataset.agent)"
    )
    assert BOTH in marked and len(marked) > 20, marked  # every ninth agent ends at 14:00
    if SHOTS:
        tile(page, BOTH).scroll_into_view_if_needed()
        box = tile(page, BOTH).bounding_box()
        assert box is not None
        page.screenshot(
            path=str(Path(SHOTS) / f"tiles-{lang}-{width}.png"),
            clip={"x": 0, "y": max(0, box["y"] - 60), "width": width, "height": 160},
        )
    problems = []
    for t in page.evaluate(_TILE_BOXES, marked):
        for m in t["marks"]:
            for x in t["texts"]:
                if _overlap(m, x):
                    problems.append(f"{t['id']}: {m['text']} covers {x['name']} {x['text']!r}")
        for b in t["marks"] + t["texts"]:
            if not _inside(b, t["inner"]):
                problems.append(f"{t['id']}: {b['name']} {b['text']!r} is cut off by the tile")
    assert problems == [], f"at {width} px:\n" + "\n".join(problems[:20])


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("width", WIDTHS)
def test_the_charts_axis_labels_are_whole_on_every_redraw(
    board: Tabs, floor: Floor, width: int, lang: str
) -> None:
    page = board.open(width, lang=lang)
    page.add_init_script(RECORD_CHART)
    open_live(page, floor, lang)
    page.wait_for_function("() => window.__chartFrames.length >= 1")
    # The first drawing was right; the bug came with the next ones. Make the board redraw.
    for _ in range(2):
        seen = page.evaluate("() => window.__chartFrames.length")
        ok(floor.admin.post("/v1/agents/a020/away", json={"reason": "break"}))
        ok(floor.admin.post("/v1/agents/a020/available"))
        page.wait_for_function("(n) => window.__chartFrames.length > n", arg=seen)
    frames = page.evaluate("() => window.__chartFrames")
    assert len(frames) >= 3, frames
    last = frames[-1]
    texts = [lb["text"] for lb in last["labels"]]
    assert "0" in texts and say(lang, "chartEnd") in texts, texts
    assert say(lang, "chartStart") in texts, texts
    cut = []
    for i, f in enumerate(frames):
        labels = f["labels"]
        for lb in labels:
            if (
                lb["left"] < 0
                or lb["right"] > f["width"]
                or lb["top"] < 0
                or lb["bottom"] > f["height"]
            ):
                cut.append(
                    f"drawing {i + 1}: {lb['text']!r} at x {lb['left']:.1f}..{lb['right']:.1f} "
                    f"of {f['width']}, y {lb['top']:.1f}..{lb['bottom']:.1f} of {f['height']}"
                )
        for j, a in enumerate(labels):
            for b in labels[j + 1 :]:
                if _overlap(a, b):
                    cut.append(f"drawing {i + 1}: {a['text']!r} overlaps {b['text']!r}")
    assert cut == [], f"at {width} px the chart's labels are not whole:\n" + "\n".join(cut)
