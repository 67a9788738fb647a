"""Stammtisch dates: planning, repeating rules, announcements, answers and reminders."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from bot.clock import Clock
from bot.config import CityConfig
from bot.domain.dialogs import Dialog, clip
from bot.domain.events import (
    Event,
    EventNotice,
    EventRule,
    Pattern,
    Rsvp,
    RsvpCounts,
    calendar_file,
)
from bot.domain.mailings import Audience, Mailing, MailingKind
from bot.domain.people import Person
from bot.services.mailings import MailingService
from bot.storage.dialogs import DialogsRepository
from bot.storage.events import EventsRepository

__all__ = ["EventService", "Step"]

log = logging.getLogger(__name__)

#: Dates of a rule are created this far ahead.
HORIZON = timedelta(days=100)
MAX_TITLE = 60
MAX_PLACE = 120
MAX_TOPIC = 40
MAX_TOPICS = 8


class Step(StrEnum):
    """Where a coordinator's event, rule or move dialog stands."""

    TITLE = "title"
    PATTERN = "pattern"  # rule: which week of the month (or every / every other week)
    WEEKDAY = "weekday"  # rule: which day of the week
    DAY = "day"
    TIME = "time"
    PLACE = "place"
    TOPICS = "topics"
    CONFIRM = "confirm"


