"""A plain-text table for the terminal, columns laid out by display width.

rich took ~2.2 s to lay out a 1,200-agent payroll table, more than the whole command's
1 s budget (bench/RESULTS.md); this takes milliseconds. Pure: a title, columns and rows
in, text out. Widths are terminal columns, not characters: a wide or fullwidth (CJK)
character takes 2, a combining mark 0, so Chinese headings and names line up with the
English ones. Every cell goes through `shown`: a control character in a name (an escape
sequence that would clear the screen) prints escaped, never reaches the terminal. Lines
are never wrapped or cut: a table piped to a file or to `less -S` stays whole.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from api.cli.common import shown

RULE = "─"  # under the headings and above the totals, one run per column
GAP = "  "  # between columns
_WIDE = frozenset(("W", "F"))
_ZERO = frozenset(("Mn", "Me"))  # marks drawn on the character before them


@dataclass(frozen=True)
class Column:
    heading: str
    right: bool = False  # numbers right-aligned, text left


def width(text: str) -> int:
    """Terminal columns `text` takes (text as `shown` leaves it: no control characters)."""
    if text.isascii():
        return len(text)
    return sum(_char_width(c) for c in text)


def _char_width(c: str) -> int:
    if unicodedata.category(c) in _ZERO:
        return 0
    return 2 if unicodedata.east_asian_width(c) in _WIDE else 1


def render(
    title: str,
    columns: Sequence[Column],
    rows: Iterable[Sequence[str]],
    totals: Sequence[str] | None = None,
) -> str:
    """The title, the headings over a rule, the rows, and the totals row under a rule."""
    heads = [shown(c.heading) for c in columns]
    body = [_cells(row, len(columns)) for row in rows]
    foot = None if totals is None else _cells(totals, len(columns))
    measured = [heads, *body, *([] if foot is None else [foot])]
    widths = [max(width(row[i]) for row in measured) for i in range(len(columns))]
    rule = GAP.join(RULE * w for w in widths)
    right = [c.right for c in columns]
    lines = [shown(title), _line(heads, widths, right), rule]
    lines += [_line(row, widths, right) for row in body]
    if foot is not None:
        lines += [rule, _line(foot, widths, right)]
    return "\n".join(lines) + "\n"


def _cells(row: Sequence[str], n: int) -> list[str]:
    if len(row) != n:
        raise ValueError(f"a row of {len(row)} cells in a table of {n} columns: {row!r}")
    return [shown(cell) for cell in row]


def _line(cells: list[str], widths: list[int], right: list[bool]) -> str:
    out = []
    last = len(cells) - 1
    for i, cell in enumerate(cells):
        pad = " " * (widths[i] - width(cell))
        if right[i]:
            out.append(pad + cell)
        else:
            out.append(cell if i == last else cell + pad)  # no trailing blanks
    return GAP.join(out)
