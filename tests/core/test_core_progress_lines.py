"""The plain progress-line throttle shared by `train` and `leaderboard verify`."""

from __future__ import annotations

from proxmo_bench.progress_lines import PlainLineThrottle


def test_lines_come_at_the_first_item_each_tenth_and_the_last() -> None:
    throttle = PlainLineThrottle(every_s=3600.0)
    due = [d for d in range(1, 41) if throttle.due(d, 40)]
    assert due == [1, 4, 8, 12, 16, 20, 24, 28, 32, 36, 40]


def test_a_slow_loop_gets_a_line_whenever_the_interval_has_passed() -> None:
    throttle = PlainLineThrottle(every_s=0.0)
    assert all(throttle.due(d, 1000) for d in range(1, 50))
