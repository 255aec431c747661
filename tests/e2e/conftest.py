"""Fixtures that start the real `seatflow serve` process (see support.Server)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from .support import Server


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
