"""A/B helper: time Engine.recover() over an existing journal dir (see RESULTS.md section 5)."""
import sys
import time
from pathlib import Path

import engine.core
from engine.clock import ManualClock
from engine.core import Engine
from engine.sqlite_journal import SqliteJournal

d = Path(sys.argv[1])
f = next(d.glob("**/*.sqlite3"))
j = SqliteJournal(f)
e = Engine(j, ManualClock(0))
t = time.perf_counter(); n = e.recover(); dt = time.perf_counter() - t
print(f"{engine.core.__file__.split('/')[1]} records={n} recover_s={dt:.2f} orders={len(e.state.orders)}")
