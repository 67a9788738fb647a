"""Chaos: many people use the real `lotsenbot run` while it is SIGKILLed again and again.

Refugees ask for Lotsen, two Lotsen per language race to accept each offer, Lotsen answer a
Stammtisch invitation, a coordinator's broadcast goes to a few hundred people, request and
Stammtisch reminders fall due, and a Lotse presses forged buttons — all while the process is
killed at random moments (now and then while it is still starting) and started again.
Afterwards the fake Bot API's record of what was sent and the SQLite file (read with plain
``sqlite3``) must agree:

* every confirmed request exists once, in a legal state, and ends up accepted;
* no case has two Lotsen;
* every reminder that fell due reached each side exactly once, or is still pending (a copy
  cut off by a kill mid-send is recorded as unconfirmed and not sent again);
* a reply to a message of a closed case reaches nobody: a Lotse closes one person's case,
  takes another's, and replies to the first person's old message; the first person replies
  to the closed case too; both are refused and neither text shows up in anyone's chat;
* nobody recorded as sent received a broadcast copy twice, and nobody got one twice at all;
* the forged presses changed nothing and alarmed nobody (no apology, no error alert);
* ``PRAGMA integrity_check`` is ``ok``.

The bot runs as its own process on the real clock, so the reminders are set up to fall due
a little after the test starts: the city file puts them so many minutes before tomorrow's
09:00 appointment, and the Stammtisch date one hour after that moment.
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
import time as wall
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest

from bot.config import load_city
from bot.domain.requests import Status
from channels.telegram.fakeapi import BotMessage, FakeBotAPI, FakeUser
from handlers import asking_views, case_views, views
from tests.chaos import handled
from tests.conftest import COORDINATOR_ID, assert_stored_load_is_counted
from tests.process import LOTSENBOT, BotProcess, bot_env, city_file
from tests.scenario import (
    BERLIN,
    ask_for_lotse,
    become_lotse,
    has_data,
    invite_codes,
    onboard,
    seed_people,
    t,
    telegram_id_of,
)
from tests.test_broadcasts import compose, copies, final_report
from tests.test_case_messages import case, reply

LANGUAGES = ["ar", "uk", "fa", "de", "ru", "tr"]
LOTSEN_PER_LANGUAGE = 2  # so that two Lotsen race for every offer
REFUGEES = 18
AUDIENCE = range(300_000, 300_300)  # people who only get the broadcast
NEWS = "Chaos-Rundbrief: Sprachcafé am Freitag"
MIN_KILLS = 15
#: The first reminders fall due this long (or up to a minute longer) after the start.
FIRST_DUE_AFTER = timedelta(seconds=30)
#: Users wait this long for any one answer: a step may span several kills and restarts.
PATIENCE = 45.0
#: What a Lotse and a person reply to messages of a case that is closed by then.
DONE = Status.DONE
TO_CLOSED_CASE = ("Chaos: Aufenthaltstitel von Kawa", "Chaos: Kawa antwortet spät")


@dataclass(frozen=True)
class Plan:
    """When the appointment is and when its reminders and the Stammtisch reminder fall due."""

    appointment: datetime
    due: tuple[datetime, ...]  # request reminders, first to last
    event_at: datetime  # the Stammtisch date; its reminder is due at ``due[0]``


def make_plan(now: datetime) -> Plan:
    first = (now + FIRST_DUE_AFTER).replace(second=0, microsecond=0) + timedelta(minutes=1)
    day = (now.astimezone(BERLIN) + timedelta(days=1)).date()
    appointment = datetime.combine(day, time(9), BERLIN)
    return Plan(appointment, (first, first + timedelta(minutes=1)), first + timedelta(hours=1))


@pytest.fixture
def plan() -> Plan:
    return make_plan(datetime.now(UTC))


@pytest.fixture
async def process(api: FakeBotAPI, tmp_path: Path, plan: Plan) -> AsyncIterator[BotProcess]:
    minutes = [int((plan.appointment - due).total_seconds()) // 60 for due in plan.due]
    config = city_file(
        tmp_path,
        telegram_ids=f"[{COORDINATOR_ID}]",
        reminders_minutes_before=str(minutes),
        remind_hours_before="1",
        messages_per_second="15",  # a few hundred copies take long enough to be killed often
    )
    bot = BotProcess(api, tmp_path / "lotsenbot.sqlite3", tmp_path / "bot.log", config)
    yield bot
    if bot.proc is not None and bot.proc.returncode is None:
        await bot.kill()


def is_offer(message: BotMessage) -> str | None:
    return next(
        (
            b["callback_data"]
            for row in message.buttons
            for b in row
            if b.get("callback_data", "").startswith("offer:accept:")
        ),
        None,
    )


def is_invitation(message: BotMessage) -> str | None:
    return next(
        (
            b["callback_data"]
            for row in message.buttons
            for b in row
            if b.get("callback_data", "").startswith("ev:rsvp:")
            and b["callback_data"].endswith(":yes")
        ),
        None,
    )


def request_reminders(user: FakeUser, name: str | None = None) -> list[BotMessage]:
    """Appointment reminders (they carry attendance buttons), optionally about ``name``."""
    return [
        m
        for m in user.bot_messages()
        if m.text.startswith("⏰")
        and any(b.get("callback_data", "").startswith("att:") for row in m.buttons for b in row)
        and (name is None or name in m.text)
    ]


def event_reminders(user: FakeUser) -> list[BotMessage]:
    return [
        m
        for m in user.bot_messages()
        if m.text.startswith("⏰") and m not in request_reminders(user)
    ]


def announcements(user: FakeUser) -> list[BotMessage]:
    return [m for m in user.bot_messages() if m.kind == "document" and m.text.startswith("📣")]


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


async def test_everything_survives_repeated_sigkill(
    api: FakeBotAPI, process: BotProcess, plan: Plan
) -> None:
    began = wall.monotonic()
    chance = random.Random(20261124)
    api.patience = PATIENCE
    audience = [api.user(i, f"P{i}", language_code=None) for i in AUDIENCE]
    await seed_people(process.db_path, AUDIENCE)
    await process.start()

    # Set-up, without kills: Lotsen, a coordinator with a broadcast ready, a Stammtisch date.
    codes = await invite_codes(api, len(LANGUAGES) * LOTSEN_PER_LANGUAGE + 1)
    *lotsen, kurdo = list(
        await asyncio.gather(
            *(
                become_lotse(api, 8100 + i, f"Lotse{i}", [language, "de"], code)
                for i, (language, code) in enumerate(
                    zip(LANGUAGES * LOTSEN_PER_LANGUAGE, codes[:-1], strict=True)
                )
            ),
            become_lotse(api, 8190, "Kurdo", ["ku"], codes[-1]),
        )
    )
    coordinator = api.user(COORDINATOR_ID, "Koordination", language_code="de")
    await onboard(coordinator, "de")
    await compose(coordinator, NEWS, "everyone")
    await add_stammtisch(process, plan.event_at)  # announced by the bot at its next start
    refugees = [
        api.user(8200 + i, f"Person{i:02d}", language_code=LANGUAGES[i % len(LANGUAGES)])
        for i in range(REFUGEES)
    ]
    kawa = api.user(8290, "Kawa", language_code="ku")
    berfin = api.user(8291, "Berfin", language_code="ku")

    kills = 0
    while_starting = 0
    presses: Counter[str] = Counter()  # accept presses per offer, to count the races
    taken: set[int] = set()  # Kurdo's offers already pressed
    refused = 0  # replies to the closed case that were answered
    traffic_done = asyncio.Event()
    stop = asyncio.Event()

    async def killer() -> None:
        nonlocal kills, while_starting
        while not stop.is_set():
            await asyncio.sleep(chance.uniform(0.3, 1.5))  # up and polling for a while
            proc = process.proc
            assert proc is not None
            assert proc.returncode is None, f"the bot died by itself:\n{process.log()}"
            await process.kill()
            kills += 1
            await asyncio.sleep(chance.uniform(0.0, 0.3))
            if chance.random() < 0.25:  # killed again while starting up
                await process.spawn()
                await asyncio.sleep(chance.uniform(0.05, 1.2))
                await process.kill()
                kills += 1
                while_starting += 1
            await process.start()
            if traffic_done.is_set() and kills >= MIN_KILLS and datetime.now(UTC) > plan.due[0]:
                stop.set()

    async def refugee(user: FakeUser, delay: float) -> None:
        await asyncio.sleep(delay)  # people arrive over several seconds
        language = user.data["language_code"]
        await onboard(user, language)
        await ask_for_lotse(
            user,
            language,
            day=plan.appointment.date().isoformat(),
            time="0900",
            name=user.data["first_name"],
        )

    async def lotse_duty(lotse: FakeUser) -> None:
        """Accept every offer and say yes to every invitation, as soon as it shows."""
        pressed: set[int] = set()

        def next_task() -> tuple[BotMessage, str] | None:
            for message in lotse.bot_messages():
                if message.message_id in pressed:
                    continue
                data = is_offer(message) or is_invitation(message)
                if data:
                    return message, data
            return None

        while True:
            message, data = await api.wait_until(next_task, timeout=3600)
            pressed.add(message.message_id)
            presses[data] += data.startswith("offer:")
            await lotse.press(data=data, message=message)

    async def forger(lotse: FakeUser) -> None:
        """Press forged buttons now and then: hours no button offers, data with parts
        missing, numbers too large (each once crashed a handler or closed a case)."""
        while not traffic_done.is_set():  # slowly enough to stay within the rate limit
            await asyncio.sleep(chance.uniform(1.0, 2.5))
            case = chance.randint(1, REFUGEES)
            await lotse.press(data=chance.choice(forged).format(case=case))

    forged = [
        "case:hours:{case}:5",
        "case:hours:{case}:1000000",
        "att:{case}",
        "fb:{case}",
        "case:done:{case}:1",
        "offer:accept:" + "9" * 20,
        "prof:pause:999999999",
        "prof:quiet:5-99",
    ]

    async def take(user: FakeUser) -> tuple[int, BotMessage]:
        """``user`` asks in Kurdish and Kurdo accepts; the case number and the person's news."""
        await onboard(user, "ku")
        await ask_for_lotse(user, "ku", name=user.data["first_name"])
        offer = await kurdo.wait_for_message(
            lambda m: (is_offer(m) or "").startswith("offer:accept:") and m.message_id not in taken
        )
        taken.add(offer.message_id)
        data = is_offer(offer)
        assert data is not None
        await kurdo.press(data=data, message=offer)
        return int(data.rsplit(":", 1)[1]), await user.wait_for_text("Kurdo")

    async def replies_to_a_closed_case() -> None:
        """Kurdo (nobody else speaks Kurdish) closes Kawa's case, takes Berfin's, and replies
        to Kawa's old message; Kawa replies to the closed case as well."""
        nonlocal refused
        number, news = await take(kawa)
        await kawa.send("Chaos: Silav")
        old = await kurdo.wait_for_text("Chaos: Silav")
        await kurdo.press(data=f"case:done:{number}")
        hours = await kurdo.wait_for_message(lambda m: has_data(m, f"case:hours:{number}:2"))
        await kurdo.press(data=f"case:hours:{number}:2", message=hours)
        await kawa.wait_for_message(lambda m: "👍" in m.button_labels())
        await take(berfin)
        closed = case_views.reply_refused(t("ku"), load_city(process.config), case(number, DONE), 0)
        # A kill between sending a message and linking it to its case leaves the message
        # unknown: a reply to it is then refused as belonging to no case (or, from someone
        # without a running case, answered with the menu), and still goes nowhere.
        answers = {closed, case_views.reply_unknown(t("ku")), views.not_understood(t("ku"))}
        for user, message, text in zip((kurdo, kawa), (old, news), TO_CLOSED_CASE, strict=True):
            seen = len(user.bot_messages())
            await reply(user, message, text)
            await user.wait_for_message(lambda m: m.text in answers, after=seen)
            refused += 1

    # Send now to a few hundred asks once more; the yes goes out under fire.
    await coordinator.press(data="bc:send")
    question = await coordinator.wait_for_message(lambda m: has_data(m, "bc:send_yes"))
    chaos = asyncio.create_task(killer())
    duties = [asyncio.create_task(lotse_duty(lotse)) for lotse in lotsen]
    duties.append(asyncio.create_task(forger(lotsen[0])))
    await coordinator.press(data="bc:send_yes", message=question)
    try:
        await asyncio.wait_for(
            asyncio.gather(
                *(refugee(user, chance.uniform(0, 8)) for user in refugees),
                replies_to_a_closed_case(),
            ),
            240,
        )
        traffic_done.set()
        await asyncio.wait_for(stop.wait(), 240)
    finally:
        stop.set()
        await chaos
    if process.proc is None or process.proc.returncode is not None:
        await process.start()
    chaos_took = wall.monotonic() - began

    # Calm again: every request gets its Lotse, the broadcast finishes, due reminders go out.
    def accepted() -> int:
        with sqlite3.connect(f"file:{process.db_path}?mode=ro", uri=True) as conn:
            return int(
                conn.execute("SELECT count(*) FROM request WHERE status = 'accepted'").fetchone()[0]
            )

    await api.wait_until(lambda: final_report(coordinator), timeout=60)
    await api.wait_until(lambda: accepted() == REFUGEES + 1, timeout=60)  # and Berfin's
    # The news of an acceptance is sent while its press is handled.
    assert await handled(process.db_path, api.last_update_id, timeout=60)
    for duty in duties:
        duty.cancel()
    await asyncio.gather(*duties, return_exceptions=True)
    assert await process.terminate() == 0

    everyone = [*audience, *refugees, *lotsen, coordinator, kurdo, kawa, berfin]
    report = check(process.db_path, refugees, lotsen, everyone)
    # The replies to the closed case reached nobody: no message of the bot carries them.
    assert refused == len(TO_CLOSED_CASE)
    for user in everyone:
        assert not any(text in m.text for m in user.bot_messages() for text in TO_CLOSED_CASE)
    # The forged presses changed nothing (every case is still accepted) and alarmed nobody.
    alert = views.error_alert(t("de"), "\0", "\0").split("\0")[0]
    assert not [m for m in coordinator.bot_messages() if m.text.startswith(alert)]
    assert not [m for m in lotsen[0].bot_messages() if m.text == views.apology(t("ar"))]
    await assert_stored_load_is_counted(process.db_path)
    took = wall.monotonic() - began
    races = sum(1 for n in presses.values() if n >= 2)
    summary = (
        f"chaos: the bot survived {kills} SIGKILLs ({while_starting} while starting) in "
        f"{chaos_took:.0f} s; {REFUGEES} requests, {races} accepted by a race of two Lotsen; "
        f"{report}; {refused} replies to a closed case refused; whole test {took:.0f} s"
    )
    print(summary)
    assert kills >= MIN_KILLS, summary


