"""Checkpoints: the live state after record `seq`, so start-up replays only what follows.

A checkpoint is the state's fingerprint (engine/fingerprint.py: everything the state
holds, as plain data, complete by tests/engine/test_registries.py) encoded with
msgspec's MessagePack — typed data, never pickle: loading one runs no code. `restore`
is the fingerprint's inverse; tests prove `restore(fingerprint(s))` fingerprints as `s`
and that a checkpoint plus the journal's tail replays to the full replay's state.

    header (msgpack): magic, format, shape, seq, at, record digest, body digest
    body   (msgpack): the fingerprint

- `shape` is a digest of the fingerprint's structure (its keys, at every level, for
  a state holding one record of each kind), computed from the code: a checkpoint made
  by a build whose state has other fields is ignored (a full replay, never a wrong
  state), with no version number to remember to bump.
- `record` is the SHA-256 of journal record `seq`: a checkpoint is used only with the
  journal it was made from (not one copied from another center, nor a journal that
  was replaced or lost records).
- `body` is the SHA-256 of the body: a torn or damaged file is refused.
"""

from __future__ import annotations

import gc
import hashlib
from collections.abc import Iterable
from functools import cache
from typing import Any

import msgspec

from engine import events as ev
from engine.events import decode_record
from engine.fingerprint import fingerprint
from engine.keys import ApiKey, key_id
from engine.payroll.closing import ClosedMonth
from engine.payroll.scheme import Scheme
from engine.payroll.tallies import Tallies
from engine.settings import Settings
from engine.state import (
    AuditEntry,
    Counters,
    State,
    forget_requests_decided_before,
    rebuild_deadlines,
    settings_of,
)
from presence.agent import Agent
from presence.requests import LogoutRequest
from router.order import COMPLETED, QUEUED, Order

MAGIC = "seatflow-checkpoint"
FORMAT = 1


class CheckpointError(Exception):
    """Not a usable checkpoint: damaged, foreign, or made by a build with another state."""


class Header(msgspec.Struct, array_like=True):
    magic: str
    format: int
    shape: str
    seq: int
    # The state's time (its last record's), for the checkpoint's age.
    at: int
    record_sha256: bytes
    body_sha256: bytes


def record_digest(record: bytes) -> bytes:
    return hashlib.sha256(record).digest()


class Body(msgspec.Struct, array_like=True):
    """The fingerprint without its orders, and the orders as typed records: the bulk of a
    checkpoint encodes and decodes in msgspec's C code, not as a dict per order. The
    fingerprint holds the archived-ids filter's digest; its bits are here."""

    rest: dict[str, Any]
    orders: list[Order]
    archived_ids: bytes


def encode(state: State, seq: int, record: bytes) -> bytes:
    """The checkpoint of `state`, which is the fold of the journal up to `record` (seq)."""
    body = msgspec.msgpack.encode(
        Body(
            fingerprint(state, orders=False),
            list(state.orders.values()),
            state.archived_ids.dump(),
        )
    )
    header = Header(
        MAGIC, FORMAT, shape(), seq, state.now, record_digest(record), hashlib.sha256(body).digest()
    )
    head = msgspec.msgpack.encode(header)
    return len(head).to_bytes(4, "big") + head + body


def read_header(data: bytes) -> Header:
    """The header, checked against this build; CheckpointError if it is not ours."""
    try:
        size = int.from_bytes(data[:4], "big")
        header = msgspec.msgpack.decode(data[4 : 4 + size], type=Header)
    except (msgspec.DecodeError, ValueError) as exc:
        raise CheckpointError(f"not a seatflow checkpoint ({exc})") from None
    if header.magic != MAGIC or header.format != FORMAT:
        raise CheckpointError(f"not a format-{FORMAT} seatflow checkpoint")
    if header.shape != shape():
        raise CheckpointError(
            f"made by a build whose state has another shape ({header.shape}, not {shape()})"
        )
    return header


