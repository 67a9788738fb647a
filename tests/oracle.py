"""The Lotse ranking rule written plainly in Python, to check the SQL that matching runs.

Matching chooses Lotsen in SQL (:meth:`bot.storage.lotsen.LotsenRepository.best`), reading
only the least loaded ones; this is the same rule over every Lotse, as a reader would state it.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.domain.lotsen import Lotse, LotseStatus
from bot.domain.requests import Request

__all__ = ["in_quiet_hours", "is_available", "rank"]


def in_quiet_hours(lotse: Lotse, now: datetime, tz: ZoneInfo) -> bool:
    """Whether ``now`` falls in the Lotse's quiet hours (which may span midnight)."""
    if lotse.quiet_from is None or lotse.quiet_to is None or lotse.quiet_from == lotse.quiet_to:
        return False
    hour = now.astimezone(tz).hour
    if lotse.quiet_from < lotse.quiet_to:
        return lotse.quiet_from <= hour < lotse.quiet_to
    return hour >= lotse.quiet_from or hour < lotse.quiet_to


def is_available(lotse: Lotse, now: datetime, tz: ZoneInfo) -> bool:
    """Active, not paused, below the load cap and not in quiet hours."""
    return (
        lotse.status is LotseStatus.ACTIVE
        and (lotse.paused_until is None or lotse.paused_until <= now)
        and lotse.open_cases < lotse.max_open
        and not in_quiet_hours(lotse, now, tz)
    )


def _score(lotse: Lotse, request: Request) -> tuple[int, int, int, int, int]:
    # A Stadtteil the person does not know fits every Lotse alike.
    district = (
        request.district is None or not lotse.districts or request.district in lotse.districts
    )
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
