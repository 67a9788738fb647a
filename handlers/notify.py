"""The Notifier port, for any messenger: render in each recipient's language and send."""

from __future__ import annotations

import logging
from datetime import date, datetime

from bot.clock import Clock
from bot.config import CityConfig
from bot.domain.lotsen import Lotse, LotseStatus, for_assignment
from bot.domain.people import Contact, MessageRef, Person
from bot.domain.requests import Request
from bot.i18n import Texts, texts
from bot.services.people import PeopleService
from bot.storage.lotsen import LotsenRepository
from bot.storage.people import PeopleRepository
from bot.storage.requests import RequestsRepository
from handlers import (
    asking_views,
    case_views,
    coordination_views,
    lotse_views,
    office_views,
    retention_views,
    roster_views,
)
from handlers.context import coordinator_chats
from handlers.port import Attachment, Blocked, DeliveryError, OutFile, Refused, Screen, Switchboard

__all__ = ["MessengerNotifier"]

log = logging.getLogger(__name__)


class MessengerNotifier:
    """Sends what the services decide through ``switchboard``, to each person on their own
    channel; failures are logged (without personal data)."""

    def __init__(
        self,
        city: CityConfig,
        people: PeopleRepository,
        lotsen: LotsenRepository,
        requests: RequestsRepository,
        clock: Clock,
        switchboard: Switchboard,
    ) -> None:
        self.city = city
        self.clock = clock
        self.people = PeopleService(people, city, clock)
        self.lotsen = lotsen
        self.requests = requests
        self.switchboard = switchboard

    def _t(self, person: Person | Lotse) -> Texts:
        return texts(person.language, self.city.timezone)

    async def _send(self, to: Contact, screen: Screen) -> MessageRef | None:
        try:
            sent = await self.switchboard.send(to, screen)
        except Blocked:
            log.info("a recipient has blocked the bot")
            await self.people.unreachable(to)
        except DeliveryError as exc:
            log.warning("could not deliver a notification: %s", type(exc).__name__)
        else:
            return MessageRef.at(to, sent.id)
        return None

    async def _send_case(self, to: Contact, request: Request, screen: Screen) -> MessageRef | None:
        """Send a message of the case and link it to the case, so that a reply to it is
        recognised (and refused once the case is closed or no longer the recipient's)."""
        sent = await self._send(to, screen)
        if sent is not None:
            await self.requests.add_relays(request.id, [(sent, "text")], self.clock.now())
        return sent

    async def _owner(self, request: Request) -> Person | None:
        return await self.people.by_id(request.person_id) if request.person_id else None

    async def _send_files(self, to: Contact, request: Request, caption: str) -> list[MessageRef]:
        """Pass on the request's voice notes, photos and documents, each with the case's
        caption (on another channel than they came from, as copies)."""
        sent: list[MessageRef] = []
        for file in request.files:
            attachment = Attachment(file.kind, file.ref, file.channel, file.mime)
            try:
                copy = await self.switchboard.send(to, Screen(caption), attachment=attachment)
            except DeliveryError as exc:
                log.warning("could not pass on an attachment: %s", type(exc).__name__)
                continue
            sent.append(MessageRef.at(to, copy.id))
        return sent

    async def offer(self, lotse: Lotse, request: Request) -> MessageRef | None:
        return await self._send(
            lotse.contact, lotse_views.offer(self._t(lotse), self.city, request)
        )

    async def offer_gone(self, message: MessageRef) -> None:
        person = await self.people.find(message.contact)
        t = texts(person.language if person else self.city.default_language, self.city.timezone)
        try:
            await self.switchboard.edit(message, Screen(lotse_views.offer_gone(t)))
        except (Refused, Blocked) as exc:  # too old to edit, or blocked
            log.info("offer message not edited: %s", type(exc).__name__)

    async def offer_assigned(self, message: MessageRef) -> None:
        try:
            await self.switchboard.edit_choices(message, ())
        except DeliveryError as exc:  # too old to edit, without choices already, or blocked
            log.info("offer message not edited: %s", type(exc).__name__)

    async def accepted(self, request: Request, lotse: Lotse, side: str) -> bool:
        if side == "lotse":
            details = await self._send_case(
                lotse.contact,
                request,
                lotse_views.case_for_lotse(self._t(lotse), self.city, request),
            )
            return details is not None
        owner = await self._owner(request)
        if owner is None:
            return False
        t = self._t(owner)
        message = await self._send_case(
            owner.contact,
            request,
            Screen(
                asking_views.accepted_for_person(t, request, lotse.first_name),
                ((office_views.concern_button(t, request),),),
            ),
        )
        return message is not None

    async def accepted_files(self, request: Request, lotse: Lotse, side: str) -> None:
        if side == "lotse":
            t = self._t(lotse)
            files = await self._send_files(
                lotse.contact,
                request,
                case_views.relayed(t, request, request.first_name or "", None),
            )
            if files:
                relays = [(message, "media") for message in files]
                await self.requests.add_relays(request.id, relays, self.clock.now())
            await self._calendar(lotse.contact, t, request, request.first_name or "")
            return
        owner = await self._owner(request)
        if owner is not None:
            await self._calendar(owner.contact, self._t(owner), request, lotse.first_name)

    async def _calendar(
        self, to: Contact, t: Texts, request: Request, other: str, text: str | None = None
    ) -> None:
        """The appointment as a calendar file (when day and time are fixed), with ``text``."""
        ics = office_views.appointment_file(t, self.city, request, other, self.clock.now())
        if ics is None:
            return
        screen = Screen(text or office_views.calendar_caption(t))
        await self._send_file(to, request, screen, ics)

    async def _send_file(
        self, to: Contact, request: Request, screen: Screen, file: OutFile
    ) -> None:
        try:
            sent = await self.switchboard.send(to, screen, file=file)
        except DeliveryError as exc:
            log.warning("could not deliver a calendar file: %s", type(exc).__name__)
            return
        await self.requests.add_relays(
            request.id, [(MessageRef.at(to, sent.id), "media")], self.clock.now()
        )

    async def moved(self, request: Request, lotse: Lotse) -> None:
        owner = await self._owner(request)
        sides = [(lotse.contact, self._t(lotse), request.first_name or "")]
        if owner is not None:
            sides.append((owner.contact, self._t(owner), lotse.first_name))
        for contact, t, other in sides:
            await self._calendar(contact, t, request, other, office_views.moved_news(t, request))

    async def taking_longer(self, request: Request) -> None:
        owner = await self._owner(request)
        if owner is not None:
            await self._send_case(
                owner.contact, request, Screen(asking_views.taking_longer(self._t(owner), request))
            )

    async def coordinators(self, request: Request, reason: str) -> None:
        now = self.clock.now()
        active = await self.lotsen.active(request.created_at)
        candidates = for_assignment(active, request.languages, request.district, now)
        for contact, t in await coordinator_chats(self.people):
            screen = coordination_views.escalation(t, self.city, request, reason, candidates, now)
            await self._send(contact, screen)

    async def expired(self, request: Request) -> None:
        owner = await self._owner(request)
        if owner is not None:
            await self._send_case(
                owner.contact,
                request,
                asking_views.expired(self._t(owner), request, self.city),
            )

    async def cancelled(self, request: Request, lotse: Lotse | None) -> None:
        if lotse is not None:
            await self._send_case(
                lotse.contact,
                request,
                Screen(lotse_views.cancelled_for_lotse(self._t(lotse), request)),
            )

    async def cancelled_by_office(self, request: Request, lotse: Lotse | None) -> None:
        owner = await self._owner(request)
        if owner is not None:
            text = asking_views.cancelled_by_office(self._t(owner), request, self.city)
            await self._send_case(owner.contact, request, Screen(text))
        if lotse is not None:
            text = lotse_views.cancelled_by_office_for_lotse(self._t(lotse), request)
            await self._send_case(lotse.contact, request, Screen(text))

    async def reopened(self, request: Request) -> None:
        owner = await self._owner(request)
        if owner is not None:
            text = asking_views.reopened(self._t(owner), request)
            await self._send_case(owner.contact, request, Screen(text))

    async def handed_back(self, request: Request, lotse: Lotse) -> None:
        owner = await self._owner(request)
        if owner is not None:
            await self._send_case(
                owner.contact,
                request,
                Screen(asking_views.handed_back_for_person(self._t(owner), request)),
            )
        # The Lotse no longer needs the details: each message of the case in their chat
        # keeps only its number; attachments are deleted (or, when the messenger no longer
        # lets the bot delete them, their caption is cut).
        line = lotse_views.handed_back(self._t(lotse), request)
        for message, kind in await self.requests.bot_messages_of(request.id, lotse.person_id):
            await self._cut_down(message, kind, line)

    async def _cut_down(self, message: MessageRef, kind: str, text: str) -> None:
        try:
            if kind == "media":
                if not await self.switchboard.delete(message):
                    # older than the messenger allows to delete
                    await self.switchboard.edit_caption(message, text)
            else:
                await self.switchboard.edit(message, Screen(text))
        except DeliveryError as exc:  # already cut down, deleted, or the bot is blocked
            log.info("case message not cut down: %s", type(exc).__name__)

    async def closed(self, request: Request) -> bool:
        owner = await self._owner(request)
        if owner is None:
            return False
        message = await self._send_case(
            owner.contact, request, asking_views.feedback_question(self._t(owner), request)
        )
        return message is not None

    async def reminder(self, request: Request, lotse: Lotse, side: str) -> bool:
        if side == "lotse":
            message = await self._send_case(
                lotse.contact,
                request,
                case_views.reminder(self._t(lotse), request, request.first_name or ""),
            )
            return message is not None
        owner = await self._owner(request)
        if owner is None:
            return False
        message = await self._send_case(
            owner.contact, request, case_views.reminder(self._t(owner), request, lotse.first_name)
        )
        return message is not None

    async def attendance(
        self, request: Request, lotse: Lotse, by_lotse: bool, coming: bool
    ) -> None:
        owner = await self._owner(request)
        if by_lotse and owner is not None:
            await self._send_case(
                owner.contact,
                request,
                Screen(
                    case_views.attendance_news(self._t(owner), request, lotse.first_name, coming)
                ),
            )
        elif not by_lotse:
            await self._send_case(
                lotse.contact,
                request,
                Screen(
                    case_views.attendance_news(
                        self._t(lotse), request, request.first_name or "", coming
                    )
                ),
            )
        if not coming:
            for contact, t in await coordinator_chats(self.people):
                screen = coordination_views.cannot_come(
                    t, self.city, request, lotse.first_name, by_lotse
                )
                await self._send(contact, screen)

    async def idle_warning(
        self, request: Request, lotse: Lotse | None, since: datetime, deadline: datetime
    ) -> None:
        if lotse is not None:
            screen = retention_views.idle_warning(self._t(lotse), request, since, deadline, None)
            await self._send(lotse.contact, screen)
        name = lotse.first_name if lotse is not None else "–"
        for contact, t in await coordinator_chats(self.people):
            if lotse is None or contact != lotse.contact:  # asked once as the Lotse
                screen = retention_views.idle_warning(t, request, since, deadline, name)
                await self._send(contact, screen)

    async def idle_closed(self, request: Request, lotse: Lotse | None) -> None:
        owner = await self._owner(request)
        if owner is not None:
            text = retention_views.closed_for_person(self._t(owner), request)
            await self._send(owner.contact, Screen(text))
        if lotse is not None:
            text = retention_views.closed(self._t(lotse), request)
            await self._send(lotse.contact, Screen(text))

    async def lotse_state(self, lotse: Lotse, state: LotseStatus) -> None:
        await self._send(lotse.contact, Screen(roster_views.told(self._t(lotse), self.city, state)))
        if state is LotseStatus.LEFT:
            for contact, t in await coordinator_chats(self.people):
                await self._send(contact, Screen(roster_views.left_for_office(t, lotse)))

    async def check_runs_out(self, lotse: Lotse, valid_until: date) -> None:
        text = roster_views.check_runs_out(self._t(lotse), valid_until)
        await self._send(lotse.contact, Screen(text))
        for contact, t in await coordinator_chats(self.people):
            await self._send(
                contact, roster_views.check_runs_out_for_office(t, self.city, lotse, valid_until)
            )
