"""Lotsen: their profile, and the figures matching ranks them by."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.domain.people import Contact

__all__ = ["Lotse", "LotseStatus"]


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
