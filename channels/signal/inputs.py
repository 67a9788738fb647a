"""What signal-cli delivers, as the conversation's inputs.

An envelope (``JsonMessageEnvelope``) from a person becomes one input, or several when a
typed answer picks several numbers of a multi-select: typed text; a number (or a label's
text) answering the chat's latest screen, or the quoted one, as the chosen action
(:func:`channels.signal.render.choose`); a ``/command``; a voice note, photo or document by
signal-cli's attachment id; an edit. Signal has no buttons, so a number that answers no
screen (a screen that is gone or was never sent, a number beyond its list) becomes an action
no route takes, and the person hears that it is no longer valid.
"""

from __future__ import annotations

import dataclasses
import json
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.storage.inbox import MenuRepository
from channels.signal.render import choose, numbers_are_labels
from handlers.port import Choice, Input, Kind, Upload

__all__ = [
    "CHANNEL",
    "READ_AT",
    "STALE",
    "Received",
    "dump_inputs",
    "inputs_of",
    "load_inputs",
    "received",
    "sent_at",
]

#: The channel's name in contacts (``signal:<uuid>``) and stored message references.
CHANNEL = "signal"
#: The action of a number that answers no screen: no route takes it.
STALE = "stale"
#: Inputs of one envelope are keyed ``timestamp * KEYS + n``: room for this many.
KEYS = 16

_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
#: Numbers of a list, typed: up to four digits each, none with a leading zero (``0176
#: 1234567`` is a phone number, typed text).
_NUMBERS = re.compile(r"(?!0\d)\d{1,4}\.?(?:[\s,;،؛]+(?!0\d)\d{1,4}\.?)*")

JSON = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Received:
    """The parts of an envelope the conversation uses."""

    sender: str  #: the ``sourceUuid`` (a number only when Signal gives no UUID)
    stamp: int  #: the envelope's timestamp: the message's id on Signal
    name: str | None
    data: JSON  #: the ``JsonDataMessage`` (of the edit, for an edit)
    edit_of: int | None = None
    #: How an earlier attempt at handling it read it (see :func:`dump_inputs`), if one did.
    read_as: list[Input] | None = None
    #: When the person sent it, on this machine's clock (ms; see :func:`sent_at`), if known.
    sent_at: int | None = None


def received(envelope: JSON) -> Received | None:
    """The message in an envelope from a person; None for receipts, typing, sync messages,
    reactions, group messages and what has no sender or timestamp."""
    sender = envelope.get("sourceUuid") or envelope.get("sourceNumber")
    stamp = envelope.get("timestamp")
    if not isinstance(sender, str) or not sender or type(stamp) is not int:
        return None
    edit_of = None
    data = envelope.get("dataMessage")
    edit = envelope.get("editMessage")
    if not isinstance(data, dict) and isinstance(edit, dict):
        data = edit.get("dataMessage")
        edit_of = edit.get("targetSentTimestamp")
        if type(edit_of) is not int:
            return None
    if not isinstance(data, dict):
        return None
    if data.get("reaction") or data.get("groupInfo") or data.get("remoteDelete"):
        return None  # reactions and deletions change nothing; the bot is in no group
    name = envelope.get("sourceName")
    read_as = load_inputs(envelope.get("_read_as"))
    name = name if isinstance(name, str) else None
    return Received(sender, stamp, name, data, edit_of, read_as, sent_at(envelope))


#: The key under which the intake notes when it read an envelope (ms, this machine's clock).
READ_AT = "_read_at"
#: How far a screen's timestamp (signal-cli's clock) may be ahead of this machine's (ms).
_CLOCKS = 2000


def _now_ms() -> int:
    return int(time.time() * 1000)


def sent_at(envelope: JSON) -> int | None:
    """When the person sent the message, on this machine's clock (ms): when the stream
    brought it here, less how long Signal's servers held it (from their receiving it to
    their delivering it, both on the servers' clock, so that neither clock needs to agree with
    this one, nor the person's phone). None without those timestamps."""
    stamps = [
        v
        for k in (READ_AT, "serverReceivedTimestamp", "serverDeliveredTimestamp")
        if type(v := envelope.get(k)) is int and v > 0
    ]
    if len(stamps) < 3:
        return None
    read, got, delivered = stamps
    return int(read) - max(0, int(delivered) - int(got))


def dump_inputs(inputs: Sequence[Input]) -> str:
    """The inputs an event was read as, to keep with it: a number answers the screen it
    answered when first read, also when that handling was cut off by a crash after the
    screen's choices were taken away, and a first message stays a ``/start``."""
    return json.dumps([dataclasses.asdict(i) for i in inputs], ensure_ascii=False)


def load_inputs(stored: Any) -> list[Input] | None:
    """The inputs :func:`dump_inputs` kept; None if there are none (or they cannot be read)."""
    if not isinstance(stored, list):
        return None
    try:
        return [
            Input(
                **{
                    **item,
                    "kind": Kind(item["kind"]),
                    "args": tuple(item["args"]),
                    "upload": Upload(**item["upload"]) if item["upload"] else None,
                    "also": tuple(Upload(**u) for u in item.get("also") or ()),
                }
            )
            for item in stored
        ]
    except (KeyError, TypeError, ValueError):
        return None


