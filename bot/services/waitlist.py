"""The training waiting list: joining, trainings, confirmations and moving up."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.config import CityConfig
from bot.domain.dialogs import Dialog, clip
from bot.domain.mailings import Audience, Mailing, MailingKind
from bot.domain.people import Person
from bot.domain.waitlist import (
    Entry,
    Seat,
    SeatAnswer,
    Training,
    TrainingCounts,
    TrainingNotice,
)
from bot.i18n import LANGUAGES
from bot.services.mailings import MailingService
from bot.storage.dialogs import DialogsRepository
from bot.storage.waitlist import WaitlistRepository

__all__ = ["JoinStep", "Standing", "TrainingStep", "WaitlistService"]

log = logging.getLogger(__name__)

MAX_NAME = 60
MAX_CONTACT = 80
MAX_PLACE = 120
#: Those with a place are reminded this long before the training.
REMIND_BEFORE = timedelta(days=1)


class JoinStep(StrEnum):
    """Where someone joining the waiting list stands."""

    NAME = "name"
    CONTACT = "contact"
    LANGUAGES = "languages"
    DISTRICT = "district"
    CONFIRM = "confirm"


class TrainingStep(StrEnum):
    """Where a coordinator announcing a training stands."""

    DAY = "day"
    TIME = "time"
    PLACE = "place"
    CAPACITY = "capacity"
    CONFIRM_BY = "confirm_by"
    CONFIRM = "confirm"


@dataclass(frozen=True, slots=True)
class Standing:
    """Someone's entry, their place, and the next training with their answer."""

    entry: Entry
    place: int
    training: Training | None
    answer: SeatAnswer | None


