"""Commands: what a caller asks the engine to do. Decoded at the edge, applied by one writer.

Tagged msgspec Structs so they can cross a process boundary unchanged (a standby
server forwards them to the owner of a center).
"""

from __future__ import annotations

from msgspec import Struct

from engine.events import ShiftSpec


class Command(Struct, tag=True):
    """Base of every command; the tag is the class name."""


class UpsertAgent(Command):
    agent_id: str
    name: str
    team: str
    skills: list[str]
    capacity: int


class AddShifts(Command):
    shifts: list[ShiftSpec]


class Login(Command):
    agent_id: str


class GoAway(Command):
    agent_id: str
    reason: str


class GoAvailable(Command):
    agent_id: str


class Logout(Command):
    agent_id: str


class ForceLogout(Command):
    agent_id: str
    by: str


class ApproveLogout(Command):
    request_id: str
    by: str


class DenyLogout(Command):
    request_id: str
    by: str


class NewOrder(Struct):
    id: str
    skill: str | None
    priority: int
    digest: bytes
    payload: bytes | None = None
    customer_id: str | None = None
    preferred_agent_id: str | None = None


class SubmitOrders(Command):
    """One or many orders; each one is accepted or refused on its own."""

    orders: list[NewOrder]


class CompleteOrder(Command):
    order_id: str
    # Set when an agent-bound key completes: it must be the assigned agent.
    as_agent: str | None = None


class RecordResponse(Command):
    """The first reply reached the customer; a second one changes nothing."""

    order_id: str
    # Set when an agent-bound key reports it: it must be the assigned agent.
    as_agent: str | None = None


class ArchiveOrders(Command):
    """Move completed orders past `order_retention_days` from memory to the archive.

    The engine runs it before a command once the oldest completed order is past the
    window (engine.archive.sweep_due), in a record of its own, like the timers."""

    limit: int = 2000


class FoldPresence(Command):
    """Fold presence history older than the raw window into the day book.

    The engine runs it before a command once a local midnight has moved the horizon
    (engine.history.fold_due), in a record of its own, like the retention sweep."""


class FireTimers(Command):
    """Run the lifecycle timers due by now (response timeouts, wrap-up ends).

    The engine runs them before any command, so with a manual clock they fire as of
    the command that moves the clock; with the real clock engine.timers runs this
    when the earliest one is due, with no request needed."""


class RecordQa(Command):
    order_id: str
    passed: bool
    by: str


class CreateKey(Command):
    key_hash: str
    role: str
    agent_id: str | None = None


class RevokeKey(Command):
    key_id: str
    by: str


class ClosePayrollMonth(Command):
    month: str
    by: str


class SetClock(Command):
    to: int


class ChangeSettings(Command):
    logout_grace_s: int
    stop_new_before_end_s: int
    timezone: str
    contest_points: tuple[int, ...] = (3, 2, 1)
    warning_bottom_n: int = 3
    language: str = "en"
    response_timeout_s: int = 0
    wrap_up_s: int = 0
    sticky_window_s: int = 0
    order_retention_days: int = 2


class SetPayrollScheme(Command):
    effective_from: str
    currency: str
    thresholds: list[int]
    rates_cents: list[int]


# Every command, for decoding one that crossed a process boundary (a forwarded command).
AnyCommand = (
    UpsertAgent
    | AddShifts
    | Login
    | GoAway
    | GoAvailable
    | Logout
    | ForceLogout
    | ApproveLogout
    | DenyLogout
    | SubmitOrders
    | CompleteOrder
    | RecordResponse
    | FireTimers
    | ArchiveOrders
    | FoldPresence
    | RecordQa
    | CreateKey
    | RevokeKey
    | SetClock
    | ChangeSettings
    | SetPayrollScheme
    | ClosePayrollMonth
)
