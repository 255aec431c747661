"""The README's first hour, run as written against the real server, on any date.

The commands are read out of README.md (the serve command, the curl script, the payroll
and replay commands, the board), so when the README changes this test runs the new
text. Only what a second copy on one machine must change is changed: the data directory
(a temporary one) and the port (a free one). Each answer is then checked against what
the README says it is, and the board is opened in a real browser with the
walk-through's supervisor key.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from .support import ON_REDIS, SEATFLOW, Server

README = Path(__file__).resolve().parents[2] / "README.md"
DEMO_DATA = "/tmp/sf-demo"
STATUS = "\n@@ %{http_code}\n"  # what curl -w prints after each answer

pytestmark = pytest.mark.skipif(ON_REDIS, reason="the walk-through runs on the embedded store")


def walkthrough() -> tuple[str, str, dict[str, str]]:
    """(serve command, curl script, {payroll, replay}: the commands its text names)."""
    text = README.read_text(encoding="utf-8")
    section = text.split("## Five minutes with curl", 1)[1].split("\n## ", 1)[0]
    serve, script = re.findall(r"```sh\n(.*?)```", section, flags=re.S)[:2]
    named = {}
    for command in ("payroll", "replay"):
        found = re.search(rf"`(\.venv/bin/seatflow {command} [^`]*)`", section)
        assert found is not None, f"the walk-through no longer shows `seatflow {command}`"
        named[command] = found[1]
    return serve.strip(), script, named


def serve_argv(command: str, data: Path) -> tuple[dict[str, str], list[str]]:
    """The environment and `seatflow` arguments of the README's serve command."""
    setup, _, run = command.partition(" && ")
    assert setup == "make setup", command
    words = shlex.split(run)
    env = dict(w.split("=", 1) for w in words if "=" in w and not w.startswith("-"))
    argv = words[len(env) :]
    assert argv[0] == ".venv/bin/seatflow", command
    return env, [str(data) if a == DEMO_DATA else a for a in argv[1:]]


def answers(script: str, port: int) -> list[tuple[int, str]]:
    """Run the curl script with bash; each curl's (status, body), in order."""
    script = script.replace("http://127.0.0.1:8000", f"http://127.0.0.1:{port}")
    script = script.replace("curl -s ", f"curl -s -w '{STATUS}' ")
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    parts = re.split(r"\n@@ (\d{3})\n", done.stdout)
    return [(int(code), body) for body, code in zip(parts[::2], parts[1::2], strict=False)]


def test_the_walkthrough_works_as_written_on_any_date(tmp_path: Path, browser: Browser) -> None:
    serve, script, named = walkthrough()
    env, argv = serve_argv(serve, tmp_path / "demo")
    assert "--start" in argv, "without --start the walk-through depends on today's date"
    srv = Server(tmp_path, admin_key=env["SEATFLOW_ADMIN_KEY"], serve_args=argv)
    srv.start()
    try:
        got = answers(script, srv.port)
        check_answers(got)
        check_board(browser, srv.base_url, got[1][1])
        check_payroll(run_named(named["payroll"], tmp_path / "demo"))
        srv.stop()
        check_replay(run_named(named["replay"], tmp_path / "demo"))
        srv.start()  # the same command on the same --data: everything is where it was
        admin = srv.client(env["SEATFLOW_ADMIN_KEY"])
        r = admin.get("/v1/orders/o-1")
        assert r.status_code == 200 and r.json()["status"] == "queued", r.text
        # --start is for a new journal: this one goes on from its last event.
        assert admin.get("/v1/admin/clock").json()["now"] == "2026-11-23T15:55:00Z"
    finally:
        srv.close()


