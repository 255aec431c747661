"""One server process's view of a center kept in Redis.

    recovering --load snapshot + stream--> follower --lease acquired, tail read--> owner
        ^                                                                            |
        +------------- lease lost, a write failed, Redis unreachable too long -------+

Every process keeps its own copy of the center's state, folded from the stream: a
follower tails it (and feeds its board from it), the owner writes it. The owner runs
commands on its engine; a follower forwards them to the owner and, before answering,
waits until its own copy has applied the records the answer reflects, so what a client
reads from any process after an acknowledgement includes it.

An owner whose write fails cannot know what its state holds beyond the stream, so it
throws the state away and becomes a follower again from what Redis has: the stream is
the truth, and a command whose write failed got a 503 (a retried order is idempotent).
While a process has no usable copy (starting, Redis unreachable) it answers 503.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
import sqlite3
import time
from enum import StrEnum
from pathlib import Path
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from engine import segments
from engine.archive import decode_order
from engine.clock import Clock, start_manual
from engine.commands import Command, SetClock
from engine.core import Engine, Listener
from engine.errors import Unavailable
from engine.events import decode_record
from engine.handlers import Reply
from engine.journal import Closed, JournalError, Rows
from engine.redis_backend import snapshot, stream, trim
from engine.redis_backend.config import BLOCK_S, check_persistence, connect, raw, unreachable
from engine.redis_backend.forward import CommandServer, Forwarder, await_stopped
from engine.redis_backend.keys import Keys
from engine.redis_backend.lease import Lease
from engine.redis_backend.order_archive import DiskArchive
from engine.redis_backend.prefetch import ArchivePrefetch
from engine.redis_backend.stream import Fenced, RedisJournal
from engine.state import State, apply_record
from engine.timers import TimerDriver
from router.order import Order

log = logging.getLogger("seatflow.redis")

LEASE_MS = 2000  # a dead owner's center is free after this long
RENEW_EVERY_S = LEASE_MS / 4000  # so one or two lost renewals do not lose the lease
ACQUIRE_EVERY_S = 0.1  # how often a follower tries to take a free lease
FORWARD_TIMEOUT_S = 10.0
CATCH_UP_MIN_S = 0.5  # a follower with the owner's answer in hand waits this long at least
SNAPSHOT_EVERY = 50_000  # records between snapshots
READ_CHUNK = 10_000
STOP_WAIT_S = 5.0


class Role(StrEnum):
    RECOVERING = "recovering"
    FOLLOWER = "follower"
    OWNER = "owner"


class _FollowerJournal:
    """A follower's engine never writes: its node forwards commands to the owner."""

    def append(self, record: bytes, rows: Rows = (), closed: Closed = ()) -> asyncio.Future[int]:
        raise JournalError("a follower does not write the journal")

    async def flush(self) -> None:
        return None

    async def close(self) -> None:
        return None


def node_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"


