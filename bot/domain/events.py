"""Stammtisch and other dates: single events, repeating rules, answers, calendar files."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr
from icalendar import Calendar
from icalendar import Event as CalendarEvent

__all__ = [
    "DURATION",
    "CalendarEntry",
    "Event",
    "EventNotice",
    "EventRule",
    "Pattern",
    "Rsvp",
    "RsvpCounts",
    "calendar_entry",
    "calendar_file",
]

#: How long a Stammtisch is assumed to last (for the calendar entry).
DURATION = timedelta(hours=2)
_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_WEEKDAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "last": -1}


class Rsvp(StrEnum):
    """An answer to an invitation."""

    YES = "yes"
    MAYBE = "maybe"
    NO = "no"


@dataclass(frozen=True, slots=True)
class Pattern:
    """When a repeating date falls: the ``nth`` weekday of every month, or every (other) week.

    ``nth`` is 1-4 or -1 (the last) for monthly dates; 0 means every week, and
    ``every_other`` every second week.
    """

    weekday: int  # 0 = Monday
    nth: int = 1
    every_other: bool = False

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6 or self.nth not in (-1, 0, 1, 2, 3, 4):
            raise ValueError("not a valid repeating pattern")

    @property
    def rrule(self) -> str:
        """The RFC 5545 rule, e.g. ``FREQ=MONTHLY;BYDAY=1WE``."""
        day = _WEEKDAYS[self.weekday]
        if self.nth == 0:
            return f"FREQ=WEEKLY;INTERVAL={2 if self.every_other else 1};BYDAY={day}"
        return f"FREQ=MONTHLY;BYDAY={self.nth}{day}"

    @classmethod
    def from_rrule(cls, rule: str) -> Pattern:
        """Read back a rule made by :attr:`rrule`."""
        parts = dict(part.split("=", 1) for part in rule.split(";"))
        byday = parts["BYDAY"]
        weekday = _WEEKDAYS.index(byday[-2:])
        if parts["FREQ"] == "WEEKLY":
            return cls(weekday, 0, parts.get("INTERVAL") == "2")
        return cls(weekday, int(byday[:-2]))

    @classmethod
    def parse(cls, phrase: str) -> Pattern:
        """Read ``first wednesday``, ``last friday``, ``every tuesday``, ``every other monday``."""
        words = phrase.lower().split()
        if len(words) < 2 or words[-1] not in _WEEKDAY_NAMES:
            raise ValueError(phrase)
        weekday = _WEEKDAY_NAMES.index(words[-1])
        head = " ".join(words[:-1])
        if head == "every":
            return cls(weekday, 0)
        if head == "every other":
            return cls(weekday, 0, True)
        if head in _ORDINALS:
            return cls(weekday, _ORDINALS[head])
        raise ValueError(phrase)


@dataclass(frozen=True, slots=True)
class EventRule:
    """A repeating date (e.g. the first Wednesday of the month, 18:00, Treffpunkt Altstadt)."""

    id: int
    title: str
    rrule: str
    start_time: time
    place: str
    topics: tuple[str, ...]
    announce_days: int
    active: bool
    created_at: datetime

    @property
    def pattern(self) -> Pattern:
        """The rule as a :class:`Pattern`."""
        return Pattern.from_rrule(self.rrule)

    def dates(self, tz: ZoneInfo, after: datetime, until: datetime) -> list[datetime]:
        """Start times (aware, city time) after ``after`` up to ``until``.

        The rule runs in wall-clock time, so 18:00 stays 18:00 across daylight saving.
        """
        first = self.created_at.astimezone(tz).date()
        start = rrulestr(self.rrule, dtstart=datetime.combine(first, self.start_time))
        local_after = after.astimezone(tz).replace(tzinfo=None)
        local_until = until.astimezone(tz).replace(tzinfo=None)
        return [d.replace(tzinfo=tz) for d in start.between(local_after, local_until)]


@dataclass(frozen=True, slots=True)
class Event:
    """One date; a rule's date remembers its ``occurrence`` even when moved."""

    id: int
    rule_id: int | None
    occurrence: date | None
    title: str
    starts_at: datetime
    place: str
    topics: tuple[str, ...]
    cancelled: bool
    sequence: int

    def local_day(self, tz: ZoneInfo) -> date:
        """The calendar day in the city."""
        return self.starts_at.astimezone(tz).date()


@dataclass(frozen=True, slots=True)
class RsvpCounts:
    """Answers to one event, and how many were told about it."""

    yes: int = 0
    maybe: int = 0
    no: int = 0
    told: int = 0

    @property
    def silent(self) -> int:
        """Told, but no answer yet."""
        return max(0, self.told - self.yes - self.maybe - self.no)


@dataclass(frozen=True, slots=True)
class EventNotice:
    """What an event mailing carries: the event, the kind of notice, and the calendar file.

    ``variant`` is ``announce``, ``remind``, ``moved:<n>`` or ``cancelled``; ``previous`` is
    the old start of a moved date; ``answers`` (by person id) are the answers given so far, for
    a reminder to show each reader theirs rather than ask again.
    """

    event: Event
    variant: str
    ics: bytes
    previous: datetime | None = None
    answers: Mapping[int, Rsvp] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        """The variant without its counter."""
        return self.variant.partition(":")[0]


def calendar_file(event: Event, organizer: str, uid_domain: str, now: datetime) -> bytes:
    """An iCalendar file for the phone's calendar; a moved date updates the same entry."""
    return calendar_entry(
        CalendarEntry(
            uid=f"event-{event.id}@{uid_domain}",
            sequence=event.sequence,
            starts_at=event.starts_at,
            ends_at=event.starts_at + DURATION,
            summary=event.title,
            place=event.place,
            description=", ".join(event.topics),
            cancelled=event.cancelled,
        ),
        organizer,
        now,
        prodid="-//Lotsenbot//Stammtisch//DE",
    )


@dataclass(frozen=True, slots=True)
class CalendarEntry:
    """One entry of a calendar file: the same ``uid`` with a higher ``sequence`` updates it."""

    uid: str
    sequence: int
    starts_at: datetime
    ends_at: datetime
    summary: str
    place: str | None = None
    description: str = ""
    cancelled: bool = False


def calendar_entry(
    entry: CalendarEntry, organizer: str, now: datetime, prodid: str = "-//Lotsenbot//DE"
) -> bytes:
    """An iCalendar file holding ``entry``, for the phone's calendar."""
    calendar = Calendar()
    calendar.add("prodid", prodid)
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if entry.cancelled else "PUBLISH")
    item = CalendarEvent()
    item.add("uid", entry.uid)
    item.add("sequence", entry.sequence)
    item.add("dtstamp", now.astimezone(UTC).replace(microsecond=0))
    item.add("dtstart", entry.starts_at.astimezone(UTC))
    item.add("dtend", entry.ends_at.astimezone(UTC))
    item.add("summary", entry.summary)
    if entry.place:
        item.add("location", entry.place)
    if entry.description:
        item.add("description", entry.description)
    item.add("organizer", organizer)
    if entry.cancelled:
        item.add("status", "CANCELLED")
    calendar.add_component(item)
    return bytes(calendar.to_ical())
