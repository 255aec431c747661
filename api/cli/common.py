"""What the subcommands share: how they fail, how they recover an engine, its manual clock."""

from __future__ import annotations

import logging
import sys
import time

from engine.clock import ManualClock, RealClock
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


def start_manual(engine: Engine) -> None:
    """Empty journal: the virtual clock starts at wall time (whole second); else where it was."""
    clock = engine.clock
    if isinstance(clock, ManualClock) and engine.state.now == 0:
        clock.set(RealClock().now_ms() // 1000 * 1000)
