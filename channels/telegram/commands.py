"""The command list Telegram shows in each language (setMyCommands per language_code)."""

from __future__ import annotations

import logging
import re

from telegram import Bot, BotCommand, BotCommandScopeChat
from telegram.error import TelegramError

from bot.i18n import LANGUAGES, Texts, texts
from bot.services import Services
from channels.telegram.inputs import CHANNEL
from handlers.context import coordinator_chats

__all__ = ["command_list", "coordinator_commands", "register_commands"]

log = logging.getLogger(__name__)

#: Telegram takes only two-letter codes here ("Invalid language code specified" for "ckb"):
#: people whose app names another language see the default list.
COMMAND_LANGUAGES = tuple(code for code in LANGUAGES if re.fullmatch("[a-z]{2}", code))


def command_list(t: Texts) -> list[BotCommand]:
    """The commands with descriptions in ``t``'s language."""
    return [
        BotCommand("start", t.gettext("Start again")),
        BotCommand("menu", t.gettext("Main menu")),
        BotCommand("status", t.gettext("My requests")),
        BotCommand("stammtisch", t.gettext("Stammtisch dates")),
        BotCommand("language", t.gettext("Change the language")),
        BotCommand("privacy", t.gettext("Privacy notice and your consent")),
        BotCommand("mydata", t.gettext("See all your data")),
        BotCommand("delete", t.gettext("Delete all your data")),
        BotCommand("help", t.gettext("Help")),
    ]


def coordinator_commands(t: Texts) -> list[BotCommand]:
    """The extra commands shown in coordinators' own chats."""
    return [
        *command_list(t),
        BotCommand("requests", t.gettext("Requests waiting for a Lotse")),
        BotCommand("invite", t.gettext("Invitation links for new Lotsen")),
        BotCommand("broadcast", t.gettext("Send news to many people")),
        BotCommand("waitlist", t.gettext("Training waiting list")),
        BotCommand("stats", t.gettext("Figures for the city")),
        BotCommand("lotsen", t.gettext("The Lotsen and their records")),
        BotCommand("expenses", t.gettext("The Lotsen's expenses")),
        BotCommand("console", t.gettext("Sign in to the office console")),
    ]


async def register_commands(bot: Bot, services: Services) -> None:
    """Register the commands per language, and the coordinators' in their chats.

    Failures only warn: the bot works without the command menu.
    """
    city = services.city
    try:
        for code in COMMAND_LANGUAGES:
            await bot.set_my_commands(command_list(texts(code, city.timezone)), language_code=code)
        await bot.set_my_commands(command_list(texts(city.default_language, city.timezone)))
        for contact, t in await coordinator_chats(services.people):
            if contact.channel == CHANNEL:
                scope = BotCommandScopeChat(int(contact.address))
                await bot.set_my_commands(coordinator_commands(t), scope=scope)
    except TelegramError as exc:
        log.warning("could not register the command list: %s", type(exc).__name__)
