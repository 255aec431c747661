"""Lifecycle deadlines: when an order's first response is due, when a wrap-up ends.

A heap of (due, kind, key) plus, per (kind, key), its one live due time. Setting a
deadline again pushes a new entry and leaves the old one stale; cancelling only
forgets the live time. Stale entries are dropped when they reach the top, or all at
once when they outgrow the live ones, so the heap follows the open assignments and
the agents in wrap-up, never the history. O(log n) per change, O(1) to ask whether
anything is due (the engine asks before every command).

A cache: the state fingerprint leaves it out, because it follows from the orders,
agents and settings; the fold keeps it (replay included), and `rebuild_responses`
re-derives the response deadlines when the timeout setting changes.
"""

from __future__ import annotations

import heapq

RESPOND = 0  # key: an order id; due when its first response is overdue
WRAP = 1  # key: an agent id; due when its earliest wrap-up slot ends

Entry = tuple[int, int, str]  # (due, kind, key): ties fire by kind, then key


class Deadlines:
    __slots__ = ("_heap", "_live")

    def __init__(self) -> None:
        self._heap: list[Entry] = []
        self._live: dict[tuple[int, str], int] = {}

    def set(self, kind: int, key: str, due: int) -> None:
        k = (kind, key)
        if self._live.get(k) == due:
            return
        self._live[k] = due
        heap = self._heap
        heapq.heappush(heap, (due, kind, key))
        if len(heap) > 64 and len(heap) > 2 * len(self._live):
            self._compact()

    def cancel(self, kind: int, key: str) -> None:
        self._live.pop((kind, key), None)

    def get(self, kind: int, key: str) -> int | None:
        return self._live.get((kind, key))

    def next_due(self) -> int | None:
        """The earliest live due time, if any."""
        heap, live = self._heap, self._live
        while heap:
            due, kind, key = heap[0]
            if live.get((kind, key)) == due:
                return due
            heapq.heappop(heap)
        return None

    def due(self, now: int) -> bool:
        heap = self._heap
        if not heap or heap[0][0] > now:  # the common case: nothing due, one comparison
            return False
        top = self.next_due()
        return top is not None and top <= now

    def pop(self, now: int) -> tuple[int, str] | None:
        """The earliest live deadline due by `now`, taken out; None when none is due."""
        if not self.due(now):
            return None
        _, kind, key = heapq.heappop(self._heap)
        del self._live[(kind, key)]
        return kind, key

    def clear(self, kind: int) -> None:
        """Forget every deadline of one kind (their entries go stale)."""
        for k in [k for k in self._live if k[0] == kind]:
            del self._live[k]

    def __len__(self) -> int:
        """Live deadlines."""
        return len(self._live)

    def entries(self) -> int:
        """Heap entries, stale ones included (bounded by a multiple of the live ones)."""
        return len(self._heap)

    def _compact(self) -> None:
        live = self._live
        heap = [e for e in self._heap if live.get((e[1], e[2])) == e[0]]
        heapq.heapify(heap)
        self._heap = heap
