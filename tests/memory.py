"""An in-memory channel: the whole conversation (router, services, real SQLite) with no wire
format between the people and the bot.

A :class:`World` is the bot with a :class:`MemoryMessenger`; a :class:`Person` in it types,
sends commands and chooses from the screens they were shown, and each input is handled to
the end before the call returns, so flow tests need no waiting.
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
    Upload,
)
from handlers.router import Router

__all__ = ["MemoryMessenger", "Person", "Shown", "World", "world"]


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

    chats: dict[int, list[Shown]] = field(default_factory=dict)
    notices: dict[str, tuple[str | None, bool]] = field(default_factory=dict)
    blocked: set[int] = field(default_factory=set)
    _ids: count[int] = field(default_factory=lambda: count(1))

    def _find(self, chat: int, message: int) -> Shown:
        for shown in self.chats.get(chat, []):
            if shown.id == message and not shown.deleted:
                return shown
        raise Refused("message not found")

    async def send(
        self,
        chat: int,
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

    async def edit(self, chat: int, message: int, screen: Screen) -> None:
        shown = self._find(chat, message)
        shown.text, shown.choices = screen.text, screen.choices

    async def edit_choices(self, chat: int, message: int, choices: Choices) -> None:
        self._find(chat, message).choices = choices

    async def edit_caption(self, chat: int, message: int, text: str) -> None:
        self._find(chat, message).text = text

    async def delete(self, chat: int, message: int) -> bool:
        self._find(chat, message).deleted = True
        return True

    async def answer(self, press: str, text: str | None = None, alert: bool = False) -> None:
        self.notices[press] = (text, alert)

    def invitation(self, code: str) -> str:
        return f"memory://start/{code}"


@dataclass
class World:
    """The bot: services on a real database, the router, the in-memory messenger."""

    services: Services
    router: Router
    messenger: MemoryMessenger
    clock: ManualClock
    _keys: count[int] = field(default_factory=lambda: count(1))

    def person(self, address: int, first_name: str, language: str | None = "de") -> Person:
        return Person(self, address, first_name, language)

    async def handle(self, input: Input) -> None:
        await self.router.dispatch(input, self.messenger)

    def key(self) -> int:
        return next(self._keys)


@asynccontextmanager
async def world(city: CityConfig, db_path: Path, clock: ManualClock) -> AsyncIterator[World]:
    """The bot on a fresh database at ``db_path``."""
    db = Database(db_path)
    await db.open()
    try:
        messenger = MemoryMessenger()
        repos = Repositories.on(db)
        notifier = MessengerNotifier(
            city, repos.people, repos.lotsen, repos.requests, clock, messenger
        )
        services = build_services(repos, city, clock, notifier, MessengerMailer(city, messenger))
        yield World(services, Router(services), messenger, clock)
    finally:
        await db.close()


@dataclass
class Person:
    """Someone in a private chat with the bot."""

    world: World
    address: int
    first_name: str
    language: str | None

    def messages(self) -> list[Shown]:
        """What the bot shows in this chat, oldest first (deleted ones left out)."""
        return [m for m in self.world.messenger.chats.get(self.address, []) if not m.deleted]

    @property
    def last(self) -> Shown:
        messages = self.messages()
        assert messages, "the bot has said nothing here"
        return messages[-1]

    def _input(self, kind: Kind, **values: object) -> Input:
        return Input(
            kind,
            key=self.world.key(),
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
        return self.world.messenger.notices.get(press, (None, False))


def coordinating(city: CityConfig, address: int) -> CityConfig:
    """``city`` with ``address`` as its one coordinator."""
    return dataclasses.replace(city, coordinator_ids=frozenset({address}))
