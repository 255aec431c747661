"""The transport's limits, from a raw socket against the real server: header size and time.

A client that streams an endless header must not grow the server's memory, and one that
sends its headers a byte at a time must not hold a connection forever (api.transport).
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator

import pytest

from .support import Server

pytestmark = pytest.mark.e2e
TIMEOUT_S = 1.0


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    s = Server(tmp_path_factory.mktemp("transport"), extra_args=("--header-timeout", "1"))
    try:
        yield s.start()
    finally:
        s.close()


def _connect(srv: Server) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
    sock.settimeout(10)
    return sock


def _read_all(sock: socket.socket) -> bytes:
    """Everything until the server closes the connection."""
    out = b""
    while chunk := sock.recv(65536):
        out += chunk
    return out


def _status_and_error(answer: bytes) -> tuple[int, dict[str, object]]:
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)["error"]


def test_headers_over_64_kib_are_a_431_and_the_connection_is_closed(srv: Server) -> None:
    with _connect(srv) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        try:  # an endless header: the server cuts it off rather than keep reading
            for _ in range(64):
                sock.sendall(b"X-Big: " + b"a" * 4096 + b"\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        status, error = _status_and_error(_read_all(sock))
    assert status == 431 and error["code"] == "request_header_fields_too_large"
    assert srv.client(None).get("/healthz").status_code == 200


def test_headers_under_the_limit_and_large_bodies_are_served(srv: Server) -> None:
    headers = {f"X-H{i}": "b" * 1000 for i in range(50)}  # 50 KB of headers
    r = srv.client(srv.admin_key).get("/v1/settings", headers=headers)
    assert r.status_code == 200, r.text
    big = {"orders": [{"id": f"big-{i}", "payload": {"note": "c" * 500}} for i in range(1000)]}
    r = srv.client(srv.admin_key).post("/v1/orders:batch", json=big)  # ~550 KB of body
    assert r.status_code == 200 and len(r.json()["results"]) == 1000


def test_headers_sent_too_slowly_are_a_408_and_the_connection_is_closed(srv: Server) -> None:
    started = time.monotonic()
    with _connect(srv) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\n")
        try:
            for _ in range(30):  # a header line every 0.2 s: slower than the 1 s allowed
                time.sleep(0.2)
                sock.sendall(b"X-Slow: 1\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        status, error = _status_and_error(_read_all(sock))
    assert status == 408 and error["code"] == "request_timeout"
    assert time.monotonic() - started < TIMEOUT_S + 3


def test_a_silent_connection_is_closed(srv: Server) -> None:
    with _connect(srv) as sock:
        started = time.monotonic()
        assert _read_all(sock) == b""
    assert time.monotonic() - started < TIMEOUT_S + 3


def test_a_long_stream_is_not_timed_once_its_head_is_complete(srv: Server) -> None:
    admin = srv.client(srv.admin_key)
    with admin.stream("GET", "/v1/board/stream", timeout=10) as r:
        lines = r.iter_lines()
        assert r.status_code == 200 and next(lines) == "event: snapshot"
        time.sleep(2.5 * TIMEOUT_S)  # well past the head timeout
        body = {"name": "Late", "team": "t", "skills": [], "capacity": 1}
        assert admin.put("/v1/agents/late-1", json=body).status_code == 201
        assert "event: delta" in (next(lines) for _ in range(6))  # the stream is still open
