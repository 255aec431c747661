"""The real server process and small HTTP helpers shared by the end-to-end tests.

`Server` starts `seatflow serve` as a child process on a free 127.0.0.1 port with
its own data directory and admin key, waits for `GET /healthz`, and can stop,
SIGKILL and restart it on the same data. Clients it hands out follow it across
restarts (their base URL is updated), so a test reads the same before and after.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from bench.load.redis_proc import free_port

SEATFLOW = str(Path(sys.executable).parent / "seatflow")
START_DEADLINE_S = 30.0
STOP_DEADLINE_S = 20.0
ON_REDIS = os.environ.get("SEATFLOW_TEST_REDIS") == "1"  # the suite's second run
REDIS_URL: str | None = None  # set by conftest when the suite runs on Redis
REDIS_DIR: Path | None = None  # where that server keeps its AOF
RFC3339_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$")


class Server:
    """One `seatflow serve` process (and its successors after restarts) on one data dir."""

    def __init__(
        self,
        root: Path,
        clock: str = "manual",
        *,
        redis_url: str | None = None,
        center: str | None = None,
        admin_key: str | None = None,
        serve_args: list[str] | None = None,
        extra_args: tuple[str, ...] = (),
    ) -> None:
        """redis_url, center and admin_key: for several processes on one center (the
        suite's REDIS_URL, a center and a key of its own otherwise). serve_args: the
        arguments after `seatflow` exactly as a user wrote them (the README's), run as
        they are on the embedded store, with only the host and port added."""
        self.root = root
        self.serve_args = serve_args
        self.extra_args = extra_args  # more `seatflow serve` options (e.g. --header-timeout)
        self.data_dir = root / "data"
        self.clock = clock
        self.admin_key = admin_key or secrets.token_urlsafe(24)
        self.center = center or f"test-{secrets.token_hex(6)}"
        self._redis_url = redis_url
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self.runs = 0
        self._clients: list[httpx.Client] = []

    @property
    def redis_url(self) -> str | None:
        return self._redis_url or REDIS_URL

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- process -------------------------------------------------------------------

    def start(self, port: int | None = None) -> Server:
        self.port = port or free_port()
        self.runs += 1
        out = open(self.root / f"server-{self.runs}.stdout", "wb")  # noqa: SIM115
        err = open(self.root / f"server-{self.runs}.stderr", "wb")  # noqa: SIM115
        env = {**os.environ, "SEATFLOW_ADMIN_KEY": self.admin_key, "PYTHONUNBUFFERED": "1"}
        args = [
            SEATFLOW, "serve", "--host", "127.0.0.1", "--port", str(self.port),
            "--data", str(self.data_dir), "--clock", self.clock,
        ]  # fmt: skip
        if self.serve_args is not None:
            args = [SEATFLOW, *self.serve_args, "--host", "127.0.0.1", "--port", str(self.port)]
        elif self.redis_url is not None:  # the center lives in Redis (by default one per Server)
            args += ["--redis", self.redis_url, "--center", self.center]
        args += self.extra_args
        try:
            self.proc = subprocess.Popen(args, stdout=out, stderr=err, env=env, cwd=self.root)
        finally:
            out.close()
            err.close()
        self._wait_healthy()
        for c in self._clients:
            c.base_url = httpx.URL(self.base_url)
        return self

    def _wait_healthy(self) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + START_DEADLINE_S
        last = "no answer yet"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(
                    f"seatflow serve exited with code {self.proc.returncode} before it was "
                    f"healthy\n--- stderr ---\n{self.stderr()}",
                    pytrace=False,
                )
            try:
                r = httpx.get(f"{self.base_url}/healthz", timeout=1.0)
                if r.status_code == 200:
                    return
                last = f"{r.status_code} {r.text[:200]}"
            except httpx.TransportError as exc:
                last = repr(exc)
            time.sleep(0.05)
        self.kill9()
        pytest.fail(
            f"seatflow serve not healthy within {START_DEADLINE_S} s (last: {last})\n"
            f"--- stderr ---\n{self.stderr()}",
            pytrace=False,
        )

    def stderr(self, run: int | None = None) -> str:
        path = self.root / f"server-{run or self.runs}.stderr"
        return path.read_text(errors="replace")[-6000:] if path.exists() else ""

    def stdout(self, run: int | None = None) -> str:
        path = self.root / f"server-{run or self.runs}.stdout"
        return path.read_text(errors="replace")[-6000:] if path.exists() else ""

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> int:
        """SIGTERM and wait: the graceful shutdown path. Returns the exit code."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(STOP_DEADLINE_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                pytest.fail(
                    f"seatflow serve ignored SIGTERM for {STOP_DEADLINE_S} s\n{self.stderr()}",
                    pytrace=False,
                )
        return self.proc.returncode

    def kill9(self) -> None:
        """SIGKILL: the process gets no chance to flush or close anything."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def restart(self, *, kill: bool = False, same_port: bool = False) -> Server:
        if kill:
            self.kill9()
        else:
            self.stop()
        return self.start(self.port if same_port else None)

    def close(self) -> None:
        self.kill9()
        for c in self._clients:
            c.close()
        self._clients.clear()

    # -- clients -------------------------------------------------------------------

    def client(self, key: str | None) -> httpx.Client:
        """A client with `Authorization: Bearer <key>` (none if key is None)."""
        headers = {"Authorization": f"Bearer {key}"} if key is not None else {}
        c = httpx.Client(base_url=self.base_url, headers=headers, timeout=15.0)
        self._clients.append(c)
        return c

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run `seatflow ARGS --data DIR` on this server's data (its center, on Redis)."""
        where = ["--data", str(self.data_dir)]
        if self.redis_url is not None:
            where += ["--redis", self.redis_url, "--center", self.center]
        return subprocess.run(
            [SEATFLOW, *args, *where],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "SEATFLOW_ADMIN_KEY": self.admin_key},
        )

    def stored_bytes(self) -> bytes:
        """Everything the store holds on disk: the data dir, or Redis's AOF on Redis."""
        root = self.data_dir if REDIS_DIR is None else REDIS_DIR
        return b"".join(p.read_bytes() for p in root.rglob("*") if p.is_file())

    def replay(self) -> subprocess.CompletedProcess[str]:
        """`seatflow replay --data DIR` on this server's data (the server must be stopped)."""
        return self.cli("replay")


