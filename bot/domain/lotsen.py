"""Lotsen: their profile, and the figures matching ranks them by."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.domain.people import Contact

__all__ = ["Lotse", "LotseStatus", "for_assignment"]


class LotseStatus(StrEnum):
    """Whether a Lotse may receive offers."""

    PENDING = "pending"
    ACTIVE = "active"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class Lotse:
    """A volunteer's profile plus the figures matching needs."""

    person_id: int
    contact: Contact
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

    def paused(self, now: datetime) -> bool:
        """Whether the Lotse pauses at ``now``."""
        return self.paused_until is not None and self.paused_until > now

    @property
    def full(self) -> bool:
        """Whether the Lotse has as many open cases as they take."""
        return self.open_cases >= self.max_open


def for_assignment(
    lotsen: Iterable[Lotse], languages: Iterable[str], district: str | None, now: datetime
) -> list[Lotse]:
    """Lotsen in the order a coordinator assigning a request by hand sees them: those sharing
    one of its languages first, then those free (not paused, below their limit), then those
    serving its Stadtteil, then the least busy."""
    wanted = frozenset(languages)

    def rank(lotse: Lotse) -> tuple[bool, bool, bool, int, str]:
        far = bool(lotse.districts) and district not in lotse.districts
        busy = lotse.paused(now) or lotse.full
        return (not lotse.languages & wanted, busy, far, lotse.open_cases, lotse.first_name)

    return sorted(lotsen, key=rank)
