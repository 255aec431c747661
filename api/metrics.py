"""/metrics: Prometheus text, read from engine state at scrape time.

Counters and gauges are not incremented on the hot path: a custom collector
reads `state.counters`, the queues and the agents when Prometheus scrapes.

Two histograms:
- intake latency: POST /v1/orders and :batch, from the start of the handler
  (body read and decode) to the durable reply, in wall seconds;
- assignment wait: arrival -> first assignment, in engine (clock) seconds. It is
  caught up at scrape time from state, for orders received since this process
  started: new orders are the newest entries of `state.orders` (`order_seq` counts
  them, archived ones included: only old completed orders leave); those not yet
  assigned are remembered and observed once a later scrape sees them assigned.
  An order's wait is observed once (its first assignment seen by a scrape).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from itertools import islice

from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from engine.archived_ids import false_positive_rate
from engine.state import State
from presence.agent import STATES

NO_SKILL = "(none)"

INTAKE_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0)
WAIT_BUCKETS = (0.0, 1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0)


class StateCollector(Collector):
    def __init__(
        self, state: Callable[[], State], checkpoint_age: Callable[[], float | None]
    ) -> None:
        self._state = state
        self._checkpoint_age = checkpoint_age

    def collect(self) -> Iterator[Metric]:
        state = self._state()
        c = state.counters
        for name, value, what in (
            ("received", c.received, "Orders accepted (new ids)."),
            ("assigned", c.assigned, "Assignments, re-assignments after a logout included."),
            ("queued", c.queued, "Times an order was put in a queue (no eligible agent)."),
            ("completed", c.completed, "Orders completed."),
            ("responded", c.responded, "First responses reported (POST .../responded)."),
            (
                "response_timeouts",
                c.timed_out,
                "Orders taken back for no first response within response_timeout_s.",
            ),
            ("archived", c.archived, "Completed orders moved to the archive (retention)."),
        ):
            yield CounterMetricFamily(f"seatflow_orders_{name}", what, value=value)
        depth = GaugeMetricFamily(
            "seatflow_queue_depth", "Orders waiting, per skill.", labels=["skill"]
        )
        for skill, n, _ in state.queues.depths():
            depth.add_metric([NO_SKILL if skill is None else skill], n)
        yield depth
        by_state = dict.fromkeys(STATES, 0)
        for agent in state.agents.values():
            by_state[agent.state] += 1
        agents = GaugeMetricFamily("seatflow_agents", "Agents, per state.", labels=["state"])
        for name, n in by_state.items():
            agents.add_metric([name], n)
        yield agents
        yield GaugeMetricFamily(
            "seatflow_orders_in_memory",
            "Orders the live state holds (queued, assigned, completed within retention).",
            value=len(state.orders),
        )
        yield GaugeMetricFamily(
            "seatflow_archive_filter_false_positive_ratio",
            "Expected share of new order ids that still read the archive: the archived-ids "
            "filter's false-positive rate for the orders archived so far (engine.archived_ids).",
            value=false_positive_rate(state.counters.archived),
        )
        age = self._checkpoint_age()
        if age is not None:
            yield GaugeMetricFamily(
                "seatflow_checkpoint_age_seconds",
                "Seconds since the newest checkpoint of the state was written.",
                value=age,
            )
        yield GaugeMetricFamily(
            "seatflow_wrap_up_slots",
            "Capacity slots held in wrap-up after a completion (setting wrap_up_s).",
            value=sum(len(a.wrap_ends) for a in state.agents.values()),
        )


class AssignmentWaits:
    """Catches the wait histogram up with state at scrape time (see module docstring)."""

    def __init__(self, histogram: Histogram, state: State) -> None:
        self._histogram = histogram
        self._seen = state.order_seq
        self._waiting: set[str] = {o.id for o in state.orders.values() if o.assigned_at is None}

    def catch_up(self, state: State) -> None:
        orders = state.orders
        fresh = state.order_seq - self._seen
        self._seen = state.order_seq
        self._waiting.update(o.id for o in islice(reversed(orders.values()), fresh))
        done: list[str] = []
        for order_id in self._waiting:
            order = orders.get(order_id)
            if order is None:  # a state reloaded without it (a Redis follower's reload)
                done.append(order_id)
            elif order.assigned_at is not None:
                self._histogram.observe((order.assigned_at - order.created_at) / 1000)
                done.append(order_id)
        self._waiting.difference_update(done)


class Metrics:
    """One registry per app (tests build many apps in one process)."""

    def __init__(
        self, state: Callable[[], State], checkpoint_age: Callable[[], float | None] = lambda: None
    ) -> None:
        self._state = state
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(StateCollector(state, checkpoint_age))
        self.intake = Histogram(
            "seatflow_order_intake_seconds",
            "POST /v1/orders and :batch: body read to durable reply, seconds.",
            ["endpoint"],
            buckets=INTAKE_BUCKETS,
            registry=self.registry,
        )
        self.intake_single = self.intake.labels("orders")
        self.intake_batch = self.intake.labels("batch")
        self.wait = Histogram(
            "seatflow_order_assignment_wait_seconds",
            "Arrival to first assignment of an order, engine-clock seconds.",
            buckets=WAIT_BUCKETS,
            registry=self.registry,
        )
        self._waits: AssignmentWaits | None = None

    def start(self, state: State) -> None:
        """Call once the engine has recovered: waits count from here on."""
        self._waits = AssignmentWaits(self.wait, state)

    def render(self) -> bytes:
        state = self._state()
        if self._waits is None:
            self.start(state)
        if self._waits is not None:
            self._waits.catch_up(state)
        return generate_latest(self.registry)
