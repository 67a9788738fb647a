"""``make soak``: the chaos harness (``tests/chaos.py``) in a long run, then a busy Monday.

**Under fire.** The real ``lotsenbot run``, with both channels (the fake Bot API and the
local signal-cli daemon), is SIGKILLed at random moments, at least 200 times, some while it
is still starting, and started again, while every flow goes on at once: refugees in eight
languages arrive one after another and ask for a Lotse, every fifth on Signal (typing the
number of each choice in their own digits, half of them quoting the screen they answer);
three Lotsen per language on Telegram, and for four languages a fourth on Signal, race to
accept each offer; most people then write to their Lotse through the bot, across the
messengers too, and get an answer; request reminders fall due every two minutes; two
broadcasts go to a few hundred people on both messengers (the second composed under
fire); Lotsen on both answer two Stammtisch invitations (whose reminders fall due later);
people on both join the training waiting list, a coordinator announces a training through
the dialog and they answer it (one gives up her place, a reserve moves up). An event
signal-cli wrote to the stream of a bot killed before storing it is gone: counted and
measured (``tests.chaos.Window``), and the person types it again.

**A busy Monday morning.** No kills: 2,000 people are active within a few minutes (the
issue's ten minutes, scaled to fit the soak's 20; ``monday_people_per_minute`` says how
fast), most of them known to the bot, some new, each doing what people do (asking for a
Lotse, the Stammtisch dates, ``/status``, ``/help``, a typed question) with a second or
two between taps, while a broadcast to everyone (over 2,000 people) goes out at the
production pace and reminders fall due; seeded Lotsen accept the new requests.

Then the chaos test's checks over the whole run and both channels (``tests.chaos.check``),
the waiting list, the relayed messages and that whatever was lost in the window was typed
again; ``bench/soak.json`` gets the figures and they are printed as one line. Everything
runs on loopback (the fake Bot API and the daemon in this process, the bot as a child
process); the run stops by itself, within ``--budget-minutes`` (19.5) at the latest.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import platform
import random
import re
import shutil
import sqlite3
import sys
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.harness import (
    BenchAPI,
    Replies,
    Step,
    asking,
    closed_loop_user,
    has,
    onboarding,
    percentile,
)
from bench.harness import seed_people as seed_lotsen
from bot.clock import to_db
from bot.i18n import language_name
from channels.signal.fakedaemon import FakeSignalDaemon, SignalMessage
from channels.telegram.fakeapi import BotMessage, FakeUser
from handlers import views, waitlist_views
from tests.chaos import (
    Findings,
    Killer,
    LotseDuty,
    Person,
    Plan,
    SignalLotseDuty,
    SignalPhone,
    SignalSide,
    add_stammtisch,
    check,
    contact_key,
    data_of,
    handled,
    key_of,
    mailing_of,
    make_plan,
    refugee,
    relays,
    signal_become_lotse,
    signal_onboard,
    signal_refugee,
)
from tests.conftest import COORDINATOR_ID, assert_stored_load_is_counted, plain
from tests.process import BotProcess, city_file
from tests.scenario import (
    BERLIN,
    become_lotse,
    invite_codes,
    join_waitlist,
    onboard,
    seed_people,
    send_now,
)
from tests.scenario import t as texts_for
from tests.test_broadcasts import compose

RESULT = Path(__file__).resolve().parent / "soak.json"
LANGUAGES = ("ar", "uk", "fa", "de", "ru", "tr", "en", "ku")
LOTSEN_PER_LANGUAGE = 3  # each new request is offered to three, who race for it
MAX_OPEN = 8
AUDIENCE = range(300_000, 300_300)  # people who only get the broadcasts
LOTSE_IDS, REFUGEE_IDS, WAITER_IDS = 8100, 8200, 8500
WAITERS = 10
#: On Signal: a fourth Lotse of these languages in the races, every fifth refugee (so in
#: every language in turn; half of them quote the screen they answer, half type the number
#: alone), every fifth person on the waiting list, and part of the broadcasts' audience.
SIGNAL_LANGUAGES = ("ar", "fa", "uk", "ru")
SIGNAL_EVERY = 5
SIGNAL_AUDIENCE = 60
TRAINING_CAPACITY = 4
NEWS = (
    "Soak-Rundbrief eins: Sprachcafe am Freitag im Treffpunkt Altstadt",
    "Soak-Rundbrief zwei: Stammtisch-Themen fuer den Herbst",
    "Montags-Rundbrief: das Buergerbuero ist heute erst ab zehn Uhr geoeffnet",
)
#: How many times request reminders fall due (``reminder_minutes`` apart, the first a minute
#: or so after the start).
REMINDERS = 9
#: A person waits this long for any one answer: a step may span many kills and restarts on
#: a busy machine (as in the chaos test).
PATIENCE = 90.0
MONDAY_LOTSEN = range(60_000, 60_080)  # seeded, ten per language, up to 20 cases each
MONDAY_RETURNING = 400_000  # ids of people the bot knows already
MONDAY_NEW = 410_000  # ids of people who write for the first time
MONDAY_STEP_TIMEOUT = 30.0


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


@dataclass
class Settings:
    kills: int = 200
    refugees: int = 160
    monday_people: int = 2000
    monday_minutes: float = 3.0
    #: The phase under fire ends by then (minutes from the start), whether or not it has
    #: reached ``kills``; the whole soak ends by ``budget_minutes``.
    fire_minutes: float = 14.0
    budget_minutes: float = 19.5
    #: Request reminders fall due this many minutes apart.
    reminder_minutes: int = 2
    seed: int = 20261201
    output: Path = RESULT


@dataclass
class Monday:
    people: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    unanswered: int = 0
    requesters: list[FakeUser] = field(default_factory=list)
    broadcast_seconds: float = 0.0
    began: datetime | None = None
    ended: datetime | None = None


REPORT = plain(texts_for("de").gettext("✅ <b>Broadcast finished</b> ({audience})", audience=""))


def reports(coordinator: FakeUser) -> list[BotMessage]:
    """The coordinator's final broadcast reports."""
    return [m for m in coordinator.bot_messages() if m.text.startswith(REPORT.split("(")[0])]


