"""The Telegram side of the Notifier port: render in each recipient's language and send."""

from __future__ import annotations

import logging
from datetime import datetime

from telegram import Bot, Message
from telegram.error import BadRequest, Forbidden, TelegramError

from bot.clock import Clock
from bot.config import CityConfig
from bot.domain.lotsen import Lotse
from bot.domain.people import Person
from bot.domain.requests import Request
from bot.i18n import Texts, texts
from bot.storage.lotsen import LotsenRepository
from bot.storage.people import PeopleRepository
from bot.storage.requests import RequestsRepository
from handlers import request_views as rv
from handlers import retention_views
from handlers.views import Screen

__all__ = ["TelegramNotifier", "send_file"]

log = logging.getLogger(__name__)


async def send_file(bot: Bot, chat_id: int, kind: str, file_id: str, caption: str) -> Message:
    """Send a voice note, photo or document again by Telegram's file id (no download)."""
    if kind == "voice":
        return await bot.send_voice(chat_id, file_id, caption=caption)
    if kind == "photo":
        return await bot.send_photo(chat_id, file_id, caption=caption)
    return await bot.send_document(chat_id, file_id, caption=caption)


class TelegramNotifier:
    """Sends what the services decide; failures are logged (without personal data)."""

    def __init__(
        self,
        city: CityConfig,
        people: PeopleRepository,
        lotsen: LotsenRepository,
        requests: RequestsRepository,
        clock: Clock,
    ) -> None:
        self.city = city
        self.clock = clock
        self.people = people
        self.lotsen = lotsen
        self.requests = requests
        self.bot: Bot | None = None  # set once the Application exists

    def _t(self, person: Person | Lotse) -> Texts:
        return texts(person.language, self.city.timezone)

    async def _send(self, chat_id: int, screen: Screen) -> Message | None:
        assert self.bot is not None
        try:
            return await self.bot.send_message(chat_id, screen.text, reply_markup=screen.buttons)
        except Forbidden:
            log.info("a recipient has blocked the bot")
            await self.people.set_unreachable(chat_id, self.clock.now())
        except TelegramError as exc:
            log.warning("could not deliver a notification: %s", type(exc).__name__)
        return None

    async def _owner(self, request: Request) -> Person | None:
        return await self.people.by_id(request.person_id) if request.person_id else None

    async def _send_media(self, chat_id: int, request: Request, caption: str) -> Message | None:
        assert self.bot is not None
        if not request.media_file_id or not request.media_kind:
            return None
        try:
            return await send_file(
                self.bot, chat_id, request.media_kind, request.media_file_id, caption
            )
        except TelegramError as exc:
            log.warning("could not pass on an attachment: %s", type(exc).__name__)
            return None

    async def offer(self, lotse: Lotse, request: Request) -> int | None:
        message = await self._send(lotse.telegram_id, rv.offer(self._t(lotse), self.city, request))
        return message.message_id if message else None

    async def offer_gone(self, telegram_id: int, message_id: int) -> None:
        assert self.bot is not None
        person = await self.people.get(telegram_id)
        t = texts(person.language if person else self.city.default_language, self.city.timezone)
        try:
            await self.bot.edit_message_text(
                rv.offer_gone(t), chat_id=telegram_id, message_id=message_id
            )
        except (BadRequest, Forbidden) as exc:  # already edited, deleted or blocked
            log.info("offer message not edited: %s", type(exc).__name__)

    async def accepted(self, request: Request, lotse: Lotse, side: str) -> bool:
        if side == "lotse":
            t = self._t(lotse)
            details = await self._send(lotse.telegram_id, rv.case_for_lotse(t, self.city, request))
            if details is None:
                return False
            await self.requests.add_relay(
                request.id, lotse.telegram_id, details.message_id, details.date
            )
            media = await self._send_media(
                lotse.telegram_id, request, rv.relayed(t, request, request.first_name or "", None)
            )
            if media is not None:
                await self.requests.add_relay(
                    request.id, lotse.telegram_id, media.message_id, media.date
                )
            return True
        owner = await self._owner(request)
        if owner is None:
            return False
        message = await self._send(
            owner.telegram_id,
            Screen(rv.accepted_for_person(self._t(owner), request, lotse.first_name)),
        )
        return message is not None

    async def taking_longer(self, request: Request) -> None:
        owner = await self._owner(request)
        if owner is not None:
            await self._send(owner.telegram_id, Screen(rv.taking_longer(self._t(owner), request)))

    async def _coordinators(self) -> list[tuple[int, Texts]]:
        """Every coordinator's chat, with the texts in their language."""
        from bot.domain.people import Role

        ids = sorted(
            self.city.coordinator_ids.union(
                await self.people.telegram_ids_with_role(Role.COORDINATOR)
            )
        )
        chats = []
        for telegram_id in ids:
            person = await self.people.get(telegram_id)
            t = texts(person.language if person else self.city.default_language, self.city.timezone)
            chats.append((telegram_id, t))
        return chats

    async def coordinators(self, request: Request, reason: str) -> None:
        candidates = await self.lotsen.active(request.created_at)
        for telegram_id, t in await self._coordinators():
            await self._send(telegram_id, rv.escalation(t, self.city, request, reason, candidates))

    async def expired(self, request: Request) -> None:
        owner = await self._owner(request)
        if owner is not None:
            await self._send(
                owner.telegram_id, Screen(rv.expired(self._t(owner), request, self.city))
            )

    async def cancelled(self, request: Request, lotse: Lotse | None) -> None:
        if lotse is not None:
            await self._send(
                lotse.telegram_id, Screen(rv.cancelled_for_lotse(self._t(lotse), request))
            )

    async def handed_back(self, request: Request) -> None:
        owner = await self._owner(request)
        if owner is not None:
            await self._send(
                owner.telegram_id, Screen(rv.handed_back_for_person(self._t(owner), request))
            )

    async def closed(self, request: Request) -> None:
        owner = await self._owner(request)
        if owner is not None:
            await self._send(owner.telegram_id, rv.feedback_question(self._t(owner), request))

    async def reminder(self, request: Request, lotse: Lotse, side: str) -> bool:
        if side == "lotse":
            message = await self._send(
                lotse.telegram_id, rv.reminder(self._t(lotse), request, request.first_name or "")
            )
            return message is not None
        owner = await self._owner(request)
        if owner is None:
            return False
        message = await self._send(
            owner.telegram_id, rv.reminder(self._t(owner), request, lotse.first_name)
        )
        return message is not None

    async def attendance(
        self, request: Request, lotse: Lotse, by_lotse: bool, coming: bool
    ) -> None:
        owner = await self._owner(request)
        if by_lotse and owner is not None:
            await self._send(
                owner.telegram_id,
                Screen(rv.attendance_news(self._t(owner), request, lotse.first_name, coming)),
            )
        elif not by_lotse:
            await self._send(
                lotse.telegram_id,
                Screen(
                    rv.attendance_news(self._t(lotse), request, request.first_name or "", coming)
                ),
            )
        if not coming:
            await self.coordinators(request, "cannot_come")

    async def idle_warning(
        self, request: Request, lotse: Lotse | None, since: datetime, deadline: datetime
    ) -> None:
        if lotse is not None:
            screen = retention_views.idle_warning(self._t(lotse), request, since, deadline, None)
            await self._send(lotse.telegram_id, screen)
        name = lotse.first_name if lotse is not None else "–"
        for telegram_id, t in await self._coordinators():
            if lotse is None or telegram_id != lotse.telegram_id:  # asked once as the Lotse
                screen = retention_views.idle_warning(t, request, since, deadline, name)
                await self._send(telegram_id, screen)

    async def idle_closed(self, request: Request, lotse: Lotse | None) -> None:
        owner = await self._owner(request)
        if owner is not None:
            text = retention_views.closed_for_person(self._t(owner), request)
            await self._send(owner.telegram_id, Screen(text))
        if lotse is not None:
            text = retention_views.closed(self._t(lotse), request)
            await self._send(lotse.telegram_id, Screen(text))
