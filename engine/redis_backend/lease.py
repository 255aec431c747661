"""One engine owns a center at a time: a lease key that expires unless renewed.

The lease value is `<fencing token>:<node>`; the token comes from a counter that only
grows, so every lease ever granted has a distinct value. The journal's APPEND script
writes only for the current value: an owner that paused past its lease (GC, a stopped
VM, a partition) and wakes up still believing it owns the center cannot write.
"""

from __future__ import annotations

from redis.asyncio import Redis

from engine.redis_backend.keys import Keys
from engine.redis_backend.scripts import ACQUIRE, RELEASE, RENEW


class Lease:
    def __init__(self, client: Redis, keys: Keys, node: str, ttl_ms: int) -> None:
        self.keys = keys
        self.node = node
        self.ttl_ms = ttl_ms
        self._acquire = client.register_script(ACQUIRE)
        self._renew = client.register_script(RENEW)
        self._release = client.register_script(RELEASE)

    async def acquire(self) -> str | None:
        """The new lease value if the center had no owner, else None."""
        keys = [self.keys.lease, self.keys.fence]
        value = await self._acquire(keys=keys, args=[self.node, self.ttl_ms])
        return value.decode() if isinstance(value, bytes) else value

    async def renew(self, value: str) -> bool:
        return bool(await self._renew(keys=[self.keys.lease], args=[value, self.ttl_ms]))

    async def release(self, value: str) -> bool:
        return bool(await self._release(keys=[self.keys.lease], args=[value]))


def token_of(value: str) -> int:
    return int(value.partition(":")[0])
