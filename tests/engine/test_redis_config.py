"""What the server's persistence settings mean for acknowledged orders, told at start-up."""

from __future__ import annotations

from pathlib import Path

import pytest
from redis.asyncio import Redis
from redis_support import fresh_server

from engine.redis_backend.config import check_persistence, persistence_warning


def test_aof_with_fsync_always_needs_no_warning() -> None:
    assert persistence_warning("yes", "always") is None


def test_aof_fsynced_every_second_warns_of_a_power_loss() -> None:
    warning = persistence_warning("yes", "everysec")
    assert warning is not None
    assert "'everysec'" in warning and "power loss" in warning and "a second" in warning


def test_no_aof_warns_that_a_restart_loses_orders() -> None:
    warning = persistence_warning("no", "always")
    assert warning is not None
    assert "appendonly no" in warning and "restart loses acknowledged" in warning


async def test_the_test_server_fsyncs_every_write(client: Redis) -> None:
    assert await check_persistence(client) is None


async def test_a_server_fsyncing_every_second_is_warned_of(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    server = fresh_server(tmp_path, appendfsync="everysec")
    c = Redis.from_url(server.url)
    try:
        with caplog.at_level("WARNING", logger="seatflow.redis"):
            warning = await check_persistence(c)
        assert warning is not None and "'everysec'" in warning
        assert warning in caplog.text  # logged, so an operator sees it
        # AOF turned off on the running server: the stronger warning.
        await c.config_set("appendonly", "no")
        warning = await check_persistence(c)
        assert warning is not None and "appendonly no" in warning
    finally:
        await c.aclose()
        server.kill9()
