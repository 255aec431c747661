"""Limits on the HTTP transport, before any route runs: header size and header-read time.

uvicorn's httptools protocol (the fast one) keeps reading a request's head for as long
as a client sends it: an endless header grows the server's memory, a client that sends
one byte a minute holds a connection open forever. `GuardedHttpTools` is that protocol
with two limits on the head (request line and headers) of every request:

- more than MAX_HEAD_BYTES (64 KiB) of head: 431, and the connection is closed;
- the head not complete within `head_timeout_s` of its first incomplete chunk (or of the
  connection opening, for a client that sends nothing): 408, and the connection is closed.
  A head that arrives whole in one chunk, as nearly all do, arms no timer at all.

Bodies are not counted here (the 1 MiB body limit is api.body's), and once a head is
complete nothing is timed: a board stream may stay open for hours.
"""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from engine.views import ErrorBody, ErrorInfo

MAX_HEAD_BYTES = 64 * 1024
HEAD_TIMEOUT_S = 10.0
# After a refusal, what the client still sends is read and dropped this long before the
# close: closing with unread data makes TCP reset the connection, and the client would
# lose the answer it has not read yet (a "lingering close", as nginx does).
LINGER_S = 2.0

_REASONS = {408: b"Request Timeout", 431: b"Request Header Fields Too Large"}


def _refusal(status: int, code: str, message: str) -> bytes:
    body = msgspec.json.encode(ErrorBody(ErrorInfo(code, message, None)))
    return b"".join(
        [
            b"HTTP/1.1 %d %s\r\n" % (status, _REASONS[status]),
            b"content-type: application/json\r\n",
            b"content-length: %d\r\n" % len(body),
            b"connection: close\r\n\r\n",
            body,
        ]
    )


class GuardedHttpTools(HttpToolsProtocol):
    """uvicorn's httptools protocol, refusing a head that is too large or too slow."""

    head_timeout_s = HEAD_TIMEOUT_S

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._reading_head = True
        self._head_bytes = 0
        self._head_timer: asyncio.TimerHandle | None = None
        self._refused = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_head_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return  # lingering: read and dropped
        if self._reading_head:
            self._head_bytes += len(data)
        super().data_received(data)  # the head may complete in here (on_headers_complete)
        if not self._reading_head:
            return
        if self._head_bytes > MAX_HEAD_BYTES:
            self._refuse(
                431,
                "request_header_fields_too_large",
                f"the request line and headers are over {MAX_HEAD_BYTES} bytes",
            )
        else:  # a head still incomplete after this chunk: time it (most come in one chunk)
            self._start_head_timer()

    def on_headers_complete(self) -> None:
        self._reading_head = False
        self._head_bytes = 0
        self._stop_head_timer()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._reading_head = True  # a kept-alive connection's next request starts here

    def _start_head_timer(self) -> None:
        if self._head_timer is None:
            self._head_timer = self.loop.call_later(self.head_timeout_s, self._head_too_slow)

    def _stop_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_too_slow(self) -> None:
        self._head_timer = None
        if self._reading_head and self._head_bytes:
            self._refuse(
                408,
                "request_timeout",
                f"the request's headers did not arrive within {self.head_timeout_s:g} s",
            )
        elif self._reading_head and self.cycle is None:
            self.transport.close()  # connected and silent: nothing to answer

    def _refuse(self, status: int, code: str, message: str) -> None:
        self._stop_head_timer()
        self._reading_head, self._refused = False, True
        transport = self.transport
        if transport.is_closing():
            return
        transport.write(_refusal(status, code, message))
        if transport.can_write_eof():
            transport.write_eof()  # the answer is all we send; keep reading until the close
            self.loop.call_later(LINGER_S, transport.close)
        else:
            transport.close()
