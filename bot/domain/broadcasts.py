"""News from the coordination office to many people at once."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from bot.domain.mailings import Audience

__all__ = ["MAX_CAPTION", "MAX_TEXT", "Broadcast", "BroadcastDraft"]

#: Room for the one-line note and the header inside Telegram's 4096 / 1024 characters.
MAX_TEXT = 3500
MAX_CAPTION = 900


@dataclass(frozen=True, slots=True)
class Broadcast:
    """A sent (or scheduled) broadcast with its translations."""

    id: int
    text: str | None
    media_kind: str | None
    media_file_id: str | None
    language: str
    audience: Audience
    translations: dict[str, str] = field(default_factory=dict)
    #: The channel whose reference ``media_file_id`` is.
    media_channel: str | None = None

    def text_for(self, language: str) -> tuple[str | None, bool]:
        """The text for a reader of ``language``, and whether it is in their language."""
        if language == self.language:
            return self.text, True
        if language in self.translations:
            return self.translations[language], True
        return self.text, False


@dataclass(frozen=True, slots=True)
class BroadcastDraft:
    """A broadcast being composed (kept in the coordinator's dialog)."""

    text: str | None = None
    media_kind: str | None = None
    media_file_id: str | None = None
    audience: str | None = None
    translations: dict[str, str] = field(default_factory=dict)
    day: date | None = None

    @classmethod
    def load(cls, data: dict[str, Any]) -> BroadcastDraft:
        """Read the draft from a dialog's data."""
        return cls(
            text=data.get("text"),
            media_kind=data.get("media_kind"),
            media_file_id=data.get("media_file_id"),
            audience=data.get("audience"),
            translations=dict(data.get("translations") or {}),
            day=date.fromisoformat(data["day"]) if data.get("day") else None,
        )

    def dump(self) -> dict[str, Any]:
        """The draft as dialog data."""
        return {
            "text": self.text,
            "media_kind": self.media_kind,
            "media_file_id": self.media_file_id,
            "audience": self.audience,
            "translations": self.translations,
            "day": self.day.isoformat() if self.day else None,
        }

    @property
    def has_message(self) -> bool:
        """Whether there is something to send."""
        return bool(self.text or self.media_file_id)
