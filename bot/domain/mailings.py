"""One message to many people, and what happened to each copy."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.domain.people import Contact

__all__ = [
    "Audience",
    "Delivered",
    "DeliveryStatus",
    "Mailing",
    "MailingKind",
    "MailingStatus",
    "Progress",
    "Recipient",
]


class MailingKind(StrEnum):
    """What a mailing carries; the owning service renders its content."""

    BROADCAST = "broadcast"
    EVENT = "event"
    TRAINING = "training"


class MailingStatus(StrEnum):
    """A mailing's life: scheduled for later, sending, done (or cancelled before sending)."""

    SCHEDULED = "scheduled"
    SENDING = "sending"
    DONE = "done"
    CANCELLED = "cancelled"


class DeliveryStatus(StrEnum):
    """One recipient's copy.

    ``sending`` is written before the message goes out. A copy still ``sending`` when the
    process died may or may not have arrived: it becomes ``unconfirmed`` and is not sent
    again, so nobody gets a message twice.
    """

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    BLOCKED = "blocked"
    UNCONFIRMED = "unconfirmed"


@dataclass(frozen=True, slots=True)
class Audience:
    """Who receives a mailing, resolved in the database when it starts.

    ``name`` is one of ``lotsen``, ``everyone``, ``waitlist``, ``language`` (``param`` is a
    language code), ``event_lotsen`` (all active Lotsen, news or not), ``event_going``
    (said yes or maybe to event ``param``), ``event_told`` (received the announcement of
    event ``param`` and did not say no), ``training_called`` (everyone on the waiting list),
    ``training_placed`` (those with a place in training ``param``), ``training_told``
    (received the announcement of training ``param`` and did not say no) and ``person`` (one
    person id).
    """

    name: str
    param: str | int | None = None

    #: Audiences a coordinator may choose for a broadcast.
    CHOOSABLE = ("lotsen", "everyone", "waitlist")

    @classmethod
    def parse(cls, key: str) -> Audience:
        """Read a stored key such as ``lotsen`` or ``language:ar``."""
        name, _, param = key.partition(":")
        if name == "language" and param:
            return cls(name, param)
        if name in cls.CHOOSABLE and not param:
            return cls(name)
        raise ValueError(key)

    @property
    def key(self) -> str:
        """The stored form (see :meth:`parse`)."""
        return self.name if self.param is None else f"{self.name}:{self.param}"


@dataclass(frozen=True, slots=True)
class Mailing:
    """A mailing as stored."""

    id: int
    kind: MailingKind
    subject: int
    variant: str
    status: MailingStatus
    send_at: datetime
    #: The coordinator who sees the progress, and the message that shows it.
    report_to: Contact | None
    report_message: int | None
    started_at: datetime | None
    finished_at: datetime | None


@dataclass(frozen=True, slots=True)
class Recipient:
    """Who a copy goes to, and in which language."""

    person_id: int
    contact: Contact
    language: str


@dataclass(frozen=True, slots=True)
class Delivered:
    """What the messenger reports for one copy.

    ``status`` is ``sent`` (with the message id), ``blocked`` (the person blocked the bot),
    ``failed`` (Telegram refused it for good) or ``pending`` (try again after
    ``retry_after`` seconds: flood control or a network failure).
    """

    status: DeliveryStatus
    message_id: int | None = None
    retry_after: float | None = None


@dataclass(frozen=True, slots=True)
class Progress:
    """How far a mailing has come."""

    pending: int = 0
    sending: int = 0
    sent: int = 0
    failed: int = 0
    blocked: int = 0
    unconfirmed: int = 0

    @property
    def total(self) -> int:
        """Every recipient."""
        return (
            self.pending + self.sending + self.sent + self.failed + self.blocked + self.unconfirmed
        )

    @property
    def finished(self) -> int:
        """Recipients whose copy needs no more work."""
        return self.total - self.pending - self.sending
