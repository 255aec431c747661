"""Retention against a real server (SQLite, and Redis in the suite's second run): a
completed order past `order_retention_days` leaves memory and still answers as before,
across SIGKILL and SIGTERM restarts: its view (archived), its id, a late QA result."""

from __future__ import annotations

import random
import time
from pathlib import Path

import httpx
import pytest
from redis import Redis

from .support import (
    ON_REDIS,
    Server,
    add_shifts,
    at,
    error,
    future_day,
    login,
    make_key,
    ok,
    push,
    put_agent,
    set_clock,
)

pytestmark = pytest.mark.e2e


def _gauge(admin: httpx.Client, name: str) -> float:
    for line in admin.get("/metrics").text.splitlines():
        if line.startswith(f"{name} "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not in /metrics")


def test_an_archived_order_answers_as_before_across_restarts(
    server: Server, admin: httpx.Client
) -> None:
    day = future_day()
    platform = server.client(make_key(admin, "platform"))
    put_agent(admin, "a1", skills=["en"], capacity=3)
    add_shifts(admin, ("a1", at(day, "08:00"), at(day, "16:00")))
    set_clock(admin, at(day, "09:00"))
    login(admin, "a1")
    for order_id in ("o1", "o2", "o3"):
        push(platform, order_id, "en", payload={"n": order_id})
    ok(platform.post("/v1/orders/o1/complete"))
    ok(platform.post("/v1/orders/o2/complete"))
    ok(admin.post("/v1/orders/o1/qa", json={"passed": True}))
    live = {o: ok(admin.get(f"/v1/orders/{o}")) for o in ("o1", "o2")}
    assert "archived" not in live["o1"]
    assert _gauge(admin, "seatflow_orders_in_memory") == 3

    set_clock(admin, at(day, "09:00", days=3))  # moving the clock sweeps: o1, o2 leave
    assert _gauge(admin, "seatflow_orders_in_memory") == 1  # o3 is still assigned
    assert _gauge(admin, "seatflow_orders_archived_total") == 2
    for order_id, view in live.items():
        assert ok(admin.get(f"/v1/orders/{order_id}")) == {**view, "archived": True}

    server.kill9()
    server.start()
    for order_id, view in live.items():
        assert ok(admin.get(f"/v1/orders/{order_id}")) == {**view, "archived": True}
    again = platform.post("/v1/orders", json={"id": "o1", "skill": "en", "payload": {"n": "o1"}})
    assert ok(again) == {**live["o1"], "archived": True}
    other = platform.post("/v1/orders", json={"id": "o2", "skill": "en", "payload": {"n": "x"}})
    error(other, 409, "order_conflict")
    error(platform.post("/v1/orders/o2/complete"), 409, "order_not_assigned")
    assert ok(admin.post("/v1/orders/o2/qa", json={"passed": False}))["archived"] is True

    month = at(day, "09:00")[:7]
    scheme = {"effective_from": month, "thresholds": [5], "rates_cents": [100, 150]}
    ok(admin.put("/v1/payroll/scheme", json=scheme), 201)
    server.stop()
    server.start()
    payroll = ok(admin.get(f"/v1/payroll/{month}"))
    row = next(r for r in payroll["agents"] if r["agent_id"] == "a1")
    assert (row["completed"], row["qa_checked"], row["qa_passed"]) == (2, 2, 1), row
    assert ok(admin.get("/v1/orders/o3"))["status"] == "assigned"
    assert _gauge(admin, "seatflow_orders_in_memory") == 1


@pytest.mark.skipif(not ON_REDIS, reason="the stream is trimmed on Redis only")
def test_the_stream_is_trimmed_behind_snapshots_into_segments(tmp_path: Path) -> None:
    segs = tmp_path / "segments"
    server = Server(tmp_path, extra_args=("--checkpoint-every", "25", "--segments", str(segs)))
    redis = Redis.from_url(server.redis_url or "")
    journal = f"seatflow:{{{server.center}}}:journal"
    try:
        server.start()
        admin = server.client(server.admin_key)
        platform = server.client(make_key(admin, "platform"))
        put_agent(admin, "a1", capacity=50)
        login(admin, "a1")
        for i in range(120):
            push(platform, f"t{i}")
            ok(platform.post(f"/v1/orders/t{i}/complete"))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(list(segs.glob("journal-*.sqlite3"))) < 2:
            time.sleep(0.2)
        head = redis.xrange(journal, count=1)
        first = int(head[0][0].decode().partition("-")[2])
        assert first > 100 and redis.xlen(journal) < 150  # 240+ records written
        views = {p: ok(admin.get(p)) for p in ("/v1/orders/t0", "/v1/orders/t119", "/v1/agents/a1")}
        server.kill9()
        server.start()
        assert {p: ok(admin.get(p)) for p in views} == views
        server.stop()
        plain, whole = server.cli("replay"), server.cli("replay", "--segments", str(segs))
        assert whole.returncode == 0, whole.stderr
        orders = [ln for ln in whole.stdout.splitlines() if ln.startswith("orders")]
        assert orders == [ln for ln in plain.stdout.splitlines() if ln.startswith("orders")], (
            plain.stderr[-3000:]
        )
        assert orders and "120" in orders[0], whole.stdout
        redis.delete(f"seatflow:{{{server.center}}}:snapshot")
        refused = server.cli("replay")  # the stream alone no longer makes the center
        assert refused.returncode != 0 and "trimmed from the stream" in refused.stderr, refused
    finally:
        server.close()
        redis.close()


@pytest.mark.skipif(not ON_REDIS, reason="the stream is trimmed on Redis only")
def test_kill_9_while_trimming_loses_no_acknowledged_order(tmp_path: Path) -> None:
    segs = tmp_path / "segments"
    server = Server(tmp_path, extra_args=("--checkpoint-every", "10", "--segments", str(segs)))
    rng = random.Random(7)
    acked: list[str] = []
    try:
        server.start()
        admin = server.client(server.admin_key)
        platform = server.client(make_key(admin, "platform"))
        put_agent(admin, "a1", capacity=50)
        login(admin, "a1")
        for _ in range(4):
            until = time.monotonic() + rng.uniform(0.5, 2.0)  # snapshots and trims under way
            while time.monotonic() < until:
                order_id = f"k{len(acked)}"
                push(platform, order_id)
                acked.append(order_id)
                ok(platform.post(f"/v1/orders/{order_id}/complete"))
            server.kill9()
            server.start()
        for order_id in acked:
            assert ok(admin.get(f"/v1/orders/{order_id}"))["status"] == "completed", order_id
        assert list(segs.glob("journal-*.sqlite3")), "no trim happened"
        server.stop()
        whole = server.cli("replay", "--segments", str(segs))
        assert whole.returncode == 0, whole.stderr
        assert f"orders         {len(acked)} in memory" in whole.stdout, whole.stdout
    finally:
        server.close()


@pytest.mark.skipif(not ON_REDIS, reason="the archive hash is Redis's")
def test_archived_rows_move_out_of_redis_and_answer_as_before(tmp_path: Path) -> None:
    """Trims move archived orders' rows from the Redis hash to DIR/orders.sqlite3: the
    hash empties, and views, retries, conflicts and a late QA result answer as before,
    also after a kill -9."""
    segs = tmp_path / "segments"
    server = Server(tmp_path, extra_args=("--checkpoint-every", "10", "--segments", str(segs)))
    redis = Redis.from_url(server.redis_url or "")
    archive = f"seatflow:{{{server.center}}}:archive"
    day = future_day()
    try:
        server.start()
        admin = server.client(server.admin_key)
        platform = server.client(make_key(admin, "platform"))
        put_agent(admin, "a1", skills=["en"], capacity=50)
        add_shifts(admin, ("a1", at(day, "08:00"), at(day, "16:00")))
        set_clock(admin, at(day, "09:00"))
        login(admin, "a1")
        for i in range(20):
            push(platform, f"m{i}", "en", payload={"n": i})
            ok(platform.post(f"/v1/orders/m{i}/complete"))
        ok(admin.post("/v1/orders/m1/qa", json={"passed": True}))
        live = {f"m{i}": ok(admin.get(f"/v1/orders/m{i}")) for i in range(20)}
        set_clock(admin, at(day, "09:00", days=3))  # the sweep archives m0..m19
        assert redis.hlen(archive) == 20
        add_shifts(admin, ("a1", at(day, "08:00", days=3), at(day, "16:00", days=3)))
        login(admin, "a1")

        def trims_behind(first: int) -> None:
            for i in range(first, first + 40):  # snapshots past the rows' records, trims
                push(platform, f"n{i}", "en")
                ok(platform.post(f"/v1/orders/n{i}/complete"))
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and redis.hlen(archive):
                time.sleep(0.1)
            assert redis.hlen(archive) == 0, "the rows did not move out"

        trims_behind(0)
        assert (segs / "orders.sqlite3").exists()
        for run in range(2):
            for order_id, view in live.items():
                assert ok(admin.get(f"/v1/orders/{order_id}")) == {**view, "archived": True}
            again = platform.post(
                "/v1/orders", json={"id": "m3", "skill": "en", "payload": {"n": 3}}
            )
            assert ok(again) == {**live["m3"], "archived": True}
            clash = platform.post(
                "/v1/orders", json={"id": "m4", "skill": "en", "payload": {"n": 0}}
            )
            error(clash, 409, "order_conflict")
            if run == 0:
                qa = ok(admin.post("/v1/orders/m1/qa", json={"passed": False}))
                assert qa == {**live["m1"], "archived": True}
                assert redis.hlen(archive) == 1  # the rewritten row, in the hash until a trim
                server.kill9()
                server.start()
                trims_behind(40)
    finally:
        server.close()
        redis.close()