class EventService:
    """Everything about dates: the dialogs, the rules, the notices, the answers."""

    def __init__(
        self,
        repo: EventsRepository,
        dialogs: DialogsRepository,
        mailings: MailingService,
        city: CityConfig,
        clock: Clock,
        bot_name: str = "lotsenbot",
    ) -> None:
        self.repo = repo
        self.dialogs = dialogs
        self.mailings = mailings
        self.city = city
        self.clock = clock
        self.bot_name = bot_name
        mailings.register(MailingKind.EVENT, self)

    # ------------------------------------------------------------------ plain

    async def upcoming(self, limit: int = 3) -> list[Event]:
        """The next planned dates."""
        return await self.repo.upcoming(self.clock.now(), limit)

    async def get(self, event_id: int) -> Event | None:
        """One date."""
        return await self.repo.get(event_id)

    async def rules(self) -> list[EventRule]:
        """The repeating rules in force."""
        return await self.repo.rules()

    def next_dates(self, rule: EventRule, count: int = 3) -> list[datetime]:
        """The next few dates a rule gives (for the preview)."""
        now = self.clock.now()
        return rule.dates(self.city.timezone, now, now + timedelta(days=400))[:count]

    async def counts(self, event: Event) -> RsvpCounts:
        """How many said yes, maybe, no, and how many were told."""
        return await self.repo.counts(event.id)

    async def answered(self, event: Event) -> list[tuple[str, Rsvp]]:
        """Who answered (the Lotsen by first name), yes first."""
        return [(name or "–", answer) for _, name, answer in await self.repo.answered(event.id)]

    async def answers(self, person: Person, events: list[Event]) -> dict[int, Rsvp]:
        """The person's answers to these dates."""
        return await self.repo.answers_of(person.id, (e.id for e in events))

    # --------------------------------------------------------------- planning

    async def plan(
        self,
        title: str,
        day: date,
        at: time,
        place: str,
        topics: tuple[str, ...] = (),
        *,
        announce: bool = True,
        dialog_of: Person | None = None,
    ) -> Event | None:
        """A single date; announced to all Lotsen now (or later by hand).

        None when the moment has passed, or when the author's dialog was already used.
        """
        starts_at = datetime.combine(day, at, self.city.timezone)
        now = self.clock.now()
        if starts_at <= now:
            return None
        event_id = await self.repo.add_event(
            clip(title, MAX_TITLE),
            starts_at,
            clip(place, MAX_PLACE),
            topics,
            now,
            announce_at=now if announce else None,
            remind_at=starts_at - self.city.stammtisch.remind_before,
            dialog_of=dialog_of.id if dialog_of else None,
        )
        if event_id is None:
            return None
        if announce:
            await self._announce(event_id)
        return await self.repo.get(event_id)

    async def add_rule(
        self,
        title: str,
        pattern: Pattern,
        at: time,
        place: str,
        topics: tuple[str, ...] = (),
        *,
        dialog_of: Person | None = None,
    ) -> EventRule | None:
        """A repeating date; its next dates are created and announced by themselves."""
        rule_id = await self.repo.add_rule(
            clip(title, MAX_TITLE),
            pattern.rrule,
            at,
            clip(place, MAX_PLACE),
            topics,
            self.city.stammtisch.announce_days,
            self.clock.now(),
            dialog_of=dialog_of.id if dialog_of else None,
        )
        if rule_id is None:
            return None
        rule = await self.repo.rule(rule_id)
        assert rule is not None
        await self.extend(rule)
        return rule

    async def stop_rule(self, rule_id: int) -> bool:
        """No more dates from a rule (dates already announced stay)."""
        return await self.repo.stop_rule(rule_id, self.clock.now())

    async def extend_all(self) -> int:
        """Create the dates every rule gives within the horizon; return how many were new."""
        return sum([await self.extend(rule) for rule in await self.repo.rules()])

    async def extend(self, rule: EventRule) -> int:
        """Create a rule's dates within the horizon (each date once, even after a move)."""
        now = self.clock.now()
        added = 0
        # Looked at every minute: only dates beyond the last one given need a write.
        last = await self.repo.last_occurrence(rule.id)
        for starts_at in rule.dates(self.city.timezone, now, now + HORIZON):
            if last is not None and starts_at.date() <= last:
                continue
            announce_at = max(now, starts_at - timedelta(days=rule.announce_days))
            event_id = await self.repo.add_event(
                rule.title,
                starts_at,
                rule.place,
                rule.topics,
                now,
                announce_at=announce_at,
                remind_at=starts_at - self.city.stammtisch.remind_before,
                rule_id=rule.id,
                occurrence=starts_at.date(),
            )
            if event_id is not None:
                added += 1
                if announce_at <= now:
                    await self._announce(event_id)
        return added

    async def announce(self, event_id: int) -> bool:
        """Announce a date now (a coordinator's button); False if it was announced already."""
        event = await self.repo.get(event_id)
        if event is None or event.cancelled or event.starts_at <= self.clock.now():
            return False
        return await self._announce(event_id)

    async def move(
        self, event_id: int, day: date, at: time, *, dialog_of: Person | None = None
    ) -> Event | None:
        """Move one date; those who were told hear of it (with a new calendar entry)."""
        starts_at = datetime.combine(day, at, self.city.timezone)
        now = self.clock.now()
        if starts_at <= now:
            return None
        if dialog_of is not None:
            await self.dialogs.end(dialog_of.id, "event_move")
        moved = await self.repo.move(
            event_id, starts_at, starts_at - self.city.stammtisch.remind_before, now
        )
        if moved is None:
            return None
        await self._launch(moved[1])
        return await self.repo.get(event_id)

    async def cancel(self, event_id: int) -> bool:
        """Cancel one date; those who were told hear of it."""
        mailing_id = await self.repo.cancel(event_id, self.clock.now())
        if mailing_id is None:
            return False
        await self._launch(mailing_id)
        return True

    async def answer(self, event_id: int, person: Person, answer: Rsvp) -> Event | None:
        """*I'll come* / *Maybe* / *No*; None if the date is over or cancelled."""
        event = await self.repo.get(event_id)
        if event is None or event.cancelled or event.starts_at <= self.clock.now():
            return None
        await self.repo.answer(event_id, person.id, answer, self.clock.now())
        return event

    async def _announce(self, event_id: int) -> bool:
        mailing = await self.mailings.send(
            MailingKind.EVENT, event_id, "announce", Audience("event_lotsen")
        )
        return mailing is not None

    async def _launch(self, mailing_id: int) -> None:
        if mailing_id:
            mailing = await self.mailings.get(mailing_id)
            if mailing is not None:
                self.mailings.launch(mailing)

    # ----------------------------------------------------------------- timers

    async def on_timer(self, what: str, event_id: int, due: datetime, now: datetime) -> None:
        """``event:announce``, ``event:remind``; a late reminder still goes out before the date."""
        event = await self.repo.get(event_id)
        if event is None or event.cancelled:
            return
        if what == "announce" and event.starts_at > now:
            await self._announce(event_id)
        elif what == "remind":
            if event.starts_at <= now:
                log.warning("reminder for event %s not sent: the date began already", event_id)
                return
            await self.mailings.send(
                MailingKind.EVENT,
                event_id,
                f"remind:{event.sequence}",
                Audience("event_going", event_id),
            )

    # ----------------------------------------------------------- mailing owner

    async def content(self, mailing: Mailing) -> EventNotice | None:
        """The notice an event mailing carries, with the calendar file."""
        event = await self.repo.get(mailing.subject)
        if event is None:
            return None
        ics = calendar_file(
            event,
            f"mailto:{self.city.contact.email}",
            f"{self.bot_name}.{self.city.city.lower()}",
            self.clock.now(),
        )
        notice = EventNotice(event, mailing.variant, ics)
        if notice.kind == "remind":
            answers = {person: answer for person, _, answer in await self.repo.answered(event.id)}
            notice = replace(notice, answers=answers)
        return notice

    async def audience(self, mailing: Mailing) -> Audience:
        """Event mailings start at once; this is asked only for completeness."""
        return Audience("event_lotsen")

    # ----------------------------------------------------------------- dialogs

    async def dialog(self, person: Person) -> Dialog | None:
        """The coordinator's open event, rule or move dialog."""
        dialog = await self.dialogs.get(person.id)
        return (
            dialog
            if dialog is not None and dialog.kind in ("event", "rule", "event_move")
            else None
        )

    async def begin(self, person: Person, kind: str, key: int | None, **data: Any) -> Dialog:
        """Start planning a date (``event``), a rule (``rule``) or moving one (``event_move``)."""
        stammtisch = self.city.stammtisch
        defaults: dict[str, Any] = {
            "event": {"title": stammtisch.title, "topics": []},
            "rule": {"title": stammtisch.title, "topics": []},
            "event_move": {},
        }[kind]
        first = {"event": Step.TITLE, "rule": Step.TITLE, "event_move": Step.DAY}[kind]
        return await self.dialogs.save(
            person.id, kind, first, {**defaults, **data}, key, self.clock.now()
        )

    async def edit_rule(self, person: Person, rule_id: int, key: int | None) -> Dialog | None:
        """Change a rule: a rule dialog filled with it, at its summary; saving puts the new
        rule in its place (None if the rule is not in force)."""
        rule = await self.repo.rule(rule_id)
        if rule is None or not rule.active:
            return None
        pattern = rule.pattern
        data = {
            "title": rule.title,
            "nth": pattern.nth,
            "every_other": pattern.every_other,
            "weekday": pattern.weekday,
            "time": rule.start_time.strftime("%H:%M"),
            "place": rule.place,
            "topics": list(rule.topics),
            "topics_done": True,
            "replaces": rule.id,
        }
        return await self.dialogs.save(person.id, "rule", Step.CONFIRM, data, key, self.clock.now())

    async def step(self, dialog: Dialog, key: int | None, **answer: Any) -> Dialog | None:
        """Store one answer and go to the next step (or back to the summary when editing).

        None if the answer does not fit the step.
        """
        data = dict(dialog.data)
        step = dialog.step
        if step == Step.TITLE:
            title = clip(str(answer.get("title", "")), MAX_TITLE)
            if not title:
                return None
            data["title"] = title
        elif step == Step.PATTERN:
            data["nth"], data["every_other"] = int(answer["nth"]), bool(answer.get("every_other"))
        elif step == Step.WEEKDAY:
            weekday = int(answer["weekday"])
            Pattern(weekday, data.get("nth", 1), data.get("every_other", False))
            data["weekday"] = weekday
        elif step == Step.DAY:
            day = answer["day"]
            if (
                not isinstance(day, date)
                or day < self.clock.now().astimezone(self.city.timezone).date()
            ):
                return None
            data["day"] = day.isoformat()
        elif step == Step.TIME:
            at = answer["time"]
            if not isinstance(at, time):
                return None
            data["time"] = at.strftime("%H:%M")
        elif step == Step.PLACE:
            place = clip(str(answer.get("place", "")), MAX_PLACE)
            if not place:
                return None
            data["place"] = place
        elif step == Step.TOPICS:
            topic = clip(str(answer.get("topic", "")), MAX_TOPIC)
            topics = list(data.get("topics", []))
            if topic in topics:
                topics.remove(topic)
            elif topic and len(topics) < MAX_TOPICS:
                topics.append(topic)
            data["topics"] = topics
            return await self._save(dialog, Step.TOPICS, data, key)
        else:
            return None
        return await self._save(dialog, self._after(dialog.kind, step, data), data, key)

    async def goto(self, dialog: Dialog, step: str, key: int | None) -> Dialog | None:
        """Jump to a step: edit from the summary, or on from the topics to the summary."""
        if step not in _ORDER[dialog.kind]:
            return None
        data = dict(dialog.data)
        if dialog.step == Step.TOPICS and step == Step.CONFIRM:
            data["topics_done"] = True
        elif step == Step.CONFIRM and not all(k in data for k in _FILLED_FOR_SUMMARY[dialog.kind]):
            return None
        return await self._save(dialog, step, data, key)

    async def finish(
        self, dialog: Dialog, person: Person, announce: bool = True
    ) -> Event | EventRule | None:
        """Save what the dialog planned (the dialog ends in the same transaction)."""
        data = dialog.data
        try:
            at = time.fromisoformat(data["time"])
            topics = tuple(data.get("topics", []))
            if dialog.kind == "event":
                return await self.plan(
                    data["title"],
                    date.fromisoformat(data["day"]),
                    at,
                    data["place"],
                    topics,
                    announce=announce,
                    dialog_of=person,
                )
            if dialog.kind == "rule":
                pattern = Pattern(
                    data["weekday"], data.get("nth", 1), data.get("every_other", False)
                )
                # A changed rule: the old one stops first (its dates not announced yet go;
                # announced ones stay, to move or cancel on their cards).
                if "replaces" in data and not await self.stop_rule(int(data["replaces"])):
                    return None
                return await self.add_rule(
                    data["title"], pattern, at, data["place"], topics, dialog_of=person
                )
            if dialog.kind == "event_move":
                return await self.move(
                    int(data["event"]), date.fromisoformat(data["day"]), at, dialog_of=person
                )
        except (KeyError, ValueError):
            return None
        return None

    async def discard(self, dialog: Dialog) -> None:
        """Throw the dialog away."""
        await self.dialogs.end(dialog.person_id, dialog.kind)

    def draft_rule(self, dialog: Dialog) -> EventRule | None:
        """The rule as it would be saved (for the summary's next dates)."""
        data = dialog.data
        try:
            pattern = Pattern(data["weekday"], data.get("nth", 1), data.get("every_other", False))
            return EventRule(
                id=0,
                title=data["title"],
                rrule=pattern.rrule,
                start_time=time.fromisoformat(data["time"]),
                place=data["place"],
                topics=tuple(data.get("topics", [])),
                announce_days=self.city.stammtisch.announce_days,
                active=True,
                created_at=self.clock.now(),
            )
        except (KeyError, ValueError):
            return None

    def _after(self, kind: str, step: str, data: dict[str, Any]) -> str:
        order = _ORDER[kind]
        if all(key in data for key in _FILLED_FOR_SUMMARY[kind]):
            return Step.CONFIRM
        return order[order.index(step) + 1]

    async def _save(
        self, dialog: Dialog, step: str, data: dict[str, Any], key: int | None
    ) -> Dialog:
        return await self.dialogs.save(
            dialog.person_id, dialog.kind, step, data, key, self.clock.now()
        )


_ORDER = {
    "event": (Step.TITLE, Step.DAY, Step.TIME, Step.PLACE, Step.TOPICS, Step.CONFIRM),
    "rule": (
        Step.TITLE,
        Step.PATTERN,
        Step.WEEKDAY,
        Step.TIME,
        Step.PLACE,
        Step.TOPICS,
        Step.CONFIRM,
    ),
    "event_move": (Step.DAY, Step.TIME, Step.CONFIRM),
}
# Once these are known (editing from the summary), an answer leads back to the summary.
_FILLED_FOR_SUMMARY = {
    "event": ("title", "day", "time", "place", "topics_done"),
    "rule": ("title", "weekday", "time", "place", "topics_done"),
    "event_move": ("day", "time"),
}