# -- assertions -------------------------------------------------------------------------


def ok(resp: httpx.Response, status: int = 200) -> Any:
    """Assert the status (showing the body when it differs) and return the JSON body."""
    assert resp.status_code == status, (
        f"{resp.request.method} {resp.request.url.path} -> {resp.status_code}, "
        f"expected {status}: {resp.text[:1000]}"
    )
    return resp.json()


def error(resp: httpx.Response, status: int, code: str, field: str | None = None) -> dict[str, Any]:
    """Assert an error answer: status, the envelope, the code, a message, the field."""
    assert resp.status_code == status, (
        f"{resp.request.method} {resp.request.url.path} -> {resp.status_code}, "
        f"expected {status} {code}: {resp.text[:1000]}"
    )
    body = resp.json()
    assert isinstance(body, dict) and set(body) == {"error"}, body
    info = body["error"]
    assert info["code"] == code, info
    assert isinstance(info["message"], str) and len(info["message"]) > 5, info
    if field is not None:
        assert isinstance(info.get("detail"), dict), info
        assert info["detail"].get("field") == field, info
    return info


def is_rfc3339_utc(text: object) -> bool:
    return isinstance(text, str) and RFC3339_UTC.match(text) is not None


# -- the floor --------------------------------------------------------------------------


def future_day() -> date:
    """A day in the future, so the manual clock (starting at wall time) can move to it."""
    return (datetime.now(UTC) + timedelta(days=2)).date()


def at(day: date, hhmm: str, days: int = 0) -> str:
    """RFC 3339 UTC time `hh:mm[:ss]` on `day` (+ `days`)."""
    parts = [int(p) for p in hhmm.split(":")]
    h, m, s = (parts + [0, 0])[:3]
    t = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(
        days=days, hours=h, minutes=m, seconds=s
    )
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def set_clock(admin: httpx.Client, when: str) -> None:
    body = ok(admin.post("/v1/admin/clock", json={"set": when}))
    assert (body["now"], body["mode"]) == (when, "manual"), body


def put_agent(
    admin: httpx.Client,
    agent_id: str,
    *,
    team: str = "north",
    skills: list[str] | None = None,
    capacity: int = 3,
    name: str | None = None,
) -> dict[str, Any]:
    body = {
        "name": name or f"Agent {agent_id}",
        "team": team,
        "skills": skills or [],
        "capacity": capacity,
    }
    resp = admin.put(f"/v1/agents/{agent_id}", json=body)
    assert resp.status_code in (200, 201), resp.text
    return dict(resp.json())


def make_key(admin: httpx.Client, role: str, agent_id: str | None = None) -> str:
    req: dict[str, Any] = {"role": role}
    if agent_id is not None:
        req["agent_id"] = agent_id
    body = ok(admin.post("/v1/keys", json=req), 201)
    assert isinstance(body["key"], str) and body["key"], body
    assert body["role"] == role and body.get("agent_id") == agent_id, body
    return str(body["key"])


def add_shifts(admin: httpx.Client, *shifts: tuple[str, str, str]) -> list[dict[str, Any]]:
    req = {"shifts": [{"agent_id": a, "start": s, "end": e} for a, s, e in shifts]}
    body = ok(admin.put("/v1/schedule", json=req))
    return list(body["shifts"])


def login(c: httpx.Client, agent_id: str) -> None:
    assert ok(c.post(f"/v1/agents/{agent_id}/login")) == {"state": "available"}


def push(
    platform: httpx.Client,
    order_id: str,
    skill: str | None = None,
    priority: int = 0,
    payload: dict[str, Any] | None = None,
) -> dict[str, Any]:
    body = ok(
        platform.post(
            "/v1/orders",
            json={"id": order_id, "skill": skill, "priority": priority, "payload": payload},
        ),
        201,
    )
    return dict(body)


def agent(c: httpx.Client, agent_id: str) -> dict[str, Any]:
    return dict(ok(c.get(f"/v1/agents/{agent_id}")))


def order(c: httpx.Client, order_id: str) -> dict[str, Any]:
    return dict(ok(c.get(f"/v1/orders/{order_id}")))


def holding(c: httpx.Client, agent_id: str) -> set[str]:
    """The agent's open orders, checked against its load."""
    a = agent(c, agent_id)
    assert a["load"] == len(a["open_orders"]), a
    return set(a["open_orders"])


def audit_entries(c: httpx.Client, agent_id: str | None = None) -> list[dict[str, Any]]:
    """The logout audit trail (extension route; accepts a bare list or one wrapped list)."""
    body = ok(c.get("/v1/audit"))
    if isinstance(body, dict):
        lists = [v for v in body.values() if isinstance(v, list)]
        assert len(lists) == 1, f"GET /v1/audit: expected one list of entries, got {body}"
        body = lists[0]
    assert isinstance(body, list), body
    return [e for e in body if agent_id is None or e["agent_id"] == agent_id]
