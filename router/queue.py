"""Waiting orders, one heap per skill (None: orders that need no skill).

Served highest priority first, then oldest (arrival sequence) first. An order
re-routed from an agent going offline keeps its priority and sequence, so it goes
back to where it would have stood.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator

from router.order import Order

Entry = tuple[int, int, str]  # (-priority, seq, order_id)


class OrderQueues:
    __slots__ = ("_heaps", "_size")

    def __init__(self) -> None:
        self._heaps: dict[str | None, list[Entry]] = {}
        self._size = 0

    def push(self, order: Order) -> None:
        heapq.heappush(
            self._heaps.setdefault(order.skill, []), (-order.priority, order.seq, order.id)
        )
        self._size += 1

    def remove(self, order: Order) -> None:
        """Take a queued order out (it is being assigned)."""
        heap = self._heaps[order.skill]
        entry = (-order.priority, order.seq, order.id)
        if heap[0] == entry:
            heapq.heappop(heap)
        else:  # not the head: rare (only replay order differences); O(n) but exact
            heap.remove(entry)
            heapq.heapify(heap)
        self._size -= 1

    def best_for(self, skills: Iterable[str]) -> str | None:
        """The order an agent with these skills should take next, if any waits."""
        best: Entry | None = None
        for key in (None, *skills):
            heap = self._heaps.get(key)
            if heap and (best is None or heap[0] < best):
                best = heap[0]
        return None if best is None else best[2]

    def __len__(self) -> int:
        return self._size

    def depths(self) -> Iterator[tuple[str | None, int, int | None]]:
        """(skill, depth, oldest sequence) per non-empty queue."""
        for skill, heap in self._heaps.items():
            if heap:
                yield skill, len(heap), min(e[1] for e in heap)

    def ordered(self, skill: str | None) -> list[str]:
        """Order ids of one queue in service order (for views and state comparison)."""
        return [e[2] for e in sorted(self._heaps.get(skill, ()))]

    def skills(self) -> list[str | None]:
        return [s for s, h in self._heaps.items() if h]
