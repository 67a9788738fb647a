"""The conversation's messenger port on signal-cli: screens as text with ``textStyle``
ranges and numbered choices (:mod:`channels.signal.render`).

Signal has no buttons and keeps no message the bot could change without the person seeing
a new one, so:

- every screen sent is recorded with its numbered choices (:class:`MenuRepository`): a typed
  number answers the chat's latest screen, or the quoted one (:mod:`channels.signal.inputs`);
- ``edit`` sends the new state as a new message when it has choices (the list the person
  answers is then the last one in the chat) and edits the message in place
  (``editTimestamp``) when it has none, e.g. an offer that was taken meanwhile; an unchanged
  screen sends nothing;
- ``edit_choices`` to none sends nothing and makes the screen's numbers stale; to others it
  sends the new list;
- ``answer`` sends the notice as a short message (``press`` is the chat);
- message ids are Signal's timestamps.

signal-cli's errors become the port's: not registered → :class:`Blocked`; rate limit →
:class:`RateLimited`; an untrusted identity (the person reinstalled Signal, their safety
number changed) → the new identity is trusted and the message sent once more (see the
README, "What differs on Signal"); a request signal-cli cannot take → :class:`Refused`;
anything else → :class:`Unavailable`.
"""

from __future__ import annotations

import hashlib
import logging
import mimetypes
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

from bot.clock import Clock
from bot.storage.inbox import MenuRepository
from channels.signal import rpc
from channels.signal.render import Rendered, choices_of, render
from handlers.port import (
    Attachment,
    Blocked,
    Choices,
    OutFile,
    RateLimited,
    Refused,
    Screen,
    Sent,
    Unavailable,
    copy_of,
)

__all__ = ["Coalescing", "SignalMessenger", "invitation_link"]

log = logging.getLogger(__name__)

R = TypeVar("R")

#: Signal's apps show an edit only within a day of the message.
_EDITABLE = timedelta(hours=23)
#: How long to wait after a rate limit for which Signal named no time.
_DEFAULT_WAIT = 60.0


def invitation_link(account: str) -> str:
    """The link that opens a chat with the bot's number (signal.me takes no text to fill in,
    so the code is written next to it)."""
    return f"https://signal.me/#p/{account}"


def _digest(rendered: Rendered) -> str:
    content = "\x00".join((rendered.text, *rendered.text_styles))
    return hashlib.sha256(content.encode()).hexdigest()[:16]


def _pairs(rendered: Rendered) -> list[tuple[str, str]]:
    return [(c.label, c.action) for c in rendered.choices]


