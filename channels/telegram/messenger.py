"""The conversation's messenger port on the Bot API: screens as HTML with inline keyboards."""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    Message,
    ReactionTypeEmoji,
)
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut

from handlers.port import (
    Attachment,
    Blocked,
    Choices,
    DeliveryError,
    OutFile,
    RateLimited,
    Refused,
    Screen,
    Sent,
    Unavailable,
    Unconfirmed,
)

__all__ = ["TelegramMessenger", "keyboard"]

P = ParamSpec("P")
R = TypeVar("R")


def _delivery(
    call: Callable[P, Coroutine[Any, Any, R]],
) -> Callable[P, Coroutine[Any, Any, R]]:
    """Telegram's errors as the port's: the conversation never sees python-telegram-bot."""

    @functools.wraps(call)
    async def wrapped(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await call(*args, **kwargs)
        except Forbidden as exc:
            raise Blocked(type(exc).__name__) from exc
        except RetryAfter as exc:
            retry = exc.retry_after
            seconds = retry if isinstance(retry, int | float) else retry.total_seconds()
            raise RateLimited(float(seconds)) from exc
        except TimedOut as exc:  # before NetworkError, which it is a kind of
            raise Unconfirmed(type(exc).__name__) from exc
        except BadRequest as exc:  # also a kind of NetworkError
            raise Refused(type(exc).__name__) from exc
        except NetworkError as exc:
            raise Unavailable(type(exc).__name__) from exc
        except TelegramError as exc:
            raise DeliveryError(type(exc).__name__) from exc

    return wrapped


def keyboard(choices: Choices) -> InlineKeyboardMarkup | None:
    """Choices as an inline keyboard (None: no keyboard)."""
    if not choices:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(c.label, callback_data=c.action) for c in row] for row in choices]
    )


#: The recordings Telegram shows as a voice message (others go as a file).
_VOICE_TYPES = frozenset({"audio/ogg", "audio/mpeg", "audio/mp4"})


def _unchanged(exc: BadRequest) -> bool:
    return "not modified" in str(exc)


class TelegramMessenger:
    """Sends, edits and deletes through python-telegram-bot's ``Bot``."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    @_delivery
    async def send(
        self,
        chat: str,
        screen: Screen,
        *,
        attachment: Attachment | None = None,
        file: OutFile | None = None,
    ) -> Sent:
        markup = keyboard(screen.choices)
        bot = self.bot
        message: Message
        chat_id = int(chat)
        if file is not None:
            upload = InputFile(file.data, filename=file.name)
            if file.kind == "photo":
                message = await bot.send_photo(
                    chat_id, upload, caption=screen.text, reply_markup=markup
                )
            elif file.kind == "voice" and file.mime in _VOICE_TYPES:
                message = await bot.send_voice(
                    chat_id, upload, caption=screen.text, reply_markup=markup
                )
            else:  # a document, or a recording Telegram plays as a file (e.g. AAC)
                message = await bot.send_document(
                    chat_id, upload, caption=screen.text, reply_markup=markup
                )
        elif attachment is None:
            message = await bot.send_message(chat_id, screen.text, reply_markup=markup)
        elif attachment.kind == "voice":
            message = await bot.send_voice(
                chat_id, attachment.ref, caption=screen.text, reply_markup=markup
            )
        elif attachment.kind == "photo":
            message = await bot.send_photo(
                chat_id, attachment.ref, caption=screen.text, reply_markup=markup
            )
        else:
            message = await bot.send_document(
                chat_id, attachment.ref, caption=screen.text, reply_markup=markup
            )
        return Sent(message.message_id, _file_ref(message))

    @_delivery
    async def edit(self, chat: str, message: int, screen: Screen) -> None:
        try:
            await self.bot.edit_message_text(
                screen.text,
                chat_id=int(chat),
                message_id=message,
                reply_markup=keyboard(screen.choices),
            )
        except BadRequest as exc:
            if not _unchanged(exc):
                raise

    @_delivery
    async def edit_choices(self, chat: str, message: int, choices: Choices) -> None:
        try:
            await self.bot.edit_message_reply_markup(
                chat_id=int(chat), message_id=message, reply_markup=keyboard(choices)
            )
        except BadRequest as exc:
            if not _unchanged(exc) and "not found" not in str(exc):
                raise

    @_delivery
    async def edit_caption(self, chat: str, message: int, text: str) -> None:
        await self.bot.edit_message_caption(chat_id=int(chat), message_id=message, caption=text)

    @_delivery
    async def delete(self, chat: str, message: int) -> bool:
        try:
            await self.bot.delete_message(int(chat), message)
        except BadRequest:  # older than Telegram lets a bot delete
            return False
        return True

    @_delivery
    async def answer(self, press: str, text: str | None = None, alert: bool = False) -> None:
        await self.bot.answer_callback_query(press, text, show_alert=alert)

    def invitation(self, code: str) -> str:
        return f"https://t.me/{self.bot.username}?start={code}"

    @_delivery
    async def fetch(self, ref: str) -> bytes:
        found = await self.bot.get_file(ref)
        return bytes(await found.download_as_bytearray())

    async def forget(self, chat: str) -> None:
        """Telegram's channel keeps nothing of a chat outside the inbox."""

    @_delivery
    async def react(self, chat: str, message: int, emoji: str) -> bool:
        await self.bot.set_message_reaction(int(chat), message, ReactionTypeEmoji(emoji))
        return True


def _file_ref(message: Message) -> str | None:
    if message.document is not None:
        return message.document.file_id
    if message.voice is not None:
        return message.voice.file_id
    if message.photo:
        return message.photo[-1].file_id
    return None
