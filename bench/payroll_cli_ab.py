"""A/B of `seatflow payroll MONTH` as whole processes: two trees alternating on one data dir.

    python -m bench.payroll_cli_ab DATA MONTH --trees main=/tmp/a new=/work/wt-b [--repeat 5]

DATA is a kept copy of bench.longrun (`snap/<day>`, with `clean` and `crash` checkpoint
variants). Each case (the default table, csv, json, `--help`) runs in a fresh
interpreter, the trees alternating; prints the medians and whether the trees' outputs
were byte-equal, as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

CLI = "import sys; from api.cli import main; sys.exit(main())"


def use_variant(snap: Path, variant: str) -> None:
    link = snap / "checkpoints"
    if link.is_symlink():
        link.unlink()
    link.symlink_to(snap / variant / "checkpoints")


def run(tree: str, argv: list[str]) -> tuple[float, bytes | None]:
    """Seconds, and stdout (None if the command failed: e.g. a format the tree lacks)."""
    env = dict(os.environ, PYTHONPATH=tree)
    t = time.perf_counter()
    # In the tree: `python -c` puts the working directory first on the path, before PYTHONPATH.
    done = subprocess.run(
        [sys.executable, "-c", CLI, *argv], env=env, cwd=tree, capture_output=True
    )
    return time.perf_counter() - t, done.stdout if done.returncode == 0 else None


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("data", type=Path)
    p.add_argument("month")
    p.add_argument("--trees", nargs="+", required=True, metavar="NAME=PATH")
    p.add_argument("--repeat", type=int, default=5)
    args = p.parse_args()
    trees = dict(t.split("=", 1) for t in args.trees)
    args.data = args.data.resolve()  # the children run in their trees
    base = ["payroll", args.month, "--data", str(args.data)]
    cases = {
        "table": base,
        "csv": [*base, "--format", "csv"],
        "json": [*base, "--format", "json"],
        "help": ["payroll", "--help"],
    }
    times: dict[str, dict[str, list[float]]] = {}
    outs: dict[tuple[str, str], bytes | None] = {}
    for variant in ("clean", "crash"):
        use_variant(args.data, variant)
        for name, argv in cases.items():
            for _ in range(args.repeat):
                for tree, path in trees.items():
                    took, out = run(path, argv)
                    if out is not None:
                        times.setdefault(f"{variant}/{name}", {}).setdefault(tree, []).append(
                            round(took, 3)
                        )
                    outs[(f"{variant}/{name}", tree)] = out
    use_variant(args.data, "clean")
    summary: dict[str, object] = {
        case: {t: {"median_s": statistics.median(r), "runs_s": r} for t, r in by_tree.items()}
        for case, by_tree in times.items()
    }
    first = next(iter(trees))
    summary["same_output_as_" + first] = {
        f"{case} {tree}": outs[(case, tree)] == outs[(case, first)]
        for case in times
        for tree in trees
        if tree != first and outs[(case, first)] is not None
    }
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
