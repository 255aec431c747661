"""Every Redis key seatflow uses, built here and nowhere else.

All of a center's keys share the hash tag `{center}`, so a Redis Cluster keeps them in
one slot: the Lua scripts touch the lease and the stream together, which a cluster
allows only within a slot.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

CENTER_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")  # fullmatch: "$" would let a final \n in
PREFIX = "seatflow"


class BadCenterName(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Keys:
    center: str

    def __post_init__(self) -> None:
        if not CENTER_NAME.fullmatch(self.center):
            raise BadCenterName(
                f"center name {self.center!r}: use 1-64 letters, digits, '_', '.' or '-'"
            )

    def _key(self, name: str) -> str:
        return f"{PREFIX}:{{{self.center}}}:{name}"

    @property
    def journal(self) -> str:
        """The Stream of journal records; entry id 0-<seq>, one field `r`."""
        return self._key("journal")

    @property
    def lease(self) -> str:
        """`<token>:<node>` of the engine that owns the center; expires unless renewed."""
        return self._key("lease")

    @property
    def fence(self) -> str:
        """Counter: each new lease takes the next fencing token."""
        return self._key("fence")

    @property
    def archive(self) -> str:
        """Hash order id -> archived order (engine.archive), set with its stream record."""
        return self._key("archive")

    @property
    def archive_moved(self) -> str:
        """Set once rows left the archive hash for `--segments DIR` (order_archive): a
        process without DIR cannot read every archived order then."""
        return self._key("archive-moved")

    @property
    def closed(self) -> str:
        """Hash month -> frozen payroll report of a closed month, set with its stream record."""
        return self._key("closed")

    @property
    def segments(self) -> str:
        """List of `name first last sha256`: journal segments trimmed from the stream."""
        return self._key("segments")

    @property
    def snapshot(self) -> str:
        """Hash {seq, format, data}: state after record seq, so start-up skips the head."""
        return self._key("snapshot")

    @property
    def commands(self) -> str:
        """List of commands forwarded to whichever engine owns the center."""
        return self._key("commands")

    @property
    def taken(self) -> str:
        """List of forwarded commands the owner has taken and not yet answered."""
        return self._key("taken")

    def replies(self, node: str) -> str:
        """List of replies for one server process, by request id."""
        return self._key(f"replies:{node}")

    def replies_taken(self, node: str) -> str:
        """List of replies one server process has taken and not yet handed to their waiters."""
        return self._key(f"replies-taken:{node}")
