"""An in-memory channel: the whole conversation (router, services, real SQLite) with no wire
format between the people and the bot.

A :class:`World` is the bot with a :class:`MemoryMessenger` on each of two channels,
``telegram`` and ``memory`` (so that people on different messengers meet); a :class:`Person`
in it types, sends commands and chooses from the screens they were shown, and each input is
handled to the end before the call returns, so flow tests need no waiting.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path

from bot.clock import ManualClock
from bot.config import CityConfig
from bot.domain.people import Contact
from bot.services import Repositories, Services, build_services
from bot.storage.database import Database
from handlers.actions import MAX_BYTES
from handlers.mailer import MessengerMailer
from handlers.notify import MessengerNotifier
from handlers.port import (
    Attachment,
    Blocked,
    Choice,
    Choices,
    Input,
    Kind,
    OutFile,
    Refused,
    Screen,
    Sent,
    Switchboard,
    Upload,
)
from handlers.router import Router

__all__ = ["CHANNELS", "MemoryMessenger", "Person", "Shown", "World", "world"]


@dataclass
class Shown:
    """A message the bot showed in a chat, as it is now (edits change it in place)."""

    id: int
    text: str
    choices: Choices
    attachment: Attachment | None = None
    file: OutFile | None = None
    deleted: bool = False

    def labels(self) -> list[str]:
        return [choice.label for row in self.choices for choice in row]

    def choice(self, label: str) -> Choice:
        found = [c for row in self.choices for c in row if c.label == label]
        assert found, f"no choice {label!r} in {self.labels()}"
        return found[0]


@dataclass
class MemoryMessenger:
    """Keeps every chat's messages; a chat in ``blocked`` refuses everything."""

    chats: dict[str, list[Shown]] = field(default_factory=dict)
    notices: dict[str, tuple[str | None, bool]] = field(default_factory=dict)
    blocked: set[str] = field(default_factory=set)
    #: The bot's reactions on people's own messages, by (chat, message).
    reactions: dict[tuple[str, int], str] = field(default_factory=dict)
    _ids: count[int] = field(default_factory=lambda: count(1))

    def _find(self, chat: str, message: int) -> Shown:
        for shown in self.chats.get(chat, []):
            if shown.id == message and not shown.deleted:
                return shown
        raise Refused("message not found")

    async def send(
        self,
        chat: str,
        screen: Screen,
        *,
        attachment: Attachment | None = None,
        file: OutFile | None = None,
    ) -> Sent:
        if chat in self.blocked:
            raise Blocked("blocked")
        for choice in (c for row in screen.choices for c in row):
            assert len(choice.action.encode()) <= MAX_BYTES, choice.action
        shown = Shown(next(self._ids), screen.text, screen.choices, attachment, file)
        self.chats.setdefault(chat, []).append(shown)
        return Sent(shown.id, f"file-{shown.id}" if file is not None else None)

    async def edit(self, chat: str, message: int, screen: Screen) -> None:
        shown = self._find(chat, message)
        shown.text, shown.choices = screen.text, screen.choices

    async def edit_choices(self, chat: str, message: int, choices: Choices) -> None:
        self._find(chat, message).choices = choices

    async def edit_caption(self, chat: str, message: int, text: str) -> None:
        self._find(chat, message).text = text

    async def delete(self, chat: str, message: int) -> bool:
        self._find(chat, message).deleted = True
        return True

    async def answer(self, press: str, text: str | None = None, alert: bool = False) -> None:
        self.notices[press] = (text, alert)

    def invitation(self, code: str) -> str:
        return f"memory://start/{code}"

    async def fetch(self, ref: str) -> bytes:
        return f"bytes of {ref}".encode()

    async def forget(self, chat: str) -> None:
        pass  # nothing kept beyond the chat itself

    async def react(self, chat: str, message: int, emoji: str) -> bool:
        if chat in self.blocked:
            raise Blocked("blocked")
        self.reactions[(chat, message)] = emoji
        return True


#: The channels of the in-memory world: the first is where people are unless told otherwise.
CHANNELS = ("telegram", "memory")


