"""The agent record: who it is, what it can take, and where it stands now."""

from __future__ import annotations

from dataclasses import dataclass, field

OFFLINE = "offline"
AVAILABLE = "available"
AWAY = "away"
# Left an order unanswered past the response timeout: no new orders until `available`.
NOT_RESPONDING = "not_responding"
STATES = (OFFLINE, AVAILABLE, AWAY, NOT_RESPONDING)

CAPACITY_MIN = 1
CAPACITY_MAX = 50


@dataclass(slots=True, eq=False)
class Agent:
    id: str
    name: str
    team: str
    skills: tuple[str, ...]
    capacity: int
    state: str = OFFLINE
    reason: str | None = None
    state_since: int = 0
    # Insertion-ordered set of open (assigned, not completed) order ids.
    open_orders: dict[str, None] = field(default_factory=dict)
    # Idle-longest tie-break: 0 means never assigned, which is the longest idle of all.
    last_assigned_at: int = 0
    # Bumped on every change that affects routing; stale index entries carry old versions.
    version: int = 0
    # Inside its shift's handover window, or past its end (Roster.handover): preferred last.
    handing_over: bool = False
    pending_request: str | None = None
    # End times (epoch ms, ascending) of slots held in wrap-up after a completion: each
    # takes a slot of capacity until it ends (setting wrap_up_s).
    wrap_ends: list[int] = field(default_factory=list)

    @property
    def load(self) -> int:
        """Slots taken: open orders plus slots in wrap-up."""
        return len(self.open_orders) + len(self.wrap_ends)

    def can_take(self, skill: str | None) -> bool:
        """Eligible for an order needing `skill` (None: any agent): available, a free slot
        (wrap-up slots count), the skill. The one statement of the rule: the routing index
        (through has_room) and the preferred and sticky checks (router.policy) use it, in
        one call (it is on the routing path of every returning customer)."""
        return (
            self.state == AVAILABLE
            and len(self.open_orders) + len(self.wrap_ends) < self.capacity
            and (skill is None or skill in self.skills)
        )

    def has_room(self) -> bool:
        """Eligible for some order: the agents the routing index holds."""
        return self.can_take(None)
