"""PNG plots of a comparison: wait over time around each changeover, all strategies."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from bench.sim.metrics import waits
from bench.sim.run import Outcome
from bench.sim.scenario import HOUR, MIN, T0, Scenario, clock

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

SPAN_MS = 60 * MIN
BUCKET_MS = 2 * MIN
# Above this mean wait (s) the axis is symlog (linear up to 1 s, then decades), so seatflow's
# fractions of a second and an anchor's 15-minute rescues both read; below it, linear.
SYMLOG_ABOVE_S = 10.0
MATPLOTLIB_MISSING = (
    "matplotlib is not installed; install it with: .venv/bin/pip install -e '.[bench]'"
)


def unavailable(s: Scenario) -> str | None:
    """Why the changeover plot cannot be drawn for this run (one line, with what to do),
    or None when it can."""
    if importlib.util.find_spec("matplotlib") is None:
        return MATPLOTLIB_MISSING
    if s.steady:
        return "the --erlang steady segment has no shift changeover; run without --erlang"
    if not s.changeovers():
        need = (s.shift_ms + SPAN_MS) / HOUR
        return (
            f"no shift changeover in {s.hours:g} h (the first is at "
            f"{clock(T0 + s.shift_ms)}); use --hours {need:g} or more"
        )
    return None


def _bucket_means(out: Outcome, change: int, edges: np.ndarray) -> np.ndarray:
    """Mean wait (s) of the orders arriving in each bucket; NaN where none arrived (a gap
    in the line, not a wait of 0)."""
    created, wait = waits(out)
    rel = created - change
    sel = (rel >= edges[0]) & (rel < edges[-1])
    idx = np.digitize(rel[sel], edges) - 1
    sums = np.bincount(idx, weights=wait[sel], minlength=len(edges) - 1)
    counts = np.bincount(idx, minlength=len(edges) - 1)
    mean = np.full(len(edges) - 1, np.nan)
    np.divide(sums, counts, out=mean, where=counts > 0)
    return mean


def _y_axis(ax: Axes, peak: float) -> None:
    """Plain seconds from 0: symlog with ticks 0, 1, 10, 100 ... when waits reach past
    SYMLOG_ABOVE_S, else linear; never an offset or scientific notation."""
    from matplotlib.ticker import FuncFormatter, MaxNLocator, SymmetricalLogLocator

    seconds = FuncFormatter(lambda v, _pos: f"{v:g}")
    if peak > SYMLOG_ABOVE_S:
        ax.set_yscale("symlog", linthresh=1.0)
        ax.yaxis.set_major_locator(SymmetricalLogLocator(base=10, linthresh=1.0))
        top = peak * 1.6
    else:
        ax.yaxis.set_major_locator(MaxNLocator(nbins=6, min_n_ticks=3))
        top = max(peak * 1.15, 0.01) if peak > 0 else 1.0
    ax.yaxis.set_major_formatter(seconds)
    ax.set_ylim(0.0, top)


def figure(outcomes: list[Outcome]) -> Figure:
    """Mean wait of the orders arriving in each 2-minute bucket, ±60 min around each
    changeover; one panel per changeover, one line per strategy."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    s = outcomes[0].scenario
    changes = s.changeovers()
    if not changes:
        raise ValueError(unavailable(s) or "no changeover to plot")
    fig, axes = plt.subplots(
        1, len(changes), figsize=(6 * len(changes), 4.8), squeeze=False, sharey=True
    )
    edges = np.arange(-SPAN_MS, SPAN_MS + 1, BUCKET_MS)
    mid = (edges[:-1] + BUCKET_MS / 2) / MIN
    peak = 0.0
    for ax, change in zip(axes[0], changes, strict=True):
        for out in outcomes:
            mean = _bucket_means(out, change, edges)
            if np.isfinite(mean).any():
                peak = max(peak, float(np.nanmax(mean)))
            ours = out.strategy == "seatflow"
            ax.plot(
                mid,
                mean,
                "-" if ours else "--",
                lw=2.4 if ours else 1.2,
                label=out.strategy,
                zorder=3 if ours else 2,
                clip_on=False,
            )
        if change + SPAN_MS > s.end:  # the run's arrivals end inside this panel
            ax.axvspan((s.end - change) / MIN, SPAN_MS / MIN, color="0.92", zorder=0)
            ax.text(
                ((s.end - change) / MIN + SPAN_MS / MIN) / 2,
                0.5,
                "no arrivals\nafter the run",
                transform=ax.get_xaxis_transform(),
                ha="center",
                va="center",
                color="0.45",
                fontsize=9,
            )
        ax.set_title(f"changeover at {clock(change)}")
        ax.set_xlabel("order arrival, minutes from the changeover")
        ax.set_xlim(-SPAN_MS / MIN, SPAN_MS / MIN)
        ax.axvline(0, color="grey", lw=0.8)
        ax.grid(alpha=0.3)
    for ax in axes[0]:
        _y_axis(ax, peak)
    scale = "symlog" if peak > SYMLOG_ABOVE_S else "linear"
    axes[0][0].set_ylabel(f"mean wait of the orders arriving\nin each 2 min, seconds ({scale})")
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(
        handles, labels, loc="lower center", ncol=min(4, len(labels)), fontsize=8, frameon=False
    )
    fig.suptitle(
        f"wait around shift changes: {s.seats} seats, {s.shifts} shifts, seed {s.seed}, "
        f"rate ×{s.rate_multiplier:g}"
    )
    rows = -(-len(labels) // 4)
    fig.tight_layout(rect=(0, 0.045 * rows + 0.02, 1, 1))
    return fig


def changeover_waits(outcomes: list[Outcome], path: Path) -> Path:
    """Draw `figure` to a PNG at `path`."""
    fig = figure(outcomes)
    import matplotlib.pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
