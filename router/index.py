"""Agents with room, ordered for routing, per skill: O(log n) per decision.

One heap per skill plus one for orders with no skill. An entry is
(handing_over, load/capacity, last_assigned_at, agent_id, version): the smallest
valid entry is the agent the routing rules pick. Entries are never updated in
place: a change bumps the agent's version and pushes fresh entries, and stale ones
are dropped when they reach the top (lazy invalidation). Heaps are rebuilt when
garbage outgrows the live entries.
"""

from __future__ import annotations

import heapq

from presence.agent import Agent

Entry = tuple[bool, float, int, str, int]
ANY = "\x00any"  # the heap of every agent with room, for orders without a skill


class AgentIndex:
    __slots__ = ("_heaps", "_agents", "_suspended")

    def __init__(self, agents: dict[str, Agent]) -> None:
        self._heaps: dict[str, list[Entry]] = {}
        self._agents = agents
        self._suspended = False

    def suspend(self) -> None:
        """Stop indexing (replay makes no decisions); `rebuild` brings it back at once."""
        self._suspended = True

    def rebuild(self) -> None:
        """Index every agent afresh; the choices depend only on agents, not on history."""
        self._suspended = False
        self._heaps.clear()
        for agent in self._agents.values():
            self.refresh(agent)

    def refresh(self, agent: Agent) -> None:
        """Call after any change to the agent: invalidates old entries, adds new ones."""
        agent.version += 1
        if self._suspended or not agent.has_room():
            return
        entry = (
            agent.handing_over,
            agent.load / agent.capacity,
            agent.last_assigned_at,
            agent.id,
            agent.version,
        )
        for key in (ANY, *agent.skills):
            heap = self._heaps.get(key)
            if heap is None:
                heap = self._heaps[key] = []
            heapq.heappush(heap, entry)
            if len(heap) > 64 and len(heap) > 4 * len(self._agents):
                self._compact(heap)

    def best(self, skill: str | None, avoid: str | None = None) -> Agent | None:
        """The agent the routing rules pick for an order of this skill, or None.

        `avoid`: an agent the order was just taken from; it is picked only when no
        other agent has room (the next best is found under the top: O(log n)).
        """
        heap = self._heaps.get(ANY if skill is None else skill)
        if not heap:
            return None
        agents = self._agents
        while heap:
            top = heap[0]
            agent = agents.get(top[3])
            if agent is not None and agent.version == top[4]:
                return agent if avoid is None or agent.id != avoid else self._next(heap, agent)
            heapq.heappop(heap)
        return None

    def _next(self, heap: list[Entry], first: Agent) -> Agent:
        """The best valid entry under the (valid) top, else the top's agent itself."""
        entry = heapq.heappop(heap)
        try:
            while heap:
                top = heap[0]
                agent = self._agents.get(top[3])
                if agent is not None and agent.version == top[4]:
                    return agent
                heapq.heappop(heap)
            return first
        finally:
            heapq.heappush(heap, entry)

    def _compact(self, heap: list[Entry]) -> None:
        agents = self._agents
        live = [e for e in heap if (a := agents.get(e[3])) is not None and a.version == e[4]]
        heapq.heapify(live)
        heap[:] = live