def test_the_simulators_first_example_runs_as_written(tmp_path: Path) -> None:
    """The first command of the README's Simulator section: tables, summary and a plot."""
    text = README.read_text(encoding="utf-8").split("## Simulator", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", text, flags=re.S)
    assert block is not None, "the Simulator section no longer shows a command"
    command = block[1].splitlines()[0].split("#", 1)[0]
    argv = shlex.split(command)
    assert argv[:2] == [".venv/bin/seatflow", "simulate"], command
    out = argv.index("--out") + 1
    argv[out] = str(tmp_path / "sim")
    done = subprocess.run(
        [SEATFLOW, *argv[1:]], capture_output=True, text=True, timeout=120,
        env={**os.environ, "COLUMNS": "80"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "wait (s) of all orders" in done.stdout, done.stdout
    assert max(len(line) for line in done.stdout.splitlines()) <= 80, done.stdout
    assert (tmp_path / "sim" / "summary.json").exists()
    assert (tmp_path / "sim" / "changeover_waits.png").exists()
    (run,) = json.loads((tmp_path / "sim" / "summary.json").read_text())["results"]
    assert run["strategy"] == "seatflow" and run["completed"] == run["orders"] > 0
    assert run["invariant_violations"] == 0


def check_answers(got: list[tuple[int, str]]) -> None:
    statuses = [code for code, _ in got]
    bodies = [json.loads(body) if body.startswith("{") else body for _, body in got]
    assert len(got) == 23, statuses
    # Keys, agents, the clock at 07:58 (the step that failed on any day but 2026-11-23),
    # the schedule and both logins: all accepted.
    assert statuses[:9] == [201, 201, 201, 201, 200, 200, 200, 200, 200], got[:9]
    assert bodies[0]["role"] == "platform" and bodies[1]["role"] == "supervisor"
    assert bodies[4] == {"now": "2026-11-23T07:58:00Z", "mode": "manual"}
    # "-> assigned to a1", "-> a2", "retry: 200, same order"
    assert (statuses[9], bodies[9]["status"], bodies[9]["agent_id"]) == (201, "assigned", "a1")
    assert (statuses[10], bodies[10]["agent_id"]) == (201, "a2")
    assert statuses[11] == 200 and bodies[11]["id"] == "o-1" and bodies[11]["agent_id"] == "a1"
    assert bodies[12]["open_orders"] == ["o-1"]
    # a1 tries to leave mid-shift: 202, a pending request; a supervisor approves it.
    assert statuses[13] == 202 and bodies[13]["logout_request"]["id"] == "lr-1"
    assert [r["id"] for r in bodies[14]["logout_requests"]] == ["lr-1"]
    assert statuses[15] == 200 and bodies[15]["status"] == "approved"
    assert bodies[16]["status"] == "assigned" and bodies[16]["agent_id"] == "a2"  # o-1 to a2
    # Pay: the scheme, o-2 completed, "-> a2: 1 completed, 150 cents".
    assert statuses[17:20] == [201, 200, 200] and bodies[18]["status"] == "completed"
    rows = {r["agent_id"]: r for r in csv.DictReader(io.StringIO(bodies[19]))}
    assert (rows["a2"]["completed"], rows["a2"]["payout_cents"]) == ("1", "150")
    # Near the end of the shift logout is free: "-> 200, offline, o-1 queued".
    assert statuses[20] == 200
    assert statuses[21] == 200 and bodies[21]["state"] == "offline"
    assert bodies[21]["reassigned"] == ["o-1"]
    assert statuses[22] == 200 and bodies[22]["totals"]["queued"] == 1


def check_board(browser: Browser, base_url: str, supervisor: str) -> None:
    """ "Open /board and paste the supervisor key the second command printed"."""
    key = json.loads(supervisor)["key"]
    # An English browser: the board follows the browser's language, and the README is English.
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="en-US")
    try:
        page = context.new_page()
        page.goto(f"{base_url}/board")
        page.get_by_label("Supervisor key").fill(key)
        page.get_by_role("button", name="Open board").click()
        expect(page.locator(".tile[data-agent]")).to_have_count(2)
        expect(page.locator('.tile[data-agent="a2"]')).to_be_visible()
    finally:
        context.close()


def run_named(command: str, data: Path) -> subprocess.CompletedProcess[str]:
    """A `.venv/bin/seatflow ...` command of the README, on this test's data directory."""
    argv = [str(data) if a == DEMO_DATA else a for a in shlex.split(command)]
    assert argv[0] == ".venv/bin/seatflow", command
    return subprocess.run(
        [SEATFLOW, *argv[1:]], capture_output=True, text=True, timeout=60, env=dict(os.environ)
    )


def check_payroll(done: subprocess.CompletedProcess[str]) -> None:
    assert done.returncode == 0, done.stderr
    assert "Payroll 2026-11" in done.stdout, done.stdout
    a2 = next((line.split() for line in done.stdout.splitlines() if line.startswith("a2 ")), None)
    assert a2 is not None and "1" in a2 and "1.50" in a2, done.stdout  # one order, 1.50 paid


def check_replay(done: subprocess.CompletedProcess[str]) -> None:
    assert done.returncode == 0, done.stderr
    orders = "orders         2 in memory: completed 1, queued 1; 0 archived"
    assert orders in done.stdout, done.stdout
    assert "agents         2: offline 2" in done.stdout, done.stdout
