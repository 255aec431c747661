"""Commands from a server process that does not own the center to the one that does.

    non-owner                        Redis                        owner
    send(command) --RPUSH-->  {center}:commands  --BLMOVE/TAKE-->  serve: engine.execute
    future by id  <-BLMOVE--  {center}:replies:<node>  <--RPUSH-- Answer(id, status, body, seq)

A request carries a deadline: one still in the list when its sender has given up (no
owner during a failover) is dropped by the next owner rather than run late. The sender
answers 503 then; a retried order is idempotent, so nothing is lost or doubled.
The answer carries the seq of the last record the reply reflects, so the sender can wait
until its own copy of the state has caught up before answering (read your writes).

The owner takes requests by moving them to {center}:taken (BLMOVE), and removes one
there in the same transaction that pushes its answer. So a request is never only in an
owner's memory: one whose owner died, or whose move Redis's restart cut off before
the owner heard of it, is still in the taken list, and the owner serving next (or the
same one, once Redis is back) serves it then, instead of its sender waiting out the
timeout. An answer Redis could not take is pushed again until the request's deadline.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

import msgspec
from redis.asyncio import Redis
from redis.exceptions import RedisError

from engine.commands import AnyCommand, Command
from engine.errors import SeatflowError, Unavailable
from engine.handlers import Reply
from engine.redis_backend.config import BLOCK_S, COMMAND_TIMEOUT_S
from engine.redis_backend.keys import Keys
from engine.redis_backend.scripts import ANSWER as ANSWER_SCRIPT
from engine.redis_backend.scripts import TAKE as TAKE_SCRIPT

log = logging.getLogger("seatflow.redis")
T = TypeVar("T")

REPLY_TTL_MS = 60_000  # a reply list outlives its process by a minute, then goes
TAKE = 256  # items (requests, replies) taken per round trip
ANSWER_RETRY_S = 0.1  # between pushes of an answer Redis could not take
READER_STOP_S = BLOCK_S + COMMAND_TIMEOUT_S  # the reply reader, told to stop, has ended by then


class Request(msgspec.Struct, array_like=True):
    id: str
    reply_to: str
    deadline_ms: int  # wall clock, ms since the epoch
    command: AnyCommand


class Failure(msgspec.Struct, array_like=True):
    status: int
    code: str
    message: str
    detail: Any = None


class Answer(msgspec.Struct, array_like=True):
    id: str
    seq: int
    status: int = 200
    body: bytes = b"null"  # JSON
    error: Failure | None = None

    def reply(self) -> Reply:
        """The owner's reply, or its error raised here."""
        if self.error is not None:
            raise remote_error(self.error)
        return Reply(self.status, msgspec.Raw(self.body), self.body)


def remote_error(f: Failure) -> SeatflowError:
    exc = SeatflowError(f.message, code=f.code, detail=f.detail)
    exc.status = f.status
    return exc


_encode = msgspec.msgpack.Encoder().encode
_decode_request = msgspec.msgpack.Decoder(Request).decode
_decode_answer = msgspec.msgpack.Decoder(Answer).decode


def _wall_ms() -> int:
    return time.time_ns() // 1_000_000


async def await_stopped(tasks: set[asyncio.Task[None]], timeout_s: float) -> None:
    """Wait for loops told to stop (by a flag) to end; cancel only what outlives timeout_s.

    Told, not cancelled: cancelling a task inside a redis-py blocking read can leave it
    waiting forever on a reply that never comes (seen as a `keys create --redis` that
    never exited). Each loop wakes within BLOCK_S.
    """
    if not tasks:
        return
    _, late = await asyncio.wait(tasks, timeout=timeout_s)
    for task in late:
        log.warning("%s did not stop in time; cancelling it", task.get_name())
        task.cancel()


