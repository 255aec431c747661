"""Commands from a server process that does not own the center to the one that does.

    non-owner                        Redis                        owner
    send(command) --RPUSH-->  {center}:commands  --BLPOP/LPOP-->  serve: engine.execute
    future by id  <--BLPOP--  {center}:replies:<node>  <--RPUSH-- Answer(id, status, body, seq)

A request carries a deadline: one still in the list when its sender has given up (no
owner during a failover) is dropped by the next owner rather than run late. The sender
answers 503 then; a retried order is idempotent, so nothing is lost or doubled.
The answer carries the seq of the last record the reply reflects, so the sender can wait
until its own copy of the state has caught up before answering (read your writes).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from redis.asyncio import Redis
from redis.exceptions import RedisError

from engine.commands import AnyCommand, Command
from engine.errors import SeatflowError, Unavailable
from engine.handlers import Reply
from engine.redis_backend.keys import Keys

log = logging.getLogger("seatflow.redis")

REPLY_TTL_MS = 60_000  # a reply list outlives its process by a minute, then goes
TAKE = 256  # requests the owner takes per round trip


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
        return Reply(self.status, msgspec.Raw(self.body))


def remote_error(f: Failure) -> SeatflowError:
    exc = SeatflowError(f.message, code=f.code, detail=f.detail)
    exc.status = f.status
    return exc


_encode = msgspec.msgpack.Encoder().encode
_decode_request = msgspec.msgpack.Decoder(Request).decode
_decode_answer = msgspec.msgpack.Decoder(Answer).decode


def _wall_ms() -> int:
    return time.time_ns() // 1_000_000


class Forwarder:
    """The sending side, one per server process."""

    def __init__(
        self, client: Redis, blocking: Redis, keys: Keys, node: str, timeout_s: float
    ) -> None:
        self._client = client
        self._blocking = blocking
        self._keys = keys
        self._node = node
        self._timeout_s = timeout_s
        self._ids = itertools.count(1)
        self._waiting: dict[str, asyncio.Future[Answer]] = {}
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._read_replies())

    async def send(self, command: Command) -> Answer:
        rid = f"{self._node}/{next(self._ids)}"
        fut: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        self._waiting[rid] = fut
        deadline = _wall_ms() + int(self._timeout_s * 1000)
        request = Request(rid, self._keys.replies(self._node), deadline, command)  # type: ignore[arg-type]
        try:
            await self._client.rpush(self._keys.commands, _encode(request))
            return await asyncio.wait_for(asyncio.shield(fut), self._timeout_s)
        except TimeoutError:
            raise Unavailable(
                f"no engine answered for center {self._keys.center!r} within "
                f"{self._timeout_s:g} s (an owner failover in progress?); retry",
                code="owner_unavailable",
            ) from None
        except RedisError as exc:
            raise Unavailable(f"Redis is unreachable: {exc}", code="redis_unavailable") from None
        finally:
            self._waiting.pop(rid, None)

    async def _read_replies(self) -> None:
        key = self._keys.replies(self._node)
        while True:
            try:
                got = await self._blocking.blpop([key], timeout=1)
                if got is None:
                    continue
                batch = [got[1], *(await self._client.lpop(key, TAKE) or [])]
            except RedisError as exc:
                log.debug("reading replies: %s", exc)
                await asyncio.sleep(0.2)
                continue
            for raw in batch:
                answer = _decode_answer(raw)
                fut = self._waiting.get(answer.id)
                if fut is not None and not fut.done():
                    fut.set_result(answer)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


Execute = Callable[[Command], Awaitable[tuple[Reply, int]]]


class CommandServer:
    """The owner's side: take forwarded requests, run each, answer by id."""

    def __init__(self, client: Redis, blocking: Redis, keys: Keys, execute: Execute) -> None:
        self._client = client
        self._blocking = blocking
        self._keys = keys
        self._execute = execute
        self._inflight: set[asyncio.Task[None]] = set()
        self.served = 0
        self.expired = 0

    async def run(self) -> None:
        """Take requests until cancelled; the ones taken are answered even then (drain)."""
        key = self._keys.commands
        loop = asyncio.get_running_loop()
        while True:
            try:
                got = await self._blocking.blpop([key], timeout=1)
                if got is None:
                    continue
                batch = [got[1], *(await self._client.lpop(key, TAKE - 1) or [])]
            except RedisError as exc:
                # An owner keeps its lease through a short Redis outage: keep serving after it.
                log.debug("taking forwarded commands: %s", exc)
                await asyncio.sleep(0.2)
                continue
            for raw in batch:
                task = loop.create_task(self._serve(raw))
                self._inflight.add(task)
                task.add_done_callback(self._inflight.discard)

    async def drain(self, timeout_s: float = 5.0) -> None:
        """Wait for the requests already taken to be answered."""
        if self._inflight:
            await asyncio.wait(list(self._inflight), timeout=timeout_s)

    async def _serve(self, raw: bytes) -> None:
        try:
            request = _decode_request(raw)
        except msgspec.DecodeError as exc:
            log.error("dropping a forwarded request that does not decode: %s", exc)
            return
        if _wall_ms() > request.deadline_ms:
            self.expired += 1  # its sender has answered 503 already
            return
        try:
            reply, seq = await self._execute(request.command)
            answer = Answer(request.id, seq, reply.status, msgspec.json.encode(reply.body))
        except SeatflowError as exc:
            failure = Failure(exc.status, exc.code, exc.message, exc.detail)
            answer = Answer(request.id, 0, error=failure)
        except Exception:
            log.exception("forwarded %s failed", type(request.command).__name__)
            answer = Answer(request.id, 0, error=Failure(500, "internal_error", "internal error"))
        self.served += 1
        try:
            async with self._client.pipeline(transaction=False) as pipe:
                pipe.rpush(request.reply_to, _encode(answer))
                pipe.pexpire(request.reply_to, REPLY_TTL_MS)
                await pipe.execute()
        except RedisError as exc:
            log.warning("could not answer %s: %s", request.id, exc)
