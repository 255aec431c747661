"""The journal seam: an ordered, durable log of encoded records.

`append` fixes a record's place in the log when it is called (so records land in
the order the single writer produced them) and returns an awaitable that resolves
only once the record is durable. Backends batch concurrent appends into one
durable write (group commit).

`MemoryJournal` keeps real ordering behaviour for unit tests and the simulator;
`SqliteJournal` (engine.sqlite_journal) is the embedded default.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterator, Sequence
from typing import Protocol, runtime_checkable

# Side rows a record writes, durable in the same write as the record, so they never
# disagree with the journal. Archive rows: (order id, encoded order: engine.archive).
Rows = Sequence[tuple[str, bytes]]
# Closed rows: (month "YYYY-MM", its frozen payroll report: engine.payroll.closing), so a
# reader (`seatflow payroll`) answers a closed month without recovering the state.
Closed = Sequence[tuple[str, bytes]]


class JournalError(Exception):
    """The backend could not make records durable; the engine stops taking commands."""


class Journal(Protocol):
    def append(self, record: bytes, rows: Rows = (), closed: Closed = ()) -> Awaitable[int]:
        """Place the record next in the log; the awaitable gives its seq once durable.

        `rows` go to the archive and `closed` to the closed months in the same durable
        write (replacing rows of those ids and months)."""
        ...

    async def flush(self) -> None:
        """Wait until everything appended so far is durable."""
        ...

    async def close(self) -> None: ...


@runtime_checkable
class LocalJournal(Journal, Protocol):
    """A journal this process can read synchronously (`Engine.recover` with no records).

    The Redis journal is read asynchronously by its node, which hands the records over.
    """

    def replay(self, after: int = 0) -> Iterator[tuple[int, bytes]]:
        """Every record with seq > after, in order."""
        ...

    def archived(self, order_id: str) -> bytes | None:
        """The archive row of an order, as last durably written, or None."""
        ...

    def closed(self, month: str) -> bytes | None:
        """The frozen report of a closed month, as durably written, or None (not closed, or
        closed by a build that wrote no closed rows)."""
        ...


class MemoryJournal:
    """Records in a list; durable the moment they are appended (nothing to wait for)."""

    def __init__(self) -> None:
        self.records: list[bytes] = []
        self.rows: dict[str, bytes] = {}
        self.closed_rows: dict[str, bytes] = {}

    def replay(self, after: int = 0) -> Iterator[tuple[int, bytes]]:
        for i in range(after, len(self.records)):
            yield i + 1, self.records[i]

    def archived(self, order_id: str) -> bytes | None:
        return self.rows.get(order_id)

    def closed(self, month: str) -> bytes | None:
        return self.closed_rows.get(month)

    def append(self, record: bytes, rows: Rows = (), closed: Closed = ()) -> Awaitable[int]:
        self.records.append(record)
        self.rows.update(rows)
        self.closed_rows.update(closed)
        fut: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        fut.set_result(len(self.records))
        return fut

    async def flush(self) -> None:
        return None

    async def close(self) -> None:
        return None