class RedisNode:
    def __init__(
        self,
        url: str,
        center: str,
        clock: Clock,
        *,
        node: str | None = None,
        lease_ms: int = LEASE_MS,
        forward_timeout_s: float = FORWARD_TIMEOUT_S,
        snapshot_every: int = SNAPSHOT_EVERY,
        standby: bool = False,
        start_ms: int | None = None,
        segments_dir: Path | None = None,
    ) -> None:
        self.url = url
        # With a manual clock: where it starts if the center has no history yet (--start).
        self.start_ms = start_ms
        self.keys = Keys(center)
        self.clock = clock
        self.node = node or node_name()
        self.lease_ms = lease_ms
        self.snapshot_every = snapshot_every
        self.standby = standby  # never takes the lease (tests, a read-only board server)
        # Where the stream's records go before they are trimmed (engine.redis_backend.trim).
        self.segments_dir = segments_dir
        self.listeners: list[Listener] = []
        self.role = Role.RECOVERING
        self.problem = "starting: loading the center from Redis"
        self.warning: str | None = None
        self.failovers = 0
        self._engine = Engine(_FollowerJournal(), clock)
        self._client, self._blocking = connect(url)
        self._lease = Lease(self._client, self.keys, self.node, lease_ms)
        self._forwarder = Forwarder(
            self._client, self._blocking, self.keys, self.node, forward_timeout_s
        )
        self._lease_value: str | None = None
        self._renewed_at = 0.0
        self._applied = asyncio.Event()
        self._running: set[asyncio.Task[None]] = set()  # every loop spawned, until it ends
        self._tail_gen = 0  # a tail applies records only while this is still its own
        self._snapshot_seq = 0
        self._snapshot_child: int | None = None
        self._server: CommandServer | None = None
        self._redis_down: str | None = None
        self._closing = False
        # Archive rows moved out of the hash by trims (order_archive), in segments_dir.
        self._disk = None if segments_dir is None else DiskArchive(segments_dir)
        self._cannot_own_logged = False
        # Archive rows read ahead of the commands that name them, one HMGET per loop turn.
        self._prefetch = ArchivePrefetch(self._client, self.keys.archive, self._disk)

    # -- what the API reads ---------------------------------------------------------

    @property
    def state(self) -> State:
        return self._engine.state

    @property
    def engine(self) -> Engine:
        return self._engine

    @property
    def ready(self) -> bool:
        return self.role is not Role.RECOVERING

    @property
    def failure(self) -> str | None:
        return None if self.ready else self.problem

    def now(self) -> int:
        return self._engine.now()

    # -- lifetime -------------------------------------------------------------------

    async def start(self, wait_s: float = 10.0) -> None:
        """Connect and load; returns once serving, or after wait_s with 503s until Redis is up."""
        try:
            self.warning = await check_persistence(self._client)
        except RedisError as exc:
            log.error("Redis at %s is unreachable (%s); retrying", self.url, exc)
        self._forwarder.start()
        self._spawn("supervise", self._supervise())
        deadline = time.monotonic() + wait_s
        while self.role is Role.RECOVERING and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        if self.role is not Role.RECOVERING and not self.standby:
            # A center nobody owns is taken at once, before the first request arrives.
            end = time.monotonic() + 2 * ACQUIRE_EVERY_S
            while self.role is Role.FOLLOWER and time.monotonic() < end:
                await asyncio.sleep(0.01)

    async def close(self) -> None:
        self._closing = True
        self._retire_tail()
        self._forwarder.stop()
        if self._server is not None:
            self._server.stop()
        if self._engine.driver is not None:
            self._engine.driver.stop()
        await await_stopped(self._running - {asyncio.current_task()}, STOP_WAIT_S)
        await self._forwarder.close()  # told to stop with the rest: ended by now, or soon
        if self._server is not None:
            await self._server.drain()
        if self.role is Role.OWNER and self._lease_value is not None:
            engine, value = self._engine, self._lease_value
            try:
                journal = engine.journal
                await journal.flush()
                if (
                    isinstance(journal, RedisJournal)
                    and journal.appended > self._snapshot_seq
                    and journal.appended_record
                ):
                    snapshot.save_now(
                        self.url, self.keys, engine.state, journal.appended,
                        journal.appended_record, value,
                    )  # fmt: skip
                await self._lease.release(value)
                log.info("center %s released at seq %d", self.keys.center, engine.last_seq)
            except (RedisError, JournalError, OSError) as exc:
                log.warning("closing as owner: %s", exc)
        self._reap_snapshot(wait=True)
        if self._disk is not None:
            self._disk.close()
        await self._client.aclose()
        await self._blocking.aclose()

    def _spawn(self, name: str, coro: object) -> None:
        loop = asyncio.get_running_loop()
        name = f"center {self.keys.center}: {name}"
        task: asyncio.Task[None] = loop.create_task(coro, name=name)  # type: ignore[arg-type]
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    # -- commands and reads ---------------------------------------------------------

    async def execute(self, command: Command, *, at: int | None = None) -> Reply:
        if self.role is Role.OWNER:
            reply, _ = await self._run_owned(command, at)
            return reply
        if self.role is Role.FOLLOWER:
            # One deadline for the whole command, so a client waits at most about that long.
            give_up_at = time.monotonic() + self._forwarder.timeout_s
            answer = await self._forwarder.send(command)
            await self._caught_up(answer.seq, max(give_up_at - time.monotonic(), CATCH_UP_MIN_S))
            return answer.reply()
        raise self._unavailable()

    async def set_clock(self, to: int) -> Reply:
        return await self.execute(SetClock(to))

    async def durable(self) -> None:
        """Reads wait until this copy holds every record acknowledged before they began."""
        if self.role is Role.OWNER:
            engine = self._engine
            try:
                await engine.durable()
            except Unavailable:
                self._demote(engine, engine.failure or "a write failed")
                raise self._unavailable() from None
            return
        if self.role is Role.FOLLOWER:
            try:
                top = await stream.last_seq(self._client, self.keys)
            except RedisError as exc:
                raise unreachable(exc) from None
            await self._caught_up(top)
            return
        raise self._unavailable()

    async def find_archived(self, order_id: str) -> Order | None:
        """An archived order from the archive hash (set with its stream record), else
        from the order archive in segments_dir its row moved to (order_archive)."""
        if not self.ready:
            raise self._unavailable()
        if self.role is Role.OWNER:
            held = self._engine.recent.get(order_id)
            if held is not None:
                return held
        if not self.state.archived_ids.may_hold(order_id):
            # Never archived as of this copy's records; an order archived by one it has
            # not applied yet is still in its memory, so the caller found it there.
            return None
        try:
            data = await self._client.hget(self.keys.archive, order_id)
            if data is None and self._disk is None and await self._rows_moved():
                raise Unavailable(
                    f"archived orders of center {self.keys.center!r} moved to the order "
                    "archive in --segments DIR, which this process was not given",
                    code="archive_unavailable",
                )
        except RedisError as exc:
            raise unreachable(exc) from None
        if data is None and self._disk is not None:
            try:
                data = await asyncio.to_thread(self._disk.get, order_id)
            except sqlite3.Error as exc:
                raise Unavailable(
                    f"the order archive in --segments DIR cannot be read ({exc}); retry"
                ) from None
        return None if data is None else decode_order(raw(data))

    async def _rows_moved(self) -> bool:
        """Have trims moved archive rows to a --segments DIR (order_archive)?"""
        return bool(await self._client.exists(self.keys.archive_moved))

    async def catch_up(self) -> None:
        """A follower's copy takes in every record acknowledged before now; else nothing.

        The owner's copy is the source, so it has nothing to catch up with.
        """
        if self.role is Role.FOLLOWER:
            await self.durable()

    async def _run_owned(self, command: Command, at: int | None = None) -> tuple[Reply, int]:
        """Run on this owner's engine; the reply and the seq it reflects."""
        engine = self._engine
        prefetch = self._prefetch
        held = prefetch.wanted(engine, command)
        if held is None:
            held = []  # nothing to read, nobody ahead: runs at once
        else:
            held = await prefetch.hold(engine, held)  # waits for those before it
        try:
            if isinstance(command, SetClock):
                reply = await engine.set_clock(command.to)
            else:
                reply = await engine.execute(command, at=at)
        except Unavailable:
            if engine.failure is not None:
                self._demote(engine, engine.failure)
                fenced = isinstance(getattr(engine.journal, "failed", None), Fenced)
                raise self._unavailable(lost_lease=fenced) from None
            raise
        finally:
            self._prefetch.release(engine, held)
        return reply, engine.last_seq

    async def _run_timers(self, command: Command) -> Reply:
        reply, _ = await self._run_owned(command)
        return reply

    async def _run_forwarded(self, command: Command) -> tuple[Reply, int]:
        if self.role is not Role.OWNER:
            raise self._unavailable()
        return await self._run_owned(command)

    def _unavailable(self, *, lost_lease: bool = False) -> Unavailable:
        """Why this process cannot serve now: `owner_changed` when it lost the lease."""
        if self.role is Role.RECOVERING and not lost_lease:
            return Unavailable(
                f"center {self.keys.center!r} is not available here: {self.problem}; retry",
                code="redis_unavailable",
            )
        return Unavailable(
            f"this process lost the ownership of center {self.keys.center!r}; retry",
            code="owner_changed",
        )

    async def _caught_up(self, seq: int, timeout_s: float = 5.0) -> None:
        deadline = time.monotonic() + timeout_s
        while self._engine.last_seq < seq:
            if self.role is Role.RECOVERING:
                raise self._unavailable()
            left = deadline - time.monotonic()
            if left <= 0:
                raise Unavailable(
                    f"this process has not caught up with record {seq} of center "
                    f"{self.keys.center!r}; retry",
                    code="redis_unavailable",
                )
            event = self._applied
            try:
                await asyncio.wait_for(event.wait(), left)
            except TimeoutError:
                pass

    def _progressed(self) -> None:
        event, self._applied = self._applied, asyncio.Event()
        event.set()

    # -- roles ----------------------------------------------------------------------

    async def _step(self) -> None:
        """One turn of the role's duty: load, try for the lease, or keep it."""
        if self.role is Role.RECOVERING:
            await self._load()
        elif self.role is Role.FOLLOWER:
            await self._check_not_ahead()
            if not self.standby and await self._may_own():
                value = await self._lease.acquire()
                if value is not None:
                    await self._promote(value)
        elif self.role is Role.OWNER:
            await self._keep_lease()
            self._maybe_snapshot()

    async def _may_own(self) -> bool:
        """Without segments_dir a process cannot own a center whose archive rows moved
        there: it would take an archived id it cannot read for a new one. While it
        holds the lease nothing moves (only the owner's child trims)."""
        if self._disk is not None or not await self._rows_moved():
            return True
        if not self._cannot_own_logged:
            log.error(
                "center %s: archive rows were moved to a --segments DIR; this process has "
                "none, so it serves as a follower only (restart it with --segments DIR)",
                self.keys.center,
            )
            self._cannot_own_logged = True
        return False

    async def _supervise(self) -> None:
        while not self._closing:
            try:
                await self._step()
                if self._redis_down is not None:
                    log.warning("center %s: Redis is reachable again", self.keys.center)
                    self._redis_down = None
            except (RedisError, OSError) as exc:
                self._on_redis_down(exc)
            except JournalError as exc:  # the stream cannot make a state (trimmed, no snapshot)
                if self.problem != str(exc):
                    log.error("center %s: %s", self.keys.center, exc)
                self.problem = str(exc)
            except Exception:
                log.exception("center %s: supervisor error; recovering", self.keys.center)
                self._demote(self._engine, "internal error", release=False)
            self._reap_snapshot()
            if self.role is Role.OWNER:
                await asyncio.sleep(RENEW_EVERY_S)
            elif self.role is Role.FOLLOWER:
                await asyncio.sleep(ACQUIRE_EVERY_S)
            else:
                await asyncio.sleep(0.2)

    async def _load(self) -> None:
        """A fresh copy of the center: the snapshot, then the stream after it."""
        started = time.perf_counter()
        engine, from_seq = await load_engine(self._client, self.keys, self.clock)
        engine.listeners = self.listeners
        self._snapshot_seq = from_seq
        start_manual(self.clock, engine.state.now, self.start_ms)
        self._engine = engine
        self.role = Role.FOLLOWER
        self._progressed()
        self._spawn("tail", self._tail(engine, self._tail_gen))
        log.info(
            "center %s loaded: snapshot at %d, %d records after it, in %.3f s",
            self.keys.center, from_seq, engine.last_seq - from_seq, time.perf_counter() - started,
        )  # fmt: skip

    async def _read_after(self, seq: int) -> list[tuple[int, bytes]]:
        return await stream.read_after(self._client, self.keys, seq, READ_CHUNK)

    def _apply(self, engine: Engine, batch: list[tuple[int, bytes]]) -> None:
        """Fold records another process wrote into this copy, and show them on its board."""
        state = engine.state
        for seq, data in batch:
            record = decode_record(data)
            apply_record(state, record)
            engine.last_seq = seq
            engine.notify(record)
        engine.follow_clock()
        self._progressed()

    async def _tail(self, engine: Engine, gen: int) -> None:
        block_ms = int(BLOCK_S * 1000)
        while self._tail_gen == gen and self._engine is engine and self.role is Role.FOLLOWER:
            try:
                batch = await stream.tail(self._blocking, self.keys, engine.last_seq, block_ms)
            except (RedisError, OSError) as exc:
                log.debug("tailing center %s: %s", self.keys.center, exc)
                await asyncio.sleep(0.1)
                continue
            if self._tail_gen != gen:
                return  # retired while it waited: a promotion reads the stream on its own
            self._apply(engine, batch)

    def _retire_tail(self) -> None:
        """The running tail stops applying records now, and ends at its next wake-up."""
        self._tail_gen += 1

    async def _promote(self, value: str) -> None:
        """The lease is ours: read the rest of the stream (final now), then write it."""
        started = time.perf_counter()
        self._retire_tail()
        engine = self._engine
        try:
            while batch := await self._read_after(engine.last_seq):
                self._apply(engine, batch)
        except BaseException:
            self._demote(engine, "could not read the stream's tail", release=True, value=value)
            raise
        journal = RedisJournal(self._client, self.keys, value, engine.last_seq + 1)
        if engine.last_seq:  # a snapshot names the digest of its last record: have it in hand
            last = await stream.read_after(self._client, self.keys, engine.last_seq - 1, 1)
            if last and last[0][0] == engine.last_seq:
                journal.appended_record = last[0][1]
        engine.journal = journal
        self._lease_value = value
        self._renewed_at = time.monotonic()
        self.role = Role.OWNER
        self.failovers += 1
        self._server = CommandServer(self._client, self._blocking, self.keys, self._run_forwarded)
        self._spawn("serve", self._server.run())
        # Only the owner runs lifecycle timers (a real clock's; a follower applies the journal).
        TimerDriver(engine, self._run_timers).start()
        log.info(
            "center %s: owner with lease %s at seq %d (took %.3f s)",
            self.keys.center, value, engine.last_seq, time.perf_counter() - started,
        )  # fmt: skip

    async def _check_not_ahead(self) -> None:
        """A stream shorter than this copy means Redis lost acknowledged records."""
        # What this copy held before asking: the tail may apply newer records meanwhile.
        engine = self._engine
        held = engine.last_seq
        top = await stream.last_seq(self._client, self.keys)
        if top < held:
            log.error(
                "center %s: the stream ends at %d but this copy holds %d records: Redis lost "
                "acknowledged records (was it restarted without AOF?); reloading from what it has",
                self.keys.center, top, held,
            )  # fmt: skip
            self._demote(engine, "Redis lost records", release=False)

    async def _keep_lease(self) -> None:
        assert self._lease_value is not None
        if await self._lease.renew(self._lease_value):
            self._renewed_at = time.monotonic()
        else:
            self._demote(self._engine, "the lease was taken by another process", release=False)

    def _on_redis_down(self, exc: BaseException) -> None:
        if self.role is Role.OWNER:
            # Until the lease would have expired it may still be ours; after that, surely not.
            if time.monotonic() - self._renewed_at > self.lease_ms / 1000 * 0.8:
                self._demote(self._engine, f"Redis unreachable: {exc}", release=False)
        elif self.role is Role.RECOVERING:
            self.problem = f"Redis unreachable: {exc}"
        if self._redis_down is None:
            log.warning("center %s (%s): Redis unreachable: %s", self.keys.center, self.role, exc)
        self._redis_down = str(exc)

    def _demote(
        self, engine: Engine, reason: str, *, release: bool = True, value: str | None = None
    ) -> None:
        """Throw this copy away (it may be ahead of the stream) and load again."""
        if engine is not self._engine or self.role is Role.RECOVERING:
            return
        was_owner = self.role is Role.OWNER
        value = value or self._lease_value
        if engine.driver is not None:
            engine.driver.stop()
        self.role = Role.RECOVERING
        self.problem = reason
        self._lease_value = None
        journal = engine.journal
        if isinstance(journal, RedisJournal) and journal.failed is None:
            journal.fail(Fenced(reason))
        engine.failure = engine.failure or reason
        self._progressed()  # waiters see RECOVERING and give up
        self._retire_tail()
        if self._server is not None:
            self._server.stop()
        log.warning(
            "center %s: %s; %s", self.keys.center, reason,
            "stepping down as owner" if was_owner else "reloading",
        )  # fmt: skip
        if release and value is not None and was_owner:
            asyncio.get_running_loop().create_task(self._release_quietly(value))

    async def _release_quietly(self, value: str) -> None:
        try:
            await self._lease.release(value)
        except RedisError:
            pass

    # -- snapshots ------------------------------------------------------------------

    def _maybe_snapshot(self) -> None:
        engine, value = self._engine, self._lease_value
        journal = engine.journal
        if self._snapshot_child is not None or value is None:
            return
        if not isinstance(journal, RedisJournal) or not journal.appended_record:
            return
        seq = journal.appended  # the state holds every record appended, durable or not yet
        if seq - self._snapshot_seq < self.snapshot_every:
            return
        self._snapshot_child = snapshot.fork_save(
            self.url, self.keys, engine.state, seq, journal.appended_record, value,
            self.segments_dir,
        )  # fmt: skip
        self._snapshot_seq = seq

    def _reap_snapshot(self, wait: bool = False) -> None:
        pid = self._snapshot_child
        if pid is None:
            return
        done, status = os.waitpid(pid, 0 if wait else os.WNOHANG)
        if done == 0:
            return
        self._snapshot_child = None
        code = os.waitstatus_to_exitcode(status)
        if code != 0:
            log.warning("center %s: the snapshot child exited %d", self.keys.center, code)


