"""Who gets the order: seatflow's rule and re-implementations of the anchors' rules.

Each is a `Strategy` over the simulator's agent records (presence.agent.Agent):
- `least-load` (seatflow's ranking, used by the "no guard" floor): lowest
  load/capacity, agents handing over at shift end last, then idle longest, then id;
- Asterisk app_queue `rrmemory` (round robin, remembering where it stopped),
  `leastrecent` (the member least recently hung up), `fewestcalls` (fewest
  completed), `random`;
- FreeSWITCH mod_callcenter `longest-idle-agent` (idle agents first, idle longest);
- Chatwoot's legacy round robin over online agents, with no capacity limit.
Chat concurrency is given to the telephony anchors as each agent's capacity (a
member with a free slot is "not in use"); Chatwoot has none.

Wrap-up (`simulate --lifecycle`): the telephony anchors have an option for it, and the
model sets it to the scenario's wrap-up as seatflow's `wrap_up_s` is set. Theirs is per
member: after a completion the whole member is offered nothing for that long (Asterisk
app_queue `wrapuptime`, against the member's last call; FreeSWITCH mod_callcenter's
agent `wrap-up-time`), where seatflow holds the one slot. Chatwoot has no wrap-up, and
`no-guard` stands for seatflow's ranking before the lifecycle: neither has the option.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable

from presence.agent import AVAILABLE, Agent

ANY = "\x00any"
Shifts = dict[str, tuple[tuple[int, int], ...]]


def winding(shifts: tuple[tuple[int, int], ...], at: int, window: int) -> bool:
    """Handing over: in the last `window` ms of the latest started shift, or past its end."""
    latest = None
    for s in shifts:
        if s[0] <= at:
            latest = s
    return latest is not None and at >= max(latest[0], latest[1] - window)


class Strategy:
    """Selection among agents with room; told of every change to an agent."""

    name = "base"
    capacity_limit = True
    wrap_up_option = False  # the product can hold a member back after a completion

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self.agents: dict[str, Agent] = {}
        self.shifts: Shifts = {}
        self.window = 0
        self.completed_count: dict[str, int] = {}
        self.last_completed: dict[str, int] = {}
        # Members inside their wrap-up time (the floor adds and removes them): no room.
        self.resting: set[str] = set()

    def attach(self, agents: dict[str, Agent], shifts: Shifts, window: int) -> None:
        self.agents, self.shifts, self.window = agents, shifts, window

    def has_room(self, agent: Agent) -> bool:
        if agent.id in self.resting:
            return False
        if self.capacity_limit:
            return agent.state == AVAILABLE and len(agent.open_orders) < agent.capacity
        return agent.state == AVAILABLE

    def eligible(self, agent: Agent, skill: str | None) -> bool:
        return self.has_room(agent) and (skill is None or skill in agent.skills)

    def changed(self, agent: Agent, at: int) -> None:
        """State, load or anything else the rule reads changed."""

    def assigned(self, agent: Agent, at: int) -> None:
        self.changed(agent, at)

    def completed(self, agent: Agent, at: int) -> None:
        self.completed_count[agent.id] = self.completed_count.get(agent.id, 0) + 1
        self.last_completed[agent.id] = at
        self.changed(agent, at)

    def pick(self, skill: str | None, at: int) -> Agent | None:
        raise NotImplementedError


class Ranked(Strategy):
    """The lowest key wins; a lazy heap per skill like router.index (stale entries are
    skipped by version), so each decision is O(log n)."""

    def __init__(self, seed: int = 0) -> None:
        super().__init__(seed)
        self.heaps: dict[str, list[tuple[object, ...]]] = {}
        self.version: dict[str, int] = {}

    def key(self, agent: Agent, at: int) -> tuple[object, ...]:
        raise NotImplementedError

    def changed(self, agent: Agent, at: int) -> None:
        v = self.version[agent.id] = self.version.get(agent.id, 0) + 1
        if not self.has_room(agent):
            return
        entry = (*self.key(agent, at), agent.id, v)
        for k in (ANY, *agent.skills):
            heap = self.heaps.setdefault(k, [])
            heapq.heappush(heap, entry)
            if len(heap) > 64 and len(heap) > 4 * len(self.agents):
                live = [e for e in heap if self.version.get(str(e[-2])) == e[-1]]
                heapq.heapify(live)
                heap[:] = live

    def fresh(self, agent: Agent, entry: tuple[object, ...], at: int) -> bool:
        return True

    def pick(self, skill: str | None, at: int) -> Agent | None:
        heap = self.heaps.get(ANY if skill is None else skill)
        while heap:
            top = heap[0]
            agent = self.agents[str(top[-2])]
            if self.version[agent.id] != top[-1]:
                heapq.heappop(heap)
            elif not self.fresh(agent, top, at):
                self.changed(agent, at)  # re-rank with the time-dependent part now
            else:
                return agent
        return None


class LeastLoad(Ranked):
    name = "least-load"

    def key(self, agent: Agent, at: int) -> tuple[object, ...]:
        w = winding(self.shifts[agent.id], at, self.window)
        return (w, len(agent.open_orders) / agent.capacity, agent.last_assigned_at)

    def fresh(self, agent: Agent, entry: tuple[object, ...], at: int) -> bool:
        return entry[0] == winding(self.shifts[agent.id], at, self.window)


class LeastRecent(Ranked):
    name = "asterisk-leastrecent"
    wrap_up_option = True

    def key(self, agent: Agent, at: int) -> tuple[object, ...]:
        return (self.last_completed.get(agent.id, 0),)


class FewestCalls(Ranked):
    name = "asterisk-fewestcalls"
    wrap_up_option = True

    def key(self, agent: Agent, at: int) -> tuple[object, ...]:
        return (self.completed_count.get(agent.id, 0),)


class LongestIdle(Ranked):
    name = "freeswitch-longest-idle"
    wrap_up_option = True

    def key(self, agent: Agent, at: int) -> tuple[object, ...]:
        idle_since = max(self.last_completed.get(agent.id, 0), agent.state_since)
        return (len(agent.open_orders) > 0, idle_since)


class Rotating(Strategy):
    """Members of each skill in a fixed order; counts of members with room let a
    decision skip the scan when nobody can take the order."""

    def __init__(self, seed: int = 0) -> None:
        super().__init__(seed)
        self.members: dict[str, list[Agent]] = {}
        self.room: dict[str, int] = {}
        self.flag: dict[str, bool] = {}
        self.pos: dict[str, int] = {}
        self.rng = random.Random(f"{seed}:strategy")

    def attach(self, agents: dict[str, Agent], shifts: Shifts, window: int) -> None:
        super().attach(agents, shifts, window)
        for agent in sorted(agents.values(), key=lambda a: a.id):
            for k in (ANY, *agent.skills):
                self.members.setdefault(k, []).append(agent)
                self.room.setdefault(k, 0)
            self.flag[agent.id] = False

    def changed(self, agent: Agent, at: int) -> None:
        now = self.has_room(agent)
        if now != self.flag[agent.id]:
            self.flag[agent.id] = now
            for k in (ANY, *agent.skills):
                self.room[k] += 1 if now else -1

    def _scan(self, k: str, start: int) -> Agent | None:
        members = self.members[k]
        n = len(members)
        for i in range(n):
            j = (start + i) % n
            if self.flag[members[j].id]:
                self.pos[k] = j + 1
                return members[j]
        return None

    def pick(self, skill: str | None, at: int) -> Agent | None:
        k = ANY if skill is None else skill
        if not self.room.get(k):
            return None
        return self._scan(k, self.pos.get(k, 0))


class RoundRobinMemory(Rotating):
    name = "asterisk-rrmemory"
    wrap_up_option = True


class RandomPick(Rotating):
    name = "asterisk-random"
    wrap_up_option = True

    def pick(self, skill: str | None, at: int) -> Agent | None:
        k = ANY if skill is None else skill
        if not self.room.get(k):
            return None
        members = self.members[k]
        for _ in range(16):  # rejection sampling: uniform over the members with room
            agent = members[self.rng.randrange(len(members))]
            if self.flag[agent.id]:
                return agent
        return self._scan(k, self.rng.randrange(len(members)))


class ChatwootRoundRobin(Rotating):
    name = "chatwoot-round-robin"
    capacity_limit = False


STRATEGIES: dict[str, Callable[[int], Strategy]] = {
    "no-guard": LeastLoad,
    "asterisk-rrmemory": RoundRobinMemory,
    "asterisk-leastrecent": LeastRecent,
    "asterisk-fewestcalls": FewestCalls,
    "asterisk-random": RandomPick,
    "freeswitch-longest-idle": LongestIdle,
    "chatwoot-round-robin": ChatwootRoundRobin,
}
# seatflow's variants (bench.sim.floors.SEATFLOW) differ only with the lifecycle on.
SEATFLOW_NAMES = ("seatflow", "seatflow-no-timeout", "seatflow-no-wrap-up", "seatflow-no-sticky")
ALL = (*SEATFLOW_NAMES, *STRATEGIES)
