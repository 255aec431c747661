"""Run an engine coroutine to completion without an event-loop round trip.

On a MemoryJournal, `Engine.execute` never suspends (the append future is already
done), so stepping the coroutine once measures the command itself, not asyncio's
scheduling. It must still run inside a running loop: MemoryJournal.append asks
for it.
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run_now(coro: Coroutine[Any, Any, T]) -> T:
    """Step `coro` once; it must finish without waiting on anything."""
    try:
        coro.send(None)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    coro.close()
    raise RuntimeError("the coroutine suspended; run_now only drives ones that never wait")
