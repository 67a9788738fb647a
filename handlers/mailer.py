"""The Mailer port on any messenger: one copy of a mailing, and the progress message."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from bot.config import CityConfig
from bot.domain.broadcasts import Broadcast
from bot.domain.events import EventNotice
from bot.domain.mailings import Delivered, DeliveryStatus, Mailing, Progress, Recipient
from bot.domain.waitlist import TrainingNotice
from bot.i18n import Texts, texts
from handlers import broadcast_views as bv
from handlers import event_views as ev
from handlers import waitlist_views as wv
from handlers.port import (
    Attachment,
    Blocked,
    DeliveryError,
    MessageRef,
    OutFile,
    RateLimited,
    Refused,
    Sent,
    Switchboard,
    Unavailable,
    Unconfirmed,
)

__all__ = ["MessengerMailer"]

log = logging.getLogger(__name__)

#: Sends one copy of a mailing whose content is of a given type.
_Renderer = Callable[[Mailing, object, Recipient], Awaitable[Sent]]


class MessengerMailer:
    """Render each copy in the recipient's language and send it through ``switchboard`` on
    the recipient's channel; map the messenger's refusals to a delivery status."""

    def __init__(self, city: CityConfig, switchboard: Switchboard) -> None:
        self.city = city
        self.switchboard = switchboard
        self._renderers: dict[type, _Renderer] = {
            Broadcast: self._broadcast,
            EventNotice: self._event,
            TrainingNotice: self._training,
        }
        # A calendar file is uploaded once per mailing and channel, then sent again by that
        # messenger's reference to it.
        self._uploaded: dict[tuple[int, str], str] = {}

    def register(self, content_type: type, renderer: _Renderer) -> None:
        """Render mailings whose content is a ``content_type`` with ``renderer``."""
        self._renderers[content_type] = renderer

    def _t(self, language: str) -> Texts:
        return texts(language, self.city.timezone)

    async def deliver(self, mailing: Mailing, content: object, recipient: Recipient) -> Delivered:
        """Send one copy; the messenger's refusals become a delivery status, never an
        exception."""
        renderer = self._renderers[type(content)]
        try:
            sent = await renderer(mailing, content, recipient)
        except Blocked:
            return Delivered(DeliveryStatus.BLOCKED)
        except RateLimited as exc:
            return Delivered(DeliveryStatus.PENDING, retry_after=exc.retry_after)
        except Unconfirmed:
            # The request may have arrived: sending again could give a double.
            log.warning("a copy of mailing %s timed out; marked unconfirmed", mailing.id)
            return Delivered(DeliveryStatus.UNCONFIRMED)
        except Unavailable as exc:
            log.warning("a copy of mailing %s not sent: %s", mailing.id, type(exc).__name__)
            return Delivered(DeliveryStatus.PENDING, retry_after=10.0)
        except DeliveryError as exc:
            log.info("a copy of mailing %s refused: %s", mailing.id, type(exc).__name__)
            return Delivered(DeliveryStatus.FAILED)
        return Delivered(DeliveryStatus.SENT, message_id=sent.id)

    async def _broadcast(self, mailing: Mailing, content: object, recipient: Recipient) -> Sent:
        assert isinstance(content, Broadcast)
        screen = bv.copy(self._t(recipient.language), self.city, content)
        attachment = None
        if content.media_kind is not None and content.media_file_id is not None:
            attachment = Attachment(
                content.media_kind, content.media_file_id, content.media_channel
            )
        return await self.switchboard.send(recipient.contact, screen, attachment=attachment)

    async def _event(self, mailing: Mailing, content: object, recipient: Recipient) -> Sent:
        assert isinstance(content, EventNotice)
        t = self._t(recipient.language)
        answer = content.answers.get(recipient.person_id)
        screen = ev.notice(t, content.event, content.kind, answer)
        to = recipient.contact
        if content.kind not in ("announce", "moved"):
            return await self.switchboard.send(to, screen)
        uploaded = self._uploaded.get((mailing.id, to.channel))
        if uploaded is not None:
            attachment = Attachment("document", uploaded, to.channel)
            sent = await self.switchboard.send(to, screen, attachment=attachment)
        else:
            day = content.event.local_day(self.city.timezone).isoformat()
            calendar = OutFile(f"stammtisch-{day}.ics", content.ics)
            sent = await self.switchboard.send(to, screen, file=calendar)
        if sent.file_ref is not None:
            self._uploaded[(mailing.id, to.channel)] = sent.file_ref
        return sent

    async def _training(self, mailing: Mailing, content: object, recipient: Recipient) -> Sent:
        assert isinstance(content, TrainingNotice)
        screen = wv.notice(self._t(recipient.language), content.training, content.kind)
        return await self.switchboard.send(recipient.contact, screen)

    async def report(
        self, mailing: Mailing, content: object, progress: Progress, final: bool
    ) -> int | None:
        """Show the coordinator how far a broadcast got, editing the same message (a new
        one if the messenger refuses the edit, e.g. when that message is gone)."""
        if mailing.report_to is None or not isinstance(content, Broadcast):
            return None
        to = mailing.report_to
        t = self._t(content.language)
        screen = bv.report(t, content, mailing, progress, final)
        if mailing.report_message is not None:
            try:
                await self.switchboard.edit(MessageRef.at(to, mailing.report_message), screen)
                return mailing.report_message
            except Refused:
                pass
            except DeliveryError as exc:
                log.info("progress not edited: %s", type(exc).__name__)
                return mailing.report_message
        try:
            sent = await self.switchboard.send(to, screen)
        except DeliveryError as exc:
            log.info("progress not shown: %s", type(exc).__name__)
            return None
        return sent.id
