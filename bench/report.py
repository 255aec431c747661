"""Print a pytest-benchmark JSON file as the Markdown tables of RESULTS.md.

    .venv/bin/python -m bench.report results.json

Within a group, the ratio column compares each median with the group's smallest
median (all from the same run, so ratios survive this noisy shared machine).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def emit(report: dict[str, Any], out: Path | None, *, show: bool = True) -> None:
    """A benchmark's JSON report: written to `out` (its folder made) and printed."""
    text = json.dumps(report, indent=1)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text)
    if show:
        print(text)


def _fmt(seconds: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def render(data: dict[str, Any]) -> str:
    m = data["machine_info"]
    lines = [
        f"run {data['datetime']}, nproc {m.get('nproc')}, RAM {m.get('mem_total_gib')} GiB, "
        f"Python {m.get('python')}, {m.get('cpu', {}).get('brand_raw', '')}",
        "",
    ]
    groups: dict[str, list[dict[str, Any]]] = {}
    for b in data["benchmarks"]:
        groups.setdefault(b["group"] or "", []).append(b)
    for group, benches in groups.items():
        base = min(b["stats"]["median"] for b in benches)
        lines += [
            f"### {group}",
            "",
            "| benchmark | median | ratio | min | mean | max | stddev | rounds |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for b in benches:
            s = b["stats"]
            lines.append(
                f"| {b['name']} | {_fmt(s['median'])} | {s['median'] / base:.2f} | "
                f"{_fmt(s['min'])} | {_fmt(s['mean'])} | {_fmt(s['max'])} | "
                f"{_fmt(s['stddev'])} | {s['rounds']} |"
            )
        extras = [(b["name"], b["extra_info"]) for b in benches if b["extra_info"]]
        if extras:
            lines.append("")
            lines += [f"- {name}: `{json.dumps(info)}`" for name, info in extras]
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    with open(sys.argv[1]) as f:
        print(render(json.load(f)))