def decode(data: bytes) -> tuple[Header, State]:
    """The header and the state; CheckpointError if anything is wrong with the file."""
    header = read_header(data)
    body = data[4 + int.from_bytes(data[:4], "big") :]
    if hashlib.sha256(body).digest() != header.body_sha256:
        raise CheckpointError("damaged: its body does not match its digest")
    # Everything built here is long-lived: the cyclic GC, paused meanwhile, would only walk
    # it again and again (bench/RESULTS.md, the long run: 1.6-2.0 s with it, 0.7-1.1 s without).
    enabled = gc.isenabled()
    gc.disable()
    try:
        decoded = msgspec.msgpack.decode(body, type=Body)
        return header, restore(decoded.rest, decoded.orders, decoded.archived_ids)
    except (msgspec.DecodeError, msgspec.ValidationError, KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"damaged: {type(exc).__name__}: {exc}") from None
    finally:
        if enabled:
            gc.enable()


def _settings(fp: dict[str, Any]) -> Settings:
    # By name: every setting the fingerprint holds (tuples where Settings keeps them).
    settings: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in fp.items()}
    return Settings(**settings)


class _SettingsOnly(msgspec.Struct):
    settings: dict[str, Any]


class _SettingsBody(msgspec.Struct, array_like=True):
    """A body read for its settings alone: msgspec skips the rest (the orders, the history)
    without building it, a small part of what decoding the state costs."""

    rest: _SettingsOnly


_settings_body = msgspec.msgpack.Decoder(_SettingsBody)


def decode_settings(data: bytes) -> tuple[Header, Settings]:
    """The header and the settings of a checkpoint, checked as `decode` checks it."""
    header = read_header(data)
    body = data[4 + int.from_bytes(data[:4], "big") :]
    if hashlib.sha256(body).digest() != header.body_sha256:
        raise CheckpointError("damaged: its body does not match its digest")
    try:
        return header, _settings(_settings_body.decode(body).rest.settings)
    except (msgspec.DecodeError, msgspec.ValidationError, TypeError, ValueError) as exc:
        raise CheckpointError(f"damaged: {type(exc).__name__}: {exc}") from None


_SETTINGS_TAG = ev.SettingsChanged.__name__.encode()  # every such record holds its tag


def settings_after(settings: Settings, records: Iterable[tuple[int, bytes]]) -> Settings:
    """The settings in force after `records`, starting from `settings`: only records that
    can hold a change are decoded, so a tail of thousands costs little more than reading it."""
    for _, data in records:
        if _SETTINGS_TAG in data:
            for e in decode_record(data).events:
                if isinstance(e, ev.SettingsChanged):
                    settings = settings_of(e)
    return settings


