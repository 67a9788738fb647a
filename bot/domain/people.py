"""People who use the bot and their roles."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

__all__ = ["CONSENT_VERSION", "Contact", "MessageRef", "Person", "Role"]

#: Version of the privacy notice people agree to; raise it when the notice text changes,
#: and everyone is asked again. Storage compares it in SQL, so letters, digits, dots only.
CONSENT_VERSION = "1"


class Role(StrEnum):
    """What a person may do; checked on the server for every command and button."""

    MEMBER = "member"
    LOTSE = "lotse"
    COORDINATOR = "coordinator"


_CHANNEL = re.compile(r"[a-z][a-z0-9_]*")


@dataclass(frozen=True, slots=True, order=True)
class Contact:
    """Where someone is reached: a channel's name and the address it knows them by (a
    Telegram user id, a phone number, a UUID), always as text."""

    channel: str
    address: str

    def __str__(self) -> str:
        return f"{self.channel}:{self.address}"

    @classmethod
    def parse(cls, text: str) -> Contact:
        """Read ``channel:address`` (``telegram:123``); ValueError if it is not one."""
        channel, colon, address = text.strip().partition(":")
        if (
            not colon
            or not _CHANNEL.fullmatch(channel)
            or not address
            or address.strip() != address
        ):
            raise ValueError("not a contact (channel:address, e.g. telegram:123)")
        return cls(channel, address)


@dataclass(frozen=True, slots=True)
class MessageRef:
    """A message the bot sent: on which channel, in which chat, and its id there."""

    channel: str
    chat: str
    id: int

    @classmethod
    def at(cls, contact: Contact, message_id: int) -> MessageRef:
        """The message ``message_id`` in the chat with ``contact``."""
        return cls(contact.channel, contact.address, message_id)

    @property
    def contact(self) -> Contact:
        """The chat the message is in."""
        return Contact(self.channel, self.chat)


@dataclass(frozen=True, slots=True)
class Person:
    """Someone who has chosen a language; nothing else is stored before consent."""

    id: int
    #: Where to reach them: of their contacts, the one they used last.
    contact: Contact
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
