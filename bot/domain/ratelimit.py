"""Per-person rate limiting: a token bucket, with one friendly word before silence."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from enum import Enum

__all__ = ["RateLimiter", "Verdict"]


class Verdict(Enum):
    """What to do with one more update from a person."""

    ALLOW = "allow"
    WARN = "warn"  # over the limit: say so once
    SILENT = "silent"  # still over the limit: ignore


@dataclass
class _Bucket:
    tokens: float
    updated: float
    warned: bool = False


class RateLimiter:
    """Allow bursts of ``capacity`` updates, refilled at ``per_second``."""

    def __init__(self, capacity: int = 30, per_second: float = 1.0, max_people: int = 50_000):
        self.capacity = capacity
        self.per_second = per_second
        self.max_people = max_people
        self._buckets: dict[Hashable, _Bucket] = {}

    def check(self, key: Hashable, now: float) -> Verdict:
        """Count one update from ``key`` (a contact) at monotonic time ``now``."""
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self.max_people:
                self._forget_full(now)
            bucket = self._buckets[key] = _Bucket(float(self.capacity), now)
        bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.updated) * self.per_second)
        bucket.updated = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            bucket.warned = False
            return Verdict.ALLOW
        if bucket.warned:
            return Verdict.SILENT
        bucket.warned = True
        return Verdict.WARN

    def _forget_full(self, now: float) -> None:
        """Drop people whose bucket has refilled: they are as good as new."""
        refill = self.capacity / self.per_second
        self._buckets = {k: b for k, b in self._buckets.items() if now - b.updated < refill}
