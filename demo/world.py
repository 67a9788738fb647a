"""One demo world: the local Bot API server and signal-cli daemon, the real bot on a movable
clock, and their files.

The bot is :func:`channels.runner.serve`, exactly as ``lotsenbot run`` starts it with both
channels, pointed at :class:`channels.telegram.fakeapi.FakeBotAPI` and
:class:`channels.signal.fakedaemon.FakeSignalDaemon` on loopback ports. Each person's phone is
on one messenger, chosen when they are added. The database is an ordinary file (by default
``data/demo.sqlite3``). The fake servers' chats, the people's phones and the clock's offset
are saved next to it (``<db>.chats.json``), so a stopped demo continues where it was.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
import socket
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from babel import Locale

from bot.clock import ManualClock
from bot.config import CityConfig, Settings
from bot.domain.lotsen import LotseStatus
from bot.domain.people import Contact, Role
from bot.files import write_private
from bot.i18n import LANGUAGES, guess_language
from bot.scheduler import Timers
from bot.services.lotsen import LotsenService
from bot.services.people import PeopleService
from bot.storage.database import Database
from bot.storage.inbox import InboxRepository, MenuRepository
from bot.storage.lotsen import LotsenRepository
from bot.storage.people import PeopleRepository
from channels.runner import serve
from channels.signal.fakedaemon import FakeSignalDaemon, FakeSignalUser, SignalMessage
from channels.telegram.fakeapi import BotMessage, FakeBotAPI, FakeUser
from demo.render import message_view, signal_message_view
from demo.samples import sample_document, sample_photo, sample_voice

__all__ = ["BOT_USERNAME", "MESSENGERS", "SIGNAL_ACCOUNT", "DemoWorld", "Phone"]

log = logging.getLogger(__name__)

JSON = dict[str, Any]

#: The fake server accepts this token only; it never reaches Telegram.
DEMO_TOKEN = "4242424242:offline-demo-token"
BOT_USERNAME = "lotsen_demo_bot"
#: The bot's number on the local signal-cli daemon.
SIGNAL_ACCOUNT = "+4923620000000"
MESSENGERS = ("telegram", "signal")
#: Ids of people added from the page start here.
FIRST_ADDED_ID = 5001
_SAVE_DELAY = 1.0


@dataclass
class Phone:
    """A person in the demo, as the page shows them."""

    id: int
    name: str
    language: str  # Telegram's language_code: only the bot's first guess
    role: str  # what the demo made them: refugee, lotse, coordinator or person
    shown: bool = True
    messenger: str = "telegram"  # or signal

    @property
    def number(self) -> str:
        """The phone number of a Signal phone."""
        return f"+4917000{self.id:06d}"


class DemoWorld:
    """Start, drive and stop one demo world."""

    def __init__(
        self,
        db_path: Path,
        config_path: Path,
        city: CityConfig,
        on_change: Callable[[], None] = lambda: None,
    ) -> None:
        self.db_path = db_path
        self.state_path = db_path.with_name(db_path.name + ".chats.json")
        self.config_path = config_path
        self.city = city
        self.on_change = on_change
        self.clock = ManualClock()
        self.api = FakeBotAPI(DEMO_TOKEN, BOT_USERNAME)
        self.api.now = lambda: self.clock.now().timestamp()
        self.signal = FakeSignalDaemon(SIGNAL_ACCOUNT, name="Lotsenbot Dorsten")
        self.signal.now = lambda: self.clock.now().timestamp()
        self.phones: dict[int, Phone] = {}
        self.db = Database(db_path)
        self.people = PeopleService(PeopleRepository(self.db), city, self.clock)
        self.lotsen = LotsenService(LotsenRepository(self.db), city, self.clock)
        self.timers: Timers | None = None
        #: The office console's address, once the bot serves it (on a free loopback port).
        self.console_url: str | None = None
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._save_handle: asyncio.TimerHandle | None = None
        self._last_press: dict[int, str] = {}
        self._reading = asyncio.Lock()  # the page's reads finish before the database closes
        self._closed = False
        #: Set once the first people are made; a world saved before that is not continued.
        self.seeded = False

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> bool:
        """Start the server and the bot; return True if the world is new (to be seeded).

        A database without its saved chats, or one whose seeding never finished, is
        started afresh: the two files belong together.
        """
        state = self._load() if self.db_path.exists() else None
        fresh = state is None or not state.get("seeded")
        if fresh:
            self.erase()
            state = None
        else:
            self.seeded = True
        await self.db.open()
        if state is not None:
            last = await InboxRepository(self.db).last_update_id()
            self.api.restore(state["api"], min_update_id=(last or 0) + 1)
            self.clock.advance(timedelta(seconds=float(state["clock_offset"])))
            self.phones = {int(p["id"]): Phone(**p) for p in state["phones"]}
            if "signal" in state:
                self.signal.restore(state["signal"])
        await self.api.start()
        await self.signal.start()
        self.api.on_change = self.signal.on_change = self._changed
        console_port = _free_port()
        self.console_url = f"http://127.0.0.1:{console_port}"
        settings = Settings(
            DEMO_TOKEN,
            self.api.url,
            self.db_path,
            self.config_path,
            signal_url=self.signal.url,
            signal_account=SIGNAL_ACCOUNT,
            console_listen=("127.0.0.1", console_port),
        )
        started: list[Timers] = []
        self._task = asyncio.create_task(
            serve(settings, self.city, clock=self.clock, stop=self._stop, on_start=started.append)
        )
        await self.api.wait_until(
            lambda: self.api.calls_of("getUpdates") or self._task is None or self._task.done(),
            timeout=30,
        )
        await self.signal.wait_until(
            lambda: self.signal.connects or self._task is None or self._task.done(), timeout=30
        )
        if self._task.done():
            self._task.result()  # the bot could not start: say why
        self.timers = started[0]
        return fresh

    async def stop(self) -> None:
        """Stop the bot as SIGTERM would, then the server; save the chats."""
        self._stop.set()
        if self._task is not None:
            with contextlib.suppress(Exception):  # a failure was already reported by bot_error
                await asyncio.wait_for(self._task, 30)
        if self._save_handle is not None:
            self._save_handle.cancel()
            self._save_handle = None
        if self.db.path.exists() and self._task is not None:
            self.save()
        self.api.on_change = self.signal.on_change = None
        await self.api.stop()
        await self.signal.stop()
        async with self._reading:
            self._closed = True
            await self.db.close()

    def bot_error(self) -> str | None:
        """Why the bot stopped, if it stopped by itself."""
        if self._task is None or not self._task.done() or self._stop.is_set():
            return None
        error = self._task.exception()
        return f"{type(error).__name__}: {error}" if error else "the bot stopped"

    def erase(self) -> None:
        """Delete the database (with its WAL files) and the saved chats."""
        for path in (
            self.db_path,
            self.db_path.with_name(self.db_path.name + "-wal"),
            self.db_path.with_name(self.db_path.name + "-shm"),
            self.state_path,
        ):
            path.unlink(missing_ok=True)

    # ------------------------------------------------------------------ saving

    def _changed(self) -> None:
        self.on_change()
        if self._save_handle is None:
            loop = asyncio.get_running_loop()
            self._save_handle = loop.call_later(_SAVE_DELAY, self._save_later)

    def _save_later(self) -> None:
        self._save_handle = None
        self.save()

    def save(self) -> None:
        """Write the chats, phones and clock offset next to the database (atomically)."""
        state = {
            "seeded": self.seeded,
            "api": self.api.snapshot(),
            "signal": self.signal.snapshot(),
            "clock_offset": self.clock.offset.total_seconds(),
            "phones": [asdict(phone) for phone in self.phones.values()],
        }
        partial = self.state_path.with_name(self.state_path.name + ".partial")
        write_private(partial, json.dumps(state, ensure_ascii=False).encode())
        os.replace(partial, self.state_path)

    def _load(self) -> JSON | None:
        try:
            state: JSON = json.loads(self.state_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            log.warning("no saved chats at %s: starting a new demo world", self.state_path)
            return None
        return state

    # ------------------------------------------------------------------ people

    def add_phone(self, user_id: int, name: str, language: str, role: str, shown: bool) -> FakeUser:
        """Register a person with the Bot API server and give them a phone on the page."""
        user = self.api.user(user_id, name, language_code=language)
        self.phones[user_id] = Phone(user_id, name, language, role, shown)
        self._changed()
        return user

    def add_signal_phone(
        self, user_id: int, name: str, language: str, role: str, shown: bool
    ) -> FakeSignalUser:
        """Register a person with the signal-cli daemon and give them a phone on the page
        (``language``: the page's; Signal does not tell the bot one)."""
        phone = Phone(user_id, name, language, role, shown, "signal")
        user = self.signal.user(phone.number, name)
        self.phones[user_id] = phone
        self._changed()
        return user

    def add_person(self, name: str, language: str, messenger: str = "telegram") -> Phone:
        """A new person from the page on ``messenger``, shown at once."""
        name = " ".join(name.split())[:32]
        if not name or language not in LANGUAGES or messenger not in MESSENGERS:
            raise ValueError("a name, one of the bot's languages and telegram or signal")
        user_id = max([FIRST_ADDED_ID - 1, *self.phones]) + 1
        if messenger == "signal":
            self.add_signal_phone(user_id, name, language, "person", shown=True)
        else:
            self.add_phone(user_id, name, language, "person", shown=True)
        return self.phones[user_id]

    def show(self, user_id: int, shown: bool) -> None:
        """Show or hide a person's phone."""
        self.phone(user_id).shown = shown
        self._changed()

    def phone(self, user_id: int) -> Phone:
        """The phone of ``user_id`` (KeyError if there is none)."""
        return self.phones[user_id]

    def user(self, user_id: int) -> FakeUser:
        """The scripted person behind a Telegram phone."""
        if self.phone(user_id).messenger != "telegram":
            raise LookupError("not on Telegram")
        return FakeUser(self.api, user_id)

    def signal_user(self, user_id: int) -> FakeSignalUser:
        """The scripted person behind a Signal phone."""
        phone = self.phone(user_id)
        if phone.messenger != "signal":
            raise LookupError("not on Signal")
        return self.signal.user(phone.number)

    async def console_link(self, user_id: int) -> str:
        """The coordinator on this phone sends /console in their own chat; the sign-in link
        the bot answers with (LookupError: not a coordinator on Telegram, or no console)."""
        phone = self.phone(user_id)
        contact = Contact(phone.messenger, str(user_id))
        base = self.console_url
        if phone.messenger != "telegram" or base is None:
            raise LookupError("not on Telegram")
        if not await self.people.is_coordinator(contact):
            raise LookupError("not a coordinator")
        user = self.user(user_id)
        seen = len(user.bot_messages())
        await user.send("/console")
        pattern = re.compile(re.escape(base) + r"/signin/[A-Za-z0-9_-]+")
        message = await user.wait_for_message(
            lambda m: pattern.search(m.text) is not None, after=seen
        )
        found = pattern.search(message.text)
        assert found is not None
        return found.group(0)

    async def latest_choices(self, user_id: int) -> list[str]:
        """On a Signal phone: the actions of the latest screen's numbered choices."""
        user = self.signal_user(user_id)
        latest = await MenuRepository(self.db, "signal").latest(user.uuid)
        return [a for _, a in latest[1]] if latest is not None else []

    async def choose(self, user_id: int, action: str) -> None:
        """On a Signal phone: type the number that ``action`` has in the latest screen."""
        actions = await self.latest_choices(user_id)
        if action not in actions:
            raise LookupError("no such choice")
        await self.signal_user(user_id).send(str(actions.index(action) + 1))

    # ------------------------------------------------------------------ actions

    async def send_text(self, user_id: int, text: str, reply_to: int | None = None) -> None:
        """The person sends text or a /command, optionally as a reply to a bot message."""
        if self.phone(user_id).messenger == "signal":
            person = self.signal_user(user_id)
            if reply_to is None:
                await person.send(text)
            else:
                await person.reply(self._signal_message(person, reply_to), text)
            return
        user = self.user(user_id)
        if reply_to is None:
            await user.send(text)
            return
        original = self._bot_message(user_id, reply_to)
        await user.send_raw(text=text, reply_to_message=original.raw)

    async def send_attachment(self, user_id: int, kind: str) -> None:
        """The person sends a sample voice note, photo of a letter or PDF."""
        if self.phone(user_id).messenger == "signal":
            person = self.signal_user(user_id)
            if kind == "voice":
                await person.send_voice(sample_voice())
            elif kind == "photo":
                await person.send_photo(sample_photo())
            elif kind == "document":
                await person.send_document(data=sample_document())
            else:
                raise ValueError(kind)
            return
        user = self.user(user_id)
        if kind == "voice":
            await user.send_voice(duration=2, data=sample_voice())
        elif kind == "photo":
            await user.send_photo(data=sample_photo())
        elif kind == "document":
            await user.send_document(data=sample_document())
        else:
            raise ValueError(kind)

    async def press(self, user_id: int, message_id: int, data: str) -> str:
        """The person taps an inline button of a bot message; return the query id."""
        message = self._bot_message(user_id, message_id)
        if data not in (b.get("callback_data") for row in message.buttons for b in row):
            raise LookupError("no such button")
        query_id = await self.user(user_id).press(data=data, message=message)
        self._last_press[user_id] = query_id
        return query_id

    async def advance(self, delta: timedelta) -> int:
        """Move the bot's clock forward and run whatever fell due; return how many timers ran."""
        if self.timers is None:
            raise RuntimeError("the bot is not running")
        self.clock.advance(delta)
        self._changed()
        return await self.timers.run_due()

    def _bot_message(self, user_id: int, message_id: int) -> BotMessage:
        for message in self.api.messages(user_id):
            if message.message_id == message_id and message.from_bot and not message.deleted:
                return message
        raise LookupError("no such message")

    def _signal_message(self, user: FakeSignalUser, timestamp: int) -> SignalMessage:
        message = self.signal.find(user.number, timestamp)
        if message is None or not message.from_bot or message.deleted:
            raise LookupError("no such message")
        return message

    def file(self, file_id: str) -> bytes | None:
        """A file someone sent (or the bot sent on), for the page to show or play."""
        attachment = self.signal.attachments.get(file_id)
        return attachment.data if attachment is not None else self.api.files.get(file_id)

    # ------------------------------------------------------------------ the page's view

    async def view(self) -> JSON:
        """Everything the page shows: the clock and every phone with its chat."""
        local = self.clock.now().astimezone(self.city.timezone)
        async with self._reading:
            if self._closed:
                raise RuntimeError("the demo world has stopped")
            phones = [await self._phone_view(p, local) for p in list(self.phones.values())]
        return {
            "clock": {
                "now": local.isoformat(timespec="minutes"),
                "label": local.strftime("%a %d %b %Y, %H:%M"),
                "ahead": _ahead(self.clock.offset),
            },
            "bot": BOT_USERNAME,
            "phones": phones,
        }

    async def _phone_view(self, phone: Phone, today: datetime) -> JSON:
        on_signal = phone.messenger == "signal"
        address = self.signal.user(phone.number).uuid if on_signal else str(phone.id)
        person = await self.people.find(Contact(phone.messenger, address))
        language = person.language if person else guess_language(phone.language, "de")
        role = phone.role
        if person is not None and person.role is Role.COORDINATOR:
            role = "coordinator"
        elif person is not None:
            lotse = await self.lotsen.get(person)
            if lotse is not None and lotse.status is LotseStatus.ACTIVE:
                role = "lotse"
            elif lotse is not None and lotse.status is LotseStatus.PENDING:
                role = "lotse (waiting for approval)"
        toast = None
        query_id = self._last_press.get(phone.id)
        if query_id is not None:
            answer = self.api.callback_answers.get(query_id) or {}
            if answer.get("text"):
                toast = {"id": query_id, "text": str(answer["text"])}
        return {
            "id": phone.id,
            "name": phone.name,
            "language": language,
            "dir": Locale.parse(language).text_direction,
            "role": role,
            "shown": phone.shown,
            "toast": toast,
            "messenger": phone.messenger,
            "number": phone.number if on_signal else None,
            "messages": self._signal_messages(phone, today)
            if on_signal
            else [
                message_view(message, self.city.timezone, today)
                for message in self.api.messages(phone.id)
                if not message.deleted
            ],
        }

    def _signal_messages(self, phone: Phone, today: datetime) -> list[JSON]:
        chat = [m for m in self.signal.messages(phone.number) if not m.deleted]
        views = []
        for message in chat:
            quoted = None
            if message.quote_timestamp is not None:
                original = self.signal.find(phone.number, message.quote_timestamp)
                quoted = original.text if original is not None else ""
            views.append(signal_message_view(message, self.city.timezone, today, quoted))
        return views


def _free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _ahead(offset: timedelta) -> str:
    """How far the demo clock is ahead of real time, e.g. ``1 day 2 h`` (empty: not at all)."""
    hours = int(offset.total_seconds() // 3600)
    days, hours = divmod(hours, 24)
    parts = [f"{days} day{'s' if days != 1 else ''}"] if days else []
    if hours:
        parts.append(f"{hours} h")
    return " ".join(parts)
