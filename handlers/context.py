"""The typed callback context and the per-update look-up of who is talking."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any

from telegram import CallbackQuery, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest
from telegram.ext import Application, CallbackContext, ExtBot

from bot.domain.people import Person
from bot.i18n import Texts, shipped_language, texts
from bot.services import Services
from bot.services.people import PeopleService

__all__ = [
    "LotsenContext",
    "Speaker",
    "acknowledge",
    "clear_buttons",
    "replace",
    "send",
    "speaker",
    "together",
]

log = logging.getLogger(__name__)


class LotsenContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """Callback context that knows the services."""

    @property
    def services(self) -> Services:
        """The use cases, built once in :func:`handlers.app.build_application`."""
        services: Services = self.bot_data["services"]
        return services


LotsenApp = Application[
    ExtBot[None], LotsenContext, dict[Any, Any], dict[Any, Any], dict[Any, Any], Any
]


@dataclass(frozen=True, slots=True)
class Speaker:
    """The person behind an update and the texts in their language."""

    telegram_id: int
    person: Person | None
    t: Texts
    #: False before a first choice when Telegram's language_code names no shipped language:
    #: ``t`` is then only the city's default.
    language_known: bool = True

    @property
    def consented(self) -> bool:
        """Whether they agreed to the current privacy notice."""
        return PeopleService.has_current_consent(self.person)


async def speaker(update: Update, context: LotsenContext) -> Speaker:
    """Look up who sent ``update`` and pick their language (stored choice wins)."""
    services = context.services
    user = update.effective_user
    if user is None:  # channel posts and the like carry no user
        return Speaker(0, None, texts(services.city.default_language, services.city.timezone))
    person = await services.people.find(user.id)
    if person is not None:
        await services.people.reachable_again(person)
        await services.people.seen(person)
    guessed = shipped_language(user.language_code) if person is None else None
    language = person.language if person is not None else guessed or services.city.default_language
    t = texts(language, services.city.timezone)
    return Speaker(user.id, person, t, language_known=person is not None or guessed is not None)


async def together(*calls: Awaitable[object]) -> None:
    """Make Bot API calls that do not depend on each other at the same time.

    The person waits for one round trip to Telegram instead of one per call. Every call
    finishes; the first error, if any, is raised afterwards.
    """
    results = await asyncio.gather(*calls, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result


async def acknowledge(query: CallbackQuery, text: str | None = None, alert: bool = False) -> None:
    """Answer a button press; an expired query (e.g. handled again after a restart) is fine."""
    try:
        await query.answer(text, show_alert=alert)
    except BadRequest as exc:
        log.info("button answer not delivered: %s", type(exc).__name__)


async def send(
    update: Update, text: str, buttons: InlineKeyboardMarkup | None = None
) -> Message | None:
    """Send a message to the chat the update came from."""
    chat = update.effective_chat
    if chat is None:
        return None
    return await chat.send_message(text, reply_markup=buttons)


async def replace(
    query: CallbackQuery, text: str, buttons: InlineKeyboardMarkup | None = None
) -> None:
    """Edit the pressed message in place (unchanged content is fine)."""
    try:
        await query.edit_message_text(text, reply_markup=buttons)
    except BadRequest as exc:
        if "not modified" not in str(exc):
            raise


async def clear_buttons(query: CallbackQuery) -> None:
    """Remove the buttons of the pressed message, so old steps cannot be pressed again."""
    try:
        await query.edit_message_reply_markup(None)
    except BadRequest as exc:
        if "not modified" not in str(exc) and "not found" not in str(exc):
            raise
