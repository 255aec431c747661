"""A failure at any step of `Engine.execute` leaves journal and state in agreement.

The structural rule (engine/core.py): everything that can fail — the clock's advance,
the handler's checks and decisions, each event's apply, the reply's encoding, the
record's encoding — runs before the record is appended. A failure there changes
nothing: the command was refused before any event, or (a bug) the state is rebuilt
from the journal. After the append only the journal itself can fail, and then the
engine refuses everything until a restart replays the durable truth.

A fixed script with every command type runs once per (command, step, fault); each
time the faulted command must leave no record and no trace in state, the engine must
serve again at once, and the rest of the script must end where a journal replay ends.
"""

from __future__ import annotations

import asyncio
import typing
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from engine import changes as changes_module
from engine import commands as cmd
from engine import core as core_module
from engine.clock import ManualClock
from engine.core import Engine
from engine.errors import SeatflowError, Unavailable
from engine.events import ShiftSpec
from engine.fingerprint import fingerprint
from engine.handlers import HANDLERS
from engine.history import fold_due
from engine.invariants import check
from engine.journal import JournalError, MemoryJournal
from engine.state import State
from presence.timeutil import parse_time

KEY = "ab" * 32
MIN = 60_000
T0 = parse_time("2026-11-23T00:00:00Z")


def at(hhmm: str) -> int:
    h, m = hhmm.split(":")
    return T0 + (int(h) * 60 + int(m)) * MIN


def new_order(order_id: str, skill: str | None = "pre", priority: int = 0) -> cmd.NewOrder:
    return cmd.NewOrder(order_id, skill, priority, order_id.encode().ljust(32, b"."))


def script() -> list[cmd.Command]:
    """Every command type at least once, each accepted on a clean run."""
    shifts = [ShiftSpec(a, at("08:00"), at("16:00")) for a in ("a1", "a2", "a3")]
    return [
        # Lifecycle on: response timeouts (10 min) and wrap-up fire between commands too.
        cmd.ChangeSettings(0, 600, "Asia/Shanghai", (3, 2, 1), 2, "en", 600, 60, 3600),
        cmd.UpsertAgent("a1", "Ann", "north", ["pre"], 2),
        cmd.UpsertAgent("a2", "Bo", "north", ["pre", "post"], 1),
        cmd.UpsertAgent("a3", "Cy", "south", [], 3),
        cmd.AddShifts(shifts),
        cmd.SetClock(at("08:00")),
        cmd.Login("a1"),
        cmd.Login("a2"),
        cmd.Login("a3"),
        cmd.SubmitOrders([new_order("o1"), new_order("o2"), new_order("o3", "post")]),
        cmd.RecordResponse("o1"),
        cmd.RecordResponse("o2"),
        cmd.SubmitOrders([new_order("o4", "pre", 1), new_order("o5", None)]),
        cmd.FireTimers(),
        cmd.GoAway("a3", "break"),
        cmd.GoAvailable("a3"),
        cmd.CompleteOrder("o1"),
        cmd.RecordQa("o1", True, "supervisor:1234"),
        cmd.CreateKey(KEY, "supervisor"),
        cmd.RevokeKey(KEY[:12], "admin"),
        cmd.SetPayrollScheme("2026-10", "CNY", [100], [100, 150]),
        cmd.ClosePayrollMonth("2026-10", "payroll:1234"),
        cmd.Logout("a1"),
        cmd.DenyLogout("lr-1", "supervisor:1234"),
        cmd.Logout("a2"),
        cmd.ApproveLogout("lr-2", "supervisor:1234"),
        cmd.ForceLogout("a3", "supervisor:1234"),
        cmd.GoAvailable("a1"),  # back from not_responding (a response timeout took o4)
        # Three days on, the completed orders leave memory (the engine's own sweep, as
        # it moves the clock); late QA and a retry reach them in the archive.
        cmd.SetClock(at("08:00") + 3 * 24 * 60 * MIN),
        cmd.ArchiveOrders(),
        # Eight days on, their presence history folds into per-day rows.
        cmd.SetClock(at("08:00") + 11 * 24 * 60 * MIN),
        cmd.FoldPresence(),
        cmd.RecordQa("o1", False, "supervisor:1234"),
        cmd.SubmitOrders([new_order("o1")]),
    ]


class Injected(Exception):
    """The fault a test put there."""