def check(
    db_path: Path, refugees: list[FakeUser], lotsen: list[FakeUser], everyone: list[FakeUser]
) -> str:
    """Assert the invariants against the database and the fake server; describe the counts."""
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]

        # No confirmed request lost, none twice, each in a legal state with at most one Lotse.
        sent = {
            u.id
            for u in refugees
            if any(
                m.text.startswith(asking_views.sent(t(u.data["language_code"])).text[:12])
                for m in u.bot_messages()
            )
        }
        assert sent == {u.id for u in refugees}
        rows = conn.execute(
            f"SELECT r.id, {telegram_id_of('p')}, r.status, {telegram_id_of('lp')}, r.first_name "
            "FROM request r "
            "JOIN person p ON p.id = r.person_id LEFT JOIN person lp ON lp.id = r.lotse_id "
            "WHERE r.status <> 'draft'"
        ).fetchall()
        rows = [row for row in rows if row[1] in {u.id for u in refugees}]  # (not Kurdo's cases)
        assert Counter(row[1] for row in rows) == Counter(sent)
        assert {row[2] for row in rows} == {"accepted"}
        doubles = conn.execute(
            "SELECT request_id FROM offer WHERE status = 'accepted' "
            "GROUP BY request_id HAVING count(*) > 1"
        ).fetchall()
        assert doubles == []
        mismatched = conn.execute(
            "SELECT r.id FROM request r LEFT JOIN offer o ON o.request_id = r.id "
            "AND o.status = 'accepted' WHERE r.status = 'accepted' AND r.lotse_id IS NOT o.lotse_id"
        ).fetchall()
        assert mismatched == []
        by_id = {u.id: u for u in everyone}
        for _, person, _, lotse, name in rows:
            # The person heard of their Lotse once; only the winner got the case.
            assert len([m for m in by_id[person].bot_messages() if m.text.startswith("🎉")]) == 1
            details = [
                m
                for u in lotsen
                for m in u.bot_messages()
                if m.text.startswith("✅") and name in m.text
            ]
            assert [m.chat_id for m in details] == [lotse], name

        # Request reminders: each side of each case got each due one exactly once, or it is
        # still pending; a copy cut off mid-send is unconfirmed and never sent again.
        timers = conn.execute(
            "SELECT subject, kind, done_at IS NOT NULL FROM timer "
            "WHERE kind GLOB 'request:remind:*'"
        ).fetchall()
        notices = {
            (r, f"request:{what}", side): status
            for r, what, side, status in conn.execute(
                "SELECT request_id, what, side, status FROM case_notice"
            ).fetchall()
        }
        done_reminders = pending_reminders = unconfirmed = 0
        for request_id, person, _, lotse, name in rows:
            slots = {kind: done for subject, kind, done in timers if subject == request_id}
            for side, user, about in (
                ("person", by_id[person], None),
                ("lotse", by_id[lotse], name),
            ):
                got = len(request_reminders(user, about))
                statuses = [notices.get((request_id, kind, side)) for kind in slots]
                sure = statuses.count("sent")
                maybe = statuses.count("sending")  # cut off by a kill: perhaps arrived
                assert sure <= got <= sure + maybe, (request_id, side, got, statuses)
                for kind, done in slots.items():
                    if done:
                        assert notices.get((request_id, kind, side)) in ("sent", "sending")
                unconfirmed += maybe
            done_reminders += sum(slots.values())
            pending_reminders += len(slots) - sum(slots.values())

        # Mailings: nobody got a copy twice; everyone recorded as sent got exactly one.
        mailings = conn.execute("SELECT id, kind, variant FROM mailing").fetchall()
        deliveries = conn.execute(
            f"SELECT d.mailing_id, {telegram_id_of('p')}, d.status FROM delivery d "
            "JOIN person p ON p.id = d.person_id"
        ).fetchall()
        pending_events = conn.execute(
            "SELECT count(*) FROM timer WHERE kind = 'event:remind' AND done_at IS NULL"
        ).fetchone()[0]
    received = {
        "broadcast": {u.id: len(copies(u)) for u in everyone},
        "announce": {u.id: len(announcements(u)) for u in everyone},
        "remind": {u.id: len(event_reminders(u)) for u in everyone},
    }
    counted: Counter[str] = Counter()
    for mailing_id, kind, variant in mailings:
        what = "broadcast" if kind == "broadcast" else variant.split(":")[0]
        assert max(received[what].values()) <= 1, f"somebody got the {what} twice"
        for mid, telegram_id, status in deliveries:
            if mid != mailing_id:
                continue
            counted[f"{what}:{status}"] += 1
            if status == "sent":
                assert received[what][telegram_id] == 1, (what, telegram_id)
            elif status in ("pending", "blocked", "failed"):
                assert received[what][telegram_id] == 0, (what, telegram_id, status)
    if pending_events:
        assert not any(received["remind"].values())
    assert counted["broadcast:sent"] >= len(AUDIENCE)
    return (
        f"request reminders {done_reminders} due and done, {pending_reminders} pending, "
        f"unconfirmed: {unconfirmed}; broadcast {counted['broadcast:sent']} sent, "
        f"{counted['broadcast:unconfirmed']} unconfirmed; Stammtisch reminder "
        f"{counted['remind:sent']} sent{' (still pending)' if pending_events else ''}"
    )
