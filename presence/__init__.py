"""Agent presence, the bottom layer: states, the roster of shifts, the logout guard, time.

Layer rule: presence imports no other seatflow package (tests/test_layers.py).

    agent.py     the agent record and its states
    roster.py    shifts per agent, the shift in progress, the handover window
    guard.py     presence decisions (log in, away, available, the logout guard)
    requests.py  logout requests held for a supervisor
    timeline.py  time accounting: how an agent's time splits between states
    events.py    presence events, and `Event`, the base of every journaled event
    errors.py    the root of the one error tree, with its stable codes
    timeutil.py  times on the wire (RFC 3339) and inside (epoch ms)

Pure: functions here take state and the current time and return events or raise
domain errors; they never do IO and never read a clock. Being the bottom layer, it
also holds the vocabulary every layer shares (the event base, the error root, time
helpers), so that nothing below a layer has to reach up for it.
"""
