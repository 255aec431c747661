"""The HTTP burst load generator, in miniature, against the real server processes."""

from __future__ import annotations

import json

import pytest

from bench.load.burst import main


@pytest.mark.e2e
def test_small_burst_loses_nothing(tmp_path, capsys):
    out = tmp_path / "burst.json"
    assert (
        main(
            [
                "--seats",
                "10",
                "--steps",
                "100,200",
                "--step-s",
                "1",
                "--conns",
                "4",
                "--shift-change-s",
                "1",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    report = json.loads(out.read_text())
    assert json.loads(capsys.readouterr().out) == report
    for side in ("noop", "seatflow"):
        steps = report[side]["steps"]
        assert [s["step"] for s in steps] == ["100/s", "200/s", "saturation"]
        assert all(s["errors"] == 0 and s["ok"] > 0 for s in steps), steps
        assert steps[0]["ok"] == pytest.approx(100, abs=2)
    change = report["seatflow"]["shift_change"]
    assert change["login_200"] == 10
    assert change["logout_200"] + change["logout_202"] == 10
    assert change["logout_202"] == change["approve_200"] == 1  # a tenth leave mid-shift
    lost = report["seatflow"]["lost"]
    assert lost["lost"] == 0 and lost["acked"] == lost["orders_in_journal"] > 300


@pytest.mark.e2e
def test_small_burst_on_redis_with_two_processes_loses_nothing(tmp_path, capsys):
    out = tmp_path / "burst.json"
    assert (
        main(
            [
                "--seats",
                "10",
                "--steps",
                "100",
                "--step-s",
                "1",
                "--conns",
                "4",
                "--shift-change-s",
                "1",
                "--no-noop",
                "--redis",
                "--processes",
                "2",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    report = json.loads(out.read_text())
    capsys.readouterr()
    assert set(report) == {"args", "machine", "seatflow_redis"}
    phase = report["seatflow_redis"]
    assert (phase["store"], phase["processes"]) == ("redis", 2)
    steps = phase["steps"]
    assert [s["step"] for s in steps] == ["100/s", "saturation"]
    assert all(s["errors"] == 0 and s["ok"] > 0 and "redis_cpu_us_per_req" in s for s in steps), (
        steps
    )
    assert phase["shift_change"]["login_200"] == 10
    lost = phase["lost"]
    assert lost["lost"] == 0 and lost["acked"] == lost["orders_in_journal"] > 100
