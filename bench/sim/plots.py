"""PNG plots of a comparison: wait over time around each changeover, all strategies."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bench.sim.metrics import waits
from bench.sim.run import Outcome
from bench.sim.scenario import MIN

SPAN_MS = 60 * MIN
BUCKET_MS = 2 * MIN


def changeover_waits(outcomes: list[Outcome], path: Path) -> Path:
    """Mean wait of the orders arriving in each 2-minute bucket, ±60 min around each
    changeover; one panel per changeover, one line per strategy."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    changes = outcomes[0].scenario.changeovers()
    fig, axes = plt.subplots(1, max(1, len(changes)), figsize=(6 * max(1, len(changes)), 4.5),
                             squeeze=False, sharey=True)
    edges = np.arange(-SPAN_MS, SPAN_MS + 1, BUCKET_MS)
    for ax, change in zip(axes[0], changes, strict=False):
        for out in outcomes:
            created, wait = waits(out)
            rel = created - change
            sel = (rel >= -SPAN_MS) & (rel < SPAN_MS)
            idx = np.digitize(rel[sel], edges) - 1
            sums = np.bincount(idx, weights=wait[sel], minlength=len(edges) - 1)
            counts = np.bincount(idx, minlength=len(edges) - 1)
            mean = np.divide(sums, counts, out=np.zeros_like(sums), where=counts > 0)
            style = "-" if out.strategy == "seatflow" else "--"
            width = 2.4 if out.strategy == "seatflow" else 1.2
            ax.plot((edges[:-1] + BUCKET_MS / 2) / MIN, mean[: len(edges) - 1], style,
                    lw=width, label=out.strategy)
        hh = (change // (3600 * 1000)) % 24
        ax.set_title(f"changeover at {hh:02d}:00")
        ax.set_xlabel("minutes from the changeover (order arrival)")
        ax.axvline(0, color="grey", lw=0.8)
        ax.set_yscale("symlog", linthresh=1.0)
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("mean wait of orders arriving then (s, symlog)")
    axes[0][-1].legend(fontsize=7, loc="upper right")
    s = outcomes[0].scenario
    fig.suptitle(f"wait around shift changes: {s.seats} seats, {s.shifts} shifts, seed {s.seed}, "
                 f"rate ×{s.rate_multiplier}")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
