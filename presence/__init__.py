"""Agent presence: records and states, the roster of shifts, the logout guard.

Pure: functions here take state and the current time and return events or raise
domain errors; they never do IO and never read a clock.
"""
