"""Lotsen, their availability and how they are ranked for a request."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.domain.requests import Request

__all__ = ["Lotse", "LotseStatus", "is_available", "rank"]


class LotseStatus(StrEnum):
    """Whether a Lotse may receive offers."""

    PENDING = "pending"
    ACTIVE = "active"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class Lotse:
    """A volunteer's profile plus the figures matching needs."""

    person_id: int
    telegram_id: int
    language: str
    first_name: str
    status: LotseStatus
    languages: frozenset[str]
    districts: frozenset[str]
    topics: frozenset[str]
    max_open: int
    paused_until: datetime | None
    quiet_from: int | None
    quiet_to: int | None
    open_cases: int = 0
    recent_offers: int = 0

    def in_quiet_hours(self, now: datetime, tz: ZoneInfo) -> bool:
        """Whether ``now`` falls in the Lotse's quiet hours (which may span midnight)."""
        if self.quiet_from is None or self.quiet_to is None or self.quiet_from == self.quiet_to:
            return False
        hour = now.astimezone(tz).hour
        if self.quiet_from < self.quiet_to:
            return self.quiet_from <= hour < self.quiet_to
        return hour >= self.quiet_from or hour < self.quiet_to


def is_available(lotse: Lotse, now: datetime, tz: ZoneInfo) -> bool:
    """Active, not paused, below the load cap and not in quiet hours."""
    return (
        lotse.status is LotseStatus.ACTIVE
        and (lotse.paused_until is None or lotse.paused_until <= now)
        and lotse.open_cases < lotse.max_open
        and not lotse.in_quiet_hours(now, tz)
    )


def _score(lotse: Lotse, request: Request) -> tuple[int, int, int, int, int]:
    district = not lotse.districts or request.district in lotse.districts
    topic = not lotse.topics or request.topic in lotse.topics
    shared = len(lotse.languages.intersection(request.languages))
    # Higher is better: Stadtteil, topic, fewer open cases, fewer recent offers, more languages.
    return (int(district), int(topic), -lotse.open_cases, -lotse.recent_offers, shared)


def rank(lotsen: list[Lotse], request: Request, now: datetime, tz: ZoneInfo) -> list[Lotse]:
    """Available Lotsen sharing a language with the request, best first."""
    wanted = set(request.languages)
    fitting = [
        lotse
        for lotse in lotsen
        if wanted.intersection(lotse.languages) and is_available(lotse, now, tz)
    ]
    return sorted(
        fitting, key=lambda lotse: (_score(lotse, request), -lotse.person_id), reverse=True
    )
