"""Crash test: SIGKILL the server while eight senders push orders as fast as they can.

An order acknowledged with a 2xx was durable before the answer went out, so after
a restart on the same data every acknowledged order must be there, placed by the
rules: assigned to a logged-in agent or waiting in a queue, never with an offline
agent, loads equal to the orders held and never above capacity.
"""

from __future__ import annotations

import re
import shutil
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from . import support
from .support import Server, at, future_day, login, make_key, ok, put_agent, set_clock

pytestmark = pytest.mark.e2e

SENDERS = 8
BATCH = 10
RUN_S = 1.5
# (agent, skills, capacity): 5 agents, 150 slots; "fr" has no agent and always waits.
STAFF = [("c1", ["en"], 40), ("c2", ["en"], 30), ("c3", ["en", "de"], 30), ("c4", ["de"], 25),
         ("c5", ["en"], 25)]  # fmt: skip
SKILLS = ["en", "de", "fr", None]


def _order(sender: int, n: int) -> dict[str, Any]:
    return {
        "id": f"s{sender}-{n}",
        "skill": SKILLS[n % len(SKILLS)],
        "priority": n % 10,
        "payload": {"sender": sender, "n": n},
    }


class Senders:
    """Threads that push singles and batches until the server stops answering."""

    def __init__(self, server: Server, key: str) -> None:
        self.server = server
        self.key = key
        self.acked: dict[str, dict[str, Any]] = {}
        self.sent: dict[str, dict[str, Any]] = {}
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.failures: list[str] = []

    def run(self, sender: int) -> None:
        client = httpx.Client(
            base_url=self.server.base_url,
            headers={"Authorization": f"Bearer {self.key}"},
            timeout=10.0,
        )
        n = 0
        try:
            while not self.stop.is_set():
                if n % 3 == 2:
                    orders = [_order(sender, n + i) for i in range(BATCH)]
                    n += BATCH
                else:
                    orders = [_order(sender, n)]
                    n += 1
                with self.lock:
                    self.sent.update((o["id"], o) for o in orders)
                try:
                    if len(orders) == 1:
                        r = client.post("/v1/orders", json=orders[0])
                        acked = [orders[0]] if r.status_code == 201 else []
                    else:
                        r = client.post("/v1/orders:batch", json={"orders": orders})
                        results = r.json()["results"] if r.status_code == 200 else []
                        acked = [o for o, res in zip(orders, results, strict=True)
                                 if "error" not in res]  # fmt: skip
                except httpx.TransportError:
                    return  # the server is gone
                if r.status_code not in (200, 201) or len(acked) != len(orders):
                    with self.lock:
                        self.failures.append(f"{r.status_code} {r.text[:300]}")
                    return
                with self.lock:
                    self.acked.update((o["id"], o) for o in acked)
        finally:
            client.close()


def _fetch_all(admin: httpx.Client, senders: Senders) -> dict[str, dict[str, Any]]:
    """Every order we sent that the restarted server holds; acknowledged ones must be there."""

    def fetch(order_id: str) -> tuple[str, int, Any]:
        r = admin.get(f"/v1/orders/{order_id}")
        return order_id, r.status_code, r.json()

    with ThreadPoolExecutor(8) as pool:
        found = list(pool.map(fetch, sorted(senders.sent)))
    present: dict[str, dict[str, Any]] = {}
    for order_id, status, body in found:
        if order_id in senders.acked:
            assert status == 200, f"acknowledged order {order_id} lost: {status} {body}"
        if status == 200:
            sent = senders.sent[order_id]
            assert (body["skill"], body["priority"]) == (sent["skill"], sent["priority"]), body
            present[order_id] = body
        else:
            assert status == 404, (order_id, status, body)
    return present


def _check_placement(agents: dict[str, Any], present: dict[str, dict[str, Any]]) -> None:
    held: Counter[str] = Counter()
    for order_id, view in present.items():
        if view["status"] == "assigned":
            agent = agents[view["agent_id"]]
            assert agent["state"] in ("available", "away"), (order_id, agent)
            assert view["skill"] is None or view["skill"] in agent["skills"], (view, agent)
            assert order_id in agent["open_orders"], (order_id, agent)
            held[agent["id"]] += 1
        else:
            assert (view["status"], view["agent_id"]) == ("queued", None), view
    for agent in agents.values():
        assert agent["load"] == len(agent["open_orders"]) == held[agent["id"]], agent
        assert agent["load"] <= agent["capacity"], agent
        assert agent["state"] != "offline" or agent["load"] == 0, agent
    # Work-conserving: nothing an available agent could take is left waiting.
    for view in present.values():
        if view["status"] == "queued":
            takers = [a for a in agents.values() if a["state"] == "available"
                      and (view["skill"] is None or view["skill"] in a["skills"])]  # fmt: skip
            assert all(a["load"] == a["capacity"] for a in takers), (view, takers)