def restore(
    fp: dict[str, Any], orders: list[Order] | None = None, archived_ids: bytes = b""
) -> State:
    """The state a fingerprint describes: `fingerprint(restore(fp)) == fp`.

    `orders`: the orders as records, for a fingerprint taken without them. `archived_ids`:
    the filter's bits, whose digest the fingerprint holds (ValueError if they differ).
    """
    state = State(
        settings=_settings(fp["settings"]),
        now=fp["now"],
        order_seq=fp["order_seq"],
        request_seq=fp["request_seq"],
    )
    for agent_id, a in fp["agents"].items():
        state.agents[agent_id] = Agent(
            agent_id, a["name"], a["team"], tuple(a["skills"]), a["capacity"], a["state"],
            a["reason"], a["state_since"], dict.fromkeys(a["open_orders"]),
            a["last_assigned_at"], 0, a["handing_over"], a["pending_request"],
            list(a["wrap_ends"]),
        )  # fmt: skip
    if orders is not None:
        state.orders = {o.id: o for o in orders}
    else:
        for order_id, o in fp["orders"].items():
            state.orders[order_id] = Order(
                order_id, o["skill"], o["priority"], bytes.fromhex(o["digest"]), o["seq"],
                o["created_at"], o["status"], o["agent_id"], o["assigned_at"], o["completed_at"],
                o["qa_passed"], o["customer_id"], o["preferred_agent_id"],
                o["preferred_unknown"], o["routed_by"], o["first_response_at"],
                o["responded_by"], o["response_ms"], o["reassignments"], o["archived"],
            )  # fmt: skip
    for _skill, order_ids in fp["queues"]:
        for order_id in order_ids:
            order = state.orders[order_id]
            if order.status != QUEUED:
                raise ValueError(f"order {order_id!r} is queued but {order.status}")
            state.queues.push(order)
    for request_id, r in fp["requests"].items():
        state.requests[request_id] = LogoutRequest(
            request_id, r["agent_id"], r["requested_at"], r["status"], r["attempts"],
            r["decided_at"], r["decided_by"],
        )  # fmt: skip
    for agent_id, shifts in fp["roster"].items():
        state.roster.load(agent_id, [(start, end) for start, end in shifts])
    for key_hash, k in fp["keys"].items():
        key = ApiKey(
            key_id(key_hash), k["role"], k["agent_id"], k["created_at"], k["revoked_at"],
            k["revoked_by"],
        )  # fmt: skip
        state.keys[key_hash] = key
        state.key_ids[key.id] = key_hash
    state.counters = Counters(**fp["counters"])
    state.transitions = {a: [(at, st) for at, st in ts] for a, ts in fp["transitions"].items()}
    state.audit = [AuditEntry(*row) for row in fp["audit"]]
    state.archived_ids.load(archived_ids)
    if state.archived_ids.digest() != fp["archived_ids"]:
        raise ValueError("the archived-ids filter does not match the state's digest of it")
    state.history_from = fp["history_from"]
    # Checkpoints written before folds dropped decided requests still hold them: the replay
    # of the same journal would not, so they go here as the next fold would drop them.
    forget_requests_decided_before(state, state.history_from)
    for start, end, agents, values in fp["daybook"]:
        state.daybook.load(start, end, agents, values)
    tallies = Tallies(fp["tallies"]["timezone"])
    tallies.load(fp["tallies"]["days"])
    tallies.log = {a: (list(t), list(s)) for a, (t, s) in fp["tallies"]["responses"].items()}
    tallies.log_from = fp["tallies"]["responses_from"]
    state.tallies = tallies
    state.schemes = {
        m: Scheme(m, currency, tuple(thresholds), tuple(rates))
        for m, (currency, thresholds, rates) in fp["schemes"].items()
    }
    state.closed_months = {
        m: ClosedMonth(closed_at, by, report.encode())
        for m, (closed_at, by, report) in fp["closed_months"].items()
    }
    state.late = {tuple(k.split(" ", 1)): list(row) for k, row in fp["late"].items()}  # type: ignore[misc]
    state.customers.load(
        ((c, a, at) for c, a, at in fp["customers"]),
        state.settings.sticky_window_s * 1000,
        state.agents,
    )
    completed = [o for o in state.orders.values() if o.completed_at is not None]
    completed.sort(key=lambda o: (o.completed_at or 0, o.seq))
    state.done.extend(o.id for o in completed if o.status == COMPLETED)
    state.rearm_timers()
    rebuild_deadlines(state)
    state.index.rebuild()
    return state


def _structure(value: Any) -> Any:
    """The keys of a fingerprint at every level (values dropped, records merged)."""
    if isinstance(value, dict):
        return {k if isinstance(k, str) else "*": _structure(v) for k, v in value.items()}
    if isinstance(value, list) and value:
        return [_structure(value[0])]
    return type(value).__name__ if value is not None else "null"


@cache
def shape() -> str:
    """A digest of the fingerprint's structure for a state with one record of each kind."""
    state = State()
    state.agents["a"] = Agent("a", "A", "t", ("s",), 1)
    state.orders["o"] = Order("o", "s", 0, b"\x00", 1, 0)
    state.requests["r"] = LogoutRequest("r", "a", 0)
    state.keys["k" * 64] = ApiKey("k" * 12, "agent", "a", 0)
    fp = fingerprint(state)
    names = msgspec.json.encode(_keys_only(_structure(fp)))
    return hashlib.sha256(names).hexdigest()[:16]


def _keys_only(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _keys_only(v) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [_keys_only(v) for v in value]
    return None
