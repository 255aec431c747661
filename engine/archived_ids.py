"""Which order ids may be archived: a fixed-size Bloom filter, so a new id reads no archive.

Every order intake asks "was this id archived?" of an id it does not hold, because an
archived id stays taken for the life of the center (engine.archive). Asking the archive
itself costs every new order a read that grows with history: an indexed SELECT on SQLite
(6-30 µs), a round trip stage on Redis (bench/RESULTS.md, issue 12). The filter answers
"certainly never archived" for nearly every new id in about a microsecond; only an id it
may hold (a retry of an archived order, or a false positive) reads the archive.

It never answers "no" for an archived id, so it changes no answer, only what is read.
Its size is fixed (BITS), so memory and checkpoints do not grow with history; what grows
is the false-positive rate, (1 - e^(-k·n/m))^k for n archived ids: with m = 2^28 bits
(32 MB) and k = 3, 0.2 % at 11 million ids (a year at 30,000 orders a day), 13 % at 60
million and 40 % at 120 million (a year at 330,000). At 100 % it costs what reading the
archive for every id costs, no more. The state adds ids as `OrdersArchived` applies, so
replay rebuilds it, and the checkpoint carries its bits (engine.checkpoint).
"""

from __future__ import annotations

import hashlib
import math
from hashlib import blake2b

BITS = 1 << 28  # m; a power of two, so a probe is a mask
PROBES = 3  # k
SIZE = BITS // 8
_MASK = BITS - 1
_LOW = (1 << 64) - 1


def _probes(order_id: str) -> tuple[int, int, int]:
    """Three bit positions by double hashing one 128-bit digest (Kirsch-Mitzenmacher)."""
    h = int.from_bytes(
        blake2b(order_id.encode("utf-8", "surrogatepass"), digest_size=16).digest(), "little"
    )
    a, b = h & _LOW, (h >> 64) | 1
    return a & _MASK, (a + b) & _MASK, (a + 2 * b) & _MASK


class ArchivedIds:
    """The filter's bits; empty (no memory) until the first id is added."""

    __slots__ = ("bits", "_digest")

    def __init__(self) -> None:
        self.bits = bytearray()
        self._digest: str | None = ""

    def add(self, order_id: str) -> None:
        self._digest = None
        bits = self.bits
        if not bits:
            bits.extend(bytes(SIZE))
        for p in _probes(order_id):
            bits[p >> 3] |= 1 << (p & 7)

    def may_hold(self, order_id: str) -> bool:
        """False: the id was certainly never added. True: it may have been."""
        bits = self.bits
        if not bits:
            return False
        for p in _probes(order_id):
            if not bits[p >> 3] & (1 << (p & 7)):
                return False
        return True

    def digest(self) -> str:
        """SHA-256 of the bits ("" while empty), for the fingerprint; kept until an add."""
        if self._digest is None:
            self._digest = hashlib.sha256(self.bits).hexdigest()
        return self._digest

    def dump(self) -> bytes:
        return bytes(self.bits)

    def load(self, data: bytes) -> None:
        """Bits from `dump`; ValueError for any other size (another build's filter)."""
        if len(data) not in (0, SIZE):
            raise ValueError(f"an archived-ids filter of {len(data)} bytes, not {SIZE}")
        self.bits = bytearray(data)
        self._digest = None if data else ""


def false_positive_rate(added: int) -> float:
    """The expected share of never-archived ids the filter still sends to the archive."""
    return (1.0 - math.exp(-PROBES * added / BITS)) ** PROBES
