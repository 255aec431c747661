"""What seatflow says to people, per language: one catalogue per language, every string in it.

    en.json, zh-CN.json   {"payroll": {"csv": ..., "sheet": ...}, "board": ...}

The center works in Chinese, its integrations in English: the payroll spreadsheet's
sheet names and headers and the CSV's header come in either language (`?lang=`,
default the center setting `language`), and the live board's page reads its strings
from here too (section "board", served as /i18n/{lang}.json). English CSV column names are the
machine names integrations read; they never change. A string with `{name}` fields is
a template, filled in by name, so a translation may put them in any order.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from engine.errors import Invalid

LANGUAGES = ("en", "zh-CN")
_HERE = Path(__file__).resolve().parent


def check_language(lang: str, field: str = "lang") -> str:
    """The language, or a 422 naming the field and the choices."""
    if lang not in LANGUAGES:
        raise Invalid(field, f"{field} {lang[:20]!r} is not one of {', '.join(LANGUAGES)}")
    return lang


@cache
def catalogue(lang: str) -> dict[str, Any]:
    """The whole catalogue of a language (checked: call check_language first for input)."""
    data: dict[str, Any] = json.loads((_HERE / f"{check_language(lang)}.json").read_text("utf-8"))
    return data


def leaves(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Every entry of a catalogue (or a part of one) by its dotted key: "board.connLive"."""
    out: dict[str, Any] = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            out.update(leaves(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def strings(lang: str, section: str, part: str) -> dict[str, str]:
    """One part of a section, e.g. strings("zh-CN", "payroll", "sheet")."""
    found: dict[str, str] = catalogue(lang)[section][part]
    return found
