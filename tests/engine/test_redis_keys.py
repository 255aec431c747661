"""Key names, and the command codec a forwarded command crosses processes with (no server)."""

from __future__ import annotations

import typing

import msgspec
import pytest
from redis.crc import key_slot
from redis_support import T0, agent, order

from engine import commands as cmd
from engine.events import ShiftSpec
from engine.redis_backend.forward import Request
from engine.redis_backend.keys import BadCenterName, Keys
from engine.redis_backend.node import RedisNode


def every_key(keys: Keys) -> list[str]:
    return [
        keys.journal, keys.lease, keys.fence, keys.snapshot, keys.commands, keys.taken,
        keys.archive, keys.closed, keys.segments,
        keys.replies("node-1"), keys.replies("node-2"), keys.replies_taken("node-1"),
    ]  # fmt: skip


def test_every_key_of_a_center_is_distinct_and_in_one_cluster_slot() -> None:
    names = every_key(Keys("north-1"))
    assert len(set(names)) == len(names)
    assert all("{north-1}" in name and name.startswith("seatflow:") for name in names)
    # The Lua scripts touch the lease and the stream together: a cluster needs one slot.
    assert len({key_slot(name.encode()) for name in names}) == 1


def test_two_centers_share_no_key() -> None:
    assert not set(every_key(Keys("a"))) & set(every_key(Keys("b")))
    # A name that is a prefix of another does not leak into it either.
    assert not set(every_key(Keys("north"))) & set(every_key(Keys("north-1")))


@pytest.mark.parametrize("name", ["", "north 1", "north\n", "a{b}", "a:b", "x" * 65, "é", "a/b"])
def test_bad_center_names_are_refused_with_what_to_use(name: str) -> None:
    with pytest.raises(BadCenterName) as info:
        Keys(name)
    assert repr(name) in str(info.value)
    assert "1-64 letters, digits" in str(info.value)


def test_a_node_refuses_a_bad_center_before_connecting() -> None:
    # Port 1: nothing listens there; the name is refused before any connection is made.
    with pytest.raises(BadCenterName):
        RedisNode("redis://127.0.0.1:1/0", "bad name", clock=None)  # type: ignore[arg-type]


def test_longest_and_odd_but_allowed_names_work() -> None:
    for name in ("x" * 64, "A.b_c-9", "1"):
        assert Keys(name).journal == f"seatflow:{{{name}}}:journal"


def _all_commands() -> set[type[cmd.Command]]:
    found: set[type[cmd.Command]] = set()
    todo = list(cmd.Command.__subclasses__())
    while todo:
        kind = todo.pop()
        found.add(kind)
        todo += kind.__subclasses__()
    return found


# One of each command, with every optional field set away from its default.
EXAMPLES: list[cmd.Command] = [
    agent("a1"),
    cmd.AddShifts([ShiftSpec("a1", T0, T0 + 3_600_000)]),
    cmd.Login("a1"),
    cmd.GoAway("a1", "lunch"),
    cmd.GoAvailable("a1"),
    cmd.Logout("a1"),
    cmd.ForceLogout("a1", "sup"),
    cmd.ApproveLogout("lr-1", "sup"),
    cmd.DenyLogout("lr-2", "sup"),
    cmd.SubmitOrders(
        [order("o1"), cmd.NewOrder("o2", None, 3, b"\x00\xff", b'{"k": 1}', "c1", "a1")]
    ),
    cmd.CompleteOrder("o1", as_agent="a1"),
    cmd.RecordResponse("o1", as_agent="a1"),
    cmd.FireTimers(),
    cmd.ArchiveOrders(500),
    cmd.FoldPresence(),
    cmd.RecordQa("o1", False, "qa"),
    cmd.CreateKey("hash", "agent", "a1"),
    cmd.RevokeKey("0123456789ab", "admin"),
    cmd.ClosePayrollMonth("2026-10", "payroll:1234"),
    cmd.SetClock(T0 + 5),
    cmd.ChangeSettings(600, 300, "Asia/Shanghai", (5, 3), 2, "zh-CN", 60, 30, 86400),
    cmd.SetPayrollScheme("2026-11-01", "CNY", [0, 100], [150, 200]),
]


def test_any_command_names_every_command() -> None:
    assert set(typing.get_args(cmd.AnyCommand)) == _all_commands()


def test_every_kind_of_command_survives_forwarding() -> None:
    assert {type(c) for c in EXAMPLES} == _all_commands(), "add an example of the new command"
    decode = msgspec.msgpack.Decoder(Request).decode
    for command in EXAMPLES:
        request = Request("node-1/7", "replies", 1_700_000_000_000, command)  # type: ignore[arg-type]
        back = decode(msgspec.msgpack.encode(request))
        assert back == request
        assert type(back.command) is type(command)