async def inputs_of(
    message: Received, account: str, menus: MenuRepository, *, known: bool
) -> list[Input]:
    """The inputs ``message`` stands for. ``account``: the bot's number (a quote of the bot's
    message names it); ``known``: whether the sender has talked to the bot before (a first
    message of someone new is their ``/start``, with its first word as the code)."""
    data = message.data
    text = data.get("message") if isinstance(data.get("message"), str) else None
    uploads = _uploads(data)
    quoted = _quoted(data, account, message.sender)
    reply_to = quoted[0] if quoted is not None else None
    base: JSON = {
        "channel": CHANNEL,
        "sender": message.sender,
        "chat": message.sender,
        "first_name": (message.name or "").split(" ")[0] or None,
        "full_name": message.name,
        "message": message.stamp,
    }
    key = message.stamp * KEYS
    if message.edit_of is not None:
        edited = {**base, "message": message.edit_of}
        return [Input(Kind.EDIT, key=key, text=text, markup=text, **edited)]
    if uploads:
        return [
            Input(
                Kind.MESSAGE,
                key=key,
                caption=text,
                markup=text,
                upload=uploads[0],
                also=tuple(uploads[1:]),
                reply_to=reply_to,
                **base,
            )
        ]
    if text is None or not text.strip():
        return [Input(Kind.MESSAGE, key=key, upload=Upload("other", ""), **base)]
    words = text.split()
    if words[0].startswith("/") and len(words[0]) > 1:
        command = words[0][1:].split("@", 1)[0].lower()
        return [Input(Kind.COMMAND, key=key, command=command, args=tuple(words[1:]), **base)]
    if not known:
        return [Input(Kind.COMMAND, key=key, command="start", args=tuple(words[:1]), **base)]
    # A quote of the person's own message answers no screen.
    answered = None
    if quoted is None or quoted[1]:
        answered = await _screen(message.sender, reply_to, menus, message.sent_at)
    numeric = bool(_NUMBERS.fullmatch(text.translate(_DIGITS).strip()))
    if answered is not None:
        screen, choices = answered
        actions = choose(choices, text)
        if actions:
            return [
                Input(
                    Kind.ACTION,
                    key=key + n,
                    action=action,
                    pressed=screen,
                    press=message.sender,
                    **base,
                )
                for n, action in enumerate(actions[:KEYS])
            ]
    # A number for no screen at all, beyond a screen's list, or quoting a screen whose
    # choices are gone is stale; to the latest screen without choices (one that asks for a
    # count, say), or one whose labels are numbers (how many hours?), it is typed text.
    labelled = answered is not None and numbers_are_labels(answered[1])
    if numeric and not labelled and (answered is None or answered[1] or reply_to is not None):
        pressed = answered[0] if answered is not None else None
        return [
            Input(Kind.ACTION, key=key, action=STALE, pressed=pressed, press=message.sender, **base)
        ]
    return [Input(Kind.MESSAGE, key=key, text=text, markup=text, reply_to=reply_to, **base)]


async def _screen(
    chat: str, quoted: int | None, menus: MenuRepository, sent: int | None
) -> tuple[int, tuple[Choice, ...]] | None:
    """The screen a typed answer answers: the quoted one, else the chat's latest when it was
    sent (``sent``; a screen that went out after that, while the number was on its way, was
    not on the person's phone yet)."""
    if quoted is not None:
        found = await menus.get(chat, quoted)
        if found is None:
            return None
        return quoted, tuple(Choice(label, action) for label, action in found[0])
    latest = await menus.latest(chat)
    if latest is not None and sent is not None and sent < latest[0] <= _now_ms() + _CLOCKS:
        # The latest screen went out after the number was sent: not on the phone yet. (One
        # from beyond this machine's clock means the clocks disagree: then the latest.)
        latest = await menus.latest(chat, until=sent)
    if latest is None:
        return None
    return latest[0], tuple(Choice(label, action) for label, action in latest[1])


def _quoted(data: JSON, account: str, sender: str) -> tuple[int, bool] | None:
    """The timestamp of the message ``data`` quotes and whether it is the bot's. A quote of
    the person's own message keeps its timestamp (a reply to it belongs to its case) but
    answers no screen; a quote of anyone else's is no quote."""
    quote = data.get("quote")
    if not isinstance(quote, dict) or type(quote.get("id")) is not int:
        return None
    authors = (quote.get("authorNumber"), quote.get("author"), quote.get("authorUuid"))
    if account in authors:
        return int(quote["id"]), True
    if sender in authors:
        return int(quote["id"]), False
    return None


def _uploads(data: JSON) -> list[Upload]:
    """The attachments by signal-cli's id: voice notes, photos or documents; a sticker and
    other attachments (a video) as ``other``."""
    if data.get("sticker"):
        return [Upload("other", "")]
    attachments = data.get("attachments")
    if not isinstance(attachments, list):
        return []
    return [_upload(attachment) for attachment in attachments]


def _upload(attachment: object) -> Upload:
    if not isinstance(attachment, dict) or not isinstance(attachment.get("id"), str):
        return Upload("other", "")
    mime = attachment.get("contentType")
    mime = mime if isinstance(mime, str) else None
    size = attachment["size"] if type(attachment.get("size")) is int else 0
    if mime is None:
        kind = "document"
    elif mime.startswith("audio/"):
        kind = "voice"
    elif mime.startswith("image/") and mime != "image/gif":
        kind = "photo"
    elif mime.startswith("video/"):
        kind = "other"
    else:
        kind = "document"
    return Upload(kind, attachment["id"] if kind != "other" else "", size, mime)
