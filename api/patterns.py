"""The server's text rules as JSON Schema, for the OpenAPI document: ids, months, weeks, times.

Each schema is built from the rule's own constants and regex texts (api.body,
engine.calendar, presence.timeutil), so the document cannot drift from what the
server checks. The server still checks with its own code, whose 422 messages name
the culprit; these only tell a client (or a generated one) the same limits.

JSON Schema patterns are unanchored ECMA-262 regexes: each is wrapped in `^(?:...)$`,
where `$` (no multiline flag) is the end of the text, as Python's fullmatch.
"""

from __future__ import annotations

from typing import Any

from api.body import AGENT_ID_CHARS, MAX_ID, NEW_ORDER_ID_CHARS
from engine.calendar import YEAR_END, YEAR_MIN

Schema = dict[str, Any]


def anchored(regex: str) -> str:
    return f"^(?:{regex})$"


def digits_between(lo: int, hi: int, width: int) -> str:
    """A regex for the `width`-digit numbers lo..hi (leading zeros written), e.g. the years:
    1970..2199 -> `19[7-9][0-9]|2[0-1][0-9]{2}`. The range is cut into runs that share a
    prefix, vary in one digit and end in free digits."""
    runs = []
    while lo <= hi:
        free = 0  # trailing digits that run over 0..9 in this run
        while free < width - 1 and lo % 10 ** (free + 1) == 0 and lo + 10 ** (free + 1) - 1 <= hi:
            free += 1
        step = 10**free
        top = lo + step - 1
        while (top + 1) % (10 * step) and top + step <= hi:
            top += step
        text = f"{lo:0{width}d}"
        fixed = text[: width - free - 1]
        first, last = text[width - free - 1], f"{top:0{width}d}"[width - free - 1]
        digit = first if first == last else f"[{first}-{last}]"
        tail = "" if not free else "[0-9]" if free == 1 else f"[0-9]{{{free}}}"
        runs.append(fixed + digit + tail)
        lo = top + 1
    return "|".join(runs)


# [1970, 2200): the years of times, months and weeks seatflow takes from outside.
YEAR = f"(?:{digits_between(YEAR_MIN, YEAR_END - 1, 4)})"
MONTH_OF_YEAR = "(?:0[1-9]|1[0-2])"
WEEK_OF_YEAR = "(?:0[1-9]|[1-4][0-9]|5[0-3])"  # week 53 only in long ISO years: else a 422
DAY = "(?:0[1-9]|[12][0-9]|3[01])"  # a day past the month's end is a 422
CLOCK = "(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]"
OFFSET = "(?:[Zz]|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])"

AGENT_ID: Schema = {
    "minLength": 1,
    "maxLength": MAX_ID,
    "pattern": anchored(AGENT_ID_CHARS),
    "description": "letters, digits and . _ : @ -, starting with a letter or digit",
}
NEW_ORDER_ID: Schema = {
    "minLength": 1,
    "maxLength": MAX_ID,
    "pattern": anchored(NEW_ORDER_ID_CHARS),
    "description": "ASCII printable text (U+0020..U+007E), unique per order",
}
ORDER_ID: Schema = {
    "minLength": 1,
    "maxLength": MAX_ID,
    "description": "an order's id (ids an older journal holds may be any text); unknown: 404",
}
MONTH: Schema = {
    "pattern": anchored(f"{YEAR}-{MONTH_OF_YEAR}"),
    "description": f"a month, YYYY-MM, in {YEAR_MIN}..{YEAR_END - 1}",
    "examples": ["2026-11"],
}
WEEK: Schema = {
    "pattern": anchored(f"{YEAR}-W{WEEK_OF_YEAR}"),
    "description": f"an ISO week, YYYY-Www, in {YEAR_MIN}..{YEAR_END - 1}",
    "examples": ["2026-W48"],
}
TIME: Schema = {
    "pattern": anchored(rf"{YEAR}-{MONTH_OF_YEAR}-{DAY}[Tt ]{CLOCK}(?:\.[0-9]{{1,9}})?{OFFSET}"),
    "description": f"an RFC 3339 time with its offset, in [{YEAR_MIN}-01-01, {YEAR_END}-01-01) UTC",
    "examples": ["2026-11-23T08:00:00Z"],
}


def one_of(values: tuple[str, ...] | list[str], description: str | None = None) -> Schema:
    schema: Schema = {"enum": list(values)}
    if description is not None:
        schema["description"] = description
    return schema
