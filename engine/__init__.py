"""The engine, on top of router and presence: commands in, events out, one writer.

Layer rule: engine imports router and presence, never api or bench (tests/test_layers.py).

    core.py          the single writer: execute a command, journal its record, reply
    handlers.py      per command: check, then apply what presence and the router decide
    state.py         the in-memory state and `apply`, the fold of events into it
    commands.py      what callers ask; events.py: the journal's whole vocabulary
    journal.py       the journal seam; sqlite_journal.py (embedded), redis_backend/
    views.py         what the API answers, built from state
    reports.py, calendar.py, payroll/   read-side reports over state
    invariants.py, fingerprint.py       what must hold, and replay == live
    clock.py, settings.py, errors.py

The engine is the only place that mutates state, and it reads time only from its
injected clock.
"""
