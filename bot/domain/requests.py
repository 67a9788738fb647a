"""Help requests: their states, the questionnaire's steps and the appointment."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from enum import StrEnum
from zoneinfo import ZoneInfo

__all__ = [
    "CLOSED_STATES",
    "MAX_FILES",
    "OPEN_STATES",
    "FileRef",
    "Moment",
    "Request",
    "RequestFilter",
    "Status",
    "Step",
]

#: How many voice notes, photos and documents a request keeps (a letter of a few pages).
MAX_FILES = 5


class Status(StrEnum):
    """Where a request stands. Transitions are guarded by the expected current state."""

    DRAFT = "draft"
    OPEN = "open"
    OFFERED = "offered"
    ACCEPTED = "accepted"
    DONE = "done"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


#: States in which a request still waits for a Lotse.
OPEN_STATES = (Status.OPEN, Status.OFFERED)
#: States in which a request is over.
CLOSED_STATES = (Status.DONE, Status.CANCELLED, Status.EXPIRED)


class Step(StrEnum):
    """The questionnaire's steps, in order; a draft remembers its step across restarts."""

    TOPIC = "topic"
    DESCRIPTION = "description"
    LANGUAGES = "languages"
    DISTRICT = "district"
    DAY = "day"
    TIME = "time"
    PLACE = "place"
    NAME = "name"
    CONFIRM = "confirm"


@dataclass(frozen=True, slots=True)
class FileRef:
    """A voice note, photo or document a person sent, kept as the reference of the channel
    it came from (the messenger keeps the file), never as the file."""

    kind: str  #: ``voice``, ``photo`` or ``document``
    ref: str
    channel: str
    mime: str | None = None


@dataclass(frozen=True, slots=True)
class Request:
    """A person's request for a Lotse."""

    id: int
    person_id: int | None
    status: Status
    step: Step | None
    topic: str | None
    description: str | None
    languages: tuple[str, ...]
    district: str | None
    day: date | None
    time: time | None
    place: str | None
    first_name: str | None
    round: int
    lotse_id: int | None
    created_at: datetime
    confirmed_at: datetime | None
    accepted_at: datetime | None
    updated_by: int | None = None
    #: What the person sent along, in the order sent (at most :data:`MAX_FILES`).
    files: tuple[FileRef, ...] = ()
    #: Raised each time the appointment moves: calendars update the same entry.
    calendar_sequence: int = 0
    #: When it ended (done, cancelled, expired), and the hours the Lotse gave for it.
    closed_at: datetime | None = None
    hours: float | None = None

    def runs_for(self, person_id: int) -> bool:
        """Whether this is a running case the person is a side of: only then do their
        messages pass to the other side."""
        return self.status is Status.ACCEPTED and person_id in (self.person_id, self.lotse_id)

    def appointment(self, tz: ZoneInfo) -> datetime | None:
        """The appointment as an aware moment, if day and time are fixed."""
        if self.day is None or self.time is None:
            return None
        return datetime.combine(self.day, self.time, tzinfo=tz)


@dataclass(frozen=True, slots=True)
class RequestFilter:
    """What the office's table of requests is narrowed to (None: any). Drafts are never
    shown; ``month`` is the first day of the month the request was sent in (city time)."""

    status: Status | None = None
    topic: str | None = None
    language: str | None = None
    district: str | None = None
    month: date | None = None


@dataclass(frozen=True, slots=True)
class Moment:
    """One step of a request's history as the database records it — never what was said.

    ``what``: ``created``, ``sent``, ``offered`` (``detail``: the round; 99 by the office),
    ``declined``, ``accepted``, ``handed_back`` (``name``: the Lotse who gave the case
    back), ``notice`` (``detail``: ``accepted``, ``remind:<n>`` or ``closed``,
    ``side`` and ``state`` of the message), ``concern`` (``side``: who reported it,
    ``subject``: the thread), ``audit`` (``detail``: the office's action), ``closed``
    (``state``: done, cancelled or expired)."""

    at: datetime
    what: str
    name: str | None = None
    detail: str | None = None
    side: str | None = None
    state: str | None = None
    subject: int | None = None