class Coalesced(Generic[T]):
    """Writes to Redis made while one is in flight go together in the next: one round trip.

    Group commit for the forwarding lists (the journal does the same for records): a
    burst of forwarded commands, or of their answers, costs a round trip per batch, not
    per item, and never needs more than one connection.
    """

    def __init__(self, write: Callable[[list[T]], Awaitable[None]]) -> None:
        self._write = write
        self._pending: list[tuple[T, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None

    def add(self, item: T) -> asyncio.Future[None]:
        """Resolves once the batch holding the item is written; fails as that write does."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[None] = loop.create_future()
        self._pending.append((item, fut))
        if self._writer is None:
            self._writer = loop.create_task(self._drain())
        return fut

    async def _drain(self) -> None:
        try:
            while self._pending:
                batch, self._pending = self._pending[:TAKE], self._pending[TAKE:]
                try:
                    await self._write([item for item, _ in batch])
                except Exception as exc:  # every waiter hears of it; none waits for ever
                    for _, fut in batch:
                        if not fut.done():
                            fut.set_exception(exc)
                    continue
                for _, fut in batch:
                    if not fut.done():
                        fut.set_result(None)
        finally:
            self._writer = None


class Taker:
    """Moves items from one list to a list that holds them until they are handled.

    Redis can move an item and then go down before its reply reaches us: the item is
    then only in the holding list, which the caller reads again (`held`) after an error.
    With `drop_handled`, every item returned counts as handled and is dropped from the
    holding list by the next call; without, the caller removes each one itself. A busy
    list costs one round trip per batch (the TAKE script); an idle one blocks in BLMOVE
    for the first item.
    """

    def __init__(
        self,
        blocking: Redis,
        src: str,
        dst: str,
        *,
        ttl_ms: int = 0,
        drop_handled: bool,
    ) -> None:
        self._blocking = blocking
        self._script = blocking.register_script(TAKE_SCRIPT)  # no retries: see config.connect
        self._src, self._dst = src, dst
        self._ttl_ms = ttl_ms
        self._drop_handled = drop_handled
        self._handled = 0  # items at the head of dst given to the caller, not yet dropped

    async def take(self) -> list[bytes]:
        """The next items; [] when none came within BLOCK_S."""
        args = [TAKE, self._ttl_ms, self._handled]
        got: Any = await self._script(keys=[self._src, self._dst], args=args)
        self._handled = 0
        if not got:
            # A decimal timeout: Redis >= 6 takes one, redis-py's hint says int.
            first: Any = await self._blocking.blmove(self._src, self._dst, BLOCK_S)  # type: ignore[arg-type]
            got = [] if first is None else [first]
        return self._given(list(got))

    async def held(self) -> list[bytes]:
        """Everything in the holding list."""
        got: Any = await self._blocking.lrange(self._dst, 0, -1)
        return self._given(list(got))

    def _given(self, items: list[bytes]) -> list[bytes]:
        if self._drop_handled:
            self._handled = len(items)
        return items


class Forwarder:
    """The sending side, one per server process."""

    def __init__(
        self, client: Redis, blocking: Redis, keys: Keys, node: str, timeout_s: float
    ) -> None:
        self._client = client
        self._blocking = blocking
        self._keys = keys
        self._node = node
        self.timeout_s = timeout_s
        self._ids = itertools.count(1)
        self._waiting: dict[str, asyncio.Future[Answer]] = {}
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._requests: Coalesced[bytes] = Coalesced(self._push)
        self._replies = Taker(
            blocking, keys.replies(node), keys.replies_taken(node),
            ttl_ms=REPLY_TTL_MS, drop_handled=True,
        )  # fmt: skip

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._task = loop.create_task(self._read_replies(), name="forwarder replies")

    async def send(self, command: Command) -> Answer:
        """The owner's answer, within the timeout from now (the push to Redis included)."""
        loop = asyncio.get_running_loop()
        give_up_at = loop.time() + self.timeout_s
        rid = f"{self._node}/{next(self._ids)}"
        fut: asyncio.Future[Answer] = loop.create_future()
        self._waiting[rid] = fut
        deadline = _wall_ms() + int(self.timeout_s * 1000)
        request = Request(rid, self._keys.replies(self._node), deadline, command)  # type: ignore[arg-type]
        try:
            await self._requests.add(_encode(request))
            return await asyncio.wait_for(asyncio.shield(fut), max(0.0, give_up_at - loop.time()))
        except TimeoutError:
            raise Unavailable(
                f"no engine answered for center {self._keys.center!r} within "
                f"{self.timeout_s:g} s (an owner failover in progress?); retry",
                code="owner_unavailable",
            ) from None
        except RedisError as exc:
            raise Unavailable(f"Redis is unreachable: {exc}", code="redis_unavailable") from None
        finally:
            self._waiting.pop(rid, None)

    async def _push(self, requests: list[bytes]) -> None:
        await self._client.rpush(self._keys.commands, *requests)

    async def _read_replies(self) -> None:
        look_again = False
        while not self._closing:
            try:
                if look_again:  # a move whose reply an outage cut off is only in the held list
                    batch = await self._replies.held()
                    look_again = False
                else:
                    batch = await self._replies.take()
            except RedisError as exc:
                log.debug("reading replies: %s", exc)
                look_again = True
                await asyncio.sleep(0.2)
                continue
            for raw in batch:
                answer = _decode_answer(raw)
                fut = self._waiting.get(answer.id)
                if fut is not None and not fut.done():
                    fut.set_result(answer)

    def stop(self) -> None:
        """Read no more replies; the reader ends at its next wake-up."""
        self._closing = True

    async def close(self) -> None:
        """Stop reading replies: told, not cancelled (see await_stopped)."""
        self.stop()
        if self._task is not None:
            await await_stopped({self._task}, READER_STOP_S)


Execute = Callable[[Command], Awaitable[tuple[Reply, int]]]


class CommandServer:
    """The owner's side: take forwarded requests, run each, answer by id."""

    def __init__(self, client: Redis, blocking: Redis, keys: Keys, execute: Execute) -> None:
        self._client = client
        self._blocking = blocking
        self._keys = keys
        self._execute = execute
        self._requests = Taker(blocking, keys.commands, keys.taken, drop_handled=False)
        self._answers: Coalesced[tuple[str, bytes, bytes]] = Coalesced(self._push_answers)
        self._answer_script = client.register_script(ANSWER_SCRIPT)
        self._inflight: set[asyncio.Task[None]] = set()
        self._serving: set[bytes] = set()  # requests taken by this server and not yet answered
        self._stopping = False
        self.served = 0
        self.expired = 0

    async def run(self) -> None:
        """Take requests until stopped; the ones taken are answered even then (drain)."""
        look_again = True  # first the taken list: what an owner before this one left there
        while not self._stopping:
            try:
                if look_again:
                    batch = [raw for raw in await self._requests.held() if raw not in self._serving]
                    look_again = False
                else:
                    batch = await self._requests.take()
            except RedisError as exc:
                # An owner keeps its lease through a short Redis outage: keep serving after it,
                # and look at the taken list again (a move whose reply was lost is only there).
                log.debug("taking forwarded commands: %s", exc)
                look_again = True
                await asyncio.sleep(0.2)
                continue
            if self._stopping:
                if batch:
                    await self._give_back(batch)
                return
            for raw in batch:
                self._start(raw)

    def stop(self) -> None:
        """Take nothing more; `run` returns at its next wake-up (within BLOCK_S)."""
        self._stopping = True

    async def _give_back(self, batch: list[bytes]) -> None:
        """Requests taken after this server was told to stop go back, first in line."""
        try:
            async with self._client.pipeline(transaction=True) as pipe:
                for raw in batch:
                    pipe.lrem(self._keys.taken, 1, raw)  # type: ignore[arg-type]
                pipe.lpush(self._keys.commands, *reversed(batch))
                await pipe.execute()
        except RedisError as exc:  # still in the taken list: the next owner serves them
            log.warning("could not give %d requests back: %s", len(batch), exc)

    def _start(self, raw: bytes) -> None:
        self._serving.add(raw)
        task = asyncio.get_running_loop().create_task(self._serve(raw))
        self._inflight.add(task)
        task.add_done_callback(self._inflight.discard)

    async def drain(self, timeout_s: float = 5.0) -> None:
        """Wait for the requests already taken to be answered."""
        if self._inflight:
            await asyncio.wait(list(self._inflight), timeout=timeout_s)

    async def _serve(self, raw: bytes) -> None:
        try:
            ran = await self._run(raw)
            if ran is None:
                await self._client.lrem(self._keys.taken, 1, raw)  # type: ignore[arg-type]
                return
            await self._answer(raw, *ran)
        except RedisError as exc:  # the taken list keeps it for the next look
            log.warning("could not drop a forwarded request: %s", exc)
        finally:
            self._serving.discard(raw)

    async def _run(self, raw: bytes) -> tuple[Request, Answer] | None:
        """A request and its answer; None for one that is not to be answered."""
        try:
            request = _decode_request(raw)
        except msgspec.DecodeError as exc:
            log.error("dropping a forwarded request that does not decode: %s", exc)
            return None
        if _wall_ms() > request.deadline_ms:
            self.expired += 1  # its sender has answered 503 already
            return None
        try:
            reply, seq = await self._execute(request.command)
            answer = Answer(request.id, seq, reply.status, reply.seal().encoded)
        except SeatflowError as exc:
            failure = Failure(exc.status, exc.code, exc.message, exc.detail)
            answer = Answer(request.id, 0, error=failure)
        except Exception:
            log.exception("forwarded %s failed", type(request.command).__name__)
            answer = Answer(request.id, 0, error=Failure(500, "internal_error", "internal error"))
        self.served += 1
        return request, answer

    async def _answer(self, raw: bytes, request: Request, answer: Answer) -> None:
        """Push the answer and drop the request from the taken list, both or neither."""
        item = (request.reply_to, _encode(answer), raw)
        while True:
            try:
                await self._answers.add(item)
                return
            except RedisError as exc:
                if _wall_ms() > request.deadline_ms:  # its sender gave up: the next look drops it
                    log.warning("could not answer %s: %s", answer.id, exc)
                    return
                await asyncio.sleep(ANSWER_RETRY_S)

    async def _push_answers(self, answers: list[tuple[str, bytes, bytes]]) -> None:
        keys = [self._keys.taken, *(reply_to for reply_to, _, _ in answers)]
        args: list[bytes | int] = [REPLY_TTL_MS]
        for _, data, raw in answers:
            args += (data, raw)
        await self._answer_script(keys=keys, args=args)
