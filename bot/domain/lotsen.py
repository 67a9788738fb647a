"""Lotsen: their profile, the programme's records, and the figures matching ranks them by."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from bot.domain.people import Contact

__all__ = [
    "RECORDS",
    "STATES",
    "Lotse",
    "LotseStatus",
    "Records",
    "RosterEntry",
    "for_assignment",
    "state_of",
]


class LotseStatus(StrEnum):
    """Whether a Lotse may receive offers: only when active."""

    PENDING = "pending"
    ACTIVE = "active"
    REJECTED = "rejected"
    #: Stopped by the office; may be reinstated.
    SUSPENDED = "suspended"
    #: The role ended for good, by the office.
    RETIRED = "retired"
    #: The Lotse left the programme themselves.
    LEFT = "left"


#: How a Lotse can be stopped, and what each means.
STOPPED = (LotseStatus.SUSPENDED, LotseStatus.RETIRED, LotseStatus.LEFT)

#: The programme's records, by their name in storage and on the card.
RECORDS = ("certified_on", "pledge_on", "check_seen_on", "check_valid_until")


@dataclass(frozen=True, slots=True)
class Records:
    """The programme's own records of a Lotse: dates only, never the documents."""

    #: The training (certificate).
    certified_on: date | None = None
    #: The confidentiality pledge.
    pledge_on: date | None = None
    #: The *erweitertes Führungszeugnis*: when it was seen, and until when it is valid.
    check_seen_on: date | None = None
    check_valid_until: date | None = None


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
    #: When they were suspended, retired or left, and the office's reason for a suspension.
    stopped_at: datetime | None = None
    stop_reason: str | None = None
    joined_at: datetime | None = None
    #: When they last wrote to the bot (to the day).
    seen_at: datetime | None = None
    records: Records = field(default_factory=Records)

    def paused(self, now: datetime) -> bool:
        """Whether the Lotse pauses at ``now``."""
        return self.paused_until is not None and self.paused_until > now

    @property
    def full(self) -> bool:
        """Whether the Lotse has as many open cases as they take."""
        return self.open_cases >= self.max_open


#: The states the roster filters by.
STATES = ("active", "paused", "full", "suspended", "left")


def state_of(lotse: Lotse, now: datetime) -> str:
    """The roster's state of a Lotse: ``active``, ``paused``, ``full`` (at their cap),
    ``suspended``, ``left`` (by themselves or retired), or ``pending``/``rejected``."""
    if lotse.status in (LotseStatus.RETIRED, LotseStatus.LEFT):
        return "left"
    if lotse.status is not LotseStatus.ACTIVE:
        return lotse.status.value
    if lotse.paused(now):
        return "paused"
    if lotse.full:
        return "full"
    return "active"


@dataclass(frozen=True, slots=True)
class RosterEntry:
    """A Lotse as the office's roster shows them: with this year's cases and hours."""

    lotse: Lotse
    cases_this_year: int = 0
    hours_this_year: float = 0.0


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
