"""Returning customers: per customer, the agent of its last order, for sticky routing.

An entry holds the agent itself (the decision takes it as it is, no lookup by id), when
it was last touched (the order's assignment or completion) and when that stops counting
(touched + the window). Entries are kept in the order they were touched, which is time
order (the engine's time never goes back), so those past the window (setting
`sticky_window_s`) are dropped from the front: O(1) amortized per touch. The map holds
the customers seen inside the window, never the history; with the window off it is
empty. A lookup compares one stored time with `now`: no arithmetic on the routing path
(a new window re-derives the stored ends, O(map)).

Agents are never removed from a state and keep their identity (an upsert changes the
object in place), so a stored agent is the state's agent; a checkpoint stores ids and
`load` finds the agents again. Outside, entries read as (customer id, agent id, at).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping

from msgspec import Struct

from presence.agent import Agent


class _Seen(Struct, gc=False):
    """One customer's last contact. Untracked by the cyclic GC (nothing refers back to
    it, so it is in no cycle): measured at 4,000 agents, 20,000 of these as tuples holding
    the agent kept 20,000 more objects tracked and made a full collection 1.5x longer."""

    agent: Agent
    at: int
    ends: int


class Customers:
    __slots__ = ("_last", "_window_ms")

    def __init__(self) -> None:
        self._last: OrderedDict[str, _Seen] = OrderedDict()
        self._window_ms = 0

    def seen(self, customer_id: str, agent: Agent, at: int, window_ms: int) -> None:
        """The customer's order is with `agent` as of `at` (assigned or completed)."""
        self.expire(at, window_ms)
        if window_ms > 0:
            last = self._last
            last[customer_id] = _Seen(agent, at, at + window_ms)
            last.move_to_end(customer_id)

    def expire(self, now: int, window_ms: int) -> None:
        """Forget the customers last seen `window_ms` or longer before `now`."""
        last = self._last
        if window_ms != self._window_ms:
            self._window_ms = window_ms
            for customer_id, e in last.items():
                last[customer_id] = _Seen(e.agent, e.at, e.at + window_ms)
        if window_ms <= 0:
            last.clear()
            return
        while last:
            if next(iter(last.values())).ends > now:
                return
            last.popitem(last=False)

    def last(self, customer_id: str, now: int) -> Agent | None:
        """The customer's last agent, if that was inside the window (the routing path)."""
        got = self._last.get(customer_id)
        return got.agent if got is not None and got.ends > now else None

    def agent_of(self, customer_id: str, now: int) -> str | None:
        """The id of the customer's last agent, if that was inside the window."""
        agent = self.last(customer_id, now)
        return None if agent is None else agent.id

    def __len__(self) -> int:
        return len(self._last)

    def load(
        self, items: Iterable[tuple[str, str, int]], window_ms: int, agents: Mapping[str, Agent]
    ) -> None:
        """Start from (customer id, agent id, at), oldest first, as `items` gave them,
        under the window in force; each agent id must be one of `agents`."""
        last: OrderedDict[str, _Seen] = OrderedDict()
        for customer_id, agent_id, at in items:
            agent = agents.get(agent_id)
            if agent is None:
                raise ValueError(f"customer {customer_id!r}: last agent {agent_id!r} is unknown")
            last[customer_id] = _Seen(agent, at, at + window_ms)
        self._window_ms = window_ms
        self._last = last

    def items(self) -> Iterator[tuple[str, str, int]]:
        """(customer id, agent id, at), oldest first (for the state fingerprint)."""
        for customer_id, e in self._last.items():
            yield customer_id, e.agent.id, e.at
