"""Two server processes' nodes on one center (here in one event loop): owner and follower."""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio import Redis
from redis_support import Nodes, agent, eventually, more_orders, order, raises, replayed

from engine import commands as cmd
from engine.errors import SeatflowError, Unavailable
from engine.events import ShiftSpec
from engine.fingerprint import fingerprint
from engine.redis_backend import stream
from engine.redis_backend.keys import Keys
from engine.redis_backend.node import RedisNode, Role, load_engine


async def owner_and_follower(nodes: Nodes) -> tuple[RedisNode, RedisNode]:
    owner = await nodes.start("node-a")
    await eventually(lambda: owner.role is Role.OWNER, what="the first node owns the center")
    follower = await nodes.start("node-b")
    assert follower.role is Role.FOLLOWER
    return owner, follower


async def staff(node: RedisNode, *agent_ids: str) -> None:
    """Agents on shift from now, logged in, through whichever node is given."""
    start = node.now()
    for agent_id in agent_ids:
        await node.execute(agent(agent_id))
    await node.execute(
        cmd.AddShifts([ShiftSpec(a, start, start + 8 * 3_600_000) for a in agent_ids])
    )
    for agent_id in agent_ids:
        await node.execute(cmd.Login(agent_id))


async def test_the_first_node_owns_and_the_second_follows(nodes: Nodes, client: Redis) -> None:
    owner, follower = await owner_and_follower(nodes)
    assert (await client.get(owner.keys.lease)).decode().endswith(":node-a")  # type: ignore[union-attr]
    assert owner.ready and follower.ready and owner.failure is None


async def test_a_command_on_the_follower_runs_on_the_owner_and_is_read_back_at_once(
    nodes: Nodes, client: Redis, keys: Keys
) -> None:
    owner, follower = await owner_and_follower(nodes)
    reply = await follower.execute(agent("a1"))
    assert reply.status in (200, 201)
    # Read your writes: the follower's own copy holds it when the reply comes back.
    assert "a1" in follower.state.agents and "a1" in owner.state.agents
    await staff(follower, "a1", "a2")
    later = follower.now() + 60_000
    await follower.set_clock(later)  # the manual clock, moved through the owner
    assert follower.state.now == owner.state.now == later
    for command in more_orders(0, 10):
        await follower.execute(command)
    assert follower.engine.last_seq == owner.engine.last_seq == await stream.last_seq(client, keys)
    assert follower.state.orders["o9"].agent_id in ("a1", "a2")  # routed by the owner
    assert fingerprint(follower.state) == fingerprint(owner.state)
    assert fingerprint(follower.state) == fingerprint((await replayed(client, keys)).state)


async def test_commands_on_the_owner_reach_the_follower(nodes: Nodes) -> None:
    owner, follower = await owner_and_follower(nodes)
    await staff(owner, "a1")
    await follower.durable()  # a read on the follower waits for what the stream holds
    assert follower.state.agents["a1"].state == owner.state.agents["a1"].state
    assert fingerprint(follower.state) == fingerprint(owner.state)


@pytest.mark.parametrize(
    "command",
    [
        cmd.Login("ghost"),  # 404 agent_not_found
        cmd.CompleteOrder("no-such-order"),  # 404 order_not_found
        cmd.CreateKey("h", "emperor"),  # 422 invalid_field, detail {"field": "role"}
        cmd.SetClock(0),  # 409 clock_backwards
    ],
    ids=type,
)
async def test_a_forwarded_command_fails_as_it_would_on_the_owner(
    nodes: Nodes, command: cmd.Command
) -> None:
    owner, follower = await owner_and_follower(nodes)
    await owner.execute(agent("a0"))  # the center's clock now has a past to go back to
    on_owner = await raises(owner.execute(command), SeatflowError)
    forwarded = await raises(follower.execute(command), SeatflowError)
    assert isinstance(on_owner, SeatflowError) and isinstance(forwarded, SeatflowError)
    assert on_owner.status != 503
    seen = (forwarded.status, forwarded.code, forwarded.message, forwarded.detail)
    assert seen == (on_owner.status, on_owner.code, on_owner.message, on_owner.detail)


async def test_the_owner_closing_hands_the_center_over_with_its_state(
    nodes: Nodes, client: Redis, keys: Keys
) -> None:
    owner, follower = await owner_and_follower(nodes)
    await staff(owner, "a1", "a2")
    for command in more_orders(0, 8):
        await follower.execute(command)
    before = fingerprint(owner.state)
    await nodes.close(owner)
    # Released, not left to expire: the lease is gone, or already the follower's (it polls).
    lease = await client.get(keys.lease)
    assert lease is None or lease.decode().endswith(":node-b"), lease
    await eventually(lambda: follower.role is Role.OWNER, 1.0, "the follower takes over")
    assert fingerprint(follower.state) == before
    # It goes on from there: the next record follows the old owner's last one.
    seq = follower.engine.last_seq
    await follower.execute(cmd.SubmitOrders([order("o8")]))
    assert follower.engine.last_seq == seq + 1 == await stream.last_seq(client, keys)
    assert follower.state.orders["o8"].agent_id in ("a1", "a2")
    # The old owner left a snapshot at its last record: a newcomer starts from it.
    loaded, from_seq = await load_engine(client, keys, follower.clock)
    assert from_seq == seq and fingerprint(loaded.state) == fingerprint(follower.state)


