"""Handlers refuse at the engine, whatever the edge checked before: a QA result needs a
completed order (a 409 the engine gives, journaling nothing)."""

from __future__ import annotations

import pytest

from engine import commands as cmd
from engine.errors import Conflict


@pytest.mark.parametrize("status", ["queued", "assigned"])
async def test_qa_on_an_order_not_completed_is_a_409_at_the_engine(center, status: str) -> None:
    await center.agent("a1", capacity=1)
    if status == "assigned":
        await center.login("a1")
    await center.order("o1")
    assert center.status("o1") == status
    records = len(center.journal.records)
    with pytest.raises(Conflict) as refused:
        await center.run(cmd.RecordQa("o1", True, "sup"))
    assert refused.value.code == "order_not_completed"
    assert refused.value.message == "order 'o1' is not completed; QA checks completed work"
    assert len(center.journal.records) == records
