"""Checks every update passes first: per-person rate limit; and the limits on input."""

from __future__ import annotations

import time

from telegram import Message, Update
from telegram.ext import ApplicationHandlerStop

from bot.domain.ratelimit import RateLimiter, Verdict
from bot.i18n import Texts
from handlers.context import LotsenContext, send, speaker

__all__ = ["MAX_FILE_MB", "RateCheck", "file_problem", "too_long"]

#: Telegram lets bots fetch files up to 20 MB; larger ones could not be passed on.
MAX_FILE_MB = 20
_DOCUMENT_TYPES = ("application/pdf", "image/")


class RateCheck:
    """Group -1 handler: a friendly word when someone sends too much, then silence a while."""

    def __init__(self, limiter: RateLimiter) -> None:
        self.limiter = limiter

    async def __call__(self, update: Update, context: LotsenContext) -> None:
        """Let the update through, or answer once and stop it."""
        user = update.effective_user
        if user is None:
            return
        verdict = self.limiter.check(user.id, time.monotonic())
        if verdict is Verdict.ALLOW:
            return
        if verdict is Verdict.WARN:
            who = await speaker(update, context)
            if update.callback_query is not None:
                await update.callback_query.answer(_slow_down(who.t), show_alert=True)
            else:
                await send(update, _slow_down(who.t))
        raise ApplicationHandlerStop


def _slow_down(t: Texts) -> str:
    return t.gettext("You are sending a lot of messages at once. Please wait a moment.")


def too_long(t: Texts, limit: int) -> str:
    """Answer to a text over ``limit`` characters."""
    return t.gettext("That is too long. Please write at most {n} characters.", n=limit)


def file_problem(t: Texts, message: Message) -> str | None:
    """Why an attachment cannot be used, or None if it can."""
    attachment = message.voice or message.document or (message.photo[-1] if message.photo else None)
    size = getattr(attachment, "file_size", None) or 0
    if size > MAX_FILE_MB * 1024 * 1024:
        return t.gettext("This file is too large. Please send at most {n} MB.", n=MAX_FILE_MB)
    if message.document is not None and not (message.document.mime_type or "").startswith(
        _DOCUMENT_TYPES
    ):
        return t.gettext("Please send a photo or a PDF document.")
    return None
