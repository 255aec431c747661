"""Connecting to Redis, and what its persistence settings make of "durable".

seatflow acknowledges a command once Redis has answered the APPEND that holds its
record. What that answer means depends on the server's settings:

    appendonly yes, appendfsync always    the record is fsynced to the AOF before Redis
                                          answers: nothing acknowledged is lost, even
                                          on power loss. The setting seatflow needs.
    appendonly yes, appendfsync everysec  in the kernel, fsynced within about a second:
                                          a Redis crash loses nothing, a power loss or
                                          kernel crash up to ~1 s of acknowledged orders.
    appendonly no                         only in memory (and the last RDB save): a Redis
                                          restart loses acknowledged orders.

`check_persistence` reads the settings at start-up and warns unless they give the
first guarantee. Managed services that refuse CONFIG GET get a warning saying so.
"""

from __future__ import annotations

import logging
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ResponseError

log = logging.getLogger("seatflow.redis")

COMMAND_TIMEOUT_S = 2.0  # a Redis that has not answered in 2 s is treated as unreachable
BLOCK_S = 1.0  # blocking reads (XREAD BLOCK, BLPOP) wait this long, then loop


def connect(url: str) -> tuple[Redis, Redis]:
    """A client for commands, and one for blocking reads (which hold a connection)."""
    common = {
        "socket_connect_timeout": COMMAND_TIMEOUT_S,
        "retry": Retry(NoBackoff(), 1),
        "health_check_interval": 5,
    }
    client = Redis.from_url(url, socket_timeout=COMMAND_TIMEOUT_S, **common)  # type: ignore[arg-type]
    blocking = Redis.from_url(url, socket_timeout=BLOCK_S + COMMAND_TIMEOUT_S, **common)  # type: ignore[arg-type]
    return client, blocking


def persistence_warning(appendonly: str, appendfsync: str) -> str | None:
    if appendonly != "yes":
        return (
            "Redis runs without AOF (appendonly no): a Redis restart loses acknowledged "
            "orders. Set 'appendonly yes' and 'appendfsync always'."
        )
    if appendfsync != "always":
        return (
            f"Redis fsyncs its AOF '{appendfsync}', not 'always': a power loss can lose up "
            "to about a second of acknowledged orders (a Redis crash loses none)."
        )
    return None


async def check_persistence(client: Redis) -> str | None:
    """The warning the server's settings call for, logged; None when they are safe."""
    warning: str | None
    try:
        raw: Any = await client.config_get("append*")
    except ResponseError as exc:  # CONFIG renamed or refused (managed services)
        warning = (
            f"cannot read Redis's persistence settings ({exc}); "
            "seatflow needs AOF with appendfsync always"
        )
    else:
        got = {_text(k): _text(v) for k, v in raw.items()}
        warning = persistence_warning(got.get("appendonly", ""), got.get("appendfsync", ""))
    if warning:
        log.warning(warning)
    return warning


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
