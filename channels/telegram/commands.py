"""The command list Telegram shows in each language (setMyCommands per language_code)."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from telegram import Bot, BotCommand, BotCommandScopeChat
from telegram.error import TelegramError

from bot.domain.people import Role
from bot.i18n import LANGUAGES, Texts, texts
from bot.services import Services
from channels.telegram.inputs import CHANNEL
from handlers.context import coordinator_chats
from handlers.router import ROUTES, Route

__all__ = ["command_list", "coordinator_commands", "register_commands"]

log = logging.getLogger(__name__)

#: Telegram takes only two-letter codes here ("Invalid language code specified" for "ckb"):
#: people whose app names another language see the default list.
COMMAND_LANGUAGES = tuple(code for code in LANGUAGES if re.fullmatch("[a-z]{2}", code))


def command_list(t: Texts) -> list[BotCommand]:
    """The commands everyone may use, with their descriptions in ``t``'s language."""
    return _menu(t, lambda route: route.role is None)


def coordinator_commands(t: Texts) -> list[BotCommand]:
    """The commands shown in coordinators' own chats: everyone's, then the office's."""
    return [*command_list(t), *_menu(t, lambda route: route.role is Role.COORDINATOR)]


def _menu(t: Texts, shown: Callable[[Route], bool]) -> list[BotCommand]:
    return [
        BotCommand(route.command, t.gettext(route.summary))
        for route in ROUTES
        if route.command and route.summary and shown(route)
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
