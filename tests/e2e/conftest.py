"""Fixtures that start the real `seatflow serve` process (see support.Server).

With SEATFLOW_TEST_REDIS=1 the whole suite runs again on a Redis backend: one real
redis-server for the session, every server on it with a center of its own
(`make test` runs the suite both ways).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, sync_playwright
from redis_server import RedisServer

from . import support
from .support import Server


@pytest.fixture(scope="session", autouse=True)
def redis_backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str | None]:
    if not support.ON_REDIS:
        yield None
        return
    redis = RedisServer(tmp_path_factory.mktemp("redis")).start()
    support.REDIS_URL, support.REDIS_DIR = redis.url, redis.root
    try:
        yield redis.url
    finally:
        support.REDIS_URL = support.REDIS_DIR = None
        redis.stop()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    """A fresh server on a fresh data dir, manual clock; killed at teardown whatever happens."""
    srv = Server(tmp_path)
    try:
        srv.start()
        yield srv
    finally:
        srv.close()


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server for a whole module; tests isolate themselves by unique ids."""
    srv = Server(tmp_path_factory.mktemp("seatflow"))
    try:
        srv.start()
        yield srv
    finally:
        srv.close()


@pytest.fixture
def admin(server: Server) -> httpx.Client:
    return server.client(server.admin_key)


CHROMIUM = "/usr/bin/chromium"
# Headless, and nothing that reaches for the internet (the machine has none).
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
]  # fmt: skip


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: run `make setup-browser`"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()
