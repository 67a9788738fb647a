"""The chaos harness: the real ``lotsenbot run`` is SIGKILLed again and again while scripted
people use it, on Telegram and on Signal; afterwards the fake Bot API's and the local
signal-cli daemon's records of what was sent and the SQLite file (read with plain
``sqlite3``) must agree.

Shared by ``tests/test_chaos.py`` (about a minute, in ``make test``) and ``bench/soak.py``
(``make soak``: at least 200 kills, then a busy Monday morning). The bot runs as its own
process on the real clock, so reminders are set up to fall due a little after the start:
the city file puts them so many minutes before tomorrow's 09:00 appointment, and a
Stammtisch date one hour after such a moment (``remind_hours_before = 1``).

On Signal there are no buttons: people quote-reply to a screen with the number of their
choice, in their own digits (:class:`SignalPhone`); which choices each screen had is read
from the bot's ``menu`` table as it goes (:class:`SignalScreens`). signal-cli hands an event
over once: one the bot was killed before storing is gone, and :class:`Window` measures that
window and counts what fell into it; the person then types it again, as anyone would whose
message got no answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import json
import random
import re
import sqlite3
import statistics
import threading
import time as wall
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

from bot.clock import to_db
from bot.i18n import language_name
from channels.signal.fakedaemon import FakeSignalDaemon, SignalMessage, Written
from channels.signal.inputs import STALE
from channels.telegram.fakeapi import BotMessage, FakeBotAPI, FakeUser
from handlers import asking_views, views
from handlers import broadcast_views as bv
from tests.process import LOTSENBOT, BotProcess, bot_env
from tests.scenario import BERLIN, ask_for_lotse, label, onboard, plain_first_line, t

#: The first reminders fall due this long (or up to a minute longer) after the start.
FIRST_DUE_AFTER = timedelta(seconds=30)
#: What a person writes to their Lotse, and the Lotse's answer (``name``: the person's).
QUESTION = "Frage von {name}: Wo treffen wir uns?"
ANSWER = "Antwort für {name}: vor dem Jobcenter"


# --------------------------------------------------------------------------- the plan


@dataclass(frozen=True)
class Plan:
    """Every request's appointment (tomorrow, 09:00 in Dorsten) and when reminders fall due."""

    appointment: datetime
    due: tuple[datetime, ...]  # request reminders, first to last

    @property
    def minutes_before(self) -> str:
        """The city file's ``reminders_minutes_before`` that makes them due then."""
        return str([int((self.appointment - due).total_seconds()) // 60 for due in self.due])

    @staticmethod
    def stammtisch_for(due: datetime) -> datetime:
        """A Stammtisch date whose reminder (one hour before) falls due at ``due``."""
        return due + timedelta(hours=1)


def make_plan(now: datetime, reminders: int = 2, every: timedelta = timedelta(minutes=1)) -> Plan:
    """``reminders`` due times, the first at least FIRST_DUE_AFTER from ``now``."""
    first = (now + FIRST_DUE_AFTER).replace(second=0, microsecond=0) + timedelta(minutes=1)
    day = (now.astimezone(BERLIN) + timedelta(days=1)).date()
    appointment = datetime.combine(day, time(9), BERLIN)
    return Plan(appointment, tuple(first + i * every for i in range(reminders)))


# --------------------------------------------------------------------------- messages


@dataclass(frozen=True)
class Seen:
    """A message as the checks read it on either messenger: its text and the actions of its
    choices (a Telegram message's buttons, a Signal message's numbered list)."""

    text: str
    data: tuple[str, ...] = ()
    at: float = 0.0  #: when it was sent (``time.time()``)


def data_of(message: BotMessage | Seen) -> list[str]:
    """The actions of the message's choices (on Telegram, its buttons' callback data)."""
    if isinstance(message, Seen):
        return list(message.data)
    return [str(b.get("callback_data", "")) for row in message.buttons for b in row]


def is_offer(message: BotMessage | Seen) -> str | None:
    return next((d for d in data_of(message) if d.startswith("offer:accept:")), None)


def is_invitation(message: BotMessage | Seen) -> str | None:
    """The *I'll come* button of a Stammtisch invitation (or reminder)."""
    return next(
        (d for d in data_of(message) if d.startswith("ev:rsvp:") and d.endswith(":yes")), None
    )


def request_reminders(user: FakeUser, name: str | None = None) -> list[BotMessage]:
    """Appointment reminders (they carry attendance buttons), optionally about ``name``."""
    return [
        m
        for m in user.bot_messages()
        if m.text.startswith("⏰")
        and any(d.startswith("att:") for d in data_of(m))
        and (name is None or name in m.text)
    ]


def mailing_of(
    message: BotMessage | Seen, broadcasts: dict[int, str]
) -> tuple[str, int | None, str] | None:
    """Which mailing a message is a copy of, as (kind, subject, what), if it is one.

    ``broadcasts`` maps each broadcast's id to its text. A training announcement loses its
    buttons once answered, so its subject (the training) may be unknown: None. The answers
    to a copy's buttons (which carry the same buttons) are not copies.
    """
    data = data_of(message)
    if bv.NEWS_OFF in data:
        subject = next((i for i, text in broadcasts.items() if text in message.text), None)
        return "broadcast", subject, ""
    ids = {
        value.split(":")[0]: int(value.split(":")[2])
        for value in data
        if value.startswith(("ev:rsvp:", "wl:t:")) and value.split(":")[2].isdigit()
    }
    text = message.text
    if "ev" in ids:
        if text.startswith("📣"):
            return "event", ids["ev"], "announce"
        if text.startswith("⏰"):
            return "event", ids["ev"], "remind"
    if text.startswith("🎓"):
        return "training", ids.get("wl"), "announce"
    if "wl" in ids and text.startswith(("⏰", "🎉")):
        return "training", ids["wl"], "remind" if text.startswith("⏰") else "moved_up"
    return None


# --------------------------------------------------------------------------- the process


async def add_stammtisch(process: BotProcess, at: datetime) -> None:
    """``lotsenbot event add`` next to the running bot, as a coordinator would."""
    command = await asyncio.create_subprocess_exec(
        str(LOTSENBOT),
        "event",
        "add",
        "--at",
        at.astimezone(BERLIN).strftime("%Y-%m-%d %H:%M"),
        env=bot_env(None, process.db_path, process.config),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await command.communicate()
    assert command.returncode == 0, err.decode()


class BotDied(AssertionError):
    """The bot exited without being killed."""


class Killer:
    """SIGKILLs the bot at random moments and starts it again; now and then it is killed
    again while still starting (before its first ``getUpdates``)."""

    def __init__(
        self,
        process: BotProcess,
        chance: random.Random,
        *,
        up: tuple[float, float] = (0.3, 1.5),
        while_starting: float = 0.25,
        starts: int = 1,
    ) -> None:
        self.process = process
        self.chance = chance
        self.up = up  # how long it runs (seconds, at random between) before the next kill
        self.while_starting_chance = while_starting
        #: At most this many kills while starting in a row (each with that chance).
        self.starts = starts
        self.kills = 0
        self.while_starting = 0  # of the kills, those before the process first polled
        #: When each kill was done, the process gone (``time.monotonic()``, and
        #: ``time.time()`` to compare with when messages were sent).
        self.killed_at: list[float] = []
        self.killed_wall: list[float] = []
        self._waiting: list[tuple[int, asyncio.Event]] = []

    async def reached(self, kills: int) -> None:
        """Wait until this many kills are done."""
        if self.kills < kills:
            event = asyncio.Event()
            self._waiting.append((kills, event))
            await event.wait()

    async def _kill(self) -> None:
        await self.process.kill()
        self.killed_at.append(wall.monotonic())
        self.killed_wall.append(wall.time())
        self.kills += 1
        for kills, event in self._waiting:
            if self.kills >= kills:
                event.set()

    async def run(self, done: Callable[[], bool], deadline: float = float("inf")) -> None:
        """Kill and restart until ``done()`` after a restart, or the monotonic ``deadline``."""
        process, chance = self.process, self.chance
        while True:
            await asyncio.sleep(chance.uniform(*self.up))  # up and polling for a while
            proc = process.proc
            if proc is None or proc.returncode is not None:
                raise BotDied(f"the bot died by itself:\n{process.log()[-3000:]}")
            await self._kill()
            await asyncio.sleep(chance.uniform(0.0, 0.3))
            starts = 0
            while starts < self.starts and chance.random() < self.while_starting_chance:
                starts += 1
                polls = process.api.polls
                await process.spawn()
                await asyncio.sleep(chance.uniform(0.05, 1.2))
                await self._kill()
                self.while_starting += process.api.polls == polls
            await process.start()
            if done() or wall.monotonic() > deadline:
                return


async def handled(db_path: Path, updates: int, timeout: float) -> bool:
    """Wait until the updates handed out so far (ids 1 to ``updates``) are all handled."""

    def done() -> bool:
        with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as conn:
            query = "SELECT count(done_at) FROM inbox WHERE update_id <= ?"
            return bool(conn.execute(query, (updates,)).fetchone()[0] >= updates)

    deadline = wall.monotonic() + timeout
    while not done():
        if wall.monotonic() > deadline:
            return False
        await asyncio.sleep(0.1)
    return True


# --------------------------------------------------------------------------- people


class LotseDuty:
    """A Lotse who accepts every offer, answers every Stammtisch invitation and answers
    each relayed question, as soon as it shows (each message once, in order)."""

    def __init__(
        self,
        api: FakeBotAPI,
        lotse: FakeUser,
        presses: Counter[str],
        rsvp: Callable[[int], str] = lambda event: "yes",
    ) -> None:
        self.api = api
        self.lotse = lotse
        self.presses = presses  # accept presses per offer, to count the races
        self.rsvp = rsvp  # the answer to the invitation to an event (yes, maybe, no)
        self.cursor = 0

    def _next(self) -> BotMessage | None:
        chat = self.api.chats[self.lotse.id]
        while self.cursor < len(chat):
            message = chat[self.cursor]
            if message.from_bot and not message.deleted and self._task(message):
                return message
            self.cursor += 1
        return None

    @staticmethod
    def _task(message: BotMessage) -> bool:
        return bool(
            is_offer(message)
            or is_invitation(message)
            or (message.text.startswith("💬") and QUESTION.split("{")[0] in message.text)
        )

    async def run(self) -> None:
        while True:
            message: BotMessage = await self.api.wait_until(self._next, timeout=3600)
            self.cursor += 1
            offer, invitation = is_offer(message), is_invitation(message)
            if offer:
                self.presses[offer] += 1
                await self.lotse.press(data=offer, message=message)
            elif invitation:
                event = int(invitation.split(":")[2])
                answer = f"ev:rsvp:{event}:{self.rsvp(event)}"
                await self.lotse.press(data=answer, message=message)
            else:
                name = message.text.split(QUESTION.split("{")[0], 1)[1].split(":")[0]
                await self.lotse.send_raw(
                    text=ANSWER.format(name=name), reply_to_message=message.raw
                )


async def refugee(user: FakeUser, plan: Plan, delay: float = 0.0, *, relay: bool = False) -> None:
    """Arrive after ``delay``, ask for a Lotse for the appointment; then perhaps ask the
    Lotse something through the bot and wait for the answer."""
    await asyncio.sleep(delay)
    language = user.data["language_code"]
    name = user.data["first_name"]
    await onboard(user, language)
    await ask_for_lotse(
        user, language, day=plan.appointment.date().isoformat(), time="0900", name=name
    )
    if not relay:
        return
    # The news of the Lotse comes (again, if a kill cut it off).
    await user.wait_for_text("🎉")
    question = QUESTION.format(name=name)
    await user.send(question)
    # Passed on: the bot's reaction on the person's own message.
    await user.api.wait_until(
        lambda: any(
            m.reactions for m in user.api.messages(user.id) if not m.from_bot and m.text == question
        )
    )
    await user.wait_for_text(ANSWER.format(name=name))


# --------------------------------------------------------------------------- Signal

#: A numbered list of choices in a message on Signal (:func:`channels.signal.render.render`).
LISTED = re.compile(r"(?m)^1\. ")
#: How each language writes the digits 0-9 (others: as in English).
DIGITS = {"ar": "٠١٢٣٤٥٦٧٨٩", "fa": "۰۱۲۳۴۵۶۷۸۹"}


def _read_only(db_path: Path, **options: Any) -> sqlite3.Connection:
    conn: sqlite3.Connection = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, **options)
    return conn


class Window:
    """The intake's remaining window on Signal, measured.

    signal-cli hands each event to the open stream once; the bot then stores it. A thread
    polls the bot's ``stamped_inbox`` about every millisecond while an event the local
    daemon wrote is not stored yet, and notes when its row showed: the time from the write
    to that moment is the event's window. An event is lost when the process that had the
    stream was killed before its row was committed; that is known for sure once a kill
    came after the stream was opened (the bot's process is gone then, the database final).
    """

    def __init__(self, daemon: FakeSignalDaemon, db_path: Path, killed_at: list[float]) -> None:
        self.daemon = daemon
        self.db_path = db_path
        self.killed_at = killed_at
        #: (sender, stamp) → when its row was first seen (``time.monotonic()``).
        self.committed: dict[tuple[str, int], float] = {}
        self._by_key: dict[tuple[str, int], Written] = {}
        self._resolved = 0  # the daemon's written events before this index are stored or lost
        self._last_id = 0
        self._conn: sqlite3.Connection | None = None
        self._stop = threading.Event()
        self._polling = threading.Lock()  # held while polling, or while paused
        self._thread = threading.Thread(target=self._watch, name="signal-window", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        self._poll()  # the last rows, in this thread

    def _killed_after(self, moment: float) -> float | None:
        return next((k for k in self.killed_at if k > moment), None)

    def _in_flight(self) -> bool:
        written = self.daemon.written
        while self._resolved < len(written):
            event = written[self._resolved]
            key = (event.sender, event.stamp)
            if key not in self.committed and self._killed_after(event.opened) is None:
                return True
            self._resolved += 1
        return False

    def _poll(self) -> None:
        if self._conn is None:
            if not self.db_path.exists():
                return
            self._conn = _read_only(self.db_path, check_same_thread=False)
        try:
            rows = self._conn.execute(
                "SELECT id, sender, stamp FROM stamped_inbox WHERE channel = 'signal' AND id > ? "
                "ORDER BY id",
                (self._last_id,),
            ).fetchall()
        except sqlite3.OperationalError:  # not created yet, or locked for a moment
            return
        now = wall.monotonic()
        for row_id, sender, stamp in rows:
            self.committed.setdefault((sender, stamp), now)
            self._last_id = row_id

    def _watch(self) -> None:
        while not self._stop.is_set():
            with self._polling:
                busy = self._in_flight()
                if busy:
                    self._poll()
            self._stop.wait(0.001 if busy else 0.02)

    def pause(self) -> None:
        """No polling, and no connection to the file, until :meth:`resume`."""
        self._polling.acquire()
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def resume(self) -> None:
        self._polling.release()

    def stored(self, sender: str, stamp: int) -> bool:
        return (sender, stamp) in self.committed

    def lost(self, sender: str, stamp: int) -> bool:
        """Whether the event was written to a stream and never stored: the bot that had it
        was killed."""
        key = (sender, stamp)
        if key not in self._by_key:
            self._by_key.update(((w.sender, w.stamp), w) for w in self.daemon.written)
        event = self._by_key.get(key)
        if event is None or key in self.committed or self._killed_after(event.opened) is None:
            return False
        with _read_only(self.db_path) as conn:  # the thread may not have seen the last rows
            query = (
                "SELECT 1 FROM stamped_inbox WHERE channel = 'signal' AND sender = ? AND stamp = ?"
            )
            return conn.execute(query, key).fetchone() is None

    def figures(self) -> tuple[list[float], list[float], list[Written]]:
        """The windows of the stored events (ms), how long before its kill each lost one was
        written (ms; negative: written to the stream of a bot already dead), and the events
        neither stored nor lost (nothing explains them)."""
        windows, gaps, unexplained = [], [], []
        for event in self.daemon.written:
            seen = self.committed.get((event.sender, event.stamp))
            kill = self._killed_after(event.opened)
            if seen is not None:
                windows.append((seen - event.at) * 1000)
            elif kill is not None:
                gaps.append((kill - event.at) * 1000)
            else:
                unexplained.append(event)
        return windows, gaps, unexplained


class SignalScreens:
    """The numbered choices of every screen the bot showed on Signal, as first recorded: the
    bot keeps only each chat's latest screens, and an answered one loses its choices."""

    def __init__(self, db_path: Path) -> None:
        self.db_path = db_path
        self.choices: dict[tuple[str, int], tuple[tuple[str, str], ...]] = {}
        self.paused = False  # no reading meanwhile: what was read so far counts

    def refresh(self, chat: str | None = None, *, since: datetime | None = None) -> None:
        """Read the screens recorded since (of one chat, or of all; those shown ``since``)."""
        if self.paused or not self.db_path.exists():
            return
        where, args = ("AND chat = ?", (chat,)) if chat is not None else ("", ())
        if since is not None:
            where, args = f"{where} AND shown_at >= ?", (*args, to_db(since))
        try:
            with _read_only(self.db_path) as conn:
                rows = conn.execute(
                    f"SELECT chat, message_id, choices FROM menu WHERE channel = 'signal' {where}",
                    args,
                ).fetchall()
        except sqlite3.OperationalError:
            return
        for chat_, message_id, stored in rows:
            choices = tuple((str(a), str(b)) for a, b in json.loads(stored))
            known = self.choices.get((chat_, message_id))
            if not known or all(action == STALE for _, action in known):
                self.choices[chat_, message_id] = choices

    def seen(self, chat: str, message: SignalMessage) -> Seen:
        return Seen(
            message.text,
            tuple(a for _, a in self.choices.get((chat, message.timestamp), ())),
            message.timestamp / 1000,
        )

    async def run(self) -> None:
        """Keep reading, so that no screen is forgotten before it was seen here (those of the
        last minutes: the older ones were read by then)."""
        while True:
            self.refresh(since=datetime.now(UTC) - timedelta(minutes=5))
            await asyncio.sleep(0.2)


class SignalSide:
    """Signal in a chaos run: the local daemon, what its people were shown, the window."""

    def __init__(self, daemon: FakeSignalDaemon, db_path: Path, killer: Killer) -> None:
        self.daemon = daemon
        self.screens = SignalScreens(db_path)
        self.window = Window(daemon, db_path, killer.killed_at)
        self._reading: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.window.start()
        self._reading = asyncio.create_task(self.screens.run())

    @contextlib.contextmanager
    def quiet(self) -> Iterator[None]:
        """No connection of this process to the database meanwhile, while something else in
        it writes to the file directly (several connections in one process to a WAL file that
        another process opens and closes have ended in SIGBUS)."""
        self.screens.paused = True
        self.window.pause()
        try:
            yield
        finally:
            self.window.resume()
            self.screens.paused = False

    async def stop(self) -> None:
        if self._reading is not None:
            self._reading.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reading
        self.window.stop()
        self.screens.refresh()


class SignalPhone:
    """A person on Signal: answers a screen with the number of a choice, in their own digits
    — quote-replying to it, or (``quoting=False``) typing the number when it is the chat's
    latest screen —, types text, and types again what was lost in the intake's window (they
    got no answer)."""

    def __init__(
        self, side: SignalSide, number: str, name: str, language: str, *, quoting: bool = True
    ) -> None:
        self.side = side
        self.quoting = quoting
        self.daemon = side.daemon
        self.user = side.daemon.user(number, name)
        self.name = name
        self.language = language
        self.key = f"signal:{self.user.uuid}"
        self.retyped = 0
        self.step = ""  # what the person waits for (for the failure's message)
        self.answered: set[int] = set()  # screens (message ids) answered
        self._unsure: list[tuple[int, str, SignalMessage | None]] = []  # not seen stored yet

    def bot_messages(self) -> list[SignalMessage]:
        return self.user.bot_messages()

    def digits(self, number: int) -> str:
        return str(number).translate(
            str.maketrans("0123456789", DIGITS.get(self.language, "0123456789"))
        )

    async def _write(self, text: str, quote: SignalMessage | None) -> int:
        if quote is None:
            return await self.user.send(text)
        return await self.user.reply(quote, text)

    async def say(self, text: str, quote: SignalMessage | None = None) -> int:
        stamp = await self._write(text, quote)
        self._unsure.append((stamp, text, quote))
        return stamp

    async def retype_lost(self) -> None:
        """Send again what the bot was killed before storing."""
        window, keep = self.side.window, []
        for stamp, text, quote in self._unsure:
            if window.stored(self.user.uuid, stamp):
                continue
            if window.lost(self.user.uuid, stamp):
                self.retyped += 1
                stamp = await self._write(text, quote)
            keep.append((stamp, text, quote))
        self._unsure = keep

    async def expect(self, found: Callable[[], Any], timeout: float | None = None) -> Any:
        """Wait until ``found()`` is truthy, typing again whatever was lost meanwhile."""
        deadline = wall.monotonic() + (self.daemon.patience if timeout is None else timeout)
        while True:
            value = found()
            if value:
                return value
            await self.retype_lost()
            if wall.monotonic() > deadline:
                raise TimeoutError(f"{self.name} waited in vain for {self.step}; {self.story()}")
            await asyncio.sleep(0.05)

    def story(self) -> str:
        """The end of the chat, for a failure's message: each message's time (ms, from the
        first shown), who wrote it, its start, and for the bot's the choices recorded (or
        that none were) and whether it was answered; for the person's, whether the bot
        stored it or it was lost (and typed again)."""
        screens, window = self.side.screens, self.side.window
        screens.refresh(self.user.uuid)
        chat = self.daemon.messages(self.user.number)[-10:]
        start = chat[0].timestamp if chat else 0
        lines = []
        for m in chat:
            if m.from_bot:
                choices = screens.choices.get((self.user.uuid, m.timestamp))
                shown = "unrecorded" if choices is None else [a for _, a in choices]
                answered = " answered" if m.timestamp in self.answered else ""
                lines.append(f"+{m.timestamp - start} bot {m.text[:30]!r} {shown}{answered}")
            else:
                fate = (
                    "stored"
                    if window.stored(self.user.uuid, m.timestamp)
                    else "lost"
                    if window.lost(self.user.uuid, m.timestamp)
                    else "not stored"
                )
                quote = f" quoting +{m.quote_timestamp - start}" if m.quote_timestamp else ""
                lines.append(f"+{m.timestamp - start} she {m.text[:20]!r}{quote} {fate}")
        return f"retyped {self.retyped}; " + " | ".join(lines)

    def screen_with(self, wanted: Callable[[str], bool]) -> tuple[SignalMessage, int] | None:
        """The latest screen not answered yet with a choice ``wanted``: it and the number (when
        not quoting, only the chat's latest screen counts: a typed number answers that)."""
        screens = self.side.screens
        screens.refresh(self.user.uuid)
        for message in reversed(self.bot_messages()):
            choices = screens.choices.get((self.user.uuid, message.timestamp))
            if choices is None:
                if not self.quoting and LISTED.search(message.text):
                    # A screen on the phone the bot has not recorded yet: a number typed now
                    # would answer it, so wait.
                    return None
                continue  # not a screen (a short notice)
            if message.timestamp not in self.answered:
                for number, (_, action) in enumerate(choices, 1):
                    if wanted(action):
                        return message, number
            if not self.quoting:
                return None
        return None

    def shows(self, choice: str) -> bool:
        """Whether a screen in the chat offered the choice labelled ``choice``."""
        return any(
            shown == choice
            for (chat, _), choices in self.side.screens.choices.items()
            if chat == self.user.uuid
            for shown, _ in choices
        )

    async def choose(self, message: SignalMessage, number: int) -> None:
        self.answered.add(message.timestamp)
        await self.say(self.digits(number), quote=message if self.quoting else None)

    async def pick(self, action: str, *, prefix: bool = False) -> None:
        """Answer the screen that offers ``action`` (or an action starting with it)."""
        self.step = action
        screen = await self.expect(
            lambda: self.screen_with(lambda a: a.startswith(action) if prefix else a == action)
        )
        await self.choose(*screen)

    async def wait_for_text(self, fragment: str, *, after: int = 0) -> SignalMessage:
        self.step = fragment
        found: SignalMessage = await self.expect(
            lambda: next((m for m in self.bot_messages()[after:] if fragment in m.text), None)
        )
        return found


async def signal_onboard(phone: SignalPhone, greeting: str = "Hallo") -> None:
    """A first message, the language's number, consent's number: the main menu."""
    await phone.say(greeting)
    await phone.pick(f"lang:{phone.language}")
    await phone.pick(views.CONSENT_YES)
    await phone.wait_for_text(label(phone.language, "What would you like to do?"))


async def signal_ask_for_lotse(phone: SignalPhone, day: str, time: str) -> None:
    """The whole intake on Signal, to *sent*."""
    tr = t(phone.language)
    await phone.pick(views.MENU_REQUEST)
    await phone.pick("ask:topic:jobcenter")
    await phone.wait_for_text(plain_first_line(asking_views.ask_description(tr).text))
    await phone.say("Brief vom Jobcenter verstehen")
    # The hour, then its quarter.
    hour, quarter = f"ask:hour:{time[:2]}", f"ask:time:{time}"
    for action in ("ask:langs_done", "ask:district:0", f"ask:day:{day}", hour):
        await phone.pick(action)
    # The quarters come as the hour's screen changed. Killed after showing them and before
    # the hour's number was marked handled, the number is read again against a screen that
    # has changed: refused, the hours are shown again, and she taps the hour once more.
    phone.step = quarter
    while True:
        message, number = await phone.expect(
            lambda: phone.screen_with(lambda a: a in (hour, quarter))
        )
        chosen = phone.screen_with(lambda a: a == quarter)
        await phone.choose(message, number)
        if chosen is not None:
            break
    await phone.pick("ask:place:skip")
    phone.step = "ask:name"
    await phone.expect(lambda: phone.screen_with(lambda a: a.startswith("ask:name")))
    await phone.say(phone.name)
    await phone.pick("ask:confirm")
    await phone.wait_for_text(plain_first_line(asking_views.sent(tr).text))


async def signal_become_lotse(phone: SignalPhone, languages: list[str], code: str) -> None:
    """The invitation's ``/start CODE``, language, consent, the profile's languages."""
    await phone.say(f"/start {code}")
    await phone.pick(f"lang:{languages[0]}:{code}")
    await phone.pick(f"consent:yes:{code}")
    for language in languages[1:]:
        await phone.pick("prof:show:lang")
        await phone.pick(f"prof:lang:{language}")
        await phone.expect(functools.partial(phone.shows, f"✅ {language_name(language)}"))


class SignalLotseDuty:
    """A Lotse on Signal who does what :class:`LotseDuty` does: quote-replies with the number
    of *accept* to every offer and of the answer to every invitation, and answers each
    relayed question by quoting it."""

    def __init__(
        self,
        phone: SignalPhone,
        presses: Counter[str],
        rsvp: Callable[[int], str] = lambda event: "yes",
    ) -> None:
        self.phone = phone
        self.presses = presses
        self.rsvp = rsvp
        self.answered: set[int] = set()  # relayed questions answered

    def _task(self, action: str) -> bool:
        if action.startswith("offer:accept:"):
            return True
        parts = action.split(":")
        return action.startswith("ev:rsvp:") and parts[-1] == self.rsvp(int(parts[2]))

    async def run(self) -> None:
        phone, marker = self.phone, QUESTION.split("{")[0]
        while True:
            screen = phone.screen_with(self._task)
            if screen is not None:
                message, number = screen
                action = phone.side.screens.choices[phone.user.uuid, message.timestamp][number - 1]
                if action[1].startswith("offer:"):
                    self.presses[action[1]] += 1
                await phone.choose(message, number)
                continue
            for message in phone.bot_messages():
                if message.timestamp in self.answered or marker not in message.text:
                    continue
                self.answered.add(message.timestamp)
                name = message.text.split(marker, 1)[1].split(":")[0]
                await phone.say(ANSWER.format(name=name), quote=message)
            await phone.retype_lost()
            await asyncio.sleep(0.1)


async def signal_refugee(
    phone: SignalPhone, plan: Plan, delay: float = 0.0, *, relay: bool = False
) -> None:
    """:func:`refugee` on Signal."""
    await asyncio.sleep(delay)
    await signal_onboard(
        phone, {"ar": "مرحبا", "fa": "سلام", "uk": "Привіт"}.get(phone.language, "Hallo")
    )
    await signal_ask_for_lotse(phone, plan.appointment.date().isoformat(), "0900")
    if not relay:
        return
    phone.step = "🎉"
    await phone.expect(lambda: any(m.text.startswith("🎉") for m in phone.bot_messages()))
    question = QUESTION.format(name=phone.name)
    await phone.say(question)
    # Passed on: the bot's reaction on the person's own message (the one stored, if it had to
    # be typed again).
    daemon = phone.daemon
    await phone.expect(
        lambda: any(
            daemon.account in m.reactions
            for m in daemon.messages(phone.user.number)
            if not m.from_bot and m.text == question
        )
    )
    await phone.wait_for_text(ANSWER.format(name=phone.name))


#: A person on either messenger.
Person = FakeUser | SignalPhone


def key_of(person: Person) -> str:
    """How the checks know a person: ``channel:address``, as the ``contact`` table has it."""
    return person.key if isinstance(person, SignalPhone) else f"telegram:{person.id}"


def contact_key(person: str = "p") -> str:
    """SQL: the ``channel:address`` of the person row ``person`` (see :func:`key_of`)."""
    return (
        "(SELECT min(c.channel || ':' || c.address) FROM contact c "
        f"WHERE c.person_id = {person}.id)"
    )


def language_of(person: Person) -> str:
    return person.language if isinstance(person, SignalPhone) else str(person.data["language_code"])


def name_of(person: Person) -> str:
    return person.name if isinstance(person, SignalPhone) else str(person.data["first_name"])


def received(person: Person, signal: SignalSide | None = None) -> list[Seen]:
    """What the bot sent the person, oldest first."""
    if isinstance(person, SignalPhone):
        assert signal is not None, "Signal people need the SignalSide"
        return [signal.screens.seen(person.user.uuid, m) for m in person.bot_messages()]
    return [Seen(m.text, tuple(data_of(m)), m.at) for m in person.bot_messages()]


# --------------------------------------------------------------------------- the checks


@dataclass
class Findings:
    """What the record and the database say, and every disagreement by kind."""

    integrity: str = ""
    requests: int = 0  # requests the bot confirmed to the person
    accepted: int = 0
    lost: list[str] = field(default_factory=list)  # a sent request not confirmed or stored
    not_accepted: list[str] = field(default_factory=list)
    double_assigned: list[str] = field(default_factory=list)
    duplicate_copies: list[str] = field(default_factory=list)  # anything received twice
    reminders_missed: list[str] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)  # any other disagreement
    counts: Counter[str] = field(default_factory=Counter)
    #: On Signal: each stored event's window (ms from signal-cli's write to the bot's row),
    #: and for each event lost in it, how long before the kill it was written (ms).
    windows: list[float] = field(default_factory=list)
    lost_in_window: list[float] = field(default_factory=list)

    def problems(self) -> list[str]:
        integrity = [] if self.integrity == "ok" else [f"integrity_check: {self.integrity}"]
        return [
            *integrity,
            *self.lost,
            *self.double_assigned,
            *self.duplicate_copies,
            *self.reminders_missed,
            *self.wrong,
        ]

    def summary(self) -> str:
        c = self.counts
        pending = " (still pending)" if c["event reminders pending"] else ""
        return (
            f"request reminders {c['reminders done']} due and done, {c['reminders pending']} "
            f"pending, unconfirmed: {c['reminders unconfirmed']}; broadcast "
            f"{c['broadcast:sent']} sent, {c['broadcast:unconfirmed']} unconfirmed; "
            f"Stammtisch reminder {c['event:remind:sent']} sent{pending}"
            + (f"; {self.window()}" if self.windows or self.lost_in_window else "")
        )

    def window(self) -> str:
        """The intake's window on Signal, as measured."""
        w = sorted(self.windows)
        line = f"Signal: {len(w) + len(self.lost_in_window)} events written, {len(w)} stored"
        if w:
            p99 = w[min(len(w) - 1, int(len(w) * 0.99))]
            line += (
                f" (window from signal-cli's write to the bot's row: median "
                f"{statistics.median(w):.1f} ms, p99 {p99:.1f} ms, longest {w[-1]:.1f} ms)"
            )
        gaps = ", ".join(f"{g:.0f}" for g in sorted(self.lost_in_window))
        return line + (
            f", {len(self.lost_in_window)} lost in the window (written this many ms before "
            f"the kill: {gaps})"
            if self.lost_in_window
            else ", none lost"
        )


def check(
    db_path: Path,
    refugees: Iterable[Person],
    lotsen: Iterable[Person],
    everyone: Iterable[Person],
    *,
    updates: int | None = None,
    due_by: datetime | None = None,
    signal: SignalSide | None = None,
    kills: Sequence[float] = (),
) -> Findings:
    """Compare the database with what arrived, for requests sent by ``refugees``.

    * every one of the ``updates`` the fake server handed out (ids 1 to ``updates``) was
      stored in the inbox and handled;
    * every sent request was confirmed and is stored once, accepted, with one Lotse, who
      alone got its details; the person heard of their Lotse once, or again only after a
      kill (``kills``: when each came, ``time.time()``);
    * each side of each case got each due reminder exactly once, or it is still pending
      (a copy cut off by a kill mid-send is recorded as unconfirmed and not sent again);
      with ``due_by``, every reminder due before then must have been done;
    * nobody got a copy of a mailing (broadcast, Stammtisch or training notice) twice,
      everyone recorded as sent got exactly one, nobody recorded otherwise got one;
    * with ``signal``: every event the local daemon wrote was stored and handled, or lost in
      the intake's window (a kill came before its row; counted and measured, see
      :class:`Window`);
    * ``PRAGMA integrity_check`` says ``ok``.
    """
    found = Findings()
    refugees, lotsen = list(refugees), list(lotsen)
    if signal is not None:
        signal.screens.refresh()
    chats = {key_of(u): received(u, signal) for u in everyone}
    with _read_only(db_path) as conn:
        found.integrity = "\n".join(r[0] for r in conn.execute("PRAGMA integrity_check"))
        if updates is not None:
            _check_inbox(conn, found, updates)
        if signal is not None:
            _check_signal_inbox(conn, found, signal.window)
        _check_requests(conn, found, refugees, lotsen, chats, kills)
        _check_reminders(conn, found, chats, due_by)
        _check_mailings(conn, found, chats)
    return found


def _check_inbox(conn: sqlite3.Connection, found: Findings, updates: int) -> None:
    # Nothing Telegram handed over is lost: each update is stored, and handled (or given up
    # after repeated failures, which the log says).
    stored, handled = conn.execute(
        "SELECT count(*), count(done_at) FROM inbox WHERE update_id <= ?", (updates,)
    ).fetchone()
    if stored < updates:
        found.lost.append(f"{updates - stored} of {updates} updates never stored")
    if handled < stored:
        found.lost.append(f"{stored - handled} updates stored, never handled")
    found.counts["updates"] = updates


def _check_signal_inbox(conn: sqlite3.Connection, found: Findings, window: Window) -> None:
    # Each event signal-cli handed over is stored and handled, or was lost in the window
    # because the bot was killed first; nothing else explains a missing one.
    found.windows, found.lost_in_window, unexplained = window.figures()
    for event in unexplained:
        found.lost.append(f"a Signal event written {event.at:.3f}, never stored, no kill")
    (left,) = conn.execute(
        "SELECT count(*) FROM stamped_inbox WHERE channel = 'signal' AND done_at IS NULL"
    ).fetchone()
    if left:
        found.lost.append(f"{left} Signal events stored, never handled")


Row = tuple[int, str, str, str | None, str]


def _check_requests(
    conn: sqlite3.Connection,
    found: Findings,
    refugees: list[Person],
    lotsen: list[Person],
    chats: dict[str, list[Seen]],
    kills: Sequence[float],
) -> None:
    # No sent request lost, none twice, each in a legal state with at most one Lotse.
    confirmed = {
        key_of(u)
        for u in refugees
        if any(
            m.text.startswith(asking_views.sent(t(language_of(u))).text[:12])
            for m in chats[key_of(u)]
        )
    }
    found.requests = len(confirmed)
    rows: list[Row] = conn.execute(
        f"SELECT r.id, {contact_key('p')}, r.status, {contact_key('lp')}, r.first_name "
        "FROM request r "
        "JOIN person p ON p.id = r.person_id LEFT JOIN person lp ON lp.id = r.lotse_id "
        "WHERE r.status <> 'draft'"
    ).fetchall()
    stored = Counter(row[1] for row in rows)
    for user in refugees:
        if key_of(user) not in confirmed:
            found.lost.append(f"{key_of(user)}: sent a request, never confirmed")
        elif not stored[key_of(user)]:
            found.lost.append(f"{key_of(user)}: request confirmed, not stored")
    for key, times in stored.items():
        if times > 1 or key not in confirmed:
            found.wrong.append(f"{key}: {times} requests stored, confirmed: no")
    found.accepted = sum(1 for row in rows if row[2] == "accepted")
    found.not_accepted += [f"#{r[0]}: {r[2]}" for r in rows if r[2] != "accepted"]
    for (request_id,) in conn.execute(
        "SELECT request_id FROM offer WHERE status = 'accepted' "
        "GROUP BY request_id HAVING count(*) > 1"
    ):
        found.double_assigned.append(f"#{request_id}: two accepted offers")
    for (request_id,) in conn.execute(
        "SELECT r.id FROM request r LEFT JOIN offer o ON o.request_id = r.id "
        "AND o.status = 'accepted' WHERE r.status = 'accepted' AND r.lotse_id IS NOT o.lotse_id"
    ):
        found.double_assigned.append(f"#{request_id}: the case's Lotse is not the one accepted")

    # The person heard of their Lotse, and only the winner got the case's details: once, and
    # again only after a kill that came after the news went out and before it was recorded
    # as sent (the press is then handled again and tells it again, so that no copy cut off
    # is lost).
    news = dict(
        ((r, side), status)
        for r, side, status in conn.execute(
            "SELECT request_id, side, status FROM case_notice WHERE what = 'accepted'"
        )
    )
    details: dict[str, list[tuple[str, float]]] = {}
    for lotse in lotsen:
        for m in chats[key_of(lotse)]:
            if m.text.startswith("✅"):
                details.setdefault(m.text, []).append((key_of(lotse), m.at))
    for request_id, person, status, lotse_id, name in rows:
        if status != "accepted" or lotse_id is None:
            continue
        heard = [m.at for m in chats[person] if m.text.startswith("🎉")]
        got = [copy for text, copies in details.items() if name in text for copy in copies]
        if any(chat != lotse_id for chat, _ in got):
            found.double_assigned.append(f"#{request_id}: another Lotse got the details")
        for side, copies in (("person", heard), ("lotse", [at for _, at in got])):
            if not copies:
                found.wrong.append(f"#{request_id}: the {side} never heard of the acceptance")
            again = _told_again(copies, kills)
            if again is None:
                found.duplicate_copies.append(f"#{request_id}: {side} told {len(copies)} times")
            else:
                found.counts["acceptance news repeated"] += again
            if news.get((request_id, side)) != "sent":
                found.wrong.append(f"#{request_id}: the news to the {side} is not settled")


def _told_again(copies: list[float], kills: Sequence[float]) -> int | None:
    """How many of the copies (when each was sent) came again after a kill; None if one
    came again with no kill since the one before it."""
    copies = sorted(copies)
    for before, after in itertools.pairwise(copies):
        if not any(before < kill < after for kill in kills):
            return None
    return max(0, len(copies) - 1)


def _check_reminders(
    conn: sqlite3.Connection,
    found: Findings,
    chats: dict[str, list[Seen]],
    due_by: datetime | None,
) -> None:
    # Each side of each case got each due reminder exactly once, or it is still pending; a
    # copy cut off mid-send is unconfirmed and never sent again.
    timers = conn.execute(
        "SELECT subject, kind, due_at, done_at IS NOT NULL FROM timer "
        "WHERE kind GLOB 'request:remind:*'"
    ).fetchall()
    notices = {
        (r, f"request:{what}", side): status
        for r, what, side, status in conn.execute(
            "SELECT request_id, what, side, status FROM case_notice"
        )
    }
    cases = conn.execute(
        f"SELECT r.id, {contact_key('p')}, {contact_key('lp')}, r.first_name FROM request r "
        "JOIN person p ON p.id = r.person_id JOIN person lp ON lp.id = r.lotse_id "
        "WHERE r.status = 'accepted'"
    ).fetchall()
    by_case: dict[int, list[tuple[str, str, bool]]] = {}
    for subject, kind, due_at, done in timers:
        by_case.setdefault(subject, []).append((kind, due_at, bool(done)))
    cutoff = to_db(due_by) if due_by is not None else None
    for request_id, person, lotse, name in cases:
        slots = by_case.get(request_id, [])
        for side, chat, about in (("person", person, None), ("lotse", lotse, name)):
            got = sum(
                1
                for m in chats[chat]
                if m.text.startswith("⏰")
                and any(d.startswith("att:") for d in data_of(m))
                and (about is None or about in m.text)
            )
            statuses = [notices.get((request_id, kind, side)) for kind, _, _ in slots]
            sure = statuses.count("sent")
            maybe = statuses.count("sending")  # cut off by a kill: perhaps arrived
            if got < sure:
                found.reminders_missed.append(f"#{request_id} {side}: {got} of {sure} arrived")
            if got > sure + maybe:
                found.duplicate_copies.append(f"#{request_id} {side}: {got} reminders, {sure}")
            for kind, _, done in slots:
                if done and notices.get((request_id, kind, side)) not in ("sent", "sending"):
                    found.reminders_missed.append(f"#{request_id} {side}: {kind} done, not sent")
            found.counts["reminders unconfirmed"] += maybe
        for kind, due_at, done in slots:
            if not done and cutoff is not None and due_at <= cutoff:
                found.reminders_missed.append(f"#{request_id}: {kind} due, never done")
        found.counts["reminders done"] += sum(done for _, _, done in slots)
        found.counts["reminders pending"] += sum(not done for _, _, done in slots)
    found.counts["reminders sent"] = sum(
        1 for (_, what, _), status in notices.items() if "remind" in what and status == "sent"
    )


def _check_mailings(
    conn: sqlite3.Connection, found: Findings, chats: dict[str, list[Seen]]
) -> None:
    # Nobody got a copy twice; everyone recorded as sent got exactly one, nobody else any.
    broadcasts = {i: text for i, text in conn.execute("SELECT id, text FROM broadcast") if text}
    mailings = {
        i: (kind, subject, variant.split(":")[0])
        for i, kind, subject, variant in conn.execute(
            "SELECT id, kind, subject, variant FROM mailing"
        )
    }
    expected: dict[tuple[tuple[str, int, str], str], list[int]] = {}  # [sent, perhaps]
    for mailing_id, person, status in conn.execute(
        f"SELECT d.mailing_id, {contact_key('p')}, d.status FROM delivery d "
        "JOIN person p ON p.id = d.person_id"
    ):
        key = mailings[mailing_id]
        label = "broadcast" if key[0] == "broadcast" else f"{key[0]}:{key[2]}"
        found.counts[f"{label}:{status}"] += 1
        slot = expected.setdefault((key, person), [0, 0])
        if status == "sent":
            slot[0] += 1
        elif status in ("unconfirmed", "sending"):
            slot[1] += 1
    subjects: dict[str, set[int]] = {}
    for kind, subject, _ in mailings.values():
        subjects.setdefault(kind, set()).add(subject)
    got: Counter[tuple[tuple[str, int, str], str]] = Counter()
    for person, messages in chats.items():
        for message in messages:
            copy = mailing_of(message, broadcasts)
            if copy is None:
                continue
            kind, subject, what = copy
            if subject is None:  # the only one of its kind, or unknown (-1)
                only = subjects.get(kind, set())
                subject = next(iter(only)) if len(only) == 1 else -1
            got[(kind, subject, what), person] += 1
    for pair in set(expected) | set(got):
        (kind, subject, what), person = pair
        sent, perhaps = expected.get(pair, [0, 0])
        where = f"{kind} {subject} {what} to {person}"
        if got[pair] > max(1, sent + perhaps):
            found.duplicate_copies.append(f"{where}: {got[pair]} copies")
        elif got[pair] > sent + perhaps:
            found.wrong.append(f"{where}: arrived, recorded as not sent")
        elif got[pair] < sent:
            found.wrong.append(f"{where}: recorded as sent, {got[pair]} of {sent} arrived")
    found.counts["event reminders pending"] = conn.execute(
        "SELECT count(*) FROM timer WHERE kind = 'event:remind' AND done_at IS NULL"
    ).fetchone()[0]


def relays(
    refugees: Iterable[Person], lotsen: Iterable[Person]
) -> tuple[int, list[str], list[str]]:
    """Questions and answers passed through the bot: (how many, lost ones, repeated ones)."""
    lost: list[str] = []
    repeated: list[str] = []
    to_lotsen = [m.text for u in lotsen for m in u.bot_messages() if m.text.startswith("💬")]
    count = 0
    for user in refugees:
        name = name_of(user)
        own = [m.text for m in user.bot_messages() if m.text.startswith("💬")]
        for where, texts, sample in (
            ("question", to_lotsen, QUESTION.format(name=name)),
            ("answer", own, ANSWER.format(name=name)),
        ):
            count += 1
            times = sum(1 for text in texts if sample in text)
            if times == 0:
                lost.append(f"{where} of {name}")
            elif times > 1:
                repeated.append(f"{where} of {name}: {times} times")
    return count, lost, repeated
