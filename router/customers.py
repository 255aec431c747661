"""Returning customers: per customer, the agent of its last order, for sticky routing.

An entry is (agent id, when it was last touched: the order's assignment or completion,
when that stops counting: touched + the window). Entries are kept in the order they
were touched, which is time order (the engine's time never goes back), so those past
the window (setting `sticky_window_s`) are dropped from the front: O(1) amortized per
touch. The map holds the customers seen inside the window, never the history; with
the window off it is empty. A lookup compares one stored time with `now`: no
arithmetic on the routing path (a new window re-derives the stored ends, O(map)).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator


class Customers:
    __slots__ = ("_last", "_window_ms")

    def __init__(self) -> None:
        self._last: OrderedDict[str, tuple[str, int, int]] = OrderedDict()
        self._window_ms = 0

    def seen(self, customer_id: str, agent_id: str, at: int, window_ms: int) -> None:
        """The customer's order is with `agent_id` as of `at` (assigned or completed)."""
        self.expire(at, window_ms)
        if window_ms > 0:
            last = self._last
            last[customer_id] = (agent_id, at, at + window_ms)
            last.move_to_end(customer_id)

    def expire(self, now: int, window_ms: int) -> None:
        """Forget the customers last seen `window_ms` or longer before `now`."""
        last = self._last
        if window_ms != self._window_ms:
            self._window_ms = window_ms
            for customer_id, (agent_id, at, _) in last.items():
                last[customer_id] = (agent_id, at, at + window_ms)
        if window_ms <= 0:
            last.clear()
            return
        while last:
            _, (_, _, ends) = next(iter(last.items()))
            if ends > now:
                return
            last.popitem(last=False)

    def agent_of(self, customer_id: str, now: int) -> str | None:
        """The customer's last agent, if that was inside the window."""
        got = self._last.get(customer_id)
        return got[0] if got is not None and got[2] > now else None

    def __len__(self) -> int:
        return len(self._last)

    def load(self, items: Iterable[tuple[str, str, int]], window_ms: int) -> None:
        """Start from (customer id, agent id, at), oldest first, as `items` gave them,
        under the window in force."""
        self._window_ms = window_ms
        self._last = OrderedDict((c, (a, at, at + window_ms)) for c, a, at in items)

    def items(self) -> Iterator[tuple[str, str, int]]:
        """(customer id, agent id, at), oldest first (for the state fingerprint)."""
        for customer_id, (agent_id, at, _) in self._last.items():
            yield customer_id, agent_id, at
