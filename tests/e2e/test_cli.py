"""The command line around the server: `seatflow keys create`, `seatflow replay`."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from .support import (
    ON_REDIS,
    SEATFLOW,
    Server,
    add_shifts,
    at,
    error,
    future_day,
    make_key,
    ok,
    put_agent,
    set_clock,
)

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


@pytest.mark.skipif(ON_REDIS, reason="segments move records out of the embedded journal")
def test_old_journal_records_move_out_to_segments_and_nothing_changes(
    server: Server, admin: httpx.Client, tmp_path: Path
) -> None:
    day = future_day()
    platform = server.client(make_key(admin, "platform"))
    put_agent(admin, "s1", skills=["en"], capacity=5)
    add_shifts(
        admin, *(("s1", at(day, "08:00", days=d), at(day, "16:00", days=d)) for d in range(6))
    )
    for d in range(6):  # a week of work, a few orders a day
        set_clock(admin, at(day, "09:00", days=d))
        ok(admin.post("/v1/agents/s1/login"))
        for i in range(3):
            ok(platform.post("/v1/orders", json={"id": f"d{d}-{i}", "skill": "en"}), 201)
            ok(platform.post(f"/v1/orders/d{d}-{i}/complete"))
        set_clock(admin, at(day, "16:05", days=d))
        ok(admin.post("/v1/agents/s1/logout"))
    paths = ["/v1/orders/d0-0", "/v1/orders/d5-2", "/v1/agents/s1", "/v1/audit", "/v1/settings",
             f"/v1/utilization?from={at(day, '00:00')}&to={at(day, '00:00', days=6)}"]  # fmt: skip
    before = {p: ok(admin.get(p)) for p in paths}
    server.stop()
    whole = server.replay()
    segs = tmp_path / "segments"

    done = server.cli("journal", "archive", "--before", at(day, "00:00", days=4)[:10],
                      "--segments", str(segs), "--per-segment", "40")  # fmt: skip
    assert done.returncode == 0, done.stderr
    names = sorted(p.name for p in segs.glob("journal-*.sqlite3"))
    assert len(names) >= 2 and all(n in done.stdout for n in names), done.stdout
    checked = server.cli("journal", "check", "--segments", str(segs))
    assert checked.returncode == 0 and f"{len(names)} segments" in checked.stdout, checked

    server.start()  # from the checkpoint the archive wrote: the moved records are not needed
    assert {p: ok(admin.get(p)) for p in paths} == before
    server.stop()
    history = server.cli("replay", "--segments", str(segs))  # the whole history, for an audit
    assert history.returncode == 0, history.stderr
    summary = [
        ln for ln in history.stdout.splitlines() if not ln.startswith(("records", "journal"))
    ]
    assert summary == [ln for ln in whole.stdout.splitlines()
                       if not ln.startswith(("records", "journal"))]  # fmt: skip

    with sqlite3.connect(segs / names[0]) as db:  # one record changed: the digest tells
        db.execute("UPDATE journal SET data = x'00' WHERE seq = (SELECT max(seq) FROM journal)")
    refused = server.cli("journal", "check", "--segments", str(segs))
    assert refused.returncode != 0 and names[0] in refused.stderr, refused
    for checkpoint in (server.data_dir / "checkpoints").iterdir():
        checkpoint.unlink()  # no checkpoint: start-up cannot do without the moved records
    refused = server.cli("replay")
    assert refused.returncode != 0 and "moved out to journal segments" in refused.stderr, refused
