"""The limits on what people send: the length of a text and the size and type of a file."""

from __future__ import annotations

from bot.i18n import Texts
from handlers.port import Upload

__all__ = ["MAX_FILE_MB", "file_problem", "too_long", "usable"]

#: Telegram lets bots fetch files up to 20 MB; larger ones could not be passed on.
MAX_FILE_MB = 20
_DOCUMENT_TYPES = ("application/pdf", "image/")


def too_long(t: Texts, limit: int) -> str:
    """Answer to a text over ``limit`` characters."""
    return t.gettext("That is too long. Please write at most {n} characters.", n=limit)


def _too_large(upload: Upload) -> bool:
    return upload.size > MAX_FILE_MB * 1024 * 1024


def _not_taken(upload: Upload) -> bool:
    return upload.kind == "document" and not (upload.mime or "").startswith(_DOCUMENT_TYPES)


def usable(upload: Upload) -> bool:
    """Whether an attachment is within the limits (size, type)."""
    return not _too_large(upload) and not _not_taken(upload)


def file_problem(t: Texts, upload: Upload | None) -> str | None:
    """Why an attachment cannot be used, or None if it can (or there is none)."""
    if upload is None:
        return None
    if _too_large(upload):
        return t.gettext("This file is too large. Please send at most {n} MB.", n=MAX_FILE_MB)
    if _not_taken(upload):
        return t.gettext("Please send a photo or a PDF document.")
    return None
