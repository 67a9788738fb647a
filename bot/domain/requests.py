"""Help requests: their states, the questionnaire's steps and the appointment."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from enum import StrEnum
from zoneinfo import ZoneInfo

__all__ = ["CLOSED_STATES", "OPEN_STATES", "Request", "Status", "Step"]


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
class Request:
    """A person's request for a Lotse."""

    id: int
    person_id: int | None
    status: Status
    step: Step | None
    topic: str | None
    description: str | None
    media_kind: str | None
    media_file_id: str | None
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
    #: The channel whose reference ``media_file_id`` is.
    media_channel: str | None = None
    #: Raised each time the appointment moves: calendars update the same entry.
    calendar_sequence: int = 0

    def runs_for(self, person_id: int) -> bool:
        """Whether this is a running case the person is a side of: only then do their
        messages pass to the other side."""
        return self.status is Status.ACCEPTED and person_id in (self.person_id, self.lotse_id)

    def appointment(self, tz: ZoneInfo) -> datetime | None:
        """The appointment as an aware moment, if day and time are fixed."""
        if self.day is None or self.time is None:
            return None
        return datetime.combine(self.day, self.time, tzinfo=tz)