class Soak:
    def __init__(
        self, settings: Settings, api: BenchAPI, daemon: FakeSignalDaemon, folder: Path
    ) -> None:
        self.settings = settings
        self.api = api
        self.daemon = daemon
        self.folder = folder
        self.chance = random.Random(settings.seed)
        self.began = time.monotonic()
        every = timedelta(minutes=settings.reminder_minutes)
        self.plan: Plan = make_plan(datetime.now(UTC), REMINDERS, every)
        self.process = BotProcess(
            api, folder / "lotsenbot.sqlite3", folder / "bot.log", self.city_file(15), daemon
        )
        # Under load a start takes seconds; a kill while starting does not wait for one.
        self.killer = Killer(self.process, self.chance, up=(0.3, 1.5), while_starting=0.5, starts=2)
        self.side = SignalSide(daemon, self.process.db_path, self.killer)
        self.presses: Counter[str] = Counter()
        self.signal_presses: Counter[str] = Counter()
        self.coordinator = api.user(COORDINATOR_ID, "Koordination", language_code="de")
        self.lotsen: list[FakeUser] = []
        self.signal_lotsen: list[SignalPhone] = []
        self.signal_audience = [
            SignalPhone(self.side, f"+4917600{i:05d}", f"S{i}", "de")
            for i in range(SIGNAL_AUDIENCE)
        ]
        self.refugees: list[Person] = []
        self.relaying: list[Person] = []
        self.joined: list[Person] = []
        self.signal_waiters: list[SignalPhone] = []
        #: Each training answer given, by the person's ``channel:address``.
        self.answers: dict[str, list[str]] = {}
        self.failures: list[str] = []
        self.notes: list[str] = []
        self.tasks: list[asyncio.Task[Any]] = []  # the people's flows
        self.duties: list[asyncio.Task[None]] = []  # the Lotsen on duty
        self.due_by: datetime | None = None
        self.fire_seconds = 0.0
        self.monday = Monday()
        self.waitlist_ready = asyncio.Event()
        self.training_announced = asyncio.Event()
        self.first_event: int | None = None

    def city_file(self, per_second: int) -> Path:
        return city_file(
            self.folder,
            telegram_ids=f"[{COORDINATOR_ID}]",
            reminders_minutes_before=self.plan.minutes_before,
            remind_hours_before="1",
            messages_per_second=str(per_second),
        )

    def spawn(self, what: str, work: Awaitable[Any]) -> asyncio.Task[Any]:
        """Run a flow; if it fails, note who and how (the error's type) and go on."""

        async def guarded() -> None:
            try:
                await work
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.failures.append(f"{what}: {type(exc).__name__}")
                log(f"flow failed: {what}: {type(exc).__name__}: {str(exc)[:300]}")

        task = asyncio.create_task(guarded())
        self.tasks.append(task)
        return task

    def rows(self, sql: str, *params: object) -> list[Any]:
        with sqlite3.connect(f"file:{self.process.db_path}?mode=ro", uri=True) as conn:
            return conn.execute(sql, params).fetchall()

    async def eventually(self, what: str, condition: Callable[[], bool], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                self.notes.append(f"not reached in {timeout:.0f} s: {what}")
                log(f"not reached in {timeout:.0f} s: {what}")
                return
            await asyncio.sleep(0.25)

    # ------------------------------------------------------------------ the run

    async def run(self) -> None:
        await self.set_up()
        await self.under_fire()
        await self.calm()
        await self.busy_monday()
        await self.wind_down()

    async def set_up(self) -> None:
        """Without kills: an audience, Lotsen who take up to 8 cases, the first broadcast
        ready, a Stammtisch date whose reminder falls due under fire."""
        api = self.api
        api.patience = PATIENCE
        self.daemon.patience = PATIENCE
        for i in AUDIENCE:
            api.user(i, f"P{i}", language_code=None)
        await seed_people(self.process.db_path, AUDIENCE)
        uuids = [phone.user.uuid for phone in self.signal_audience]
        await seed_people(self.process.db_path, uuids, channel="signal")
        self.side.start()
        await self.process.start()
        count = len(LANGUAGES) * LOTSEN_PER_LANGUAGE
        codes = await invite_codes(api, count + len(SIGNAL_LANGUAGES))

        async def lotse(index: int, code: str) -> FakeUser:
            language = LANGUAGES[index % len(LANGUAGES)]
            user = await become_lotse(
                api, LOTSE_IDS + index, f"Lotse{index}", [language, "de"], code
            )
            await user.press(data="prof:show:max")
            await user.press(data=f"prof:max:{MAX_OPEN}")
            await user.wait_for_message(lambda m: f"✅ {MAX_OPEN}" in m.button_labels())
            return user

        async def signal_lotse(index: int, code: str) -> SignalPhone:
            language = SIGNAL_LANGUAGES[index]
            phone = SignalPhone(self.side, f"+4917200{index:05d}", f"SignalLotse{index}", language)
            await signal_become_lotse(phone, list(dict.fromkeys([language, "de"])), code)
            if language != "de":
                await phone.pick("lotse:profile")  # back from the languages
            await phone.pick("prof:show:max")
            # Its choices are labelled with numbers: a typed number means the label.
            phone.step = f"prof:max:{MAX_OPEN}"
            screen, _ = await phone.expect(
                lambda: phone.screen_with(lambda a: a == f"prof:max:{MAX_OPEN}")
            )
            phone.answered.add(screen.timestamp)
            await phone.say(phone.digits(MAX_OPEN), quote=screen)
            await phone.expect(functools.partial(phone.shows, f"✅ {MAX_OPEN}"))
            return phone

        on_telegram, on_signal = await asyncio.gather(
            asyncio.gather(*(lotse(i, c) for i, c in enumerate(codes[:count]))),
            asyncio.gather(*(signal_lotse(i, c) for i, c in enumerate(codes[count:]))),
        )
        self.lotsen, self.signal_lotsen = list(on_telegram), list(on_signal)
        await onboard(self.coordinator, "de")
        await compose(self.coordinator, NEWS[0], "everyone")
        await add_stammtisch(self.process, self.plan.stammtisch_for(self.plan.due[2]))
        self.first_event = int(self.rows("SELECT max(id) FROM event")[0][0])
        log(
            f"set up: {count} Lotsen on Telegram, {len(self.signal_lotsen)} on Signal, "
            f"{len(AUDIENCE)} + {SIGNAL_AUDIENCE} on Signal in the audience"
        )

    async def under_fire(self) -> None:
        settings, killer = self.settings, self.killer
        traffic = [
            self.spawn("arrivals", self.arrivals()),
            self.spawn("waiting list", self.waiting_list()),
            self.spawn("coordination", self.coordination()),
        ]

        def enough() -> bool:
            return (
                killer.kills >= settings.kills
                and all(task.done() for task in traffic)
                and datetime.now(UTC) > self.plan.due[3]
            )

        answers = ("yes", "maybe", "no")
        for index, lotse in enumerate(self.lotsen):

            def rsvp(event: int, index: int = index) -> str:
                return "yes" if event == self.first_event else answers[index % 3]

            duty = LotseDuty(self.api, lotse, self.presses, rsvp)
            self.duties.append(asyncio.create_task(duty.run()))
        for index, phone in enumerate(self.signal_lotsen, len(self.lotsen)):

            def signal_rsvp(event: int, index: int = index) -> str:
                return "yes" if event == self.first_event else answers[index % 3]

            signal_duty = SignalLotseDuty(phone, self.signal_presses, signal_rsvp)
            self.duties.append(asyncio.create_task(signal_duty.run()))
        began = time.monotonic()
        deadline = self.began + settings.fire_minutes * 60
        progress = asyncio.create_task(self.progress())
        await send_now(self.coordinator)
        try:
            await killer.run(enough, deadline)
        finally:
            progress.cancel()
            self.fire_seconds = time.monotonic() - began
        if killer.kills < settings.kills:
            self.notes.append(f"only {killer.kills} kills by the end of the phase under fire")
        log(
            f"under fire: {killer.kills} kills ({killer.while_starting} while starting) "
            f"in {self.fire_seconds:.0f} s"
        )

    async def progress(self) -> None:
        while True:
            await asyncio.sleep(30)
            log(
                f"{self.killer.kills} kills, {len(self.refugees)} refugees arrived "
                f"({sum(isinstance(p, SignalPhone) for p in self.refugees)} on Signal), "
                f"{len(self.joined)} on the waiting list, {len(self.failures)} flows failed"
            )

    async def arrivals(self) -> None:
        """Refugees arrive one after another until most kills are done."""
        flows = []
        index = 0
        while index < self.settings.refugees and self.killer.kills < 0.85 * self.settings.kills:
            language = LANGUAGES[index % len(LANGUAGES)]
            relay = index % 3 != 2  # two in three write to their Lotse
            person: Person
            if index % SIGNAL_EVERY == 1:
                person = SignalPhone(
                    self.side,
                    f"+4917011{index:05d}",
                    f"Signal{index:03d}",
                    language,
                    quoting=index // SIGNAL_EVERY % 2 == 0,
                )
                flow = signal_refugee(person, self.plan, relay=relay)
            else:
                person = self.api.user(
                    REFUGEE_IDS + index, f"Person{index:03d}", language_code=language
                )
                flow = refugee(person, self.plan, relay=relay)
            self.refugees.append(person)
            if relay:
                self.relaying.append(person)
            flows.append(self.spawn(f"refugee {index}", flow))
            index += 1
            await asyncio.sleep(self.chance.uniform(1.5, 5.0))
        await asyncio.gather(*flows)

    async def waiting_list(self) -> None:
        """People join the list, answer the training announced, one gives up her place."""
        people: list[Person] = [
            SignalPhone(self.side, f"+4917300{i:05d}", f"Warte{i}", LANGUAGES[i % len(LANGUAGES)])
            if i % SIGNAL_EVERY == 3
            else self.api.user(
                WAITER_IDS + i, f"Warte{i}", language_code=LANGUAGES[i % len(LANGUAGES)]
            )
            for i in range(WAITERS)
        ]

        async def join(index: int, user: Person) -> None:
            await asyncio.sleep(self.chance.uniform(0, 60))
            if isinstance(user, SignalPhone):
                await self.signal_join(index, user)
                self.joined.append(user)
                return
            language = user.data["language_code"]
            await onboard(user, language)
            await join_waitlist(
                user,
                language,
                typed_name=None if index % 2 else f"{user.data['first_name']} Muster",
                phone="0176 1234567" if index % 3 == 0 else None,
                district=index % 11,
            )
            self.joined.append(user)

        await asyncio.gather(
            *(self.spawn(f"joining {i}", join(i, u)) for i, u in enumerate(people))
        )
        self.waitlist_ready.set()
        await self.training_announced.wait()
        replies: dict[int, BotMessage] = {}

        async def answer(user: Person, choice: str) -> None:
            if isinstance(user, SignalPhone):
                await self.signal_answer_training(user, choice)
            else:
                replies[user.id] = await self.answer_training(user, choice)

        await asyncio.gather(
            *(
                self.spawn(f"training answer {i}", answer(user, "no" if i % 4 == 3 else "yes"))
                for i, user in enumerate(self.joined)
            )
        )
        placed = [
            u
            for u in self.joined
            if isinstance(u, FakeUser) and u.id in replies and replies[u.id].text.startswith("✅")
        ]
        if placed:  # she cannot come after all: the first reserve moves up
            await self.change_answer(placed[0], replies[placed[0].id], "no")

    async def signal_join(self, index: int, phone: SignalPhone) -> None:
        """The join dialog on Signal: the name Signal shows or a typed one, this chat or a
        phone number, German besides, the Stadtteil; until *you are number …*."""
        language = phone.language
        self.signal_waiters.append(phone)
        await signal_onboard(phone)
        await phone.pick(views.MENU_BECOME)
        await phone.pick("wl:join")
        if index // SIGNAL_EVERY % 2:
            await phone.pick("wld:name")  # the name Signal shows, offered as a choice
        else:
            await phone.expect(lambda: phone.screen_with(lambda a: a == "wld:discard"))
            await phone.say(f"{phone.name} Muster")
        if index // SIGNAL_EVERY % 2 == 0:
            await phone.expect(lambda: phone.screen_with(lambda a: a == "wld:tg"))
            await phone.say("0176 1234567")
        else:
            await phone.pick("wld:tg")
        if language != "de":
            await phone.pick("wld:lang:de")
            await phone.expect(functools.partial(phone.shows, f"✓ {language_name('de')}"))
        await phone.pick("wld:lang_done")
        await phone.pick(f"wld:district:{index % 11}")
        tr = texts_for(language)
        told = plain(waitlist_views.joined(tr, 0)).split("0")[0][:12]
        expired = views.button_expired(tr)
        seen = len(phone.bot_messages())
        await phone.pick("wld:save")
        phone.step = told
        answer = await phone.expect(
            lambda: next(
                (m for m in phone.bot_messages()[seen:] if told in m.text or expired in m.text),
                None,
            )
        )
        if told not in answer.text:
            # Saved, and killed before the answer: handled again, the dialog is gone. She
            # looks up her place on the list.
            seen = len(phone.bot_messages())
            await phone.pick(views.MENU_BECOME)
            on_list = plain(tr.gettext("<b>You are on the waiting list</b>"))
            await phone.wait_for_text(on_list, after=seen)

    async def signal_answer_training(self, phone: SignalPhone, answer: str) -> None:
        """Answer the training announced with the number of *I'll come* or *Not this time*
        (if the copy never came, on the list entry); wait until the answer is stored."""

        def offered() -> tuple[SignalMessage, int] | None:
            return phone.screen_with(lambda a: a.startswith("wl:t:") and a.endswith(f":{answer}"))

        phone.step = f"the training's {answer}"
        try:
            screen = await phone.expect(offered, timeout=3 * PATIENCE)
        except TimeoutError:  # a copy cut off by a kill is not repeated: look it up
            await phone.say("/menu")
            await phone.pick(views.MENU_BECOME)
            screen = await phone.expect(offered)
        self.answers.setdefault(phone.key, []).append(answer)
        await phone.choose(*screen)
        await phone.expect(lambda: self.seat_of(phone.key) == answer)

    def seat_of(self, key: str) -> str | None:
        """The training answer stored for the person ``channel:address``."""
        rows = self.rows(
            f"SELECT s.answer FROM training_seat s JOIN waitlist w ON w.id = s.entry_id "
            f"JOIN person p ON p.id = w.person_id WHERE {contact_key('p')} = ?",
            key,
        )
        return str(rows[0][0]) if rows else None

    async def answer_training(self, user: FakeUser, answer: str) -> BotMessage:
        """Press an answer on the announcement (or, if that never came, on the list entry);
        return the bot's reply, which carries the buttons to change the answer."""

        def notice() -> BotMessage | None:
            for message in reversed(user.bot_messages()):
                key = mailing_of(message, {})
                if key is not None and key[0] == "training" and key[1] is not None:
                    return message
            return None

        try:
            message = await self.api.wait_until(notice, timeout=3 * PATIENCE)
        except TimeoutError:  # a copy cut off by a kill is not repeated: look it up
            await user.press(data="menu:become")
            message = await user.wait_for_message(lambda m: self.training_buttons(m) is not None)
        return await self.change_answer(user, message, answer)

    async def change_answer(self, user: FakeUser, message: BotMessage, answer: str) -> BotMessage:
        """Press *I'll come* or *Not this time* on ``message``; wait for the bot's reply."""
        training = self.training_buttons(message)
        assert training is not None
        seen = len(user.bot_messages())
        self.answers.setdefault(key_of(user), []).append(answer)
        await user.press(data=f"{training}:{answer}", message=message)
        return await user.wait_for_message(
            lambda m: self.training_buttons(m) is not None and mailing_of(m, {}) is None,
            after=seen,
        )

    @staticmethod
    def training_buttons(message: BotMessage) -> str | None:
        """``wl:t:<training>``, if the message has answer buttons."""
        return next((d.rsplit(":", 1)[0] for d in data_of(message) if d.startswith("wl:t:")), None)

    async def coordination(self) -> None:
        """Under fire: a second broadcast, a second Stammtisch date, a training."""
        target = self.settings.kills
        await self.killer.reached(round(0.3 * target))
        await compose(self.coordinator, NEWS[1], "everyone")
        await send_now(self.coordinator)
        await self.killer.reached(round(0.4 * target))
        await add_stammtisch(self.process, self.plan.stammtisch_for(self.plan.due[4]))
        await self.waitlist_ready.wait()
        await self.killer.reached(round(0.45 * target))
        await self.announce_training()
        self.training_announced.set()

    async def announce_training(self) -> None:
        coordinator = self.coordinator
        today = datetime.now(BERLIN).date()
        day, by = today + timedelta(days=10), today + timedelta(days=7)

        async def step(data: str, then: str) -> None:
            seen = len(coordinator.bot_messages())
            await coordinator.press(data=data)
            await coordinator.wait_for_message(
                lambda m: any(d == then for d in data_of(m)), after=seen
            )

        seen = len(coordinator.bot_messages())
        await coordinator.send("/waitlist")
        await coordinator.wait_for_message(lambda m: "wlc:new" in data_of(m), after=seen)
        await step("wlc:new", f"wlc:day:{day.isoformat()}")
        await step(f"wlc:day:{day.isoformat()}", "wlc:time:1000")
        await step("wlc:time:1000", "wlc:place")
        await step("wlc:place", "wlc:cap:10")
        seen = len(coordinator.bot_messages())
        await coordinator.send(str(TRAINING_CAPACITY))
        await coordinator.wait_for_message(
            lambda m: f"wlc:by:{by.isoformat()}" in data_of(m), after=seen
        )
        await step(f"wlc:by:{by.isoformat()}", "wlc:save")
        await coordinator.press(data="wlc:save")

    async def calm(self) -> None:
        """No more kills: what was under way finishes."""
        if self.process.proc is None or self.process.proc.returncode is not None:
            await self.process.start()
        under_way = [task for task in self.tasks if not task.done()]
        if under_way:
            await asyncio.wait(under_way, timeout=180)
        sent = len(self.refugees)
        await self.eventually(
            "every request under fire accepted",
            lambda: self.count("SELECT count(*) FROM request WHERE status = 'accepted'") >= sent,
            120,
        )
        await self.eventually(
            "both broadcasts finished", lambda: len(reports(self.coordinator)) >= 2, 120
        )
        log("calm: what was under way has finished")

    def count(self, sql: str, *params: object) -> int:
        return int(self.rows(sql, *params)[0][0])

    async def busy_monday(self) -> None:
        settings, api, monday = self.settings, self.api, self.monday
        assert await self.process.terminate() == 0
        people = settings.monday_people
        returning = people * 4 // 5
        with self.side.quiet():
            for index, language in enumerate(LANGUAGES):
                ids = range(MONDAY_RETURNING + index, MONDAY_RETURNING + returning, len(LANGUAGES))
                await seed_people(self.process.db_path, ids, language=language)
            seed_lotsen(self.process.db_path, MONDAY_LOTSEN, languages=LANGUAGES, lotse=True)
        lotsen = {i: api.user(i, f"L{i}") for i in MONDAY_LOTSEN}
        users = []
        for index in range(people):
            known = index < returning
            user_id = MONDAY_RETURNING + index if known else MONDAY_NEW + index
            language = LANGUAGES[index % len(LANGUAGES)]
            users.append((api.user(user_id, f"M{index:04d}", language_code=language), known))
        self.process.config = self.city_file(25)  # the production pace
        await self.process.start()
        await compose(self.coordinator, NEWS[2], "everyone")

        # Seeded Lotsen accept the offers they get after a moment, as people would.
        loop = asyncio.get_running_loop()
        replies = Replies(api)
        matched = api.on_reply

        def on_reply(chat_id: int, data: list[str], at: float) -> None:
            assert matched is not None
            matched(chat_id, data, at)
            offer = next((d for d in data if d.startswith("offer:accept:")), None)
            if offer is not None and chat_id in lotsen:
                message = api.chats[chat_id][-1]  # the offer, just put into the chat
                loop.call_later(
                    self.chance.uniform(0.2, 1.5),
                    lambda: self.spawn("Monday Lotse", accept(lotsen[chat_id], offer, message)),
                )

        async def accept(lotse: FakeUser, offer: str, message: BotMessage) -> None:
            await lotse.press(data=offer, message=message)  # perhaps taken by now: a race

        api.on_reply = on_reply
        day = self.plan.appointment.date().isoformat()
        spacing = settings.monday_minutes * 60 / people
        monday.began = datetime.now(UTC)
        started = time.perf_counter()
        await send_now(self.coordinator)

        async def broadcast_done() -> None:
            await api.wait_until(lambda: len(reports(self.coordinator)) >= 3, timeout=900)
            monday.broadcast_seconds = time.perf_counter() - started

        finished = self.spawn("the Monday broadcast", broadcast_done())
        flows = [
            self.spawn(
                f"Monday {i}",
                self.monday_person(
                    replies, user, known, i, i * spacing + self.chance.uniform(0, spacing), day
                ),
            )
            for i, (user, known) in enumerate(users)
        ]
        await asyncio.gather(*flows)
        monday.people = people
        monday.seconds = time.perf_counter() - started
        monday.latencies = replies.latencies
        log(
            f"Monday: {people} people in {monday.seconds:.0f} s, {len(monday.latencies)} "
            f"replies, p99 {percentile(monday.latencies, 0.99) * 1000:.0f} ms"
        )
        await self.eventually("the Monday broadcast finished", finished.done, 240)
        names = [u.data["first_name"] for u in monday.requesters]
        await self.eventually(
            "every Monday request accepted",
            lambda: (
                self.count(
                    "SELECT count(*) FROM request "
                    "WHERE status = 'accepted' AND first_name GLOB 'M[0-9]*'"
                )
                >= len(names)
            ),
            120,
        )
        monday.ended = datetime.now(UTC)

    async def monday_person(
        self, replies: Replies, user: FakeUser, known: bool, index: int, delay: float, day: str
    ) -> None:
        await asyncio.sleep(delay)
        language = user.data["language_code"]
        steps = [Step(text="/menu", expect=has("menu:request"))] if known else onboarding(language)
        kind = ("ask",) * 5 + ("stammtisch",) * 4 + ("status",) * 4 + ("help",) * 3 + ("text",) * 4
        action = kind[index % len(kind)]
        if action == "ask":
            steps += asking(index % 11, day=day, name=user.data["first_name"])
        elif action == "stammtisch":
            steps += [
                Step(data="menu:stammtisch", expect=has("menu:home")),
                Step(data="menu:home", expect=has("menu:stammtisch")),
            ]
        elif action == "status":
            steps += [Step(text="/status", expect=has("menu:request"))]
        elif action == "help":
            steps += [
                Step(text="/help", expect=has("menu:home")),
                Step(data="menu:home", expect=has("menu:stammtisch")),
            ]
        else:
            steps += [
                Step(text="Hallo, wann ist der nächste Stammtisch?", expect=has("menu:stammtisch"))
            ]

        def think() -> float:
            return self.chance.uniform(0.5, 2.0)

        try:
            if action == "ask":  # sent means pressed *send*: from then on it must not be lost
                await closed_loop_user(
                    self.api, replies, user.id, steps[:-1], MONDAY_STEP_TIMEOUT, think
                )
                await asyncio.sleep(think())
                self.monday.requesters.append(user)
                steps = steps[-1:]
            await closed_loop_user(self.api, replies, user.id, steps, MONDAY_STEP_TIMEOUT, think)
        except TimeoutError:
            self.monday.unanswered += 1

    async def wind_down(self) -> None:
        """Every reminder due by now is done; then SIGTERM, and the bot must exit cleanly."""
        now = to_db(datetime.now(UTC))
        await self.eventually(
            "every reminder due done",
            lambda: (
                self.count(
                    "SELECT count(*) FROM timer WHERE done_at IS NULL AND due_at <= ? "
                    "AND kind GLOB 'request:remind:*'",
                    now,
                )
                == 0
            ),
            90,
        )
        self.due_by = datetime.fromisoformat(now)
        await asyncio.sleep(1.0)  # the news of the last acceptances
        for duty in self.duties:
            duty.cancel()
        await asyncio.gather(*self.duties, return_exceptions=True)
        if not await handled(self.process.db_path, self.api.last_update_id, timeout=60):
            self.notes.append("not every update handled within a minute of the end")
        await self.eventually(
            "every Signal event handled",
            lambda: self.count("SELECT count(*) FROM stamped_inbox WHERE done_at IS NULL") == 0,
            60,
        )
        code = await self.process.terminate()
        if code != 0:
            self.notes.append(f"exit status {code} after SIGTERM")

    # ------------------------------------------------------------------ figures

    async def figures(self, seconds: float) -> dict[str, Any]:
        api = self.api
        phones = [
            *self.signal_audience,
            *self.signal_lotsen,
            *(p for p in self.refugees if isinstance(p, SignalPhone)),
            *self.signal_waiters,
        ]
        everyone: list[Person] = [*(FakeUser(api, i) for i in api.users), *phones]
        lotsen: list[Person] = [
            *self.lotsen,
            *self.signal_lotsen,
            *(FakeUser(api, i) for i in MONDAY_LOTSEN if i in api.users),
        ]
        requesters = [*self.refugees, *self.monday.requesters]
        found = check(
            self.process.db_path,
            requesters,
            lotsen,
            everyone,
            updates=api.last_update_id,
            due_by=self.due_by,
            signal=self.side,
            kills=self.killer.killed_wall,
        )
        relayed, relays_lost, repeated = relays(self.relaying, [*self.lotsen, *self.signal_lotsen])
        waitlist = self.waitlist_problems()
        problems = [*found.problems(), *relays_lost, *waitlist, *self.failures]
        # Whatever was lost in the intake's window, the person typed again; nothing else.
        retyped = sum(phone.retyped for phone in phones)
        if retyped != len(found.lost_in_window):
            problems.append(
                f"Signal: {len(found.lost_in_window)} events lost in the window, "
                f"{retyped} typed again"
            )
        try:
            await assert_stored_load_is_counted(self.process.db_path)
        except AssertionError as exc:
            problems.append(f"stored load drifted: {exc}")
        given_up = sum(int(n) for n in re.findall(r"gave up (\d+) update", self.process.log()))
        events_given_up = sum(
            int(n) for n in re.findall(r"gave up (\d+) Signal event", self.process.log())
        )
        monday = self.monday
        monday_lost = monday.unanswered + self.monday_lost()
        counts = found.counts
        result: dict[str, Any] = {
            "kills": self.killer.kills,
            "kills_during_start": self.killer.while_starting,
            "seconds": round(seconds),
            "requests": found.requests,
            "accepted": found.accepted,
            "lost": len(found.lost),
            "double_assigned": len(found.double_assigned),
            "duplicate_copies": len(found.duplicate_copies),
            "reminders_missed": len(found.reminders_missed),
            "integrity": found.integrity,
            "monday_people": monday.people,
            "monday_reply_p99_ms": round(percentile(monday.latencies, 0.99) * 1000, 1)
            if monday.latencies
            else None,
            "monday_lost": monday_lost,
            **self.signal_figures(found, retyped),
            # More about the run.
            "seconds_under_fire": round(self.fire_seconds),
            "races": sum(1 for n in (self.presses + self.signal_presses).values() if n >= 2),
            "relayed": relayed,
            "relays_lost": len(relays_lost),
            "relays_repeated": len(repeated),
            "request_reminders_sent": counts["reminders sent"],
            "reminders_unconfirmed": counts["reminders unconfirmed"],
            "broadcast_copies_sent": counts["broadcast:sent"],
            "broadcast_copies_unconfirmed": counts["broadcast:unconfirmed"],
            "stammtisch_invitations_sent": counts["event:announce:sent"],
            "stammtisch_reminders_sent": counts["event:remind:sent"],
            "waiting_list_joined": len(self.joined),
            "training_notices_sent": counts["training:announce:sent"]
            + counts["training:moved_up:sent"],
            "acceptance_news_repeated": counts["acceptance news repeated"],
            "updates_given_up": given_up,
            "signal_events_given_up": events_given_up,
            "flows_failed": len(self.failures),
            "other_problems": len(found.wrong) + len(waitlist) + len(self.failures),
            "monday_minutes": self.settings.monday_minutes,
            "monday_people_per_minute": round(monday.people / monday.seconds * 60)
            if monday.seconds
            else None,
            "monday_seconds": round(monday.seconds),
            "monday_replies": len(monday.latencies),
            "monday_unanswered": monday.unanswered,
            "monday_reply_p50_ms": round(percentile(monday.latencies, 0.5) * 1000, 1)
            if monday.latencies
            else None,
            "monday_requests": len(monday.requesters),
            "monday_broadcast_recipients": self.monday_recipients(),
            "monday_broadcast_seconds": round(monday.broadcast_seconds),
            "monday_reminders_sent": self.monday_reminders(),
            "notes": self.notes,
            "first_problems": problems[:10],
            "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "machine": machine(),
        }
        result["passed"] = bool(
            result["kills"] >= self.settings.kills
            and result["integrity"] == "ok"
            and not problems
            and not found.not_accepted
            and monday_lost == 0
            and given_up == 0
            and events_given_up == 0
            and not self.notes
        )
        return result

    def signal_figures(self, found: Findings, retyped: int) -> dict[str, Any]:
        """Signal's share of the run under fire, and the intake's window as measured."""
        person, lotse = (f"{contact_key(who)} GLOB 'signal:*'" for who in ("p", "lp"))
        requests = (
            "SELECT count(*) FROM request r JOIN person p ON p.id = r.person_id "
            "LEFT JOIN person lp ON lp.id = r.lotse_id WHERE r.status <> 'draft' AND "
        )
        windows = found.windows
        return {
            "signal_lotsen": len(self.signal_lotsen),
            "signal_refugees": sum(isinstance(p, SignalPhone) for p in self.refugees),
            "signal_requests": self.count(requests + person),
            "signal_accepted": self.count(requests + f"r.status = 'accepted' AND {person}"),
            "accepted_by_signal_lotsen": self.count(
                requests + f"r.status = 'accepted' AND {lotse}"
            ),
            "cases_across_messengers": self.count(
                requests + f"r.status = 'accepted' AND ({person}) <> ({lotse})"
            ),
            "races_across_messengers": sum(1 for o in self.signal_presses if self.presses[o]),
            "signal_events": len(windows) + len(found.lost_in_window),
            "signal_lost_in_window": len(found.lost_in_window),
            "signal_retyped": retyped,
            "signal_window_p50_ms": round(percentile(windows, 0.5), 1) if windows else None,
            "signal_window_p99_ms": round(percentile(windows, 0.99), 1) if windows else None,
            "signal_window_longest_ms": round(max(windows), 1) if windows else None,
            "signal_broadcast_copies_sent": self.count(
                "SELECT count(*) FROM delivery d JOIN person p ON p.id = d.person_id "
                f"JOIN mailing m ON m.id = d.mailing_id WHERE m.kind = 'broadcast' "
                f"AND d.status = 'sent' AND {person}"
            ),
            "signal_stammtisch_answers": self.count(
                f"SELECT count(*) FROM rsvp x JOIN person p ON p.id = x.person_id WHERE {person}"
            ),
            "signal_waiting_list_joined": sum(isinstance(p, SignalPhone) for p in self.joined),
        }

    def waitlist_problems(self) -> list[str]:
        problems = []
        listed = Counter(
            key
            for (key,) in self.rows(
                f"SELECT {contact_key('p')} FROM waitlist w JOIN person p ON p.id = w.person_id"
            )
        )
        told = {key_of(u) for u in self.joined}
        for key, times in listed.items():
            if times != 1 or key not in told:
                problems.append(f"waiting list: {key} {times} times, told: {key in told}")
        problems += [f"waiting list: {key} told, not listed" for key in told - set(listed)]
        seats = {
            key: (answer, seat)
            for key, answer, seat in self.rows(
                f"SELECT {contact_key('p')}, s.answer, s.seat FROM training_seat s "
                "JOIN waitlist w ON w.id = s.entry_id JOIN person p ON p.id = w.person_id"
            )
        }
        for key, pressed in self.answers.items():
            if seats.get(key, ("", ""))[0] != pressed[-1]:
                problems.append(f"training: {key} answered {pressed}, stored {seats.get(key)}")
        yes = sum(1 for pressed in self.answers.values() if pressed[-1] == "yes")
        places = sum(1 for _, seat in seats.values() if seat == "place")
        if self.answers and places != min(TRAINING_CAPACITY, yes):
            problems.append(f"training: {places} places taken, {yes} said yes")
        return problems

    def monday_lost(self) -> int:
        """Monday requests sent but not stored, Monday broadcast copies not delivered."""
        names = {u.data["first_name"] for u in self.monday.requesters}
        stored = {
            name for (name,) in self.rows("SELECT first_name FROM request WHERE status <> 'draft'")
        }
        undelivered = self.count(
            "SELECT count(*) FROM delivery d JOIN mailing m ON m.id = d.mailing_id "
            "JOIN broadcast b ON b.id = m.subject WHERE m.kind = 'broadcast' AND b.text = ? "
            "AND d.status NOT IN ('sent', 'blocked')",
            NEWS[2],
        )
        return len(names - stored) + undelivered

    def monday_recipients(self) -> int:
        return self.count(
            "SELECT count(*) FROM delivery d JOIN mailing m ON m.id = d.mailing_id "
            "JOIN broadcast b ON b.id = m.subject WHERE m.kind = 'broadcast' AND b.text = ?",
            NEWS[2],
        )

    def monday_reminders(self) -> int:
        monday = self.monday
        if monday.began is None or monday.ended is None:
            return 0
        return self.count(
            "SELECT count(*) FROM case_notice WHERE what GLOB 'remind:*' AND status = 'sent' "
            "AND created_at BETWEEN ? AND ?",
            to_db(monday.began),
            to_db(monday.ended),
        )


def machine() -> dict[str, Any]:
    model = "?"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "python": platform.python_version(),
        "load_average": round(os.getloadavg()[0], 2),
    }


