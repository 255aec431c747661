"""`seatflow simulate` and `seatflow staffing` as a new user meets them (issue 15, item 4):
every option says what it means and its default, a plot that cannot be drawn says why,
the tables fit 80 columns, no library chatter, the wait tail shows, the plot's axis is
plain seconds from 0."""

from __future__ import annotations

import argparse
import importlib.util
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from api.cli import main
from bench.sim.cli import add_simulate, add_staffing, tables
from bench.sim.metrics import _pcts, percentile, summary
from bench.sim.plots import figure
from bench.sim.run import DRAIN_MS, Outcome, Track, simulate
from bench.sim.scenario import HOUR, MIN, T0, Plans, Scenario
from bench.sim.strategies import ALL

ROOT = Path(__file__).resolve().parents[2]
TINY = ["--seats", "6", "--shifts", "6", "--hours", "5"]  # one changeover, at 04:00


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    p = argparse.ArgumentParser(prog="seatflow")
    sub = p.add_subparsers()
    add_simulate(sub)
    add_staffing(sub)
    return dict(sub.choices)


# -- help ------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["simulate", "staffing"])
def test_every_option_says_what_it_is_and_its_default(command):
    parser = _subparsers()[command]
    assert parser.description and len(parser.description) > 100
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        text = parser._get_formatter()._expand_help(action)  # %(default)s filled in
        assert len(text) > 15, action.option_strings
        if action.default not in (None, False):
            shown = (
                f"{action.default:g}"
                if isinstance(action.default, float)
                else (str(action.default))
            )
            assert text.endswith(f"(default: {shown})"), (action.option_strings, text)
        elif not isinstance(action, argparse._StoreTrueAction):
            assert action.required or "(default: " in text, action.option_strings


