"""`seatflow replay`: read the whole journal, rebuild state, print what it holds."""

from __future__ import annotations

import argparse
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from api.cli import stores
from api.cli.common import fail, shown
from engine.clock import RealClock
from engine.journal import JournalError
from engine.segments import SegmentError
from presence.timeutil import format_time
from router.order import SHOWN_STATUS

if TYPE_CHECKING:
    from engine.core import Engine


def add_parser(sub: Any) -> None:
    replay = sub.add_parser("replay", help="rebuild state from the journal and summarize it")
    stores.add_arguments(replay)
    replay.add_argument(
        "--segments",
        type=Path,
        metavar="DIR",
        help="replay the whole history: the segments moved out (seatflow journal archive), "
        "then the journal, instead of starting from the newest checkpoint",
    )
    replay.set_defaults(run=run)


def _counts(values: Sequence[str] | Counter[str]) -> str:
    counts = values if isinstance(values, Counter) else Counter(values)
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "none"


def _summary(engine: Engine, records: int, took: float) -> list[str]:
    state = engine.state
    status = Counter(SHOWN_STATUS[o.status] for o in state.orders.values())
    queues = [
        f"{'(no skill)' if skill is None else shown(skill)} {depth}"
        for skill, depth, _ in sorted(state.queues.depths(), key=lambda q: str(q[0]))
    ]
    pending = [r for r in state.requests.values() if r.status == "pending"]
    return [
        f"records        {records} replayed in {took:.3f} s",
        f"last event     {format_time(state.now) if records else 'none'}",
        f"agents         {len(state.agents)}: {_counts([a.state for a in state.agents.values()])}",
        f"orders         {len(state.orders)} in memory: {_counts(status)}; "
        f"{state.counters.archived} archived",
        f"queues         {', '.join(queues) or 'empty'}",
        f"logout pending {len(pending)}"
        + (f": {', '.join(f'{r.id} ({shown(r.agent_id)})' for r in pending)}" if pending else ""),
        f"keys           {len(state.keys)}",
    ]


def run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    try:
        if args.segments is not None:
            engine = stores.read_history(args, RealClock())
        else:
            engine = stores.read_engine(args, RealClock())
    except (stores.NoJournal, SegmentError, JournalError) as exc:
        return fail(str(exc))
    took = time.perf_counter() - started
    print(f"journal        {stores.describe(args)}")
    print("\n".join(_summary(engine, engine.last_seq, took)))
    return 0
