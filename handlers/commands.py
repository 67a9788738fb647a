"""The command list Telegram shows in each language (setMyCommands per language_code)."""

from __future__ import annotations

import logging

from telegram import Bot, BotCommand
from telegram.error import TelegramError

from bot.config import CityConfig
from bot.i18n import LANGUAGES, Texts, texts

__all__ = ["command_list", "register_commands"]

log = logging.getLogger(__name__)


def command_list(t: Texts) -> list[BotCommand]:
    """The commands with descriptions in ``t``'s language."""
    return [
        BotCommand("start", t.gettext("Start again")),
        BotCommand("menu", t.gettext("Main menu")),
        BotCommand("status", t.gettext("My requests")),
        BotCommand("language", t.gettext("Change the language")),
        BotCommand("privacy", t.gettext("Privacy notice and your consent")),
        BotCommand("help", t.gettext("Help")),
    ]


async def register_commands(bot: Bot, city: CityConfig) -> None:
    """Register the commands for every language and as the default; failures only warn."""
    try:
        for code in LANGUAGES:
            await bot.set_my_commands(command_list(texts(code, city.timezone)), language_code=code)
        await bot.set_my_commands(command_list(texts(city.default_language, city.timezone)))
    except TelegramError as exc:
        log.warning("could not register the command list: %s", type(exc).__name__)
