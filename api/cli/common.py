"""What the subcommands share: how they fail, and how they recover an engine.

The `seatflow` command imports every subcommand's module to build its parser: each
imports at the top only what that takes, and the engine, the key tooling and the web
stack inside the functions that use them, so a command loads only what it runs
(`seatflow payroll` of a closed month reads one row: bench/RESULTS.md).
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.core import Engine

log = logging.getLogger("seatflow")

EXIT_USAGE = 2


def shown(text: str) -> str:
    """Text from the journal as a terminal may show it: a control character (an escape
    sequence that clears the screen or retitles the window) appears escaped, never runs."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text)


def fail(message: str) -> int:
    print(f"seatflow: {message}", file=sys.stderr)
    return EXIT_USAGE


def recover(engine: Engine, data: Path) -> None:
    """An embedded center's state: its newest checkpoint, then the journal after it."""
    from engine import checkpoint_files

    checkpoint_files.recover(engine, checkpoint_files.CheckpointFiles(data))