async def load_engine(client: Redis, keys: Keys, clock: Clock) -> tuple[Engine, int]:
    """An engine holding the center as Redis has it, and the snapshot seq it started from."""
    engine = Engine(_FollowerJournal(), clock)
    got = await snapshot.load(client, keys)
    if got is not None:
        engine.last_seq, engine.state = got
    from_seq = engine.last_seq
    first = await stream.first_seq(client, keys) or 1
    if first > engine.last_seq + 1:
        raise JournalError(
            f"records {engine.last_seq + 1}..{first - 1} were trimmed from the stream into journal "
            "segments and no usable snapshot covers them: restore the snapshot, or replay with "
            "the segments (seatflow replay --redis URL --segments DIR)"
        )
    while batch := await stream.read_after(client, keys, engine.last_seq, READ_CHUNK):
        engine.recover(batch)
    return engine, from_seq


async def read_history(url: str, center: str, clock: Clock, directory: Path) -> Engine:
    """The center rebuilt from its whole history: the trimmed segments, then the stream."""
    client, blocking = connect(url)
    keys = Keys(center)
    try:
        listed: Any = await client.lrange(keys.segments, 0, -1)
        moved = [trim.parse(item) for item in listed]
        engine = Engine(_FollowerJournal(), clock)
        engine.recover(segments.history(directory, moved))
        while batch := await stream.read_after(client, keys, engine.last_seq, READ_CHUNK):
            if batch[0][0] != engine.last_seq + 1:
                raise segments.SegmentError(
                    f"the stream goes on at {batch[0][0]}, the segments end at {engine.last_seq}"
                )
            engine.recover(batch)
        return engine
    finally:
        await client.aclose()
        await blocking.aclose()


async def read_center(url: str, center: str, clock: Clock) -> Engine:
    """The center's state for a one-off reader (`seatflow replay`, `seatflow payroll`)."""
    client, blocking = connect(url)
    try:
        engine, _ = await load_engine(client, Keys(center), clock)
        return engine
    finally:
        await client.aclose()
        await blocking.aclose()
