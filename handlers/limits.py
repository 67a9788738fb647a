"""The limits on what people send: the length of a text and the size and type of a file."""

from __future__ import annotations

from bot.i18n import Texts
from handlers.port import Upload

__all__ = ["MAX_FILE_MB", "file_problem", "too_long"]

#: Telegram lets bots fetch files up to 20 MB; larger ones could not be passed on.
MAX_FILE_MB = 20
_DOCUMENT_TYPES = ("application/pdf", "image/")


def too_long(t: Texts, limit: int) -> str:
    """Answer to a text over ``limit`` characters."""
    return t.gettext("That is too long. Please write at most {n} characters.", n=limit)


def usable(upload: Upload) -> bool:
    """Whether an attachment is within the limits (size, type)."""
    return file_problem(None, upload) is None


def file_problem(t: Texts | None, upload: Upload | None) -> str | None:
    """Why an attachment cannot be used, or None if it can (or there is none)."""
    if upload is None:
        return None
    if upload.size > MAX_FILE_MB * 1024 * 1024:
        if t is None:
            return "too large"
        return t.gettext("This file is too large. Please send at most {n} MB.", n=MAX_FILE_MB)
    if upload.kind == "document" and not (upload.mime or "").startswith(_DOCUMENT_TYPES):
        return t.gettext("Please send a photo or a PDF document.") if t else "not taken"
    return None
