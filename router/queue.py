"""Waiting orders, one heap per skill (None: orders that need no skill).

Served in `queue_key` order: highest priority first, then oldest (arrival sequence)
first. An order re-routed from an agent going offline keeps its priority and
sequence, so it goes back to where it would have stood.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator

from router.order import Order, queue_key

Entry = tuple[int, int, str]  # queue_key(order): (-priority, seq, order id)


class OrderQueues:
    __slots__ = ("_heaps", "size")

    def __init__(self) -> None:
        self._heaps: dict[str | None, list[Entry]] = {}
        # Orders waiting in all queues; read it, never set it (len() costs a call).
        self.size = 0

    def push(self, order: Order) -> None:
        heapq.heappush(self._heaps.setdefault(order.skill, []), queue_key(order))
        self.size += 1

    def remove(self, order: Order) -> None:
        """Take a queued order out (it is being assigned)."""
        heap = self._heaps[order.skill]
        if heap[0][2] == order.id:  # the head, nearly always: ids are unique
            heapq.heappop(heap)
        else:  # not the head: rare (only replay order differences); O(n) but exact
            heap.remove(queue_key(order))
            heapq.heapify(heap)
        self.size -= 1

    def best_for(self, skills: Iterable[str]) -> str | None:
        """The order an agent with these skills should take next, if any waits."""
        best: Entry | None = None
        for key in (None, *skills):
            heap = self._heaps.get(key)
            if heap and (best is None or heap[0] < best):
                best = heap[0]
        return None if best is None else best[2]

    def first_for(self, skills: Iterable[str], limit: int) -> list[str]:
        """Up to `limit` orders an agent with these skills should take next, best first.

        Looks without taking: a merge over the heads of the agent's queues that walks
        each heap's array as a tree (a node's children are 2i+1 and 2i+2), so it costs
        O(limit log limit) whatever the queues hold.
        """
        heaps = [h for key in (None, *skills) if (h := self._heaps.get(key))]
        frontier: list[tuple[Entry, int, int]] = []  # (entry, which heap, index in it)
        for k, heap in enumerate(heaps):
            frontier.append((heap[0], k, 0))
        heapq.heapify(frontier)
        out: list[str] = []
        while frontier and len(out) < limit:
            entry, k, i = heapq.heappop(frontier)
            out.append(entry[2])
            heap = heaps[k]
            for child in (2 * i + 1, 2 * i + 2):
                if child < len(heap):
                    heapq.heappush(frontier, (heap[child], k, child))
        return out

    def __len__(self) -> int:
        return self.size

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
