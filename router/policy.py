"""The routing rules of API.md, as decisions over the index and the queues.

- eligible: available, has the skill (or the order needs none), load < capacity;
- lowest load/capacity wins; ties: idle longest (oldest last assignment), then the
  smaller id; an agent handing over at shift end is chosen only when no other
  eligible agent has room;
- no eligible agent: the order waits in its queue, served by priority then age.
"""

from __future__ import annotations

from presence.agent import Agent
from router.index import AgentIndex
from router.queue import OrderQueues


def choose_agent(index: AgentIndex, skill: str | None) -> Agent | None:
    return index.best(skill)


def next_queued_for(queues: OrderQueues, agent: Agent) -> str | None:
    """The waiting order this agent should take now, if it has room and one waits."""
    if not agent.has_room():
        return None
    return queues.best_for(agent.skills)
