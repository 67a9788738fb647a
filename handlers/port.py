"""What a channel and the conversation exchange: inputs come in, screens go out.

A channel (``channels/telegram``, later others) turns what its messenger delivers into an
:class:`Input` and implements :class:`Messenger`; everything in ``handlers/`` speaks only
these types. Screen texts are written in the conversation's markup (:mod:`bot.markup`),
which each channel renders as its messenger can.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol, TypeVar

from bot.domain.people import Contact, MessageRef

log = logging.getLogger(__name__)

__all__ = [
    "Attachment",
    "Blocked",
    "Choice",
    "Choices",
    "DeliveryError",
    "Input",
    "Kind",
    "MessageRef",
    "Messenger",
    "OutFile",
    "RateLimited",
    "Refused",
    "Screen",
    "Sent",
    "Switchboard",
    "Unavailable",
    "Unconfirmed",
    "Upload",
    "copy_of",
]


@dataclass(frozen=True, slots=True)
class Choice:
    """One thing a person can choose on a screen: a label, and the action it stands for
    (encoded by :mod:`handlers.actions`, at most 64 bytes)."""

    label: str
    action: str


#: A screen's choices, in rows.
Choices = tuple[tuple[Choice, ...], ...]


@dataclass(frozen=True, slots=True)
class Screen:
    """One message: text in the conversation's markup and the choices below it."""

    text: str
    choices: Choices = ()


class Kind(StrEnum):
    """What a person did."""

    COMMAND = "command"  #: ``/name args``
    ACTION = "action"  #: chose one of a screen's choices
    MESSAGE = "message"  #: typed text, or sent a voice note, photo or document
    EDIT = "edit"  #: changed a message sent earlier