def test_simulate_help_shows_the_defaults_at_80_columns(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    with pytest.raises(SystemExit) as done:
        main(["simulate", "--help"])
    assert done.value.code == 0
    raw = capsys.readouterr().out
    assert max(len(line) for line in raw.splitlines()) <= 80
    for name in ALL:  # each strategy named whole and explained, in the epilog
        assert any(
            line.split()[:1] == [name] and len(line.split()) > 3 for line in raw.splitlines()
        ), name
    text = " ".join(raw.split())  # argparse wraps at 80
    assert "Run a seeded day of a contact center on the real engine" in text
    for option, default in [
        ("--seats N", "400"),
        ("--shifts N", "3"),
        ("--hours H", "24"),
        ("--seed N", "1"),
        ("--rate-multiplier X", "1"),
        ("--strategy NAMES", "seatflow"),
    ]:
        after = text.split(option, 2)[2]  # past the usage line, at the option's own help
        assert f"(default: {default})" in after.split(" --")[0], option


def test_staffing_help_shows_the_occupancy_cap(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    with pytest.raises(SystemExit):
        main(["staffing", "--help"])
    raw = capsys.readouterr().out
    assert max(len(line) for line in raw.splitlines()) <= 80
    text = " ".join(raw.split())
    assert "AND keep the floor's occupancy" in text
    assert (
        "occupancy cap: the most the slots may be busy on average, a fraction in (0, 1]; "
        "1 is no cap (default: 0.85)" in text
    )
    for default in ("(default: 0.8)", "(default: 20)", "(default: 0.3)", "(default: 1)"):
        assert default in text


# -- a plot that cannot be drawn says why ------------------------------------------------------


def test_a_run_without_a_changeover_says_why_there_is_no_plot(tmp_path, capsys):
    assert main(["simulate", "--seats", "6", "--hours", "2", "--out", str(tmp_path)]) == 0
    err = capsys.readouterr().err
    assert (
        "no plot: no shift changeover in 2 h (the first is at 08:00); use --hours 9 or more\n"
    ) in err
    assert json.loads((tmp_path / "summary.json").read_text())["results"][0]["orders"] > 0
    assert not (tmp_path / "changeover_waits.png").exists()


def test_the_hint_follows_the_shifts(tmp_path, capsys):
    assert (
        main(
            [
                "simulate",
                "--seats",
                "4",
                "--shifts",
                "6",
                "--hours",
                "3",
                "--out",
                str(tmp_path),
                "--json",
            ]
        )
        == 0
    )
    assert "(the first is at 04:00); use --hours 5 or more\n" in capsys.readouterr().err
    assert (
        main(
            [
                "simulate",
                "--seats",
                "2",
                "--hours",
                "1",
                "--erlang",
                "--out",
                str(tmp_path),
                "--json",
            ]
        )
        == 0
    )
    assert "no plot: the --erlang steady segment has no shift changeover" in (
        capsys.readouterr().err
    )


def test_without_matplotlib_the_summary_is_still_written(tmp_path, capsys, monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "matplotlib" else real(name, *a),
    )
    assert main(["simulate", *TINY, "--out", str(tmp_path), "--json"]) == 0
    err = capsys.readouterr().err
    assert (
        "no plot: matplotlib is not installed; install it with: "
        ".venv/bin/pip install -e '.[bench]'\n"
    ) in err
    assert (tmp_path / "summary.json").exists()
    assert not (tmp_path / "changeover_waits.png").exists()


# -- 80 columns ------------------------------------------------------------------------------


def _render(renderables, width=80) -> str:
    console = Console(width=width, file=io.StringIO(), color_system=None)
    for r in renderables:
        console.print(r)
    return console.file.getvalue()


def _fits(text: str) -> None:
    assert "…" not in text
    assert max(len(line) for line in text.splitlines()) <= 80


def _worst_result(name: str) -> dict:
    waits = {
        "orders": 1_234_567,
        "waited": 1_234_567,
        "p50": 0.004,
        "p95": 1027.4,
        "p99": 12926.0,
        "p99_9": 32826.2,
        "mean": 138.3,
        "max": 93863.5,
        "over_60s": 9,
    }
    return {
        "strategy": name,
        "wait_s": waits,
        "wait_near_changeover_s": waits,
        "stranded_offline": 1_212_974,
        "max_load_ratio": 150.333,
        "fairness_gini": 0.385,
        "utilization": 0.906,
        "invariant_violations": 12_228_435,
    }


def test_the_tables_fit_80_columns_with_every_strategy_and_big_numbers():
    report = {"results": [_worst_result(n) for n in ALL]}
    text = _render(tables(report, Scenario(hours=48, rate_multiplier=3.0)))
    _fits(text)
    for word in (
        "strategy",
        "orders",
        "waited",
        "p99.9",
        "max",
        "stranded",
        "offline",
        "utilization",
        "invariant",
        "violations",
        "freeswitch-longest-idle",
        "chatwoot-round-robin",
        "1,234,567",
        "12,228,435",
    ):
        assert word in text, word


def test_the_table_a_user_sees_fits_80_columns(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    assert main(["simulate", *TINY, "--strategy", "all"]) == 0
    out = capsys.readouterr().out  # the tables go to stdout (progress to stderr)
    assert "strategy" in out
    _fits(out)
    assert "wait (s) of orders within 30 min of a changeover" in out
    assert all(f"\n{name} " in out for name in ALL)


def test_staffing_fits_80_columns(capsys):
    assert (
        main(["staffing", "--rate", "144000,1440000,720", "--aht", "32", "--concurrency", "4"]) == 0
    )
    _fits(capsys.readouterr().out)


# -- library logging ---------------------------------------------------------------------------


def test_matplotlib_does_not_talk_but_seatflow_still_does(tmp_path):
    """A fresh matplotlib config dir makes matplotlib build its font cache, which it
    logs at INFO ("generated new fontManager") under api.cli's root logger."""
    script = (
        "import logging, sys\nfrom api.cli import main\ncode = main(sys.argv[1:])\n"
        "logging.getLogger('engine').info('seatflow still speaks')\n"
        "logging.getLogger('matplotlib.font_manager').info('font noise')\n"
        "sys.exit(code)\n"
    )
    env = {
        **os.environ,
        "MPLCONFIGDIR": str(tmp_path / "mpl"),
        "PYTHONPATH": str(ROOT),
        "COLUMNS": "80",
    }
    done = subprocess.run(
        [sys.executable, "-c", script, "simulate", *TINY, "--out", str(tmp_path / "out")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert (tmp_path / "out" / "changeover_waits.png").exists()
    assert (tmp_path / "mpl").exists()  # the font cache was built in this run
    for noise in ("INFO matplotlib", "fontManager", "font noise"):
        assert noise not in done.stderr, done.stderr
    assert "INFO engine: seatflow still speaks" in done.stderr


# -- the tail of the waits -------------------------------------------------------------------


def test_percentiles_are_nearest_rank_on_exact_ranks():
    one_in_a_thousand = np.array([0.0] * 999 + [900.0])
    ordered = np.sort(one_in_a_thousand)
    # 999 of 1,000 orders (99.9%) waited 0 s: p99.9 is 0 (interpolation said 0.9 s, a wait
    # nobody had, and a float rank 0.999 * 1000 > 999 would say 900)
    assert percentile(ordered, 999) == 0.0
    assert percentile(np.sort(np.array([0.0] * 998 + [900.0, 900.0])), 999) == 900.0
    hundred = np.arange(1.0, 101.0)
    assert [percentile(hundred, q) for q in (500, 950, 990, 999)] == [50.0, 95.0, 99.0, 100.0]
    assert percentile(np.array([7.0]), 500) == 7.0
    p = _pcts(one_in_a_thousand)
    assert (p["p99"], p["p99_9"], p["max"], p["waited"], p["orders"]) == (0, 0, 900, 1, 1000)


def test_the_table_reveals_the_tail_when_p99_is_zero():
    tail = {
        "orders": 328_545,
        "waited": 1,
        "p50": 0.0,
        "p95": 0.0,
        "p99": 0.0,
        "p99_9": 0.0,
        "mean": 0.003,
        "max": 852.0,
        "over_60s": 1,
    }
    result = {**_worst_result("seatflow"), "wait_s": tail, "wait_near_changeover_s": tail}
    text = _render(tables({"results": [result]}, Scenario()))
    header = next(line for line in text.splitlines() if "p99.9" in line)
    assert header.split()[-3:] == ["p99", "p99.9", "max"]
    row = next(line for line in text.splitlines() if line.startswith("seatflow"))
    assert row.split()[1:] == ["328,545", "1", "0", "0", "0", "0", "852"]


# -- the plot ----------------------------------------------------------------------------------


def _outcome(s: Scenario, strategy: str, waits_at: dict[int, float], per_bucket: int) -> Outcome:
    """`per_bucket` orders arriving evenly in every 2 minutes of the run, all served at once
    but the first of each minute in `waits_at` (minutes from the start: wait, s)."""
    tracks = {}
    step = 2 * MIN // per_bucket
    pending = dict(waits_at)
    for i, at in enumerate(range(T0, s.end, step)):
        t = Track(at, 1000)
        t.since, t.wait = None, int(pending.pop((at - T0) // MIN, 0.0) * 1000)
        tracks[f"o{i}"] = t
    return Outcome(s, strategy, Plans(), tracks, {}, s.end + DRAIN_MS)


def _y_axis_of(fig):
    fig.canvas.draw()
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    return ax, labels


def test_a_small_tail_reads_in_plain_seconds_from_zero():
    """The 400-seat day: one order of 887 s among thousands at 16:00 makes a mean of
    ~0.19 s; the axis read "1.93805×10⁻¹" and went below 0."""
    import matplotlib.pyplot as plt

    s = Scenario(seats=400, hours=9)
    fig = figure([_outcome(s, "seatflow", {8 * 60 + 1: 887.0}, per_bucket=4600)])
    try:
        ax, labels = _y_axis_of(fig)
        assert ax.get_ylim()[0] == 0.0
        assert ax.yaxis.get_offset_text().get_text() == ""
        assert labels[0] == "0" and len(labels) >= 3
        assert all(lbl.replace(".", "").isdigit() for lbl in labels), labels
        assert 0.19 < ax.get_ylim()[1] < 0.5
        assert "seconds" in ax.get_ylabel() and "minutes" in ax.get_xlabel()
    finally:
        plt.close(fig)


def test_long_waits_read_in_plain_decades_from_zero():
    import matplotlib.pyplot as plt

    s = Scenario(seats=400, hours=9)
    fig = figure(
        [
            _outcome(s, "seatflow", {}, 50),
            _outcome(s, "no-guard", {8 * 60 + m: 900.0 * 25 for m in range(10)}, 50),
        ]
    )
    try:
        ax, labels = _y_axis_of(fig)
        assert ax.get_ylim()[0] == 0.0
        assert [lbl for lbl in labels if lbl] == ["0", "1", "10", "100", "1000"]
        assert ax.get_yscale() == "symlog"
        assert ax.yaxis.get_offset_text().get_text() == ""
    finally:
        plt.close(fig)


def test_no_negative_waits_and_no_invented_zeros_after_the_run():
    """Waits are never negative; buckets with no arrivals (after the run's end) are gaps,
    not waits of 0."""
    import matplotlib.pyplot as plt

    s = Scenario(seats=400, hours=8)  # the 08:00 changeover is the run's end
    fig = figure([_outcome(s, "seatflow", {7 * 60 + 50: 30.0}, 20)])
    try:
        y = fig.axes[0].get_lines()[0].get_ydata()
        x = fig.axes[0].get_lines()[0].get_xdata()
        assert np.all(y[np.isfinite(y)] >= 0)
        assert np.isnan(y[x > 0]).all() and np.isfinite(y[x < 0]).all()
        assert fig.axes[0].get_title() == "changeover at 08:00"
    finally:
        plt.close(fig)


def test_a_real_run_has_no_negative_wait():
    s = Scenario(seats=12, shifts=6, hours=5, seed=7, sale_start_h=3.5, forget_share=0.1)
    out, _ = simulate(s, "no-guard")
    from bench.sim.metrics import waits

    created, wait = waits(out)
    assert len(wait) > 1000 and wait.min() >= 0 and wait.max() > 0
    r = summary(out)
    assert r["wait_s"]["max"] >= r["wait_s"]["p99_9"] >= r["wait_s"]["p99"] >= 0
    assert created.min() >= T0 and created.max() < T0 + 5 * HOUR
