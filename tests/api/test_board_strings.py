"""The board's page and script write no text of their own: every string is in the catalogue.

board.html names each text by its key in the catalogues' "board" section (data-i18n for
an element's text; data-i18n-aria-label, -title, -placeholder for an attribute's) and
board.js reads that section as `S`. So the catalogue of each language holds every string
the board shows (tests/engine/test_i18n.py checks the languages agree), and nothing in it
goes unused. The page loads it and fills itself in (tests/e2e/test_board_i18n.py).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from engine.i18n import LANGUAGES, catalogue

STATIC = Path(__file__).resolve().parents[2] / "api" / "static"
SHOWN = ("aria-label", "title", "placeholder", "alt", "value", "label")
LETTER = re.compile(r"[^\W\d_]")


class _Page(HTMLParser):
    """board.html's catalogue keys, and whatever text it writes itself."""

    def __init__(self) -> None:
        super().__init__()
        self.keys: list[str] = []
        self.written: list[str] = []
        self.html_lang: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name == "data-i18n" or name.startswith("data-i18n-"):
                self.keys.append(value or "")
            elif name in SHOWN and value and LETTER.search(value) and tag != "option":
                self.written.append(f"<{tag} {name}={value!r}>")
        if tag == "html":
            self.html_lang = dict(attrs).get("lang")

    def handle_data(self, data: str) -> None:
        if LETTER.search(data):
            self.written.append(data.strip())


def _page() -> _Page:
    page = _Page()
    page.feed((STATIC / "board.html").read_text("utf-8"))
    return page


def _string(tree: dict[str, Any], path: str) -> Any:
    found: Any = tree
    for part in path.split("."):
        found = found.get(part) if isinstance(found, dict) else None
    return found


def test_the_page_writes_no_text_of_its_own() -> None:
    page = _page()
    assert page.written == [], "board.html texts not from the catalogue"
    assert page.html_lang is None, "the page's language is the catalogue's, set when it loads"


def test_every_key_the_page_and_script_name_is_a_string_of_the_catalogue() -> None:
    board = catalogue("en")["board"]
    missing = [k for k in _page().keys if not isinstance(_string(board, k), str)]
    assert missing == [], missing
    script = (STATIC / "board.js").read_text("utf-8")
    used = set(re.findall(r"\bS\.(\w+)", script))
    assert used, "board.js reads its strings as S.name"
    assert sorted(used - set(board)) == []


def test_every_string_of_the_catalogue_is_used() -> None:
    board = catalogue("en")["board"]
    script = (STATIC / "board.js").read_text("utf-8")
    used = {k.split(".")[0] for k in _page().keys}
    used |= set(re.findall(r"\bS\.(\w+)", script))
    used |= {k for k in board if f'"{k}"' in script}  # looked up by name: S[CONN[state]]
    assert sorted(set(board) - used) == []


def test_templates_have_only_the_named_fields_the_page_fills() -> None:
    """The page fills `{name}` and nothing else: no format specs, no stray braces."""
    for lang in LANGUAGES:
        for path, text in _strings(catalogue(lang)["board"]):
            assert re.sub(r"\{\w+\}", "", text).count("{") == 0, (lang, path, text)
            assert re.sub(r"\{\w+\}", "", text).count("}") == 0, (lang, path, text)


def _strings(tree: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for key, value in tree.items():
        if isinstance(value, dict):
            out += _strings(value, f"{prefix}{key}.")
        else:
            out.append((f"{prefix}{key}", value))
    return out
