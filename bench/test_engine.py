"""`Engine.execute` of one command on a MemoryJournal: the in-memory cost of a command.

Includes reading the clock, advance, the handler (decide+apply), encoding the
record and the (already resolved) append; no event-loop round trip (bench.drive).
Split out: encoding one record alone, and the handler alone on the same floor.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from bench.drive import run_now
from bench.floor import ORDER_SKILLS, Floor
from engine import commands as cmd
from engine import events as ev
from engine.handlers import Reply
from engine.journal import MemoryJournal

ROUNDS = 20_000
WARMUP = 2_000


@pytest.mark.benchmark(group="engine: execute(SubmitOrders([one order])) on MemoryJournal")
@pytest.mark.parametrize("n", (400, 4000))
async def test_execute_submit_one(benchmark: Any, floor_of: Callable[[int], Floor], n: int):
    floor = floor_of(n)
    engine = floor.engine
    journal = engine.journal
    assert isinstance(journal, MemoryJournal)
    last: list[str] = []

    def setup() -> tuple[tuple[cmd.Command], dict[str, Any]]:
        if last:
            floor.tick()
            floor.run(cmd.CompleteOrder(last.pop()))
        order = floor.order(ORDER_SKILLS[floor.orders_made % 3])
        last.append(order.id)
        floor.tick()
        return (cmd.SubmitOrders([order]),), {}

    def execute(command: cmd.Command) -> Reply:
        return run_now(engine.execute(command))

    before = len(journal.records)
    reply: Reply = benchmark.pedantic(execute, setup=setup, rounds=ROUNDS, warmup_rounds=WARMUP)
    assert reply.status == 201 and reply.body.status == "assigned"
    # every round journaled two records: the completion (setup) and the submission
    assert len(journal.records) - before == 2 * (ROUNDS + WARMUP) - 1
    record = ev.decode_record(journal.records[-1])
    assert [type(e) for e in record.events] == [ev.OrderReceived, ev.OrderAssigned]
    assert record.at == floor.clock.now_ms()


@pytest.mark.benchmark(group="engine: encode_record (one order received + assigned)")
def test_encode_record(benchmark: Any):
    record = ev.Record(
        1_795_420_800_000,
        [
            ev.OrderReceived("o00012345", "pre", 0, bytes(16), b'{"channel":"chat"}'),
            ev.OrderAssigned("o00012345", "a00123"),
        ],
    )
    data = benchmark.pedantic(
        ev.encode_record, (record,), rounds=2000, iterations=100, warmup_rounds=200
    )
    assert ev.decode_record(data) == record
