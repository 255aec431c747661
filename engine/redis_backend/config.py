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

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ResponseError

from engine.errors import Unavailable

log = logging.getLogger("seatflow.redis")

COMMAND_TIMEOUT_S = 2.0  # a Redis that has not answered in 2 s is treated as unreachable
BLOCK_S = 0.5  # blocking reads (XREAD BLOCK, BLMOVE) wait this long, then loop
MAX_CONNECTIONS = 50  # per client; more concurrent commands queue for one


def connect(url: str) -> tuple[Redis, Redis]:
    """A client for commands, and one for the loops that take from lists and the stream.

    The first retries a command once on a new connection when one breaks. The second never
    retries: a loop must see every break, because Redis may have moved items for a reply
    that the break lost (forward.py reads its holding list again then).
    """
    return (
        _client(url, COMMAND_TIMEOUT_S, retries=1),
        _client(url, BLOCK_S + COMMAND_TIMEOUT_S, retries=0),
    )


def _client(url: str, socket_timeout: float, *, retries: int) -> Redis:
    # A burst of commands waits for a free connection (up to the command timeout) rather
    # than failing: redis-py's default pool refuses the 101st concurrent command.
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=MAX_CONNECTIONS,
        timeout=COMMAND_TIMEOUT_S,
        socket_timeout=socket_timeout,
        socket_connect_timeout=COMMAND_TIMEOUT_S,
        retry=Retry(NoBackoff(), retries),
        health_check_interval=5,
    )
    return Redis.from_pool(pool)  # closed with the client


def raw(data: bytes | str) -> bytes:
    """The clients decode no responses (`connect`): a value is bytes."""
    return data if isinstance(data, bytes) else data.encode()


def unreachable(exc: BaseException) -> Unavailable:
    """What a command that needed Redis answers when it failed: 503, retry."""
    return Unavailable(f"Redis is unreachable: {exc}", code="redis_unavailable")


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