@dataclass(frozen=True, slots=True)
class Upload:
    """A voice note, photo or document a person sent: kept by the channel's reference only."""

    kind: str  #: ``voice``, ``photo``, ``document``, or ``other`` (not taken)
    ref: str  #: the channel's reference, to send it on without downloading it
    size: int = 0
    mime: str | None = None


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file to send along by reference (``kind`` as in :class:`Upload`); the reference
    works on ``channel`` only (None: the recipient's own, e.g. a file uploaded there)."""

    kind: str
    ref: str
    channel: str | None = None
    mime: str | None = None


@dataclass(frozen=True, slots=True)
class OutFile:
    """A file to upload: made by the bot, or one a person sent on another channel
    (``kind``: ``voice``, ``photo`` or ``document``)."""

    name: str
    data: bytes
    kind: str = "document"
    mime: str | None = None


#: The file name an uploaded copy gets, by kind and type, when the sender's is unknown.
_NAMES = {"voice": "voice", "photo": "photo", "document": "document"}
_EXTENSIONS = {
    "audio/ogg": ".ogg",
    "audio/mpeg": ".mp3",
    "audio/mp4": ".m4a",
    "audio/aac": ".aac",
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "application/pdf": ".pdf",
}
_DEFAULT_MIME = {"voice": "audio/ogg", "photo": "image/jpeg", "document": "application/pdf"}


def copy_of(attachment: Attachment, data: bytes) -> OutFile:
    """``attachment``'s bytes as a file to upload on another channel."""
    mime = attachment.mime or _DEFAULT_MIME.get(attachment.kind, "application/octet-stream")
    name = _NAMES.get(attachment.kind, "file") + _EXTENSIONS.get(mime, "")
    return OutFile(name, data, attachment.kind, mime)


@dataclass(frozen=True, slots=True)
class Input:
    """One thing a person did, as the conversation sees it, from any channel."""

    kind: Kind
    #: Identifies the input for replays: the same key means it is handled again.
    key: int
    #: The channel's name (``telegram``), and the person's and the chat's addresses on it
    #: (a private chat: the same).
    channel: str
    sender: str
    chat: str
    private: bool = True
    first_name: str | None = None
    #: The whole name the messenger shows (first and last), to suggest when a name is asked.
    full_name: str | None = None
    #: The language the person's app is set to (as the messenger says; may be unshipped).
    language: str | None = None
    command: str | None = None
    args: tuple[str, ...] = ()
    #: The chosen action's data, as the channel received it (may be forged).
    action: str | None = None
    #: Typed text; or an upload and its caption. ``markup`` is the text (or else the caption)
    #: in the conversation's markup, so bold and links survive.
    text: str | None = None
    caption: str | None = None
    markup: str | None = None
    #: ``kind`` ``other`` for what the conversation does not take (a sticker, a video…).
    upload: Upload | None = None
    #: Further files sent in the same message (Signal sends several pages of a letter as
    #: one message).
    also: tuple[Upload, ...] = ()
    #: The person's own message (for a reply to it) and the bot's message it answers.
    message: int | None = None
    reply_to: int | None = None
    #: The message whose choice was pressed, and the channel's handle to answer the press.
    pressed: int | None = None
    press: str | None = field(default=None, repr=False)

    @property
    def uploads(self) -> tuple[Upload, ...]:
        """Every file sent with this input, in order."""
        return (self.upload, *self.also) if self.upload is not None else ()

    @property
    def contact(self) -> Contact:
        """Who sent it, as a contact."""
        return Contact(self.channel, self.sender)

    @property
    def place(self) -> Contact:
        """The chat it came from, as a contact."""
        return Contact(self.channel, self.chat)

    def ref(self, message: int) -> MessageRef:
        """The message ``message`` in the chat the input came from."""
        return MessageRef(self.channel, self.chat, message)


@dataclass(frozen=True, slots=True)
class Sent:
    """A message that went out: its id, and the reference of an uploaded file for sending it
    again without another upload."""

    id: int
    file_ref: str | None = None


class DeliveryError(Exception):
    """The messenger did not take a message; the subclass says why (never what it said)."""


class Blocked(DeliveryError):
    """The recipient has blocked the bot or left the messenger."""


class RateLimited(DeliveryError):
    """Too many messages: the messenger asks to wait ``retry_after`` seconds."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"retry after {retry_after:.0f} s")
        self.retry_after = retry_after


class Unconfirmed(DeliveryError):
    """No answer in time: the message may have arrived, so it is not sent again."""


class Unavailable(DeliveryError):
    """The messenger cannot be reached just now; trying later may work."""


class Refused(DeliveryError):
    """The messenger refused this message (e.g. too old to edit, no longer there)."""


class Messenger(Protocol):
    """What a channel does for the conversation: send, change and delete messages.

    Each method raises a :class:`DeliveryError` when the messenger does not take it.
    """

    async def send(
        self,
        chat: str,
        screen: Screen,
        *,
        attachment: Attachment | None = None,
        file: OutFile | None = None,
    ) -> Sent:
        """Send ``screen`` (as the caption of the attachment or file, if given)."""
        ...

    async def edit(self, chat: str, message: int, screen: Screen) -> None:
        """Replace a message's text and choices (unchanged content is fine)."""
        ...

    async def edit_choices(self, chat: str, message: int, choices: Choices) -> None:
        """Replace only a message's choices (``()``: none); unchanged or gone is fine."""
        ...

    async def edit_caption(self, chat: str, message: int, text: str) -> None:
        """Replace the caption of a message with an attachment."""
        ...

    async def delete(self, chat: str, message: int) -> bool:
        """Delete a message; False when the messenger no longer allows it."""
        ...

    async def answer(self, press: str, text: str | None = None, alert: bool = False) -> None:
        """Answer a pressed choice, with a short notice or (``alert``) one to dismiss."""
        ...

    def invitation(self, code: str) -> str:
        """A link that opens the bot with ``code`` (an invitation to become a Lotse)."""
        ...

    async def fetch(self, ref: str) -> bytes:
        """The bytes of a file a person sent on this channel (``Upload.ref``), to pass it
        on where the reference means nothing."""
        ...

    async def react(self, chat: str, message: int, emoji: str) -> bool:
        """Mark the person's own message ``message`` with ``emoji``; False where the
        messenger cannot."""
        ...

    async def forget(self, chat: str) -> None:
        """Drop what the channel keeps about ``chat`` (its person was erased)."""
        ...


K = TypeVar("K")
V = TypeVar("V")


def _remember(kept: OrderedDict[K, V], key: K, value: V, most: int) -> None:
    """Keep ``value`` as the newest of at most ``most``."""
    kept[key] = value
    kept.move_to_end(key)
    while len(kept) > most:
        kept.popitem(last=False)


class Switchboard:
    """Every channel's messenger by the channel's name: reaches a contact, or a message
    sent earlier, on its own channel."""

    #: Copies uploaded on another channel, kept to send again without another upload.
    COPIES = 64
    #: Files fetched for a channel that keeps no reference of an upload (Signal): the bytes
    #: of the last few, so that a broadcast fetches its photo once, not once per person.
    FETCHED = 4

    def __init__(self, messengers: Mapping[str, Messenger]) -> None:
        self.messengers = dict(messengers)
        # (source channel, source reference, target channel) -> the target's reference
        self._copies: OrderedDict[tuple[str, str, str], str] = OrderedDict()
        # (source channel, source reference) -> the file's bytes, in memory only
        self._fetched: OrderedDict[tuple[str, str], bytes] = OrderedDict()

    def on(self, channel: str) -> Messenger:
        """The messenger of ``channel``; Refused if the bot runs no such channel."""
        messenger = self.messengers.get(channel)
        if messenger is None:
            raise Refused(f"no channel {channel!r}")
        return messenger

    async def send(
        self,
        to: Contact,
        screen: Screen,
        *,
        attachment: Attachment | None = None,
        file: OutFile | None = None,
    ) -> Sent:
        """Send ``screen`` to ``to`` (its message: ``MessageRef.at(to, sent.id)``).

        An attachment of another channel goes as a copy: its bytes are fetched from the
        channel it came from and uploaded (once per target channel while the copy is
        remembered); if they cannot be fetched, the screen goes alone.
        """
        target = self.on(to.channel)
        if attachment is None or attachment.channel in (None, to.channel):
            return await target.send(to.address, screen, attachment=attachment, file=file)
        assert attachment.channel is not None
        key = (attachment.channel, attachment.ref, to.channel)
        copied = self._copies.get(key)
        if copied is not None:
            self._copies.move_to_end(key)
            again = Attachment(attachment.kind, copied, to.channel, attachment.mime)
            return await target.send(to.address, screen, attachment=again)
        source = (attachment.channel, attachment.ref)
        data = self._fetched.get(source)
        if data is None:
            try:
                data = await self.on(attachment.channel).fetch(attachment.ref)
            except DeliveryError as exc:
                log.info("an attachment could not be fetched to pass on: %s", type(exc).__name__)
                return await target.send(to.address, screen, file=file)
        sent = await target.send(to.address, screen, file=copy_of(attachment, data))
        if sent.file_ref is not None:
            _remember(self._copies, key, sent.file_ref, self.COPIES)
        else:
            _remember(self._fetched, source, data, self.FETCHED)
        return sent

    async def react(self, message: MessageRef, emoji: str) -> bool:
        """Mark a person's own message with ``emoji``; False where the messenger cannot."""
        try:
            return await self.on(message.channel).react(message.chat, message.id, emoji)
        except DeliveryError as exc:
            log.info("no reaction: %s", type(exc).__name__)
            return False

    async def edit(self, message: MessageRef, screen: Screen) -> None:
        """Replace a message's text and choices."""
        await self.on(message.channel).edit(message.chat, message.id, screen)

    async def edit_choices(self, message: MessageRef, choices: Choices) -> None:
        """Replace only a message's choices."""
        await self.on(message.channel).edit_choices(message.chat, message.id, choices)

    async def edit_caption(self, message: MessageRef, text: str) -> None:
        """Replace the caption of a message with an attachment."""
        await self.on(message.channel).edit_caption(message.chat, message.id, text)

    async def delete(self, message: MessageRef) -> bool:
        """Delete a message; False when the messenger no longer allows it."""
        return await self.on(message.channel).delete(message.chat, message.id)