@dataclass
class World:
    """The bot: services on a real database, the router, an in-memory messenger for each
    of :data:`CHANNELS`."""

    services: Services
    router: Router
    messengers: dict[str, MemoryMessenger]
    clock: ManualClock
    _keys: count[int] = field(default_factory=lambda: count(1))

    @property
    def messenger(self) -> MemoryMessenger:
        """The messenger of the first channel."""
        return self.messengers[CHANNELS[0]]

    def person(
        self,
        address: int | str,
        first_name: str,
        language: str | None = "de",
        channel: str = CHANNELS[0],
    ) -> Person:
        return Person(self, str(address), first_name, language, channel)

    async def handle(self, input: Input) -> None:
        await self.router.dispatch(input, self.messengers[input.channel])

    def key(self) -> int:
        return next(self._keys)


@asynccontextmanager
async def world(city: CityConfig, db_path: Path, clock: ManualClock) -> AsyncIterator[World]:
    """The bot on a fresh database at ``db_path``."""
    db = Database(db_path)
    await db.open()
    try:
        messengers = {channel: MemoryMessenger() for channel in CHANNELS}
        switchboard = Switchboard(messengers)
        repos = Repositories.on(db)
        notifier = MessengerNotifier(
            city, repos.people, repos.lotsen, repos.requests, clock, switchboard
        )
        mailer = MessengerMailer(city, switchboard)
        services = build_services(repos, city, clock, notifier, mailer)
        yield World(services, Router(services, switchboard), messengers, clock)
    finally:
        await db.close()


@dataclass
class Person:
    """Someone in a private chat with the bot on ``channel``."""

    world: World
    address: str
    first_name: str
    language: str | None
    channel: str = CHANNELS[0]

    @property
    def messenger(self) -> MemoryMessenger:
        return self.world.messengers[self.channel]

    def messages(self) -> list[Shown]:
        """What the bot shows in this chat, oldest first (deleted ones left out)."""
        return [m for m in self.messenger.chats.get(self.address, []) if not m.deleted]

    @property
    def last(self) -> Shown:
        messages = self.messages()
        assert messages, "the bot has said nothing here"
        return messages[-1]

    def _input(self, kind: Kind, **values: object) -> Input:
        return Input(
            kind,
            key=self.world.key(),
            channel=self.channel,
            sender=self.address,
            chat=self.address,
            first_name=self.first_name,
            language=self.language,
            **values,  # type: ignore[arg-type]
        )

    async def command(self, name: str, *args: str) -> None:
        await self.world.handle(self._input(Kind.COMMAND, command=name, args=args))

    async def say(self, text: str, *, reply_to: Shown | None = None) -> None:
        values: dict[str, object] = {"text": text, "markup": text, "message": self.world.key()}
        if reply_to is not None:
            values["reply_to"] = reply_to.id
        await self.world.handle(self._input(Kind.MESSAGE, **values))

    async def send_photo(self, caption: str | None = None) -> None:
        upload = Upload("photo", f"photo-{self.world.key()}", 50_000)
        await self.world.handle(
            self._input(Kind.MESSAGE, caption=caption, upload=upload, message=self.world.key())
        )

    async def choose(self, label: str, on: Shown | None = None) -> tuple[str | None, bool]:
        """Press the choice labelled ``label`` on ``on`` (default: the newest message that
        offers it); return the notice the press was answered with."""
        if on is None:
            offering = [m for m in self.messages() if label in m.labels()]
            assert offering, f"no message offers {label!r}"
            on = offering[-1]
        return await self.press(on.choice(label).action, on)

    async def pick(self, action: str) -> tuple[str | None, bool]:
        """Press the choice carrying ``action`` on the newest message that offers it."""
        offering = [
            m for m in self.messages() if any(c.action == action for r in m.choices for c in r)
        ]
        assert offering, f"no message offers {action!r}"
        return await self.press(action, offering[-1])

    async def press(self, action: str, on: Shown | None = None) -> tuple[str | None, bool]:
        """Send ``action`` as if chosen on ``on`` (which may not offer it: a forged press)."""
        press = f"press-{self.world.key()}"
        pressed = (on or self.last).id
        await self.world.handle(
            self._input(Kind.ACTION, action=action, pressed=pressed, press=press)
        )
        return self.messenger.notices.get(press, (None, False))


def coordinating(city: CityConfig, address: int, channel: str = CHANNELS[0]) -> CityConfig:
    """``city`` with ``address`` on ``channel`` as its one coordinator."""
    return dataclasses.replace(city, coordinators=frozenset({Contact(channel, str(address))}))