class Faults:
    """One armed fault at a time; it fires once, then the real code runs again."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, engine: Engine) -> None:
        self.mp = monkeypatch
        self.engine = engine
        self.armed: str | None = None
        self.countdown = 0
        self.fired = False

    @contextmanager
    def arm(self, step: str, nth: int = 1) -> Iterator[None]:
        self.armed, self.countdown, self.fired = step, nth, False
        try:
            yield
        finally:
            self.armed = None

    def hit(self, step: str) -> bool:
        """True exactly once: at the nth pass through the armed step."""
        if self.armed != step or self.fired:
            return False
        self.countdown -= 1
        if self.countdown:
            return False
        self.fired = True
        return True

    def failing(
        self, step: str, real: Callable[..., Any], error: type[Exception] = Injected
    ) -> Callable[..., Any]:
        """`real`, which fails instead when the armed step comes around."""

        def wrapper(*args: Any) -> Any:
            if self.hit(step):
                raise error(f"injected: {step}")
            return real(*args)

        return wrapper

    def install(self) -> None:
        real_apply = changes_module.apply

        def apply(state: State, event: Any, now: int) -> None:
            if self.hit("apply, before"):
                raise Injected("apply, before")
            real_apply(state, event, now)
            if self.hit("apply, after"):  # a torn apply: state changed, event not counted
                raise Injected("apply, after")

        journal = self.engine.journal
        self.mp.setattr(State, "advance", self.failing("advance", State.advance))
        self.mp.setattr(changes_module, "apply", apply)
        self.mp.setattr(changes_module, "_json", self.failing("seal", changes_module._json))
        encode = core_module.encode_record
        self.mp.setattr(core_module, "encode_record", self.failing("encode record", encode))
        self.mp.setattr(journal, "append", self.failing("append", journal.append, JournalError))
        for kind, real in list(HANDLERS.items()):
            self.mp.setitem(HANDLERS, kind, self._handler(real))

    def _handler(self, real: Callable[..., Any]) -> Callable[..., Any]:
        def handler(ch: Any, c: Any) -> Any:
            if self.hit("handler, before"):
                raise Injected("handler, before")
            reply = real(ch, c)
            if self.hit("handler, after"):  # a handler that breaks "check, then emit"
                raise SeatflowError("refused after emitting", code="late")
            return reply

        return handler


STEPS_BEFORE_APPEND = [
    ("advance", 1),
    ("handler, before", 1),
    ("apply, before", 1),
    ("apply, after", 1),
    ("apply, after", 2),
    ("handler, after", 1),
    ("seal", 1),
    ("encode record", 1),
    ("append", 1),
]


def faulty_center(
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[MemoryJournal, ManualClock, Engine, Faults]:
    """An engine at 07:00 with every fault installed (none armed yet)."""
    journal = MemoryJournal()
    clock = ManualClock(at("07:00"))
    engine = Engine(journal, clock)
    faults = Faults(monkeypatch, engine)
    faults.install()
    return journal, clock, engine, faults


def replayed(journal: MemoryJournal, now: int) -> dict[str, Any]:
    engine = Engine(journal, ManualClock(0))
    engine.recover()
    engine.state.advance(now)  # time-derived state (handover ranks) at the same moment
    return fingerprint(engine.state)


async def run(engine: Engine, command: cmd.Command) -> Any:
    """As the API runs it: the test clock is moved through `set_clock`."""
    if isinstance(command, cmd.SetClock):
        return await engine.set_clock(command.to)
    return await engine.execute(command)


async def run_script(engine: Engine, clock: ManualClock, commands: list[cmd.Command]) -> None:
    for command in commands:
        clock.set(clock.now_ms() + MIN)
        await run(engine, command)


async def test_the_script_runs_clean_and_uses_every_command_type() -> None:
    engine = Engine(MemoryJournal(), ManualClock(at("07:00")))
    await run_script(engine, engine.clock, script())  # type: ignore[arg-type]
    assert {type(c) for c in script()} == set(typing.get_args(cmd.AnyCommand))
    assert check(engine.state) == []


@pytest.mark.parametrize(("step", "nth"), STEPS_BEFORE_APPEND)
@pytest.mark.parametrize("target", range(len(script())))
async def test_a_fault_before_the_append_changes_nothing(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, target: int, step: str,
    nth: int,
) -> None:  # fmt: skip
    commands = script()
    journal, clock, engine, faults = faulty_center(monkeypatch)
    await run_script(engine, clock, commands[:target])

    clock.set(clock.now_ms() + MIN)
    now = engine.now()
    # Lifecycle timers due by now fire first, as the engine would before the command:
    # the fault then meets the command itself (faults while timers fire: the next test).
    await engine.execute(cmd.FireTimers())
    # So does a presence fold due at the command's time (a clock moved past midnights).
    when = commands[target].to if isinstance(commands[target], cmd.SetClock) else now
    if fold_due(engine.state, when):
        await engine.execute(cmd.FoldPresence(), at=when)
    engine.state.advance(now)
    before, records = fingerprint(engine.state), len(journal.records)
    with faults.arm(step, nth):
        try:
            reply = await run(engine, commands[target])
        except (Injected, SeatflowError) as exc:
            failed: BaseException | None = exc
        else:
            failed = None
    if not faults.fired:  # the command never reached that step (it emits fewer events)
        assert failed is None
        return
    assert failed is not None, f"{step} failed, yet the command answered {reply}"
    assert len(journal.records) == records, "a failed command was journaled"
    assert engine.ready, engine.failure
    engine.state.advance(now)
    assert fingerprint(engine.state) == before, "a failed command changed state"
    assert fingerprint(engine.state) == replayed(journal, now)
    assert check(engine.state) == []

    # The center goes on: the same command again, then the rest, end where replay ends.
    await run_script(engine, clock, commands[target:])
    assert fingerprint(engine.state) == replayed(journal, engine.state.now)
    assert check(engine.state) == []


@pytest.mark.parametrize(("step", "nth"), STEPS_BEFORE_APPEND)
async def test_a_fault_while_timers_fire_changes_nothing_and_they_fire_next_time(
    monkeypatch: pytest.MonkeyPatch, step: str, nth: int
) -> None:
    """Response timeouts and wrap-up ends fire before a command; a fault there leaves
    them unfired and the command unrun, and the next command fires them after all."""
    commands = script()
    journal, clock, engine, faults = faulty_center(monkeypatch)
    at_o4 = next(i for i, c in enumerate(commands) if isinstance(c, cmd.GoAway))
    await run_script(engine, clock, commands[:at_o4])
    clock.set(clock.now_ms() + 20 * MIN)  # past o4's 10-minute response timeout
    now = engine.now()
    assert engine.state.deadlines.due(now)
    engine.state.advance(now)
    before, records = fingerprint(engine.state), len(journal.records)
    with faults.arm(step, nth), pytest.raises((Injected, SeatflowError)):
        await engine.execute(cmd.GoAway("a2", "break"))
    assert faults.fired
    assert len(journal.records) == records and engine.ready
    engine.state.advance(now)
    assert fingerprint(engine.state) == before == replayed(journal, now)
    await engine.execute(cmd.GoAway("a2", "break"))  # timers fire first this time
    assert not engine.state.deadlines.due(now)
    assert any(a.state == "not_responding" for a in engine.state.agents.values())
    assert check(engine.state) == []
    assert fingerprint(engine.state) == replayed(journal, engine.state.now)


async def test_a_journal_that_fails_after_the_append_refuses_everything_until_restart() -> None:
    """The record is out of our hands once appended: if it is not written, the engine
    stops (503), and a restart holds exactly what was acknowledged."""
    journal = MemoryJournal()
    clock = ManualClock(at("07:00"))
    engine = Engine(journal, clock)
    commands = script()
    await run_script(engine, clock, commands[:10])
    acknowledged = len(journal.records)
    real_append = journal.append

    def lost(data: bytes) -> Any:
        real_append(data)
        journal.records.pop()  # not written after all
        fut: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        fut.set_exception(JournalError("injected: the write failed"))
        return fut

    journal.append = lost  # type: ignore[method-assign]
    with pytest.raises(Unavailable) as err:
        await engine.execute(commands[10])
    assert err.value.code == "journal_failed"
    for later in (commands[11], cmd.Login("a1")):
        with pytest.raises(Unavailable):
            await engine.execute(later)
    with pytest.raises(Unavailable):
        await engine.durable()
    assert len(journal.records) == acknowledged
    restarted = Engine(journal, ManualClock(0))
    restarted.recover()
    assert "o4" not in restarted.state.orders and "o3" in restarted.state.orders
    assert check(restarted.state) == []


async def test_a_listener_that_raises_breaks_nothing(caplog: pytest.LogCaptureFixture) -> None:
    journal = MemoryJournal()
    engine = Engine(journal, ManualClock(at("07:00")))

    def broken(record: object) -> None:
        raise RuntimeError("listener")

    engine.listeners.append(broken)
    await run_script(engine, engine.clock, script())  # type: ignore[arg-type]
    await asyncio.sleep(0)  # durable records reach listeners from the event loop
    assert "listener" in caplog.text and engine.ready
    assert fingerprint(engine.state) == replayed(journal, engine.state.now)


async def test_a_rebuild_says_what_failed(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    engine = Engine(MemoryJournal(), ManualClock(at("07:00")))
    faults = Faults(monkeypatch, engine)
    faults.install()
    await run_script(engine, engine.clock, script()[:9])  # type: ignore[arg-type]
    with faults.arm("apply, after"), pytest.raises(Injected):
        await engine.execute(cmd.SubmitOrders([new_order("x1")]))
    assert "SubmitOrders failed after changing state (Injected: apply, after)" in caplog.text
    assert "state rebuilt from 9 journal records after the error in SubmitOrders" in caplog.text
    assert "x1" not in engine.state.orders
