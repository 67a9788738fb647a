"""What the office console's overview shows: numbers, dates and the Lotsen's first names
only, never a refugee's details or anything anyone wrote."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time

from bot.domain.mailings import Progress
from bot.domain.requests import Request

__all__ = ["Appointment", "Overview", "RunningBroadcast", "RunningOut", "Unanswered"]


@dataclass(frozen=True, slots=True)
class Appointment:
    """A case's appointment: its number, when, and the Lotse who goes."""

    request_id: int
    day: date
    time: time | None
    lotse_id: int | None
    lotse_name: str | None


@dataclass(frozen=True, slots=True)
class Unanswered:
    """A concern or a message to the office whose last word is the person's."""

    thread_id: int
    kind: str  #: ``concern`` or ``message``
    request_id: int | None
    since: datetime


@dataclass(frozen=True, slots=True)
class RunningOut:
    """A Lotse whose Führungszeugnis runs out soon (or has)."""

    lotse_id: int
    name: str
    valid_until: date


@dataclass(frozen=True, slots=True)
class RunningBroadcast:
    """A broadcast being sent now."""

    mailing_id: int
    started_at: datetime | None
    progress: Progress


@dataclass(frozen=True, slots=True)
class Overview:
    """What waits for the office."""

    waiting: list[Request] = field(default_factory=list)
    #: Of :attr:`waiting`, those waiting twice as long as the first escalation.
    stuck: frozenset[int] = frozenset()
    expired: list[Request] = field(default_factory=list)
    today: list[Appointment] = field(default_factory=list)
    tomorrow: list[Appointment] = field(default_factory=list)
    unanswered: list[Unanswered] = field(default_factory=list)
    running_out: list[RunningOut] = field(default_factory=list)
    broadcasts: list[RunningBroadcast] = field(default_factory=list)
