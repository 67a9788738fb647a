"""The time source every service uses, so tests and the demo can move time forward."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol

__all__ = ["Clock", "ManualClock", "SystemClock", "from_db", "to_db"]


class Clock(Protocol):
    """Something that tells the current time (always timezone-aware, UTC)."""

    def now(self) -> datetime:
        """Return the current time."""
        ...


class SystemClock:
    """The real time."""

    def now(self) -> datetime:
        """Return the current UTC time."""
        return datetime.now(UTC)


class ManualClock:
    """The real time plus an offset that can only grow (for tests and the offline demo).

    With ``start`` it begins at that moment instead of the real time, and runs on from there.
    """

    def __init__(self, start: datetime | None = None) -> None:
        self.offset = timedelta() if start is None else start - datetime.now(UTC)

    def now(self) -> datetime:
        """Return the shifted UTC time."""
        return datetime.now(UTC) + self.offset

    def advance(self, delta: timedelta) -> None:
        """Move time forward by ``delta``."""
        if delta < timedelta():
            raise ValueError("time only moves forward")
        self.offset += delta


def to_db(moment: datetime) -> str:
    """Encode a moment for storage (ISO 8601, UTC)."""
    if moment.tzinfo is None:
        raise ValueError("naive datetimes are not stored")
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def from_db(value: str) -> datetime:
    """Decode a stored moment."""
    return datetime.fromisoformat(value)
