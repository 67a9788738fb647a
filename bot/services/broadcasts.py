"""Broadcasts: a coordinator composes news, picks who gets it, and sends it now or later."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from enum import StrEnum

from bot.clock import Clock
from bot.config import CityConfig
from bot.domain.broadcasts import MAX_CAPTION, MAX_TEXT, Broadcast, BroadcastDraft
from bot.domain.dialogs import Dialog
from bot.domain.mailings import Audience, Mailing, MailingKind
from bot.domain.people import Person
from bot.i18n import LANGUAGES
from bot.services.mailings import MailingService
from bot.storage.broadcasts import BroadcastsRepository
from bot.storage.dialogs import DialogsRepository
from bot.storage.people import PeopleRepository

__all__ = ["BroadcastService", "Step"]

KIND = "broadcast"


class Step(StrEnum):
    """Where a broadcast dialog stands."""

    MESSAGE = "message"
    AUDIENCE = "audience"
    PREVIEW = "preview"
    TRANSLATION = "translation"  # followed by ":<language>"
    DAY = "day"
    TIME = "time"


class BroadcastService:
    """Compose, preview, schedule and send broadcasts; let people leave them."""

    def __init__(
        self,
        repo: BroadcastsRepository,
        dialogs: DialogsRepository,
        people: PeopleRepository,
        mailings: MailingService,
        city: CityConfig,
        clock: Clock,
    ) -> None:
        self.repo = repo
        self.dialogs = dialogs
        self.people = people
        self.mailings = mailings
        self.city = city
        self.clock = clock
        mailings.register(MailingKind.BROADCAST, self)

    # ------------------------------------------------------------------ dialog

    async def dialog(self, person: Person) -> Dialog | None:
        """The person's broadcast being composed, if any."""
        dialog = await self.dialogs.get(person.id)
        return dialog if dialog is not None and dialog.kind == KIND else None

    async def compose(self, person: Person, key: int | None) -> Dialog:
        """Start composing (an unfinished draft is replaced)."""
        return await self._save(person, Step.MESSAGE, BroadcastDraft(), key)

    async def set_message(
        self,
        dialog: Dialog,
        text: str | None,
        media_kind: str | None,
        file_id: str | None,
        key: int | None,
    ) -> Dialog | None:
        """The message itself: text, or a photo or document with an optional caption.

        None if it is empty or too long (see :meth:`limit`).
        """
        text = (text or "").strip() or None
        if media_kind not in (None, "photo", "document"):
            return None
        draft = replace(
            BroadcastDraft.load(dialog.data),
            text=text,
            media_kind=media_kind,
            media_file_id=file_id,
        )
        if not draft.has_message or len(text or "") > self.limit(draft):
            return None
        step = Step.PREVIEW if draft.audience else Step.AUDIENCE
        return await self._save_dialog(dialog, step, draft, key)

    @staticmethod
    def limit(draft: BroadcastDraft) -> int:
        """The longest text the draft may have (a caption is shorter)."""
        return MAX_CAPTION if draft.media_file_id else MAX_TEXT

    async def set_audience(self, dialog: Dialog, key_text: str, key: int | None) -> Dialog | None:
        """Who gets it: ``lotsen``, ``everyone``, ``waitlist`` or ``language:<code>``."""
        try:
            audience = Audience.parse(key_text)
        except ValueError:
            return None
        if audience.name == "language" and audience.param not in LANGUAGES:
            return None
        draft = replace(BroadcastDraft.load(dialog.data), audience=audience.key)
        return await self._save_dialog(dialog, Step.PREVIEW, draft, key)

    async def goto(self, dialog: Dialog, step: str, key: int | None) -> Dialog | None:
        """Go back to a step from the preview (message, audience, day)."""
        if step not in (Step.MESSAGE, Step.AUDIENCE, Step.DAY, Step.PREVIEW):
            return None
        return await self._save_dialog(dialog, step, BroadcastDraft.load(dialog.data), key)

    async def ask_translation(
        self, dialog: Dialog, language: str, key: int | None
    ) -> Dialog | None:
        """The coordinator wants to add a translation into ``language``."""
        if language not in LANGUAGES:
            return None
        draft = BroadcastDraft.load(dialog.data)
        return await self._save_dialog(dialog, f"{Step.TRANSLATION}:{language}", draft, key)

    async def set_translation(self, dialog: Dialog, text: str, key: int | None) -> Dialog | None:
        """The translation for the language asked for; None if empty or too long."""
        language = dialog.step.partition(":")[2]
        draft = BroadcastDraft.load(dialog.data)
        text = text.strip()
        if not text or len(text) > self.limit(draft) or language not in LANGUAGES:
            return None
        draft = replace(draft, translations={**draft.translations, language: text})
        return await self._save_dialog(dialog, Step.PREVIEW, draft, key)

    async def choose_day(self, dialog: Dialog, day: date, key: int | None) -> Dialog | None:
        """Send later: the day (city time)."""
        if day < self.clock.now().astimezone(self.city.timezone).date():
            return None
        draft = replace(BroadcastDraft.load(dialog.data), day=day)
        return await self._save_dialog(dialog, Step.TIME, draft, key)

    async def discard(self, dialog: Dialog) -> None:
        """Throw the draft away."""
        await self.dialogs.end(dialog.person_id, KIND)

    async def recipients(self, draft: BroadcastDraft) -> int:
        """How many people the draft's audience reaches now."""
        if draft.audience is None:
            return 0
        return await self.mailings.count(Audience.parse(draft.audience))

    async def audience_sizes(self) -> dict[str, int]:
        """Recipients per choosable audience and per language, for the buttons."""
        sizes = {name: await self.mailings.count(Audience(name)) for name in Audience.CHOOSABLE}
        for code in LANGUAGES:
            sizes[f"language:{code}"] = await self.mailings.count(Audience("language", code))
        return sizes

    async def publish(
        self, dialog: Dialog, author: Person, send_at: datetime | None = None
    ) -> Mailing | None:
        """Send now (or at ``send_at``, city time already applied); the dialog ends.

        None if the draft is incomplete, the time has passed, or it was already sent.
        """
        draft = BroadcastDraft.load(dialog.data)
        now = self.clock.now()
        if not draft.has_message or draft.audience is None or dialog.person_id != author.id:
            return None
        if send_at is not None and send_at <= now:
            return None
        mailing_id = await self.repo.publish(
            author.id,
            draft,
            author.language,
            now,
            send_at=send_at,
            report_to=author.contact,
        )
        if mailing_id is None:
            return None
        mailing = await self.mailings.get(mailing_id)
        if mailing is not None:
            self.mailings.launch(mailing)
        return mailing

    async def scheduled(self) -> list[tuple[Mailing, Broadcast]]:
        """Broadcasts waiting for their time."""
        waiting = []
        for mailing in await self.mailings.scheduled(MailingKind.BROADCAST):
            broadcast = await self.repo.get(mailing.subject)
            if broadcast is not None:
                waiting.append((mailing, broadcast))
        return waiting

    async def recent(self, limit: int = 20) -> list[tuple[Mailing, Broadcast]]:
        """The newest broadcasts, scheduled, sending or sent, newest first."""
        found = []
        for mailing in await self.mailings.recent(MailingKind.BROADCAST, limit):
            broadcast = await self.repo.get(mailing.subject)
            if broadcast is not None:
                found.append((mailing, broadcast))
        return found

    async def sent(self, mailing_id: int) -> tuple[Mailing, Broadcast] | None:
        """One broadcast's mailing and content (None if the mailing is not a broadcast)."""
        mailing = await self.mailings.get(mailing_id)
        if mailing is None or mailing.kind is not MailingKind.BROADCAST:
            return None
        broadcast = await self.repo.get(mailing.subject)
        return (mailing, broadcast) if broadcast is not None else None

    async def prepare(
        self,
        person: Person,
        text: str,
        audience: str,
        translations: dict[str, str],
    ) -> Dialog | None:
        """A whole draft at once, as the office's desk sends it: the person's broadcast
        dialog at its preview, each part checked as in chat. None if a part would be refused
        there (the draft is then discarded)."""
        dialog: Dialog | None = await self.compose(person, None)
        assert dialog is not None
        dialog = await self.set_message(dialog, text, None, None, None)
        if dialog is not None:
            dialog = await self.set_audience(dialog, audience, None)
        for language, translation in translations.items():
            if dialog is None:
                break
            if language == person.language or not translation.strip():
                continue
            asked = await self.ask_translation(dialog, language, None)
            dialog = await self.set_translation(asked, translation, None) if asked else None
        if dialog is None:
            await self.dialogs.end(person.id, KIND)
        return dialog

    async def cancel(self, mailing_id: int) -> bool:
        """Cancel a scheduled broadcast."""
        mailing = await self.mailings.get(mailing_id)
        if mailing is None or mailing.kind is not MailingKind.BROADCAST:
            return False
        return await self.mailings.cancel(mailing_id)

    async def resend_unconfirmed(self, mailing_id: int) -> int:
        """Send again to those whose copy is unconfirmed after a crash."""
        mailing = await self.mailings.get(mailing_id)
        if mailing is None or mailing.kind is not MailingKind.BROADCAST:
            return 0
        return await self.mailings.resend_unconfirmed(mailing_id)

    # ----------------------------------------------------------- mailing owner

    async def content(self, mailing: Mailing) -> Broadcast | None:
        """The broadcast a mailing carries."""
        return await self.repo.get(mailing.subject)

    async def audience(self, mailing: Mailing) -> Audience:
        """Who a scheduled broadcast goes to, decided when it starts."""
        broadcast = await self.repo.get(mailing.subject)
        return broadcast.audience if broadcast else Audience("person", 0)

    # -------------------------------------------------------------- recipients

    async def set_news(self, person: Person, wanted: bool) -> None:
        """Leave broadcasts (or come back) with one tap; the choice is kept."""
        await self.people.set_news(person.id, wanted)

    # ----------------------------------------------------------------- helpers

    async def _save(
        self, person: Person, step: str, draft: BroadcastDraft, key: int | None
    ) -> Dialog:
        return await self.dialogs.save(person.id, KIND, step, draft.dump(), key, self.clock.now())

    async def _save_dialog(
        self, dialog: Dialog, step: str, draft: BroadcastDraft, key: int | None
    ) -> Dialog:
        return await self.dialogs.save(
            dialog.person_id, KIND, step, draft.dump(), key, self.clock.now()
        )
