"""One turn of the conversation: what a person did, who they are, and how to answer them."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from dataclasses import dataclass

from bot.domain.people import Contact, Person
from bot.i18n import Texts, shipped_language, texts
from bot.services import Services
from bot.services.people import PeopleService
from handlers.port import (
    Attachment,
    Choices,
    DeliveryError,
    Input,
    Messenger,
    OutFile,
    Refused,
    Screen,
    Sent,
    Switchboard,
)

__all__ = ["Speaker", "Turn", "coordinator_chats", "speaker", "together"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Turn:
    """What a handler gets: the input, the services, and the channels to answer through.

    Answers go to the chat the input came from through ``messenger`` (the input's channel);
    ``switchboard`` reaches anyone else on their own channel.
    """

    input: Input
    services: Services
    messenger: Messenger
    switchboard: Switchboard

    async def send(
        self,
        screen: Screen | str,
        *,
        attachment: Attachment | None = None,
        file: OutFile | None = None,
    ) -> Sent:
        """Send a message to the chat the input came from."""
        if isinstance(screen, str):
            screen = Screen(screen)
        return await self.messenger.send(self.input.chat, screen, attachment=attachment, file=file)

    async def replace(self, screen: Screen | str) -> None:
        """Replace the pressed message by ``screen`` (unchanged content is fine)."""
        if self.input.pressed is None:
            return
        if isinstance(screen, str):
            screen = Screen(screen)
        await self.messenger.edit(self.input.chat, self.input.pressed, screen)

    async def set_choices(self, choices: Choices) -> None:
        """Replace only the pressed message's choices."""
        if self.input.pressed is not None:
            await self.messenger.edit_choices(self.input.chat, self.input.pressed, choices)

    async def clear_choices(self) -> None:
        """Remove the pressed message's choices, so old steps cannot be chosen again."""
        await self.set_choices(())

    async def notice(self, text: str | None = None, alert: bool = False) -> None:
        """Answer the press (with a short notice, or one to dismiss when ``alert``); an
        answer that comes too late (e.g. handled again after a restart) is fine."""
        if self.input.press is None:
            if text is not None:  # typed input has no press to answer: say it in the chat
                await self.send(text)
            return
        try:
            await self.messenger.answer(self.input.press, text, alert)
        except Refused as exc:
            log.info("press not answered: %s", type(exc).__name__)


@dataclass(frozen=True, slots=True)
class Speaker:
    """The person behind an input and the texts in their language."""

    contact: Contact
    person: Person | None
    t: Texts
    #: False before a first choice when the app's language is none the bot ships: ``t`` is
    #: then only the city's default.
    language_known: bool = True

    @property
    def person_id(self) -> int | None:
        """Their person id (None before they chose a language), e.g. for the audit log."""
        return self.person.id if self.person is not None else None

    @property
    def consented(self) -> bool:
        """Whether they agreed to the current privacy notice."""
        return PeopleService.has_current_consent(self.person)


async def speaker(turn: Turn) -> Speaker:
    """Look up who sent the input and pick their language (the stored choice wins)."""
    services = turn.services
    sender = turn.input.contact
    person = await services.people.find(sender)
    if person is not None:
        await services.people.reachable_again(person)
        await services.people.seen(person, sender)
    guessed = shipped_language(turn.input.language) if person is None else None
    language = person.language if person is not None else guessed or services.city.default_language
    t = texts(language, services.city.timezone)
    return Speaker(sender, person, t, language_known=person is not None or guessed is not None)


async def coordinator_chats(people: PeopleService) -> list[tuple[Contact, Texts]]:
    """Every coordinator's chat, with the texts in their language (the city file's and those
    with the coordinator role).

    Takes the people service rather than all services, so that the notifier, which is built
    before the services, fans out the same way as the conversation does.
    """
    city = people.city
    chats = []
    for contact in await people.coordinators():
        person = await people.find(contact)
        language = person.language if person else city.default_language
        chats.append((contact, texts(language, city.timezone)))
    return chats


async def together(*calls: Awaitable[object]) -> None:
    """Make messenger calls that do not depend on each other at the same time.

    The person waits for one round trip instead of one per call. Every call finishes; the
    first error, if any, is raised afterwards.
    """
    results = await asyncio.gather(*calls, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result


async def quietly(call: Awaitable[object], what: str) -> bool:
    """Make a call whose failure to deliver is logged (without personal data), not raised;
    False if it was not delivered."""
    try:
        await call
    except DeliveryError as exc:
        log.info("%s not delivered: %s", what, type(exc).__name__)
        return False
    return True
