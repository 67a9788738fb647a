"""People who use the bot and their roles."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

__all__ = ["CONSENT_VERSION", "Person", "Role"]

#: Version of the privacy notice people agree to; raise it when the notice text changes,
#: and everyone is asked again. Storage compares it in SQL, so letters, digits, dots only.
CONSENT_VERSION = "1"


class Role(StrEnum):
    """What a person may do; checked on the server for every command and button."""

    MEMBER = "member"
    LOTSE = "lotse"
    COORDINATOR = "coordinator"


@dataclass(frozen=True, slots=True)
class Person:
    """Someone who has chosen a language; nothing else is stored before consent."""

    id: int
    telegram_id: int
    role: Role
    language: str
    consent_at: datetime | None
    consent_version: str | None
    created_at: datetime
    unreachable_at: datetime | None = None
    news_off: bool = False
    withdrawn_at: datetime | None = None
    #: When they last wrote to the bot (kept to the day).
    seen_at: datetime | None = None

    @property
    def has_consented(self) -> bool:
        """Whether the person agreed to the current privacy notice (an older one is not enough)."""
        return self.consent_at is not None and self.consent_version == CONSENT_VERSION
