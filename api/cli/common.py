"""What the subcommands share: how they fail, and how they recover an engine."""

from __future__ import annotations

import logging
import sys
import time

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


def recover(engine: Engine) -> None:
    started = time.perf_counter()
    n = engine.recover()
    took = time.perf_counter() - started
    log.info("recovered %d journal records in %.3f s", n, took)
