"""The engine's registries are complete: a new event, command or field cannot be half wired.

An event type with no apply function would crash replay; a command with no handler
would answer 500; a State field missing from the fingerprint would let replay drift
from live state unseen. Each registry is checked against the union or record it
serves, so adding a type or a field without its other half fails here, by name.
"""

from __future__ import annotations

import dataclasses
import typing

import msgspec

from engine import commands as cmd
from engine import events as ev
from engine.fingerprint import AGENT_CACHES, STATE_CACHES, fingerprint
from engine.handlers import HANDLERS
from engine.keys import ApiKey, key_id
from engine.settings import Settings
from engine.state import APPLY, Counters, State
from presence.agent import Agent
from presence.requests import LogoutRequest
from router.order import Order


def _names(types: typing.Iterable[type]) -> set[str]:
    return {t.__name__ for t in types}


def test_every_journaled_event_type_has_an_apply_function_and_no_other():
    assert _names(typing.get_args(ev.AnyEvent)) == _names(APPLY)


def test_every_event_class_is_in_the_journals_union():
    def subclasses(t: type) -> set[type]:
        return {s for c in t.__subclasses__() for s in (c, *subclasses(c))}

    assert _names(subclasses(ev.Event)) == _names(typing.get_args(ev.AnyEvent))


def test_every_command_has_a_handler_and_no_other():
    assert _names(typing.get_args(cmd.AnyCommand)) == _names(HANDLERS)


def test_every_command_class_is_in_the_forwarding_union():
    assert _names(cmd.Command.__subclasses__()) == _names(typing.get_args(cmd.AnyCommand))


def _fields(record: type) -> set[str]:
    if dataclasses.is_dataclass(record):
        return {f.name for f in dataclasses.fields(record)}
    return set(typing.cast(type[msgspec.Struct], record).__struct_fields__)


def test_every_state_field_is_in_the_fingerprint_or_declared_a_cache():
    fp = fingerprint(State())
    assert set(fp) == _fields(State) - STATE_CACHES
    assert STATE_CACHES <= _fields(State)


def test_every_field_of_the_records_state_holds_is_in_the_fingerprint():
    state = State()
    state.agents["a1"] = Agent("a1", "A", "t", ("pre",), 2)
    state.orders["o1"] = Order("o1", "pre", 0, b"\x00", 1, 0)
    state.requests["lr-1"] = LogoutRequest("lr-1", "a1", 0)
    state.keys["ab" * 32] = ApiKey(key_id("ab" * 32), "agent", "a1", 0)
    fp = fingerprint(state)
    assert set(fp["agents"]["a1"]) == _fields(Agent) - AGENT_CACHES - {"id"}
    assert set(fp["orders"]["o1"]) == _fields(Order) - {"id"}
    assert set(fp["requests"]["lr-1"]) == _fields(LogoutRequest) - {"id"}
    assert set(fp["keys"]["ab" * 32]) == _fields(ApiKey) - {"id"}
    assert set(fp["settings"]) == _fields(Settings)
    assert set(fp["counters"]) == _fields(Counters)
