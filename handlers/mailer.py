"""The Telegram side of the Mailer port: one copy of a mailing, and the progress message."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Bot, InputFile, Message
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut

from bot.config import CityConfig
from bot.domain.broadcasts import Broadcast
from bot.domain.events import EventNotice
from bot.domain.mailings import Delivered, DeliveryStatus, Mailing, Progress, Recipient
from bot.domain.waitlist import TrainingNotice
from bot.i18n import Texts, texts
from handlers import broadcast_views as bv
from handlers import event_views as ev
from handlers import waitlist_views as wv
from handlers.views import Screen

__all__ = ["TelegramMailer"]

log = logging.getLogger(__name__)

#: Sends one copy of a mailing whose content is of a given type.
_Renderer = Callable[[Mailing, object, Recipient], Awaitable[Message]]


class TelegramMailer:
    """Render each copy in the recipient's language and send it; map Telegram's answers."""

    def __init__(self, city: CityConfig) -> None:
        self.city = city
        self.bot: Bot | None = None  # set once the Application exists
        self._renderers: dict[type, _Renderer] = {
            Broadcast: self._broadcast,
            EventNotice: self._event,
            TrainingNotice: self._training,
        }
        # A calendar file is uploaded once per mailing, then sent again by Telegram's file id.
        self._uploaded: dict[int, str] = {}

    def register(self, content_type: type, renderer: _Renderer) -> None:
        """Render mailings whose content is a ``content_type`` with ``renderer``."""
        self._renderers[content_type] = renderer

    def _t(self, language: str) -> Texts:
        return texts(language, self.city.timezone)

    async def deliver(self, mailing: Mailing, content: object, recipient: Recipient) -> Delivered:
        """Send one copy; Telegram's refusals become a delivery status, never an exception."""
        renderer = self._renderers[type(content)]
        try:
            message = await renderer(mailing, content, recipient)
        except Forbidden:
            return Delivered(DeliveryStatus.BLOCKED)
        except RetryAfter as exc:
            retry = exc.retry_after
            seconds = retry.total_seconds() if hasattr(retry, "total_seconds") else float(retry)
            return Delivered(DeliveryStatus.PENDING, retry_after=seconds)
        except TimedOut:
            # The request may have arrived: sending again could give a double.
            log.warning("a copy of mailing %s timed out; marked unconfirmed", mailing.id)
            return Delivered(DeliveryStatus.UNCONFIRMED)
        except NetworkError as exc:
            log.warning("a copy of mailing %s not sent: %s", mailing.id, type(exc).__name__)
            return Delivered(DeliveryStatus.PENDING, retry_after=10.0)
        except TelegramError as exc:
            log.info("a copy of mailing %s refused: %s", mailing.id, type(exc).__name__)
            return Delivered(DeliveryStatus.FAILED)
        return Delivered(DeliveryStatus.SENT, message_id=message.message_id)

    async def _broadcast(self, mailing: Mailing, content: object, recipient: Recipient) -> Message:
        assert isinstance(content, Broadcast) and self.bot is not None
        screen = bv.copy(self._t(recipient.language), self.city, content)
        return await self.send(
            recipient.telegram_id, screen, content.media_kind, content.media_file_id
        )

    async def _event(self, mailing: Mailing, content: object, recipient: Recipient) -> Message:
        assert isinstance(content, EventNotice) and self.bot is not None
        t = self._t(recipient.language)
        screen = ev.notice(t, content.event, content.kind)
        if content.kind not in ("announce", "moved"):
            return await self.send(recipient.telegram_id, screen)
        day = content.event.local_day(self.city.timezone).isoformat()
        file: object = self._uploaded.get(mailing.id) or InputFile(
            content.ics, filename=f"stammtisch-{day}.ics"
        )
        message = await self.send(recipient.telegram_id, screen, "document", file)
        if message.document is not None:
            self._uploaded[mailing.id] = message.document.file_id
        return message

    async def _training(self, mailing: Mailing, content: object, recipient: Recipient) -> Message:
        assert isinstance(content, TrainingNotice)
        screen = wv.notice(self._t(recipient.language), content.training, content.kind)
        return await self.send(recipient.telegram_id, screen)

    async def send(
        self, chat_id: int, screen: Screen, media_kind: str | None = None, file: Any = None
    ) -> Message:
        """Send ``screen`` as a text, or as the caption of a photo or document."""
        assert self.bot is not None
        if media_kind == "photo":
            return await self.bot.send_photo(
                chat_id, file, caption=screen.text, reply_markup=screen.buttons
            )
        if media_kind == "document":
            return await self.bot.send_document(
                chat_id, file, caption=screen.text, reply_markup=screen.buttons
            )
        return await self.bot.send_message(chat_id, screen.text, reply_markup=screen.buttons)

    async def report(
        self, mailing: Mailing, content: object, progress: Progress, final: bool
    ) -> int | None:
        """Show the coordinator how far a broadcast got, editing the same message."""
        if mailing.report_chat is None or not isinstance(content, Broadcast):
            return None
        assert self.bot is not None
        t = self._t(content.language)
        screen = bv.report(t, content, mailing, progress, final)
        if mailing.report_message is not None:
            try:
                await self.bot.edit_message_text(
                    screen.text,
                    chat_id=mailing.report_chat,
                    message_id=mailing.report_message,
                    reply_markup=screen.buttons,
                )
                return mailing.report_message
            except BadRequest as exc:
                if "not modified" in str(exc):
                    return mailing.report_message
            except TelegramError as exc:
                log.info("progress not edited: %s", type(exc).__name__)
                return mailing.report_message
        try:
            message = await self.bot.send_message(
                mailing.report_chat, screen.text, reply_markup=screen.buttons
            )
        except TelegramError as exc:
            log.info("progress not shown: %s", type(exc).__name__)
            return None
        return message.message_id