async def test_an_owner_whose_lease_was_taken_steps_down_and_forgets_its_unwritten_state(
    nodes: Nodes, client: Redis, keys: Keys
) -> None:
    owner, follower = await owner_and_follower(nodes)
    await staff(owner, "a1")
    written = fingerprint(owner.state)
    # Its lease expired (a long pause) and another process took the center.
    await client.set(keys.lease, "999:thief", px=60_000)
    error = await raises(owner.execute(agent("lost")), Unavailable)
    assert isinstance(error, Unavailable) and error.status == 503
    # Its write was fenced (owner_changed), or its renewal found out first (reloading).
    assert error.code in ("owner_changed", "redis_unavailable")
    await eventually(lambda: owner.role is Role.FOLLOWER, what="the old owner reloads")
    await owner.durable()
    assert "lost" not in owner.state.agents  # applied in memory, never written: gone
    assert fingerprint(owner.state) == written
    assert "lost" not in (await replayed(client, keys)).state.agents
    assert follower.role is Role.FOLLOWER and "lost" not in follower.state.agents
    # The thief goes away; one of the two takes over and the center works again.
    await client.delete(keys.lease)
    await eventually(lambda: Role.OWNER in (owner.role, follower.role), what="a new owner")
    await follower.execute(agent("found"))
    await owner.durable()
    assert "found" in owner.state.agents and "found" in follower.state.agents


async def test_an_owner_finds_out_from_its_renewal_that_the_lease_is_gone(
    nodes: Nodes, client: Redis, keys: Keys
) -> None:
    owner, _ = await owner_and_follower(nodes)
    await client.set(keys.lease, "999:thief", px=60_000)
    # No command needed: the next renewal (every 0.5 s) fails and it steps down.
    await eventually(lambda: owner.role is not Role.OWNER, 2.0, "the owner steps down")
    error = await raises(owner.execute(agent("x")), Unavailable)
    assert isinstance(error, Unavailable) and error.status == 503


async def test_an_owner_snapshots_as_it_goes_and_a_newcomer_starts_from_it(
    nodes: Nodes, client: Redis, keys: Keys
) -> None:
    owner = await nodes.start("node-a", snapshot_every=20)
    await eventually(lambda: owner.role is Role.OWNER, what="the node owns the center")
    await staff(owner, "a1", "a2")
    for command in more_orders(0, 20):
        await owner.execute(command)
    # A forked child writes it while the owner goes on.
    await eventually(lambda: client.exists(keys.snapshot), what="a snapshot is written")
    seq = int(await client.hget(keys.snapshot, "seq"))  # type: ignore[arg-type]
    assert seq >= 20
    newcomer = await nodes.start("node-b", standby=True)
    assert newcomer.role is Role.FOLLOWER
    loaded, from_seq = await load_engine(client, keys, newcomer.clock)
    assert from_seq == seq
    await newcomer.durable()
    assert fingerprint(newcomer.state) == fingerprint(owner.state) == fingerprint(loaded.state)
    assert fingerprint(loaded.state) == fingerprint((await replayed(client, keys)).state)


async def test_a_follower_never_honours_a_key_revoked_on_the_owner(nodes: Nodes) -> None:
    """The follower's copy trails the stream (here by 0.3 s, a slow link); a request with
    a key the owner just revoked still gets 401 there, and a key the owner just made 200."""
    import httpx

    from api.app import create_app
    from api.auth import hash_key, keys_current_everywhere, new_key
    from engine.keys import key_id

    owner, follower = await owner_and_follower(nodes)
    apply_now = follower._apply

    def apply_late(engine: object, batch: list[tuple[int, bytes]]) -> None:
        asyncio.get_running_loop().call_later(0.3, apply_now, engine, batch)

    follower._apply = apply_late  # type: ignore[method-assign]
    app = create_app(follower, admin_key=None)
    transport = httpx.ASGITransport(app=keys_current_everywhere(app, app))
    async with httpx.AsyncClient(transport=transport, base_url="http://b") as http:
        key = new_key()
        await owner.execute(cmd.CreateKey(hash_key(key), "supervisor"))
        headers = {"Authorization": f"Bearer {key}"}
        assert (await http.get("/v1/agents", headers=headers)).status_code == 200
        await owner.execute(cmd.RevokeKey(key_id(hash_key(key)), "admin"))
        assert follower.state.keys[hash_key(key)].revoked_at is None  # the copy is behind
        r = await http.get("/v1/agents", headers=headers)
        assert r.status_code == 401 and r.json()["error"]["code"] == "key_revoked", r.text
