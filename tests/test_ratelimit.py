"""The token bucket and the repeat filter on their own.

The bot's use of them: tests/test_limits.py, tests/test_first_conversation.py.
"""

from __future__ import annotations

from bot.domain.ratelimit import RateLimiter, Verdict
from bot.domain.throttle import Repeats


def test_burst_then_one_warning_then_silence_then_recovery() -> None:
    limiter = RateLimiter(capacity=3, per_second=1.0)
    verdicts = [limiter.check(1, 0.0) for _ in range(6)]
    assert verdicts == [Verdict.ALLOW] * 3 + [Verdict.WARN, Verdict.SILENT, Verdict.SILENT]
    assert limiter.check(2, 0.0) is Verdict.ALLOW  # others are not affected
    assert limiter.check(1, 1.0) is Verdict.ALLOW  # one token back after a second
    assert limiter.check(1, 1.0) is Verdict.WARN  # and a new warning once over again


def test_memory_is_bounded() -> None:
    limiter = RateLimiter(capacity=2, per_second=1.0, max_people=100)
    for person in range(1000):
        limiter.check(person, float(person * 10))
    assert len(limiter._buckets) <= 100


def test_repeated_notices_go_out_once_per_window_with_the_count() -> None:
    repeats = Repeats(window=60.0, most=3)
    assert repeats.admit("a", 0.0) == 0
    assert [repeats.admit("a", s) for s in (1.0, 30.0, 59.0)] == [None, None, None]
    assert repeats.admit("b", 10.0) == 0  # another error still goes out
    assert repeats.admit("a", 60.0) == 3  # after the window: again, with the repeats
    assert repeats.admit("a", 61.0) is None


def test_at_most_so_many_notices_per_window_whatever_they_are_about() -> None:
    repeats = Repeats(window=60.0, most=2)
    assert [repeats.admit(key, 0.0) for key in "abc"] == [0, 0, None]
    assert repeats.admit("c", 30.0) is None
    assert repeats.admit("c", 60.0) == 2  # room again; it says it was held back twice
    for n in range(5000):
        repeats.admit(str(n), 1000.0 + n * 60)
    assert len(repeats._seen) <= 1000
