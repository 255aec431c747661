"""A/B helper: time Engine.recover() over an existing journal dir (see RESULTS.md section 5).

Run it with the tree under test first on PYTHONPATH; it prints which tree it loaded.
"""

import sys
import time
from pathlib import Path

import engine.core
from engine.clock import ManualClock
from engine.core import Engine
from engine.sqlite_journal import SqliteJournal


def main(data: Path) -> None:
    journal = SqliteJournal(next(data.glob("**/*.sqlite3")))
    eng = Engine(journal, ManualClock(0))
    start = time.perf_counter()
    records = eng.recover()
    took = time.perf_counter() - start
    tree = Path(engine.core.__file__).parents[1]
    print(f"{tree} records={records} recover_s={took:.2f} orders={len(eng.state.orders)}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
