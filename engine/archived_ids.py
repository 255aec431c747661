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
archive for every id costs, no more. Up to EXACT_UP_TO ids it is their exact set instead
(no false positives, a few MB at most), so a new center, and each test, holds no 32 MB
for a handful of ids. The state adds ids as `OrdersArchived` applies, so replay rebuilds
it, and the checkpoint carries its dump (engine.checkpoint).
"""

from __future__ import annotations

import hashlib
import math
from hashlib import blake2b

import msgspec

BITS = 1 << 28  # m; a power of two, so a probe is a mask
PROBES = 3  # k
SIZE = BITS // 8
# Until this many ids the filter is the exact set of them (a few MB at most): a new or
# small center, and every test, holds no 32 MB; the bits are built from it at the next.
EXACT_UP_TO = 1 << 16
_MASK = BITS - 1
_LOW = (1 << 64) - 1
_encode_ids = msgspec.msgpack.Encoder().encode
_decode_ids = msgspec.msgpack.Decoder(list[str]).decode


def _probes(order_id: str) -> tuple[int, int, int]:
    """Three bit positions by double hashing one 128-bit digest (Kirsch-Mitzenmacher)."""
    h = int.from_bytes(
        blake2b(order_id.encode("utf-8", "surrogatepass"), digest_size=16).digest(), "little"
    )
    a, b = h & _LOW, (h >> 64) | 1
    return a & _MASK, (a + b) & _MASK, (a + 2 * b) & _MASK


class ArchivedIds:
    """The exact set of ids while small, then the filter's bits."""

    __slots__ = ("ids", "bits", "_digest")

    def __init__(self) -> None:
        self.ids: set[str] | None = set()  # None once the bits hold them
        self.bits = bytearray()
        self._digest: str | None = None

    def add(self, order_id: str) -> None:
        self._digest = None
        ids = self.ids
        if ids is not None:
            ids.add(order_id)
            if len(ids) <= EXACT_UP_TO:
                return
            self.ids, self.bits = None, bytearray(SIZE)
            for i in ids:
                self._set(i)
            return
        self._set(order_id)

    def _set(self, order_id: str) -> None:
        bits = self.bits
        for p in _probes(order_id):
            bits[p >> 3] |= 1 << (p & 7)

    def may_hold(self, order_id: str) -> bool:
        """False: the id was certainly never added. True: it may have been."""
        if self.ids is not None:
            return order_id in self.ids
        bits = self.bits
        for p in _probes(order_id):
            if not bits[p >> 3] & (1 << (p & 7)):
                return False
        return True

    def digest(self) -> str:
        """SHA-256 of `dump()`, for the fingerprint; kept until the next add."""
        if self._digest is None:
            empty = self.ids is not None and not self.ids
            self._digest = "" if empty else hashlib.sha256(self.dump()).hexdigest()
        return self._digest

    def dump(self) -> bytes:
        """The sorted ids as MessagePack while exact, else the SIZE bytes of bits."""
        if self.ids is not None:
            return _encode_ids(sorted(self.ids))
        return bytes(self.bits)

    def load(self, data: bytes) -> None:
        """What `dump` wrote; ValueError for anything else (another build's filter)."""
        if len(data) == SIZE:
            self.ids, self.bits = None, bytearray(data)
        else:
            try:
                ids = _decode_ids(data) if data else []
            except msgspec.DecodeError as exc:
                raise ValueError(f"not an archived-ids filter: {exc}") from None
            if len(ids) > EXACT_UP_TO:
                raise ValueError(f"{len(ids)} exact ids, more than {EXACT_UP_TO}")
            self.ids, self.bits = set(ids), bytearray()
        self._digest = None


def false_positive_rate(added: int) -> float:
    """The expected share of never-archived ids the filter still sends to the archive."""
    if added <= EXACT_UP_TO:
        return 0.0
    return (1.0 - math.exp(-PROBES * added / BITS)) ** PROBES
