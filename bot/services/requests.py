"""Use cases of a help request: asking, offering, accepting, the case, and its timers."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from bot.clock import Clock
from bot.config import CityConfig
from bot.domain.lotsen import Lotse
from bot.domain.people import MessageRef, Person
from bot.domain.requests import (
    MAX_FILES,
    OPEN_STATES,
    FileRef,
    Moment,
    Request,
    RequestFilter,
    Status,
    Step,
)
from bot.i18n import LANGUAGES
from bot.services.lotsen import LotsenService
from bot.services.notifier import Notifier
from bot.storage.requests import RequestsRepository
from bot.storage.timers import TimersRepository

__all__ = ["Outcome", "RequestService"]

log = logging.getLogger(__name__)

MAX_TEXT = 1000
MAX_NAME = 40
#: The topic of a quick request: the Lotse learns it from the voice note, photo or words.
QUICK_TOPIC = "other"
FLEXIBLE_EXPIRY = timedelta(days=14)
#: A reminder that fell due while the bot was down is still sent up to this late.
REMINDER_GRACE = timedelta(hours=1)
_NEXT_STEP = {
    Step.TOPIC: Step.DESCRIPTION,
    Step.DESCRIPTION: Step.LANGUAGES,
    Step.LANGUAGES: Step.DISTRICT,
    Step.DISTRICT: Step.DAY,
    Step.DAY: Step.TIME,
    Step.TIME: Step.PLACE,
    Step.PLACE: Step.NAME,
    Step.NAME: Step.CONFIRM,
}


class Outcome(StrEnum):
    """Short answers of the accept/decline use cases."""

    ACCEPTED = "accepted"
    TAKEN = "taken"
    NOT_YOURS = "not_yours"
    DECLINED = "declined"


class RequestService:
    """A request's whole life, from the first tap to the feedback."""

    def __init__(
        self,
        repo: RequestsRepository,
        timers: TimersRepository,
        lotsen: LotsenService,
        notifier: Notifier,
        city: CityConfig,
        clock: Clock,
    ) -> None:
        self.repo = repo
        self.timers = timers
        self.lotsen = lotsen
        self.notify = notifier
        self.city = city
        self.clock = clock

    # ------------------------------------------------------------------ questionnaire

    async def draft(self, person: Person) -> Request | None:
        """The person's unfinished request."""
        return await self.repo.draft_of(person.id)

    async def start(self, person: Person, key: int | None = None) -> Request:
        """Begin asking for a Lotse; the person's language is preset (the languages of their
        last request, if there was one)."""
        last = next(iter(await self.repo.of_person(person.id, limit=1)), None)
        languages = last.languages if last is not None and last.languages else (person.language,)
        return await self.repo.start_draft(person.id, languages, self.clock.now(), key)

    async def start_quick(
        self, person: Person, first_name: str, key: int | None = None
    ) -> Request | None:
        """Begin a quick request: only what it is about is asked (a voice note, a photo or a
        few words), then the summary. The person's language and the name the messenger
        shows are taken, the topic is *something else*, the date flexible; the Lotse asks
        the rest in the case."""
        draft = await self.repo.start_draft(person.id, (person.language,), self.clock.now(), key)
        name = first_name.strip()[:MAX_NAME] or None
        return await self.repo.update_draft(
            draft.id, Step.TOPIC, step=Step.DESCRIPTION, topic=QUICK_TOPIC, first_name=name
        )

    async def latest(self, person: Person) -> Request | None:
        """The person's newest request, to recognise an update that is handled again."""
        return await self.repo.latest_of(person.id)

    async def answer(
        self, draft: Request, step: Step, key: int | None = None, **fields: object
    ) -> Request | None:
        """Store the answer to ``step`` and move on (or back to the summary when editing).

        Without a date there is no place to ask for. What the person answered in their last
        request (languages, Stadtteil, name) is taken again instead of asked: the summary
        shows it, to change there."""
        editing = bool(draft.topic and draft.first_name)
        follow = Step.CONFIRM if editing else _NEXT_STEP.get(step, step)
        if follow is Step.DESCRIPTION and (draft.description or draft.files):
            follow = Step.LANGUAGES  # told already, before the topic was chosen
        if step is Step.DAY and fields.get("day") is None:
            fields.setdefault("time", None)
            fields.setdefault("place", None)
            follow = Step.CONFIRM if draft.first_name else Step.NAME
        if step is Step.DAY and fields.get("day") is not None and draft.time is None:
            follow = Step.TIME
        if not editing and follow in (Step.LANGUAGES, Step.NAME) and draft.person_id is not None:
            follow = await self._remembered(draft.person_id, follow, fields)
        return await self.repo.update_draft(
            draft.id, step, step=follow, updated_by=key, active_at=self.clock.now(), **fields
        )

    async def _remembered(self, person_id: int, follow: Step, fields: dict[str, object]) -> Step:
        """The step after ``follow`` if the person's last request answered it (its answer
        goes into ``fields``), else ``follow``."""
        last = next(iter(await self.repo.of_person(person_id, limit=1)), None)
        if last is None:
            return follow
        if follow is Step.LANGUAGES and last.district and last.languages:
            fields.update(languages=last.languages, district=last.district)
            return Step.DAY
        if follow is Step.NAME and last.first_name:
            fields.update(first_name=last.first_name)
            return Step.CONFIRM
        return follow

    async def choose_topic(
        self, draft: Request, topic: str, key: int | None = None
    ) -> Request | None:
        """Step 1: the topic, from the city's list."""
        if topic not in self.city.topics:
            raise ValueError(topic)
        return await self.answer(draft, Step.TOPIC, key, topic=topic)

    async def describe(
        self, draft: Request, text: str | None, file: FileRef | None = None, key: int | None = None
    ) -> Request | None:
        """Step 2: what it is about, as text (cut to :data:`MAX_TEXT`), and a voice note,
        photo or document added to those sent already."""
        text = (text or "").strip()[:MAX_TEXT] or None
        files = draft.files
        if file is not None and len(files) < MAX_FILES:
            files = (*files, file)
        fields: dict[str, object] = {"files": files}
        if text is not None or file is None:
            fields["description"] = text
        return await self.answer(draft, Step.DESCRIPTION, key, **fields)

    async def note(self, draft: Request, text: str, key: int | None = None) -> Request | None:
        """Words typed where the topic is asked: kept as what it is about (cut to
        :data:`MAX_TEXT`); the topic is still asked, and then the matter is not."""
        return await self.repo.update_draft(
            draft.id,
            Step.TOPIC,
            description=text.strip()[:MAX_TEXT],
            updated_by=key,
            active_at=self.clock.now(),
        )

    async def add_file(
        self, draft: Request, file: FileRef, key: int | None = None
    ) -> Request | None:
        """A voice note, photo or document sent at a later step: added to the request's
        (None when it has :data:`MAX_FILES` already)."""
        return await self.repo.add_file(draft.id, file, key)

    async def toggle_language(
        self, draft: Request, language: str, key: int | None = None
    ) -> Request | None:
        """Step 3: languages the person speaks (multi-select)."""
        if language not in LANGUAGES:
            raise ValueError(language)
        chosen = set(draft.languages) ^ {language}
        ordered = tuple(code for code in LANGUAGES if code in chosen)
        return await self.repo.update_draft(
            draft.id, Step.LANGUAGES, languages=ordered, updated_by=key, active_at=self.clock.now()
        )

    async def add_languages(
        self, draft: Request, languages: list[str], key: int | None = None
    ) -> Request | None:
        """Step 3, typed: the languages named are ticked (the step stays for more)."""
        if not languages or not set(languages) <= set(LANGUAGES):
            raise ValueError(languages)
        chosen = set(draft.languages) | set(languages)
        ordered = tuple(code for code in LANGUAGES if code in chosen)
        return await self.repo.update_draft(
            draft.id, Step.LANGUAGES, languages=ordered, updated_by=key, active_at=self.clock.now()
        )

    async def languages_done(self, draft: Request, key: int | None = None) -> Request | None:
        """Step 3 finished (at least one language)."""
        if not draft.languages:
            return None
        return await self.answer(draft, Step.LANGUAGES, key)

    async def choose_district(
        self, draft: Request, district: str | None, key: int | None = None
    ) -> Request | None:
        """Step 4: the Stadtteil, or None: not known (matching then goes by the rest)."""
        if district is not None and district not in self.city.districts:
            raise ValueError(district)
        return await self.answer(draft, Step.DISTRICT, key, district=district)

    def choosable_days(self, count: int = 14) -> list[date]:
        """Days offered in the calendar: today and the following ones, city time."""
        today = self.clock.now().astimezone(self.city.timezone).date()
        return [today + timedelta(days=i) for i in range(count)]

    async def choose_day(
        self, draft: Request, day: date | None, key: int | None = None
    ) -> Request | None:
        """Step 5: a day from the calendar, or flexible (None)."""
        if day is not None and day not in self.choosable_days(42):
            raise ValueError(day)
        return await self.answer(draft, Step.DAY, key, day=day)

    async def choose_time(
        self, draft: Request, at: time | None, key: int | None = None
    ) -> Request | None:
        """Step 6: a time of day, or not fixed yet (None)."""
        return await self.answer(draft, Step.TIME, key, time=at)

    async def give_place(
        self, draft: Request, place: str | None, key: int | None = None
    ) -> Request | None:
        """Step 7: where (e.g. "Jobcenter, Halterner Str."), or skipped."""
        place = (place or "").strip()[:120] or None
        return await self.answer(draft, Step.PLACE, key, place=place)

    async def give_name(self, draft: Request, name: str, key: int | None = None) -> Request | None:
        """Step 8: the first name to be addressed by."""
        name = " ".join(name.split())[:MAX_NAME]
        if not name:
            return None
        return await self.answer(draft, Step.NAME, key, first_name=name)

    async def discard(self, draft: Request) -> None:
        """The person stopped asking: the draft and what it held are deleted."""
        await self.repo.delete_draft(draft.id)

    async def edit(self, draft: Request, step: Step, key: int | None = None) -> Request | None:
        """From the summary, go back to one step."""
        return await self.repo.update_draft(
            draft.id, Step.CONFIRM, step=step, updated_by=key, active_at=self.clock.now()
        )

    async def confirm(self, draft: Request, key: int | None = None) -> Request | None:
        """The person confirmed the summary: the request opens and its first offers are
        recorded. The caller answers the person, then sends them with :meth:`deliver_offers`
        (offers recorded but not sent go out at the next start)."""
        if draft.step is not Step.CONFIRM:
            return None
        now = self.clock.now()
        if not await self.repo.move(
            draft.id, [Status.DRAFT], Status.OPEN, now, step=None, updated_by=key
        ):
            return None
        request = await self.repo.get(draft.id)
        assert request is not None
        # Escalation is set before offering: if the process dies halfway, it still comes.
        await self.timers.set_many(
            [
                ("request:expire", request.id, self._expiry(request)),
                ("request:escalate", request.id, now + self.city.requests.escalate_after),
            ]
        )
        await self._offer(request, 1, deliver=False)
        return await self.repo.get(draft.id)

    def _expiry(self, request: Request) -> datetime:
        if request.day is None:
            return (request.confirmed_at or self.clock.now()) + FLEXIBLE_EXPIRY
        appointment = request.appointment(self.city.timezone)
        if appointment is not None:
            return appointment
        end_of_day = datetime.combine(request.day + timedelta(days=1), time(0), self.city.timezone)
        return end_of_day

    # ----------------------------------------------------------------- offering

    async def pick(self, request: Request, round: int) -> tuple[list[Lotse], bool]:
        """The Lotsen to offer ``request`` to in ``round`` (1: best few, 2: everyone sharing a
        language), best first; True if nobody shares a language and German speakers stand in.
        """
        limit = self.city.requests.offer_count if round == 1 else None
        ranked = await self.lotsen.to_offer(request, limit)
        stand_in = False
        if not ranked and "de" not in request.languages:
            ranked = await self.lotsen.to_offer(_with_language(request, "de"), limit)
            stand_in = True
        return ranked, stand_in

    async def _offer(self, request: Request, round: int, deliver: bool = True) -> None:
        """Offer the request in ``round`` (1: best few, 2: everyone sharing a language)."""
        now = self.clock.now()
        chosen, stand_in = await self.pick(request, round)
        if stand_in and round == 1:
            await self.notify.coordinators(request, "no_language")
        added = await self.repo.add_offers(
            request.id, [lotse.person_id for lotse in chosen], round, now
        )
        if added is None:  # cancelled meanwhile, or its person withdrew consent
            return
        if not added:
            await self._to_coordinators(request)
            return
        await self.timers.set(
            "request:escalate", request.id, now + self.city.requests.escalate_after
        )
        if deliver:
            await self.deliver_offers(request.id)

    async def deliver_offers(self, request_id: int) -> None:
        """Send every recorded offer that has no message yet (again after a crash)."""
        request = await self.repo.get(request_id)
        if request is None or request.status not in OPEN_STATES:
            return
        people = await self.repo.undelivered_offers(request_id)
        # The first few Lotsen hear of it together, not one after another (and the person is
        # answered sooner); a round to everyone still goes out one by one, well below
        # Telegram's limit.
        few = self.city.requests.offer_count
        room = asyncio.Semaphore(len(people) if 1 <= len(people) <= few else 1)

        async def deliver(person_id: int) -> None:
            async with room:
                lotse = await self.lotsen.by_person_id(person_id)
                if lotse is None:
                    return
                message = await self.notify.offer(lotse, request)
                if message is not None:
                    await self.repo.set_offer_message(request_id, person_id, message)

        results = await asyncio.gather(*(deliver(p) for p in people), return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result  # the rest were delivered; this one is sent again at start

    async def redeliver_offers(self) -> None:
        """At start: offer what a stopped process opened (or got back from a Lotse) but did
        not offer yet, and finish sending the offers it recorded but left unsent."""
        for request in await self.repo.never_offered():
            await self.timers.set("request:expire", request.id, self._expiry(request))
            await self._offer(request, 1, deliver=False)
        for request_id in await self.repo.requests_with_undelivered_offers():
            await self.deliver_offers(request_id)

    async def _to_coordinators(self, request: Request) -> None:
        await self.notify.coordinators(request, "no_lotse")
        await self.notify.taking_longer(request)

    async def accept(self, request_id: int, lotse: Lotse, key: int | None = None) -> Outcome:
        """A Lotse pressed *Accept*: the first one wins, exactly once.

        The winner's press handled again (after a crash, or a second tap) finishes telling
        both sides whatever they were not told yet, and is not "taken" for them; the same
        press (``key``) handled again after a crash also tells again what it was sending.
        """
        request = await self.repo.get(request_id)
        if request is None or await self.repo.offer_status(request_id, lotse.person_id) is None:
            return Outcome.NOT_YOURS
        now = self.clock.now()
        if not await self.repo.accept(
            request_id, lotse.person_id, now, self._reminders(request, now)
        ):
            request = await self.repo.get(request_id)
            if (
                request is None
                or request.status is not Status.ACCEPTED
                or request.lotse_id != lotse.person_id
            ):
                return Outcome.TAKEN
        await self._announce(request_id, lotse, key)
        return Outcome.ACCEPTED

    async def decline(self, request_id: int, lotse: Lotse) -> Outcome:
        """A Lotse pressed *Not this time*; when nobody is left, escalate at once."""
        if await self.repo.offer_status(request_id, lotse.person_id) is None:
            return Outcome.NOT_YOURS
        if not await self.repo.decline(request_id, lotse.person_id):
            return Outcome.TAKEN
        request = await self.repo.get(request_id)
        if (
            request
            and request.status in OPEN_STATES
            and not await self.repo.open_offers(request_id)
        ):
            await self._escalate(request)
        return Outcome.DECLINED

    async def drop_offers(self, lotse: Lotse) -> None:
        """The Lotse leaves: each offer still open to them is declined (so the request moves
        on to others) and its message, which holds the request's text, is edited away."""
        for request_id, message in await self.repo.open_offers_to(lotse.person_id):
            if await self.decline(request_id, lotse) == Outcome.DECLINED and message:
                await self.notify.offer_gone(message)

    async def assign(self, request_id: int, lotse: Lotse) -> bool:
        """A coordinator assigns a waiting request to a Lotse by hand."""
        request = await self.repo.get(request_id)
        if request is None:
            return False
        now = self.clock.now()
        if not await self.repo.assign(
            request_id, lotse.person_id, now, self._reminders(request, now)
        ):
            return False
        # An offer the Lotse had of it is theirs now: its choices go, its text stays.
        offered = await self.repo.offer_message(request_id, lotse.person_id)
        if offered is not None:
            await self.notify.offer_assigned(offered)
        await self._announce(request_id, lotse)
        return True

    async def _announce(self, request_id: int, lotse: Lotse, key: int | None = None) -> None:
        """After an acceptance: close the other offers, tell the Lotse and the person."""
        for message in await self.repo.close_offers(request_id):
            await self.notify.offer_gone(message)
        request = await self.repo.get(request_id)
        assert request is not None
        # The news to both sides first, then the files and calendar entries: neither side
        # waits behind the other's files, also when the press is handled again after a crash.
        told = [
            side
            for side in ("lotse", "person")
            if await self._tell(request, lotse, "accepted", side, key)
        ]
        for side in told:
            await self.notify.accepted_files(request, lotse, side)

    async def _tell(
        self, request: Request, lotse: Lotse, what: str, side: str, key: int | None = None
    ) -> bool:
        """Send one piece of case news to one side, once (recorded per side).

        The record is written before sending: a crash in between leaves it ``sending``
        (perhaps arrived, perhaps not). News a timer sends (a reminder) is then not sent
        again; news an input sends (``key``: the acceptance) is sent again when that input
        is handled again, so it arrives at least once. True if it was sent now and arrived.
        """
        if not await self.repo.claim_notice(
            request.id, what, lotse.person_id, side, self.clock.now(), key
        ):
            return False
        if what == "accepted":
            sent = await self.notify.accepted(request, lotse, side)
        elif what == "closed":
            sent = await self.notify.closed(request)
        else:
            sent = await self.notify.reminder(request, lotse, side)
        await self.repo.settle_notice(request.id, what, lotse.person_id, side, sent)
        return sent

    async def _escalate(self, request: Request) -> None:
        if request.round >= 2:
            await self._to_coordinators(request)
            return
        await self._offer(request, request.round + 1)

    # --------------------------------------------------------------------- cases

    async def of_person(self, person: Person) -> list[Request]:
        """The person's requests for /status."""
        return await self.repo.of_person(person.id)

    async def running(self, person: Person) -> list[Request]:
        """The person's requests that have not ended: drafts, waiting and accepted ones."""
        return await self.repo.running_of(person.id)

    async def get(self, request_id: int) -> Request | None:
        """One request (callers check that it is theirs)."""
        return await self.repo.get(request_id)

    async def cases(self, lotse: Lotse) -> list[Request]:
        """The Lotse's open cases."""
        return await self.repo.cases_of(lotse.person_id)

    async def waiting(self) -> list[Request]:
        """Open, offered and recently expired requests for coordinators."""
        return await self.repo.with_status([Status.OPEN, Status.OFFERED, Status.EXPIRED])

    async def cancel(self, request: Request, person: Person) -> bool:
        """The person cancels their own request; a Lotse who had it is told."""
        if request.person_id != person.id:
            return False
        waiting = [Status.OPEN, Status.OFFERED, Status.ACCEPTED]
        if not await self.repo.move(request.id, waiting, Status.CANCELLED, self.clock.now()):
            return False
        for message in await self.repo.close_offers(request.id):
            await self.notify.offer_gone(message)
        if request.lotse_id is not None:
            await self.notify.cancelled(request, await self.lotsen.by_person_id(request.lotse_id))
        return True

    async def cancel_by_office(self, request: Request) -> bool:
        """The office cancels a request that waits or runs: the person is told, and so is
        its Lotse; offers still open are withdrawn."""
        waiting = [Status.OPEN, Status.OFFERED, Status.ACCEPTED]
        if not await self.repo.move(request.id, waiting, Status.CANCELLED, self.clock.now()):
            return False
        for message in await self.repo.close_offers(request.id):
            await self.notify.offer_gone(message)
        lotse = await self.lotsen.by_person_id(request.lotse_id) if request.lotse_id else None
        await self.notify.cancelled_by_office(request, lotse)
        return True

    async def reopen(self, request: Request) -> bool:
        """The office opens a cancelled or expired request again: the person is told, and
        it is offered as if just sent (an appointment that passed makes it flexible)."""
        if request.person_id is None:
            return False
        now = self.clock.now()
        appointment = request.appointment(self.city.timezone)
        today = now.astimezone(self.city.timezone).date()
        passed = (appointment is not None and appointment <= now) or (
            request.day is not None and request.day < today
        )
        if not await self.repo.reopen_ended(request.id, now, undated=passed):
            return False
        fresh = await self.repo.get(request.id)
        assert fresh is not None
        await self.timers.set_many(
            [
                ("request:expire", fresh.id, self._expiry(fresh)),
                ("request:escalate", fresh.id, now + self.city.requests.escalate_after),
            ]
        )
        await self.notify.reopened(fresh)
        await self._offer(fresh, 1)
        return True

    async def search(
        self, chosen: RequestFilter, page: int, per_page: int
    ) -> tuple[list[tuple[Request, str | None]], int]:
        """One page (from 0) of the office's table of requests, newest first, each with its
        Lotse's first name; and how many requests the filter admits."""
        span = None
        if chosen.month is not None:
            tz = self.city.timezone
            month = chosen.month
            after = date(month.year + month.month // 12, month.month % 12 + 1, 1)
            span = (
                datetime.combine(month.replace(day=1), time(0), tz),
                datetime.combine(after, time(0), tz),
            )
        return await self.repo.search(chosen, span, per_page, max(page, 0) * per_page)

    async def history(self, request: Request) -> list[Moment]:
        """The request's timeline as recorded (offers, answers, news, the office's actions)."""
        return await self.repo.history(request.id)

    async def of_lotse(self, lotse: Lotse) -> list[Request]:
        """The Lotse's cases, running and closed, newest first."""
        return await self.repo.of_lotse(lotse.person_id)

    async def finish(
        self, request: Request, lotse: Lotse, hours: float | None, key: int | None = None
    ) -> bool:
        """The Lotse marks the case done, with the hours it took (None: not given); the person
        is asked how it went. The hours go with the closing, once: a closed case keeps them.
        True also when the same press (``key``) closed the case before, i.e. it is handled
        again after a crash; the question is then asked if it may have been cut off."""
        if request.lotse_id != lotse.person_id:
            return False
        again = request.status is Status.DONE and key is not None and request.updated_by == key
        if not again and not await self.repo.move(
            request.id,
            [Status.ACCEPTED],
            Status.DONE,
            self.clock.now(),
            hours=hours,
            updated_by=key,
        ):
            return False
        await self._tell(request, lotse, "closed", "person", key)
        return True

    async def hand_back(self, request: Request, lotse: Lotse) -> bool:
        """The Lotse cannot continue: the request is offered again, to others."""
        if not await self.repo.reopen(request.id, lotse.person_id, self.clock.now()):
            return False
        fresh = await self.repo.get(request.id)
        assert fresh is not None
        await self.timers.set("request:expire", fresh.id, self._expiry(fresh))
        await self.notify.handed_back(fresh, lotse)
        await self._offer(fresh, 1)
        return True

    async def move_appointment(
        self, request: Request, lotse: Lotse, day: date, at: time
    ) -> Request | None:
        """The case's Lotse moves the appointment (to a day :meth:`choosable_days` offers):
        both sides are told, with the updated calendar entry; None if it does not fit."""
        if day not in self.choosable_days():
            return None
        moved = replace(request, day=day, time=at)
        timers = self._reminders(moved, self.clock.now())
        if not await self.repo.move_appointment(request.id, lotse.person_id, day, at, timers):
            return None
        fresh = await self.repo.get(request.id)
        assert fresh is not None
        await self.notify.moved(fresh, lotse)
        return fresh

    async def feedback(self, request: Request, person: Person, answer: str) -> bool:
        """One-tap feedback after a done case, from the person or from their Lotse: given
        once (the same answer again, as after a restart, is no change)."""
        if request.status is not Status.DONE or answer not in ("good", "ok", "bad"):
            return False
        if person.id == request.person_id:
            field = "feedback"
        elif person.id == request.lotse_id:
            field = "lotse_feedback"
        else:
            return False
        return await self.repo.give_feedback(request.id, field, answer)

    async def attendance(self, request: Request, person: Person, coming: bool) -> bool:
        """*I'll be there* / *I can't come* from either side of a case."""
        if request.status is not Status.ACCEPTED or request.lotse_id is None:
            return False
        by_lotse = request.lotse_id == person.id
        if not by_lotse and request.person_id != person.id:
            return False
        await self.repo.touch(request.id, self.clock.now())
        lotse = await self.lotsen.by_person_id(request.lotse_id)
        if lotse is not None:
            await self.notify.attendance(request, lotse, by_lotse, coming)
        return True

    async def touch(self, request: Request) -> bool:
        """Something happened in the accepted case (it counts as active from now on)."""
        return await self.repo.touch(request.id, self.clock.now())

    async def case_of_relay(self, message: MessageRef) -> int | None:
        """The case a replied-to message belongs to (any message of a case, in any state)."""
        return await self.repo.relay_target(message)

    async def remember(
        self, request_id: int, *messages: tuple[MessageRef, str], relayed: bool = False
    ) -> None:
        """Link messages of the case to it, each as (message, ``text``/``media``/
        ``own``), so that a reply to any of them finds the case; ``relayed`` messages (passed
        between the two sides) are activity of the case, a case shown in a list is not."""
        await self.repo.add_relays(request_id, messages, self.clock.now(), activity=relayed)

    async def running_cases(self, person: Person) -> list[Request]:
        """The accepted cases the person is a side of, as Lotse or as the one helped."""
        return await self.repo.open_cases_involving(person.id)

    # -------------------------------------------------------------------- timers

    def _reminders(self, request: Request, now: datetime) -> list[tuple[str, datetime]]:
        """The reminder timers of a case accepted now (those still in the future)."""
        appointment = request.appointment(self.city.timezone)
        if appointment is None:
            return []
        return [
            (f"request:remind:{index}", appointment - before)
            for index, before in enumerate(self.city.requests.reminders)
            if appointment - before > now
        ]

    async def on_timer(self, what: str, request_id: int, due: datetime, now: datetime) -> None:
        """Do what a request's timer asks for (escalate, expire, remind:<n>)."""
        request = await self.repo.get(request_id)
        if request is not None:
            await self._fire(what, request, due, now)

    async def _fire(self, kind: str, request: Request, due: datetime, now: datetime) -> None:
        if kind == "escalate" and request.status in OPEN_STATES:
            await self._escalate(request)
        elif kind == "expire" and request.status in OPEN_STATES:
            if await self.repo.move(request.id, OPEN_STATES, Status.EXPIRED, now):
                for message in await self.repo.close_offers(request.id):
                    await self.notify.offer_gone(message)
                await self.notify.expired(request)
                await self.notify.coordinators(request, "expired")
        elif kind.startswith("remind:") and request.status is Status.ACCEPTED:
            appointment = request.appointment(self.city.timezone)
            late = now - due
            if appointment is None or now >= appointment or late > REMINDER_GRACE:
                log.info("reminder for request %s skipped: too late", request.id)
                return
            lotse = await self.lotsen.by_person_id(request.lotse_id or 0)
            if lotse is not None:
                for side in ("lotse", "person"):
                    await self._tell(request, lotse, kind, side)


def _with_language(request: Request, language: str) -> Request:
    from dataclasses import replace

    return replace(request, languages=(*request.languages, language))
