"""The command line around the server: `seatflow keys create`, `seatflow replay`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from .support import ON_REDIS, SEATFLOW, Server, error, make_key, ok, put_agent

pytestmark = pytest.mark.e2e


def _key(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, done.stderr
    lines = done.stdout.split()
    assert lines, f"no key printed: {done.stdout!r} {done.stderr!r}"
    return lines[-1]


def test_keys_created_offline_work_online(server: Server, admin: httpx.Client) -> None:
    put_agent(admin, "k1")
    put_agent(admin, "k2")
    server.stop()

    platform_key = _key(server.cli("keys", "create", "--role", "platform"))
    agent_key = _key(server.cli("keys", "create", "--role", "agent", "--agent", "k1"))
    assert platform_key != agent_key
    refused = server.cli("keys", "create", "--role", "agent", "--agent", "nobody")
    assert refused.returncode != 0 and "nobody" in refused.stderr, refused
    refused = server.cli("keys", "create", "--role", "boss")
    assert refused.returncode != 0 and "boss" in refused.stderr, refused

    server.start()
    as_platform = server.client(platform_key)
    assert ok(as_platform.post("/v1/orders", json={"id": "cli-1"}), 201)["id"] == "cli-1"
    error(as_platform.get("/v1/agents/k1"), 403, "forbidden")
    as_k1 = server.client(agent_key)
    assert ok(as_k1.get("/v1/agents/k1"))["id"] == "k1"
    error(as_k1.get("/v1/agents/k2"), 403, "forbidden")


@pytest.mark.skipif(
    ON_REDIS, reason="one writer per data dir is SQLite's rule; on Redis the key is forwarded"
)
def test_keys_cannot_be_written_while_the_server_runs(server: Server, admin: httpx.Client) -> None:
    """The server owns the journal: a second writer would fork it."""
    busy = server.cli("keys", "create", "--role", "platform")
    assert busy.returncode != 0, busy.stdout
    assert str(server.data_dir) in busy.stderr, busy.stderr  # names what is busy
    make_key(admin, "platform")  # the server is unharmed


def test_replay_reports_the_center(server: Server, admin: httpx.Client) -> None:
    put_agent(admin, "r1")
    ok(admin.post("/v1/agents/r1/login"))
    make_key(admin, "platform")
    for i in range(3):
        ok(admin.post("/v1/orders", json={"id": f"rp-{i}"}), 201)
    server.stop()
    done = server.replay()
    assert done.returncode == 0, done.stderr
    text = done.stdout.lower()
    assert any("agent" in ln and "1" in ln for ln in text.splitlines()), done.stdout
    assert any("order" in ln and "3" in ln for ln in text.splitlines()), done.stdout


def test_replay_of_a_missing_journal_fails_clearly(tmp_path: Path) -> None:
    missing = tmp_path / "nothing-here"
    done = subprocess.run(
        [SEATFLOW, "replay", "--data", str(missing)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode != 0, done.stdout
    assert "nothing-here" in done.stderr, done.stderr
    assert not missing.exists() or not any(missing.iterdir()), "replay must not create a journal"


def test_module_entry_point() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "api", "serve", "--help"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "--clock" in done.stdout and "--data" in done.stdout
