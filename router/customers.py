"""Returning customers: per customer, the agent of its last order, for sticky routing.

An entry is (agent id, when it was last touched: the order's assignment or completion).
Entries are kept in the order they were touched, which is time order (the engine's
time never goes back), so those older than the window (setting `sticky_window_s`)
are dropped from the front: O(1) amortized per touch. The map holds the customers
seen inside the window, never the history; with the window off it is empty.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator


class Customers:
    __slots__ = ("_last",)

    def __init__(self) -> None:
        self._last: OrderedDict[str, tuple[str, int]] = OrderedDict()

    def seen(self, customer_id: str, agent_id: str, at: int, window_ms: int) -> None:
        """The customer's order is with `agent_id` as of `at` (assigned or completed)."""
        last = self._last
        if window_ms > 0:
            last[customer_id] = (agent_id, at)
            last.move_to_end(customer_id)
        self.expire(at, window_ms)

    def expire(self, now: int, window_ms: int) -> None:
        """Forget the customers last seen `window_ms` or longer before `now`."""
        last = self._last
        if window_ms <= 0:
            last.clear()
            return
        cutoff = now - window_ms
        while last:
            customer_id, (_, at) = next(iter(last.items()))
            if at > cutoff:
                return
            last.popitem(last=False)

    def agent_of(self, customer_id: str, now: int, window_ms: int) -> str | None:
        """The customer's last agent, if that was inside the window."""
        got = self._last.get(customer_id)
        if got is None or got[1] <= now - window_ms:
            return None
        return got[0]

    def __len__(self) -> int:
        return len(self._last)

    def load(self, items: Iterable[tuple[str, str, int]]) -> None:
        """Start from (customer id, agent id, at), oldest first, as `items` gave them."""
        self._last = OrderedDict((c, (a, at)) for c, a, at in items)

    def items(self) -> Iterator[tuple[str, str, int]]:
        """(customer id, agent id, at), oldest first (for the state fingerprint)."""
        for customer_id, (agent_id, at) in self._last.items():
            yield customer_id, agent_id, at
