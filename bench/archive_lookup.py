"""The archive lookup every new order's intake makes, at archive sizes a center reaches.

    .venv/bin/python -m bench.archive_lookup [--rows 0,1000000,5000000] [--lookups 20000]
        [--repeat 7] [--dir /tmp/sf-archive] [--per-turn K]

Intake asks the archive (engine.archive) about each id not in memory, so an archived
id stays taken: on SQLite one primary-key SELECT in the journal file
(`SqliteJournal.archived`), for a new order a miss. Its cost grows with the depth of
the archive's B-tree (the log of its rows) and with how much of that tree is cached,
and the archive only grows (about 330,000 rows a day at the simulated day's volume).
So this fills the `archive` table of a real journal file (made by SqliteJournal: its
schema) with N rows of a completed order each (engine.archive.encode_order), under
random 32-hex-digit ids inserted in random order (UUID-like ids: a new id lands
anywhere in the tree, the uncached case; sequential ids would all end on the
rightmost, cached path), then times `archived()` for new random ids (misses) and for
archived ones (hits): each round `--lookups` calls on a journal opened afresh (SQLite's
own cache empty, the OS page cache warm), medians of `--repeat` rounds.

`fill_archive` is also what `burst.py --archive-rows` uses to start a server on a
journal whose archive already holds years of orders.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import statistics
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.report import emit
from engine.archive import encode_order
from engine.sqlite_journal import JOURNAL_FILE, SqliteJournal, private_dir
from router.order import COMPLETED, Order

CHUNK = 100_000


def archived_row(order_id: str, rng: random.Random) -> bytes:
    """A completed order as the retention sweep writes it."""
    t = 1_790_000_000_000 + rng.randrange(10**9)
    agent = f"a{rng.randrange(400):04d}"
    order = Order(
        id=order_id,
        skill=rng.choice(("pre", "post", None)),
        priority=0,
        digest=rng.randbytes(16),
        seq=rng.randrange(10**9),
        created_at=t,
        status=COMPLETED,
        agent_id=agent,
        assigned_at=t + 2_000,
        completed_at=t + 600_000,
        customer_id=f"c{rng.randrange(10**6):06d}",
        routed_by="rules",
        first_response_at=t + 12_000,
        responded_by=agent,
        response_ms=10_000,
        archived=True,
    )
    return encode_order(order)


def new_id(rng: random.Random) -> str:
    return f"{rng.getrandbits(128):032x}"


def fill_archive(data: Path, rows: int, seed: int = 7) -> dict[str, Any]:
    """Put `rows` archived orders straight into the archive of `data`'s journal (a
    journal whose archive already holds exactly that many is used as it is)."""
    private_dir(data)
    # Its schema: the tables as `seatflow serve` makes them.
    asyncio.run(SqliteJournal(data / JOURNAL_FILE).close())
    rng = random.Random(seed)
    db = sqlite3.connect(data / JOURNAL_FILE, isolation_level=None)
    had = db.execute("SELECT count(*) FROM archive").fetchone()[0]
    if had == rows and rows:
        db.close()
        return {"rows": had, "reused": True} | _size(data)
    if had:
        db.close()
        raise SystemExit(f"{data} holds {had} archive rows, not {rows}: remove it first")
    db.execute("PRAGMA cache_size=-1000000")  # 1 GB while filling, not what serve uses
    start = time.perf_counter()
    size = 0

    def chunk(n: int) -> Iterator[tuple[str, bytes]]:
        nonlocal size
        for _ in range(n):
            order_id = new_id(rng)
            row = archived_row(order_id, rng)
            size += len(row)
            yield order_id, row

    for done in range(0, rows, CHUNK):
        db.execute("BEGIN")
        db.executemany(
            "INSERT OR REPLACE INTO archive (id, data) VALUES (?, ?)",
            chunk(min(CHUNK, rows - done)),
        )
        db.execute("COMMIT")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    count = db.execute("SELECT count(*) FROM archive").fetchone()[0]
    db.close()
    return {
        "rows": count,
        "row_bytes": round(size / rows, 1) if rows else 0.0,
        "fill_s": round(time.perf_counter() - start, 1),
    } | _size(data)


def _size(data: Path) -> dict[str, float]:
    return {"file_mb": round((data / JOURNAL_FILE).stat().st_size / 1e6, 1)}


def time_lookups(data: Path, ids: list[str], per_turn: int = 0) -> float:
    """ns per `archived()` call over `ids`, on a journal opened for this round.

    `per_turn` 0: called with no event loop (each SELECT its own read transaction, as a
    command-line read does). Else as the server calls it: `per_turn` lookups in each
    loop turn, then a record appended and committed (untimed), as intake does."""
    journal = SqliteJournal(data / JOURNAL_FILE)
    archived = journal.archived
    if not per_turn:
        try:
            start = time.perf_counter_ns()
            for order_id in ids:
                archived(order_id)
            return (time.perf_counter_ns() - start) / len(ids)
        finally:
            asyncio.run(journal.close())

    async def turns() -> float:
        spent = 0
        for k in range(0, len(ids), per_turn):
            start = time.perf_counter_ns()
            for order_id in ids[k : k + per_turn]:
                archived(order_id)
            spent += time.perf_counter_ns() - start
            await journal.append(b"r")
        await journal.close()
        return spent / len(ids)

    return asyncio.run(turns())


def sample_hits(data: Path, n: int, seed: int) -> list[str]:
    db = sqlite3.connect(data / JOURNAL_FILE)
    try:
        ids = [row[0] for row in db.execute("SELECT id FROM archive")]
    finally:
        db.close()
    return random.Random(seed).sample(ids, min(n, len(ids)))


def measure(root: Path, rows: int, lookups: int, repeat: int, per_turn: int) -> dict[str, Any]:
    data = root / f"archive-{rows}"
    filled = fill_archive(data, rows)
    rng = random.Random(rows + 1)
    misses, hits = [], []
    hit_ids = sample_hits(data, lookups, rows + 2) if rows else []
    for _ in range(repeat):
        misses.append(time_lookups(data, [new_id(rng) for _ in range(lookups)], per_turn))
        if hit_ids:
            rng.shuffle(hit_ids)
            hits.append(time_lookups(data, hit_ids, per_turn))
    return filled | {
        "miss_ns_median": round(statistics.median(misses)),
        "miss_ns_first_round": round(misses[0]),
        "miss_ns_all": [round(x) for x in misses],
        "hit_ns_median": round(statistics.median(hits)) if hits else None,
        "hit_ns_all": [round(x) for x in hits],
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m bench.archive_lookup",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--rows", default="0,1000000,5000000")
    p.add_argument("--lookups", type=int, default=20_000)
    p.add_argument("--repeat", type=int, default=7)
    p.add_argument("--dir", type=Path, default=Path("/tmp/sf-archive"))
    p.add_argument(
        "--per-turn", type=int, default=0,
        help="lookups per event-loop turn, each turn ending in a commit (0: no loop)",
    )  # fmt: skip
    p.add_argument("--out", type=Path)
    args = p.parse_args(argv)
    report = {
        str(rows): measure(args.dir, rows, args.lookups, args.repeat, args.per_turn)
        for rows in (int(r) for r in args.rows.split(","))
    }
    emit(report, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
