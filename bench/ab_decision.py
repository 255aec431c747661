"""A/B helper: the sticky decision of another tree against this one's, in one process.

    PYTHONPATH=. .venv/bin/python -m bench.ab_decision /tmp/base [--kind mix] [--blocks 200]

On a shared VM the same code runs at two speeds for milliseconds at a time, so runs in
separate processes differ by more than the change measured. Here both decisions run on
one floor (bench/test_lifecycle.py's, recovered as the server starts), in alternating
blocks of 1,000 individually timed decisions, so both meet the same phases; the ratio
of their block medians, pair by pair, is the A/B. What is taken from BASE is what a
decision is made of: router/customers.py (its map loaded from this floor's entries),
router/policy.py and engine/routing.py; the index, the events and the agent are this
tree's. Made for BASE = main at c3ca596 (`Customers.load(items, window_ms)`, agent ids
in the map); RESULTS.md, "The assignment lifecycle".
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import importlib.util
import statistics
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import engine.routing
from bench.test_lifecycle import _sticky_floor
from bench.test_router import percentiles

KINDS = {"mix": slice(0, 9), "sticky": slice(0, 3), "full": slice(3, 6), "none": slice(6, 9)}
BLOCK = 1000


def _load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class _BaseState:
    """What the base's decision reads of a state, with the base's customer map."""

    __slots__ = ("agents", "settings", "customers", "index")


def main(base: Path, kind: str, blocks: int) -> None:
    customers = _load("base_customers", base / "router" / "customers.py")
    policy = _load("base_policy", base / "router" / "policy.py")
    routing = _load("base_routing", base / "engine" / "routing.py")
    routing.policy = policy  # type: ignore[attr-defined]
    floor, orders = asyncio.run(_sticky_floor())
    state, now = floor.state, floor.state.now
    old = _BaseState()
    old.agents, old.settings, old.index = state.agents, state.settings, state.index
    old.customers = customers.Customers()
    old.customers.load(list(state.customers.items()), state.settings.sticky_window_s * 1000)
    for o in orders:  # the same decisions, or the A/B compares different work
        if routing.decision(old, o, now) != engine.routing.decision(state, o, now):
            raise SystemExit(f"the two trees decide order {o.id} differently")
    gc.collect()
    gc.freeze()
    sides: list[tuple[str, Any, Any]] = [
        ("base", routing.decision, old),
        ("this", engine.routing.decision, state),
    ]
    chosen = orders[KINDS[kind]]
    k, clock = len(chosen), time.perf_counter_ns
    pooled: dict[str, list[int]] = {"base": [], "this": []}
    medians: dict[str, list[int]] = {"base": [], "this": []}
    ratios = []
    for b in range(blocks):
        for name, decide, st in sides if b % 2 == 0 else sides[::-1]:
            samples = []
            for i in range(BLOCK):
                o = chosen[i % k]
                t0 = clock()
                decide(st, o, now)
                samples.append(clock() - t0)
            pooled[name] += samples
            samples.sort()
            medians[name].append(samples[BLOCK // 2])
        ratios.append(medians["this"][-1] / medians["base"][-1])
    tree = Path(engine.routing.__file__).parents[1]
    print(f"{kind}: {blocks} block pairs of {BLOCK}; this tree {tree}, base {base}")
    for name in ("base", "this"):
        p = percentiles(pooled[name])
        m = medians[name]
        print(
            f"  {name}: p50 {p['p50_us']:.3f} p99 {p['p99_us']:.3f} p99.9 {p['p999_us']:.3f} us;"
            f" block p50 min {min(m) / 1000:.3f} median {statistics.median(m) / 1000:.3f}"
        )
    q = statistics.quantiles(ratios, n=4)
    print(f"  this/base, block medians pair by pair: {q[1]:.3f} (quartiles {q[0]:.3f}, {q[2]:.3f})")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("base", type=Path, help="the other tree (a git worktree)")
    parser.add_argument("--kind", choices=KINDS, default="mix")
    parser.add_argument("--blocks", type=int, default=200)
    args = parser.parse_args()
    main(args.base, args.kind, args.blocks)