class SignalMessenger:
    """Sends, edits and deletes through :class:`channels.signal.rpc.SignalRPC`."""

    def __init__(
        self, client: rpc.SignalRPC, account: str, menus: MenuRepository, clock: Clock
    ) -> None:
        self.rpc = client
        self.account = account
        self.menus = menus
        self.clock = clock
        #: Told when Signal wants a captcha solved before it takes more messages.
        self.on_challenge: Callable[[str], Awaitable[None]] | None = None

    async def _deliver(self, chat: str, call: Callable[[], Awaitable[R]]) -> R:
        """Make ``call``; signal-cli's errors as the port's."""
        try:
            try:
                return await call()
            except rpc.UntrustedIdentity:
                # The policy: the person reinstalled Signal; trust the new key, send again.
                log.info("a recipient's Signal identity changed; trusting the new one")
                await self.rpc.trust(chat)
                return await call()
        except rpc.NotRegistered as exc:
            raise Blocked(type(exc).__name__) from exc
        except rpc.RateLimited as exc:
            if exc.challenge and self.on_challenge is not None:
                try:
                    await self.on_challenge(exc.challenge)
                except Exception as error:  # the message waits all the same
                    log.error("captcha alert failed: %s", type(error).__name__)
            raise RateLimited(exc.retry_after or _DEFAULT_WAIT) from exc
        except rpc.UntrustedIdentity as exc:
            raise Refused(type(exc).__name__) from exc
        except rpc.SignalError as exc:
            if exc.retryable:
                raise Unavailable(type(exc).__name__) from exc
            raise Refused(type(exc).__name__) from exc

    async def _send(
        self,
        chat: str,
        rendered: Rendered,
        *,
        attachments: tuple[str, ...] = (),
        voice_note: bool = False,
        edit: int | None = None,
    ) -> int:
        text = rendered.text
        if not text and not attachments:
            text = "…"  # Signal takes no empty message
        return await self._deliver(
            chat,
            lambda: self.rpc.send(
                chat,
                text,
                text_styles=rendered.text_styles,
                attachments=attachments,
                edit_timestamp=edit,
                voice_note=voice_note,
            ),
        )

    async def _record(
        self, chat: str, message: int, rendered: Rendered, *, instead_of: int | None = None
    ) -> None:
        await self.menus.shown(
            chat,
            message,
            _pairs(rendered),
            _digest(rendered),
            self.clock.now(),
            instead_of=instead_of,
        )

    async def send(
        self,
        chat: str,
        screen: Screen,
        *,
        attachment: Attachment | None = None,
        file: OutFile | None = None,
    ) -> Sent:
        rendered = render(screen)
        if attachment is not None and file is None:
            # signal-cli sends only what it is given: a file received here is fetched from
            # its store by id and given back as data.
            file = copy_of(attachment, await self.fetch(attachment.ref))
        attachments: tuple[str, ...] = ()
        if file is not None:
            mime = file.mime or mimetypes.guess_type(file.name)[0] or "application/octet-stream"
            attachments = (rpc.data_uri(file.data, mime, file.name),)
        voice = file is not None and file.kind == "voice"
        stamp = await self._send(chat, rendered, attachments=attachments, voice_note=voice)
        await self._record(chat, stamp, rendered)
        return Sent(stamp)

    async def edit(self, chat: str, message: int, screen: Screen) -> None:
        rendered = render(screen)
        digest = _digest(rendered)
        known = await self.menus.get(chat, message)
        if known is not None and known[1] == digest:
            return  # unchanged
        if not rendered.choices and self._editable(message):
            stamp = await self._send(chat, rendered, edit=message)
        else:
            stamp = await self._send(chat, rendered)
        # The message and its new state answer alike (a quote of either).
        await self._record(chat, stamp, rendered, instead_of=message)

    async def edit_choices(self, chat: str, message: int, choices: Choices) -> None:
        numbered = [(c.label, c.action) for c in choices_of(choices)]
        known = await self.menus.get(chat, message)
        if known is not None and list(known[0]) == numbered:
            return
        await self.menus.change(chat, message, numbered, None)
        if not numbered:
            return  # the numbers are stale now; nothing to show
        listing = render(Screen("", choices))
        stamp = await self._send(chat, listing)
        await self._record(chat, stamp, listing)

    async def edit_caption(self, chat: str, message: int, text: str) -> None:
        rendered = render(Screen(text))
        if self._editable(message):
            await self._send(chat, rendered, edit=message)
        else:
            await self._send(chat, rendered)

    async def delete(self, chat: str, message: int) -> bool:
        await self.menus.change(chat, message, [], None)
        try:
            await self._deliver(chat, lambda: self.rpc.remote_delete(chat, message))
        except Refused:
            return False
        return True

    async def answer(self, press: str, text: str | None = None, alert: bool = False) -> None:
        if text:
            # A notice, not a screen: the numbers of the screen above still answer it.
            await self._send(press, render(Screen(text)))

    def invitation(self, code: str) -> str:
        return f"{invitation_link(self.account)} → /start {code}"

    async def fetch(self, ref: str) -> bytes:
        return await self._deliver("", lambda: self.rpc.get_attachment(ref))

    async def react(self, chat: str, message: int, emoji: str) -> bool:
        await self._deliver(chat, lambda: self.rpc.send_reaction(chat, emoji, chat, message))
        return True

    async def forget(self, chat: str) -> None:
        await self.menus.forget(chat)

    def _editable(self, message: int) -> bool:
        """Whether Signal's apps still show an edit of the message sent at ``message`` (ms)."""
        sent = time.time() * 1000 - message  # Signal's clock, not the bot's
        return sent < _EDITABLE.total_seconds() * 1000


class Coalescing:
    """The messenger for the inputs of one message that picks several numbers ("1 3 5" in a
    multi-select): each pick redraws the same screen, and Signal would show each state as a
    new message. Here the redraws of a screen wait, and only its last state goes out, once,
    when :meth:`flush` is called (anything else sent meanwhile flushes them first, to keep
    the order); a notice goes out once however often it is given."""

    def __init__(self, inner: SignalMessenger) -> None:
        self.inner = inner
        self._edits: dict[tuple[str, int], Screen] = {}
        self._notices: set[tuple[str, str]] = set()

    async def flush(self) -> None:
        """Send the last state of every screen redrawn."""
        edits, self._edits = self._edits, {}
        for (chat, message), screen in edits.items():
            await self.inner.edit(chat, message, screen)

    async def send(
        self,
        chat: str,
        screen: Screen,
        *,
        attachment: Attachment | None = None,
        file: OutFile | None = None,
    ) -> Sent:
        await self.flush()
        return await self.inner.send(chat, screen, attachment=attachment, file=file)

    async def edit(self, chat: str, message: int, screen: Screen) -> None:
        self._edits[(chat, message)] = screen

    async def edit_choices(self, chat: str, message: int, choices: Choices) -> None:
        await self.flush()
        await self.inner.edit_choices(chat, message, choices)

    async def edit_caption(self, chat: str, message: int, text: str) -> None:
        await self.flush()
        await self.inner.edit_caption(chat, message, text)

    async def delete(self, chat: str, message: int) -> bool:
        await self.flush()
        return await self.inner.delete(chat, message)

    async def answer(self, press: str, text: str | None = None, alert: bool = False) -> None:
        if text and (press, text) not in self._notices:
            self._notices.add((press, text))
            await self.flush()
            await self.inner.answer(press, text, alert)

    def invitation(self, code: str) -> str:
        return self.inner.invitation(code)

    async def fetch(self, ref: str) -> bytes:
        return await self.inner.fetch(ref)

    async def react(self, chat: str, message: int, emoji: str) -> bool:
        return await self.inner.react(chat, message, emoji)

    async def forget(self, chat: str) -> None:
        await self.flush()
        await self.inner.forget(chat)