async def soak(settings: Settings) -> dict[str, Any]:
    began = time.monotonic()
    api = BenchAPI()
    daemon = FakeSignalDaemon()
    await api.start()
    await daemon.start()
    folder = Path(tempfile.mkdtemp(prefix="lotsensoak-"))
    run = Soak(settings, api, daemon, folder)
    try:
        await asyncio.wait_for(run.run(), settings.budget_minutes * 60)
    except TimeoutError:
        if time.monotonic() - began < settings.budget_minutes * 60:  # a step waited in vain
            run.notes.append("stopped: TimeoutError")
            traceback.print_exc()
        else:
            run.notes.append(f"stopped at the time limit of {settings.budget_minutes:g} minutes")
    except Exception as exc:
        run.notes.append(f"stopped: {type(exc).__name__}")
        traceback.print_exc()
    finally:
        for task in [*run.tasks, *run.duties]:
            task.cancel()
        await asyncio.gather(*run.tasks, *run.duties, return_exceptions=True)
        proc = run.process.proc
        if proc is not None and proc.returncode is None:
            await run.process.kill()
        await run.side.stop()
    result = await run.figures(time.monotonic() - began)
    await api.stop()
    await daemon.stop()
    if result["passed"]:
        shutil.rmtree(folder, ignore_errors=True)
    else:
        log(f"kept for a look: {folder}")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=Settings.kills)
    parser.add_argument("--refugees", type=int, default=Settings.refugees)
    parser.add_argument("--monday-people", type=int, default=Settings.monday_people)
    parser.add_argument("--monday-minutes", type=float, default=Settings.monday_minutes)
    parser.add_argument("--fire-minutes", type=float, default=Settings.fire_minutes)
    parser.add_argument("--budget-minutes", type=float, default=Settings.budget_minutes)
    parser.add_argument("--reminder-minutes", type=int, default=Settings.reminder_minutes)
    parser.add_argument("--output", type=Path, default=RESULT)
    args = parser.parse_args(argv)
    settings = Settings(
        kills=args.kills,
        refugees=args.refugees,
        monday_people=args.monday_people,
        monday_minutes=args.monday_minutes,
        fire_minutes=args.fire_minutes,
        budget_minutes=args.budget_minutes,
        reminder_minutes=args.reminder_minutes,
        output=args.output,
    )
    result = asyncio.run(soak(settings))
    settings.output.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(result, ensure_ascii=False))
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
