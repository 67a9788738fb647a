"""The token bucket on its own (the bot's use of it is in tests/test_limits.py)."""

from __future__ import annotations

from bot.domain.ratelimit import RateLimiter, Verdict


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
