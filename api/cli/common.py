"""What the subcommands share: how they fail, and how they recover an engine."""

from __future__ import annotations

import logging
import sys
import time

from engine.core import Engine

log = logging.getLogger("seatflow")

EXIT_USAGE = 2


def fail(message: str) -> int:
    print(f"seatflow: {message}", file=sys.stderr)
    return EXIT_USAGE


def recover(engine: Engine) -> None:
    started = time.perf_counter()
    n = engine.recover()
    took = time.perf_counter() - started
    log.info("recovered %d journal records in %.3f s", n, took)
