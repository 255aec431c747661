"""The board's clock is the server's (issue 15): it never runs ahead of a manual clock.

With `--clock manual` (training, the README's walk-through, tests) the server's time
moves only when someone sets it; the board used to tick on with the browser's clock,
so it showed a time the server had not reached, and times in state grew with it.
Now the board shows the time of the server's last message, and follows when it moves.
With a real clock it moves on by itself between messages. The manual clock is checked in
English and in Chinese (its tag, its times in state: 15m or 15分).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from .boardkit import LANGS, Tabs, open_board, say, short_dur, tabs, tile
from .support import Server, at, future_day, make_key, ok, set_clock

pytestmark = pytest.mark.e2e

SHOWS_WITHIN_MS = 1000


@pytest.fixture
def board(browser: Browser, server: Server) -> Iterator[Tabs]:
    with tabs(browser, server.base_url) as t:
        yield t


def clock_text(page: Page) -> str:
    return page.locator("#clock").inner_text()


@pytest.mark.parametrize("lang", LANGS)
def test_with_a_manual_server_clock_the_board_shows_its_time_and_does_not_tick(
    board: Tabs, server: Server, lang: str
) -> None:
    admin = server.client(server.admin_key)
    day = future_day()
    set_clock(admin, at(day, "09:00:00"))
    r = admin.put("/v1/agents/c1", json={"name": "Chen Jing", "team": "north", "capacity": 2})
    assert r.status_code == 201, r.text
    ok(admin.post("/v1/agents/c1/login"))
    set_clock(admin, at(day, "09:15:30"))

    page = board.open(1440, lang=lang)
    open_board(page, server.base_url, make_key(admin, "supervisor"), lang)

    def utc(time: str) -> str:
        return say(lang, "clock", time=time)

    expect(page.locator("#clock")).to_have_text(utc("09:15:30"))
    expect(tile(page, "c1").locator(".tm")).to_have_text(short_dur(15 * 60, lang))
    # The browser's clock goes on; the server's does not, and neither does the board's.
    page.wait_for_timeout(2500)
    assert clock_text(page) == utc("09:15:30")
    assert tile(page, "c1").locator(".tm").inner_text() == short_dur(15 * 60, lang)
    # and it says why
    expect(page.locator("#clock-mode")).to_have_text(say(lang, "clockManual"))

    # The server's clock moves: the board follows, times in state too.
    ok(admin.post("/v1/admin/clock", json={"advance_s": 75}))
    expect(page.locator("#clock")).to_have_text(utc("09:16:45"), timeout=SHOWS_WITHIN_MS)
    expect(tile(page, "c1").locator(".tm")).to_have_text(short_dur(16 * 60, lang))
    set_clock(admin, at(day, "10:30:05"))
    expect(page.locator("#clock")).to_have_text(utc("10:30:05"), timeout=SHOWS_WITHIN_MS)
    expect(tile(page, "c1").locator(".tm")).to_have_text(short_dur(90 * 60, lang))
    page.wait_for_timeout(2200)
    assert clock_text(page) == utc("10:30:05")
    title = say(lang, "clockTitleManual", datetime=f"{day.isoformat()} 10:30:05")
    expect(page.locator("#clock")).to_have_attribute("title", title)


def test_with_a_real_server_clock_the_board_moves_on_by_itself(
    browser: Browser, tmp_path: Path
) -> None:
    srv = Server(tmp_path, clock="real")
    try:
        srv.start()
        admin = srv.client(srv.admin_key)
        with tabs(browser, srv.base_url) as board:
            page = board.open(1440)
            open_board(page, srv.base_url, make_key(admin, "supervisor"))
            expect(page.locator("#conn")).to_have_text("Live")
            expect(page.locator("#clock")).to_have_text(re.compile(r"^\d\d:\d\d:\d\d UTC$"))
            expect(page.locator("#clock-mode")).to_be_hidden()
            first = clock_text(page)
            shown = datetime.strptime(first[:8], "%H:%M:%S").time()
            wall = datetime.now(UTC)
            near = [(wall + timedelta(seconds=d)).time().replace(microsecond=0) for d in (-3, 3)]
            assert near[0] <= shown <= near[1] or near[0] > near[1], (first, wall)
            # The page moves the time on between messages (they may be 5 s apart).
            time.sleep(2.2)
            expect(page.locator("#clock")).not_to_have_text(first)
    finally:
        srv.close()
