"""Where a manual clock starts: on a new journal at --start (or now), else where it was."""

from __future__ import annotations

import pytest

from engine.clock import ManualClock, RealClock, start_manual

T = 1_795_417_200_000  # 2026-11-23T07:00:00Z


@pytest.mark.parametrize(
    ("last_recorded", "start_ms", "started", "now"),
    [
        (0, T, True, T),  # a new journal at --start
        (T + 60_000, T, False, 0),  # history: --start is not used; follow_clock catches up
        (T + 60_000, None, False, 0),
    ],
)
def test_start_manual(last_recorded, start_ms, started, now):
    clock = ManualClock(0)
    assert start_manual(clock, last_recorded, start_ms) is started
    assert clock.now_ms() == now


def test_a_new_journal_without_start_begins_now_on_a_whole_second():
    clock = ManualClock(0)
    before = RealClock().now_ms() // 1000 * 1000
    assert start_manual(clock, 0)
    assert before <= clock.now_ms() <= RealClock().now_ms() and clock.now_ms() % 1000 == 0


def test_a_real_clock_is_never_started():
    assert not start_manual(RealClock(), 0, T)