def test_acknowledged_orders_survive_sigkill(server: Server, admin: httpx.Client) -> None:
    sigkill_under_load(server, admin)


def test_sigkill_while_checkpoints_are_written_loses_nothing(tmp_path: Path) -> None:
    """Checkpoints every 100 records: the kill lands while children write them. The
    restart starts from the newest whole one, and ends where a full replay ends."""
    if support.REDIS_URL is not None:
        pytest.skip("checkpoint files are the embedded store's (Redis keeps its own snapshots)")
    server = Server(tmp_path, extra_args=("--checkpoint-every", "100"))
    try:
        server.start()
        admin = server.client(server.admin_key)
        sigkill_under_load(server, admin, run_s=3.0)
        assert any((tmp_path / "data" / "checkpoints").glob("checkpoint-*.sfck"))
        server.start()
        log = (server.root / f"server-{server.runs}.stderr").read_text()
        m = re.search(r"checkpoint at seq (\d+), replayed (\d+) records", log)
        assert m and int(m.group(1)) > 0, log[-2000:]
        metrics = admin.get("/metrics").text
        age = re.search(r"^seatflow_checkpoint_age_seconds (\S+)$", metrics, re.M)
        assert age and 0 <= float(age.group(1)) < 600, metrics
        with_checkpoint = everything(admin)
        server.stop()
        shutil.rmtree(tmp_path / "data" / "checkpoints")
        server.start()
        log = (server.root / f"server-{server.runs}.stderr").read_text()
        assert "checkpoint at seq 0, replayed" in log, log[-2000:]
        assert everything(admin) == with_checkpoint
    finally:
        server.close()


def everything(admin: httpx.Client) -> Any:
    """What a reader can see of the whole center."""
    agents = ok(admin.get("/v1/agents"))["agents"]
    board = ok(admin.get("/v1/board"))
    return agents, board["queues"], board["totals"]


def sigkill_under_load(server: Server, admin: httpx.Client, run_s: float = RUN_S) -> None:
    day = future_day()
    set_clock(admin, at(day, "09:00"))
    for agent_id, skills, capacity in STAFF:
        put_agent(admin, agent_id, skills=skills, capacity=capacity)
        login(admin, agent_id)
    ok(admin.post("/v1/agents/c5/away", json={"reason": "coaching"}))  # holds nothing new

    senders = Senders(server, make_key(admin, "platform"))
    threads = [threading.Thread(target=senders.run, args=(i,)) for i in range(SENDERS)]
    for t in threads:
        t.start()
    time.sleep(run_s)  # let the stream run; the kill lands mid-stream
    server.kill9()
    senders.stop.set()
    for t in threads:
        t.join(30)
    assert not any(t.is_alive() for t in threads), "a sender hung after the kill"
    assert senders.failures == [], senders.failures[:5]
    assert len(senders.acked) > 100, f"only {len(senders.acked)} orders acknowledged"

    server.start()
    agents = {a["id"]: a for a in ok(admin.get("/v1/agents"))["agents"]}
    assert set(agents) == {a for a, *_ in STAFF}
    present = _fetch_all(admin, senders)
    _check_placement(agents, present)
    assert agents["c5"]["load"] == 0, "an away agent got new orders"
    assert any(v["status"] == "queued" and v["skill"] == "fr" for v in present.values())

    # The platform retries what it sent: acknowledged orders answer 200 as they are,
    # unanswered ones are taken now (201) or were durable already (200).
    platform = server.client(senders.key)
    for order_id in sorted(senders.acked)[::50]:
        again = ok(platform.post("/v1/orders", json=senders.sent[order_id]), 200)
        assert (again["status"], again["agent_id"]) == (
            present[order_id]["status"], present[order_id]["agent_id"]
        )  # fmt: skip
    unanswered = sorted(set(senders.sent) - set(senders.acked))
    for order_id in unanswered:
        r = platform.post("/v1/orders", json=senders.sent[order_id])
        assert r.status_code == (200 if order_id in present else 201), (order_id, r.text)
    total = len(senders.sent)
    server.stop()
    replay = server.replay()
    assert replay.returncode == 0, replay.stderr
    lines = [ln for ln in replay.stdout.splitlines() if re.search(r"orders?\b", ln, re.I)]
    assert any(re.search(rf"(?<![\d.]){total}(?![\d.])", ln) for ln in lines), (
        f"replay does not report {total} orders:\n{replay.stdout}"
    )