class WaitlistService:
    """Joining and leaving the list; trainings announced, confirmed and filled in order."""

    def __init__(
        self,
        repo: WaitlistRepository,
        dialogs: DialogsRepository,
        mailings: MailingService,
        city: CityConfig,
        clock: Clock,
    ) -> None:
        self.repo = repo
        self.dialogs = dialogs
        self.mailings = mailings
        self.city = city
        self.clock = clock
        mailings.register(MailingKind.TRAINING, self)

    # --------------------------------------------------------------- the list

    async def standing(self, person: Person) -> Standing | None:
        """The person's entry with their place and the training they were called to."""
        entry = await self.repo.entry_of(person.id)
        if entry is None or entry.trained:
            return None
        training = next(iter(await self.upcoming()), None)
        answer = await self.repo.seat_of(training.id, entry.id) if training else None
        return Standing(entry, await self.repo.place_of(entry), training, answer)

    async def leave(self, person: Person) -> bool:
        """Take the person off the list; a place they held goes to the first reserve."""
        entry = await self.repo.entry_of(person.id)
        if entry is None:
            return False
        now = self.clock.now()
        for training in await self.upcoming():
            seat = await self.repo.seat_of(training.id, entry.id)
            if seat is not None and seat.seat is Seat.PLACE:
                _, moved_up = await self.repo.answer(training, entry, False, now)
                await self._launch(moved_up)
        return await self.repo.leave(person.id)

    async def waiting(self, limit: int = -1, offset: int = 0) -> list[Entry]:
        """Those waiting, in order (``limit`` of them from ``offset``)."""
        return await self.repo.waiting(limit, offset)

    async def count_waiting(self) -> int:
        """How many are waiting."""
        return await self.repo.count_waiting()

    # ---------------------------------------------------------- join dialog

    async def dialog(self, person: Person, kind: str) -> Dialog | None:
        """The person's open ``join`` or ``training`` dialog."""
        dialog = await self.dialogs.get(person.id)
        return dialog if dialog is not None and dialog.kind == kind else None

    async def begin_join(self, person: Person, key: int | None, name: str | None) -> Dialog:
        """Start joining; the Telegram first name is offered, the chosen language preset."""
        data: dict[str, Any] = {"languages": [person.language], "suggested": name or ""}
        return await self.dialogs.save(
            person.id, "join", JoinStep.NAME, data, key, self.clock.now()
        )

    async def join_step(self, dialog: Dialog, key: int | None, **answer: Any) -> Dialog | None:
        """Store one answer of the join dialog; None if it does not fit the step."""
        data = dict(dialog.data)
        step = dialog.step
        if step == JoinStep.NAME and "name" in answer:
            name = clip(str(answer["name"]), MAX_NAME)
            if not name:
                return None
            data["name"], after = name, JoinStep.CONTACT
        elif step == JoinStep.CONTACT and "contact" in answer:
            contact = answer["contact"]
            data["contact"] = clip(str(contact), MAX_CONTACT) if contact else None
            after = JoinStep.LANGUAGES
        elif step == JoinStep.LANGUAGES and "language" in answer:
            code = str(answer["language"])
            if code not in LANGUAGES:
                return None
            languages = list(data.get("languages", []))
            if code in languages:
                languages.remove(code)
            else:
                languages.append(code)
            data["languages"], after = languages, JoinStep.LANGUAGES
        elif step == JoinStep.LANGUAGES and answer.get("done") and data.get("languages"):
            after = JoinStep.DISTRICT
        elif step == JoinStep.DISTRICT and "district" in answer:
            district = answer["district"]
            if district is not None and district not in self.city.districts:
                return None
            data["district"], after = district, JoinStep.CONFIRM
        else:
            return None
        return await self.dialogs.save(dialog.person_id, "join", after, data, key, self.clock.now())

    async def join(self, dialog: Dialog) -> Standing | None:
        """Put the person on the list with what the dialog collected."""
        data = dialog.data
        if dialog.step != JoinStep.CONFIRM or not data.get("name"):
            return None
        entry_id = await self.repo.join(
            dialog.person_id,
            data["name"],
            data.get("contact"),
            data.get("languages", []),
            data.get("district"),
            self.clock.now(),
        )
        if entry_id is None:
            return None
        entry = await self.repo.entry_of(dialog.person_id)
        assert entry is not None
        return Standing(entry, await self.repo.place_of(entry), None, None)

    async def discard(self, dialog: Dialog) -> None:
        """Throw a dialog away."""
        await self.dialogs.end(dialog.person_id, dialog.kind)

    # ------------------------------------------------------------- trainings

    async def upcoming(self) -> list[Training]:
        """Trainings still to come, the next first."""
        return await self.repo.trainings(self.clock.now())

    async def training(self, training_id: int) -> Training | None:
        """One training."""
        return await self.repo.training(training_id)

    async def answered(self, training: Training) -> list[tuple[str, str | None]]:
        """Who answered, in order: (name, ``place``, ``reserve`` or None for a no)."""
        return await self.repo.answered(training.id)

    async def counts(self, training: Training) -> TrainingCounts:
        """Places, reserves, no's and how many were told."""
        return await self.repo.counts(training.id)

    async def begin_training(self, person: Person, key: int | None) -> Dialog:
        """Start announcing a training (the city file gives place and capacity)."""
        rules = self.city.training
        data = {"place": rules.place, "capacity": rules.capacity}
        return await self.dialogs.save(
            person.id, "training", TrainingStep.DAY, data, key, self.clock.now()
        )

    async def training_step(self, dialog: Dialog, key: int | None, **answer: Any) -> Dialog | None:
        """Store one answer of the training dialog; None if it does not fit the step."""
        data = dict(dialog.data)
        step = dialog.step
        today = self.clock.now().astimezone(self.city.timezone).date()
        if step == TrainingStep.DAY:
            day = answer.get("day")
            if not isinstance(day, date) or day <= today:
                return None
            data["day"], after = day.isoformat(), TrainingStep.TIME
        elif step == TrainingStep.TIME:
            at = answer.get("time")
            if not isinstance(at, time):
                return None
            data["time"], after = at.strftime("%H:%M"), TrainingStep.PLACE
        elif step == TrainingStep.PLACE and "place" in answer:
            # None: the usual place from the city file
            place = clip(str(answer["place"] or data.get("place", "")), MAX_PLACE)
            if not place:
                return None
            data["place"], after = place, TrainingStep.CAPACITY
        elif step == TrainingStep.CAPACITY:
            capacity = answer.get("capacity")
            if not isinstance(capacity, int) or not 1 <= capacity <= 500:
                return None
            data["capacity"], after = capacity, TrainingStep.CONFIRM_BY
        elif step == TrainingStep.CONFIRM_BY:
            by = answer.get("confirm_by")
            if not isinstance(by, date) or not today <= by < date.fromisoformat(data["day"]):
                return None
            data["confirm_by"], after = by.isoformat(), TrainingStep.CONFIRM
        else:
            return None
        return await self.dialogs.save(
            dialog.person_id, "training", after, data, key, self.clock.now()
        )

    def changeable(self, training: Training) -> bool:
        """Whether a training can still be changed: announced, and not begun."""
        return not training.held and training.starts_at > self.clock.now()

    async def edit_training(self, person: Person, training: Training, key: int | None) -> Dialog:
        """Change a training: its dialog again from the day, with its place and capacity."""
        data = {"place": training.place, "capacity": training.capacity, "replaces": training.id}
        return await self.dialogs.save(
            person.id, "training", TrainingStep.DAY, data, key, self.clock.now()
        )

    def draft(self, dialog: Dialog) -> Training | None:
        """The training as the dialog has it so far (for the summary)."""
        data = dialog.data
        try:
            starts_at = datetime.combine(
                date.fromisoformat(data["day"]), time.fromisoformat(data["time"]), self._tz
            )
            confirm_by = datetime.combine(  # answers are taken to the end of that day
                date.fromisoformat(data["confirm_by"]), time(23, 59, 59), self._tz
            )
        except (KeyError, ValueError):
            return None
        return Training(0, starts_at, data["place"], int(data["capacity"]), confirm_by, False)

    async def announce(self, dialog: Dialog) -> Training | None:
        """Save the training and tell everyone waiting; None if the dialog was used."""
        draft = self.draft(dialog)
        now = self.clock.now()
        if dialog.step != TrainingStep.CONFIRM or draft is None or draft.confirm_by <= now:
            return None
        if "replaces" in dialog.data:
            return await self._change(int(dialog.data["replaces"]), draft, dialog.person_id)
        training_id = await self.repo.add_training(
            draft.starts_at,
            draft.place,
            draft.capacity,
            draft.confirm_by,
            draft.starts_at - REMIND_BEFORE,
            now,
            dialog.person_id,
        )
        if training_id is None:
            return None
        mailing = await self.mailings.find(MailingKind.TRAINING, training_id, "announce")
        if mailing is not None:
            self.mailings.launch(mailing)
        return await self.repo.training(training_id)

    async def announce_at_once(
        self,
        person: Person,
        day: date,
        at: time,
        place: str,
        capacity: int,
        confirm_by: date,
        replaces: Training | None = None,
    ) -> Training | None:
        """A whole training at once, as the office's desk sends it (or a change of
        ``replaces``): each answer checked as the chat's dialog checks it, then announced.
        None if an answer would be refused there (the dialog is then discarded)."""
        dialog: Dialog | None = (
            await self.edit_training(person, replaces, None)
            if replaces is not None
            else await self.begin_training(person, None)
        )
        for answer in (
            {"day": day},
            {"time": at},
            {"place": place},
            {"capacity": capacity},
            {"confirm_by": confirm_by},
        ):
            if dialog is None:
                break
            dialog = await self.training_step(dialog, None, **answer)
        training = await self.announce(dialog) if dialog is not None else None
        if training is None:
            await self.dialogs.end(person.id, "training")
        return training

    async def _change(self, training_id: int, draft: Training, author: int) -> Training | None:
        """Put the changed training in place and tell everyone who was told and did not say
        no (the answers and seats stay)."""
        mailing_id = await self.repo.change_training(
            training_id,
            draft.starts_at,
            draft.place,
            draft.capacity,
            draft.confirm_by,
            draft.starts_at - REMIND_BEFORE,
            self.clock.now(),
            author,
        )
        if mailing_id is None:
            return None
        await self._launch(mailing_id)
        return await self.repo.training(training_id)

    async def answer(self, training_id: int, person: Person, yes: bool) -> SeatAnswer | None:
        """*I'll come* / *Not this time*; None when the person may not answer (any more).

        A yes is taken until the confirm-by date; a no until the training begins. A freed
        place goes to the first reserve, who is told.
        """
        training = await self.repo.training(training_id)
        entry = await self.repo.entry_of(person.id)
        now = self.clock.now()
        if training is None or entry is None or entry.trained or training.starts_at <= now:
            return None
        if yes and now > training.confirm_by:  # too late for a new yes; a seat stays a seat
            seat = await self.repo.seat_of(training.id, entry.id)
            return seat if seat is not None and seat.seat is not None else None
        answer, moved_up = await self.repo.answer(training, entry, yes, now)
        await self._launch(moved_up)
        return answer

    async def _launch(self, mailing_id: int | None) -> None:
        mailing = await self.mailings.get(mailing_id) if mailing_id is not None else None
        if mailing is not None:
            self.mailings.launch(mailing)

    async def on_timer(self, what: str, training_id: int, due: datetime, now: datetime) -> None:
        """``training:remind``: those with a place, the day before (late only while it has not
        begun); ``training:held``: those with a place leave the list as trained."""
        training = await self.repo.training(training_id)
        if what == "remind" and training is not None and training.starts_at > now:
            await self.mailings.send(
                MailingKind.TRAINING,
                training_id,
                "remind",
                Audience("training_placed", training_id),
            )
        elif what == "held":
            trained = await self.repo.held(training_id, now)
            await self.mailings.pick_up()  # reserves who moved up elsewhere are told
            log.info("training %s held; %d entries marked trained", training_id, trained)

    # ---------------------------------------------------------- mailing owner

    async def content(self, mailing: Mailing) -> TrainingNotice | None:
        """The announcement, or the news that a place became free."""
        training = await self.repo.training(mailing.subject)
        if training is None:
            return None
        # announce, remind, moved_up:<entry>:<time>, changed:<time>
        kind = mailing.variant.split(":")[0]
        return TrainingNotice(training, kind)

    async def audience(self, mailing: Mailing) -> Audience:
        """Training mailings start at once; this is asked only for completeness."""
        return Audience("training_called")

    @property
    def _tz(self) -> ZoneInfo:
        return self.city.timezone
