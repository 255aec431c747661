"""What the subcommands share: how they fail, and how they recover an engine."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from engine import checkpoint_files
from engine.checkpoint_files import CheckpointFiles
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
    checkpoint_files.recover(engine, CheckpointFiles(data))
