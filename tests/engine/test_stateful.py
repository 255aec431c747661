"""Random command sequences against the real engine; the invariants hold after every step.

Each step runs through `Center.run`, which asserts: a refused command changed nothing
(fingerprint; timers due by then may fire first, in a record of their own); a follower
fed from the journal checks every OrderAssigned against the routing rules and stays
equal to the live state; `invariants.check` is empty (no order unanswered past its
timeout, no wrap-up slot past its end). At the end a fresh Engine replays the journal
into the same fingerprint.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from engine import commands as cmd
from engine.clock import ManualClock
from engine.core import Engine
from engine.errors import SeatflowError
from engine.events import OrderReceived, ShiftSpec, decode_record
from engine.fingerprint import fingerprint
from engine.sqlite_journal import SqliteJournal

settings.register_profile(
    "seatflow-stateful",
    max_examples=75,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
PROFILE = settings.get_profile("seatflow-stateful")

MIN = 60_000
agent_ids = st.sampled_from(["a1", "a2", "a3", "a4"])
order_ids = st.sampled_from([f"o{i}" for i in range(25)])
skills = st.sampled_from(["pre", "post", None])
priorities = st.integers(0, 3)
request_ids = st.sampled_from([f"lr-{i}" for i in range(1, 5)])
customers = st.sampled_from([None, "c1", "c2", "c3"])
preferred = st.sampled_from([None, None, "a1", "a2", "ghost"])


class CenterMachine(RuleBasedStateMachine):
    # Set by the test to the `make_center` fixture (a Center on MemoryJournal + ManualClock).
    center_factory: Callable[[], Any]

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.center = self.center_factory()
        self.refused = 0
        self.received: set[str] = set()
        self.seen_records = 0

    def run(self, command: cmd.Command) -> None:
        try:
            self.loop.run_until_complete(self.center.run(command))
        except SeatflowError:
            self.refused += 1  # Center.run has asserted that nothing changed

    @initialize(
        team=st.lists(
            st.tuples(
                st.lists(st.sampled_from(["pre", "post"]), min_size=1, max_size=2),
                st.integers(1, 4),
                st.booleans(),
            ),
            min_size=4,
            max_size=4,
        )
    )
    def staff(self, team):
        """Start with the four agents, some logged in: most commands then apply."""
        for i, (agent_skills, capacity, logged_in) in enumerate(team, start=1):
            self.run(cmd.UpsertAgent(f"a{i}", f"A{i}", "t1", agent_skills, capacity))
            if logged_in:
                self.run(cmd.Login(f"a{i}"))

    @rule(
        agent=agent_ids,
        skills=st.lists(st.sampled_from(["pre", "post"]), max_size=2),
        capacity=st.sampled_from([1, 2, 3, 4, 0]),
        name=st.sampled_from(["Ann", "Bo", ""]),
    )
    def upsert(self, agent, skills, capacity, name):
        self.run(cmd.UpsertAgent(agent, name, "t1", skills, capacity))

    @rule(
        agent=agent_ids,
        start_min=st.integers(-180, 600),
        length_min=st.sampled_from([30, 240, 480, 60, 0, 24 * 60 + 1]),
    )
    def add_shift(self, agent, start_min, length_min):
        start = self.center.clock.now_ms() + start_min * MIN
        self.run(cmd.AddShifts([ShiftSpec(agent, start, start + length_min * MIN)]))

    @rule(agent=agent_ids)
    def login(self, agent):
        self.run(cmd.Login(agent))

    @rule(agent=agent_ids, reason=st.sampled_from(["lunch", "training", ""]))
    def away(self, agent, reason):
        self.run(cmd.GoAway(agent, reason))

    @rule(agent=agent_ids)
    def available(self, agent):
        self.run(cmd.GoAvailable(agent))

    @rule(agent=agent_ids)
    def logout(self, agent):
        self.run(cmd.Logout(agent))

    @rule(agent=agent_ids)
    def logout_mid_shift(self, agent):
        """Put the agent inside a shift (may overlap: refused), then try to leave."""
        now = self.center.clock.now_ms()
        self.run(cmd.AddShifts([ShiftSpec(agent, now - 60 * MIN, now + 240 * MIN)]))
        self.run(cmd.Logout(agent))

    @rule(agent=agent_ids)
    def force_logout(self, agent):
        self.run(cmd.ForceLogout(agent, "sup"))

    @rule(request=request_ids, approve=st.booleans())
    def decide(self, request, approve):
        self.run((cmd.ApproveLogout if approve else cmd.DenyLogout)(request, "sup"))

    @rule(order=order_ids, skill=skills, priority=priorities)
    def submit(self, order, skill, priority):
        self.run(cmd.SubmitOrders([self.center.new_order(order, skill, priority)]))

    @rule(order=order_ids, skill=skills, customer=customers, prefer=preferred)
    def submit_for_customer(self, order, skill, customer, prefer):
        """The lifecycle's routing: returning customers (sticky) and dedicated agents."""
        o = self.center.new_order(order, skill, 0)
        o.customer_id, o.preferred_agent_id = customer, prefer
        self.run(cmd.SubmitOrders([o]))

    @rule(pick=st.integers(0, 100), as_agent=st.booleans())
    def respond(self, pick, as_agent):
        """A first response to an assigned order (or to whatever the pick names: refused)."""
        orders = sorted(self.center.state.orders.values(), key=lambda o: o.id)
        if not orders:
            return self.run(cmd.RecordResponse("o0"))
        o = orders[pick % len(orders)]
        self.run(cmd.RecordResponse(o.id, o.agent_id if as_agent else None))

    @rule(
        timeout=st.sampled_from([0, 10, 30, 300, 9, 3601]),
        wrap=st.sampled_from([0, 5, 60, 601]),
        sticky=st.sampled_from([0, 600, 86400, -1]),
    )
    def lifecycle_settings(self, timeout, wrap, sticky):
        s = self.center.state.settings
        self.run(
            cmd.ChangeSettings(
                s.logout_grace_s,
                s.stop_new_before_end_s,
                s.timezone,
                s.contest_points,
                s.warning_bottom_n,
                s.language,
                timeout,
                wrap,
                sticky,
            )
        )

    @rule(seconds=st.sampled_from([1, 5, 10, 29, 61]), journaled=st.booleans())
    def seconds_pass(self, seconds, journaled):
        """Short clock steps: response timeouts and wrap-ups fall due between commands."""
        to = self.center.clock.now_ms() + seconds * 1000
        if journaled:
            self.loop.run_until_complete(self.center.goto(to))
        else:
            self.center.clock.set(to)

    @rule(batch=st.lists(st.tuples(order_ids, skills, priorities), min_size=1, max_size=6))
    def submit_batch(self, batch):
        self.run(cmd.SubmitOrders([self.center.new_order(*o) for o in batch]))

    @rule(pick=st.integers(0, 100))
    def complete_assigned(self, pick):
        assigned = sorted(o.id for o in self.center.state.orders.values() if o.status == "assigned")
        self.run(cmd.CompleteOrder(assigned[pick % len(assigned)] if assigned else "o0"))

    @rule(order=order_ids)
    def complete_any(self, order):
        self.run(cmd.CompleteOrder(order))

    @rule(order=order_ids, pick=st.integers(0, 100), passed=st.booleans())
    def qa(self, order, pick, passed):
        """QA a completed order when there is one, else whatever the id names (refused)."""
        done = sorted(o.id for o in self.center.state.orders.values() if o.status == "completed")
        target = done[pick % len(done)] if done and pick % 3 else order
        self.run(cmd.RecordQa(target, passed, "sup"))

    @rule(
        grace=st.sampled_from([0, 60, 600, 3600, -1]),
        stop=st.sampled_from([0, 300, 1800, 24 * 3600 + 1]),
        tz=st.sampled_from(["Asia/Shanghai", "UTC", "Mars/Olympus"]),
    )
    def change_settings(self, grace, stop, tz):
        self.run(cmd.ChangeSettings(grace, stop, tz))

    @rule(minutes=st.sampled_from([1, 4, 5, 15, 60, 240, 600]))
    def set_clock(self, minutes):
        """The admin clock endpoint: journaled."""
        to = self.center.clock.now_ms() + minutes * MIN
        self.loop.run_until_complete(self.center.goto(to))

    @rule(minutes=st.sampled_from([1, 3, 30, 120]))
    def time_passes(self, minutes):
        """Real time passing: nothing is journaled until the next command."""
        self.center.clock.advance(minutes * MIN)

    @rule(days=st.sampled_from([2, 3, 5]), retention=st.sampled_from([None, 1, 1, 2]))
    def days_pass(self, days, retention):
        """Days go by (journaled): completed orders past the window leave for the archive."""
        if retention is not None:
            s = self.center.state.settings
            changed = dataclasses.replace(s, order_retention_days=retention)
            self.run(cmd.ChangeSettings(*dataclasses.astuple(changed)))
        to = self.center.clock.now_ms() + days * 24 * 60 * MIN
        self.loop.run_until_complete(self.center.goto(to))

    @invariant()
    def every_order_received_is_in_memory_or_archived(self):
        """No id is ever forgotten: a retry of any id received finds it (archived or not)."""
        state, engine = self.center.state, self.center.engine
        for _, data in self.center.journal.replay(self.seen_records):
            for event in decode_record(data).events:
                if isinstance(event, OrderReceived):
                    self.received.add(event.order_id)
        self.seen_records = len(self.center.journal.records)
        for order_id in self.received:
            assert order_id in state.orders or engine.archived(order_id) is not None, order_id
        assert all(engine.archived(o) is None for o in state.orders)  # never both

    @precondition(lambda self: self.center.state.orders)
    @rule()
    def replay_now(self):
        self.check_replay()

    def check_replay(self) -> None:
        engine = Engine(self.center.journal, ManualClock())
        engine.recover()
        engine.state.advance(self.center.state.now)  # what its first command would do
        assert fingerprint(engine.state) == fingerprint(self.center.state)

    def teardown(self) -> None:
        try:
            self.check_replay()
        finally:
            self.loop.close()


def test_random_command_sequences_keep_the_invariants(make_center):
    machine = type("CenterMachine", (CenterMachine,), {"center_factory": staticmethod(make_center)})
    run_state_machine_as_test(machine, settings=PROFILE)


async def test_random_day_replays_from_sqlite(make_center, rng, script_player, tmp_path):
    random_script, play_script = script_player
    script = random_script(rng, 300)
    live = make_center(journal=SqliteJournal.in_dir(tmp_path))
    memory = make_center()  # the same script with the replay follower checking each step
    await play_script(live, script)
    await play_script(memory, script)
    assert fingerprint(live.state) == fingerprint(memory.state)
    await live.engine.close()

    engine = Engine(SqliteJournal.in_dir(tmp_path), ManualClock())
    assert engine.recover() == len(memory.journal.records)
    engine.state.advance(live.state.now)
    assert fingerprint(engine.state) == fingerprint(live.state)
    assert len(engine.state.orders) > 20
    await engine.close()
