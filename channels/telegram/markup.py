"""Telegram's formatting and the conversation's markup (:mod:`bot.markup`).

The markup is a subset of Telegram's HTML, so a screen goes out as it is. What a person sends
comes as Telegram HTML with more in it (underline, spoilers, code, quotes, mentions), which
:func:`bot.markup.clean` reduces to the markup.
"""

from __future__ import annotations

from telegram import Message

from bot.markup import clean

__all__ = ["markup_of"]


def markup_of(message: Message) -> str | None:
    """The text (or else the caption) of ``message`` in the conversation's markup."""
    if message.text:
        return clean(message.text_html)
    if message.caption:
        return clean(message.caption_html)
    return None
