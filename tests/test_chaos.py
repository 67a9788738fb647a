"""Chaos: many people use the real `lotsenbot run` on Telegram and Signal at once while it is
SIGKILLed again and again (the harness: ``tests/chaos.py``).

Refugees on both messengers ask for Lotsen; two Lotsen per language race to accept each
offer, for Arabic, Farsi and Ukrainian one on Telegram and one on Signal, so requests cross
over both ways (on Signal, half of the people quote the screen they answer, half type the
number alone); half of the refugees then write to their Lotse through the bot and get an
answer; Lotsen answer a Stammtisch invitation; a coordinator's broadcast goes to a few
hundred people on Telegram and some on Signal; request and Stammtisch reminders fall due; a
Lotse presses forged buttons — all while the process is killed at random moments (now and
then while it is still starting) and started again. Afterwards the fake Bot API's and the
local signal-cli daemon's records of what was sent and the SQLite file (read with plain
``sqlite3``) must agree (:func:`tests.chaos.check`):

* every update Telegram handed out was stored and handled; every event signal-cli wrote was
  stored and handled, or lost in the intake's remaining window because the bot was killed
  before its row was written — those are counted and measured, and the person typed again;
* every confirmed request exists once, in a legal state, and ends up accepted;
* no case has two Lotsen, and only the winner got its details; both sides heard of the
  acceptance, and a second time only after a kill that cut the first copy off unrecorded;
* every reminder that fell due reached each side exactly once, or is still pending (a copy
  cut off by a kill mid-send is recorded as unconfirmed and not sent again);
* every question and answer relayed arrived, across the messengers too (at least once: see
  the README);
* a reply to a message of a closed case reaches nobody: a Lotse closes one person's case,
  takes another's, and replies to the first person's old message; the first person replies
  to the closed case too; both are refused and neither text shows up in anyone's chat;
* nobody got a copy of a broadcast or Stammtisch notice twice, and everyone recorded as
  sent got exactly one;
* the forged presses changed nothing and alarmed nobody (no apology, no error alert);
* ``PRAGMA integrity_check`` is ``ok``.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import sqlite3
import time as wall
import traceback
from collections import Counter
from collections.abc import AsyncIterator, Awaitable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.config import load_city
from bot.domain.requests import Status
from channels.signal.fakedaemon import FakeSignalDaemon
from channels.telegram.fakeapi import BotMessage, FakeBotAPI, FakeUser
from handlers import case_views, views
from tests.chaos import (
    Killer,
    LotseDuty,
    Plan,
    SignalLotseDuty,
    SignalPhone,
    SignalSide,
    add_stammtisch,
    check,
    handled,
    is_offer,
    make_plan,
    refugee,
    relays,
    signal_become_lotse,
    signal_refugee,
)
from tests.conftest import COORDINATOR_ID, assert_stored_load_is_counted
from tests.process import BotProcess, city_file
from tests.scenario import (
    ask_for_lotse,
    become_lotse,
    has_data,
    invite_codes,
    onboard,
    seed_people,
    t,
)
from tests.test_broadcasts import compose, final_report
from tests.test_case_messages import case, reply

LANGUAGES = ["ar", "uk", "fa", "de", "ru", "tr"]
#: The second Lotse of these languages is on Signal, and so are some refugees.
SIGNAL_LANGUAGES = ["ar", "fa", "uk"]
TELEGRAM_REFUGEES = 12
SIGNAL_REFUGEES = 6
AUDIENCE = range(300_000, 300_300)  # people on Telegram who only get the broadcast
SIGNAL_AUDIENCE = 30  # and on Signal
NEWS = "Chaos-Rundbrief: Sprachcafé am Freitag"
MIN_KILLS = 15
#: People wait this long for any one answer: a step may span many kills and restarts on a
#: busy machine.
PATIENCE = 90.0
#: What a Lotse and a person reply to messages of a case that is closed by then.
DONE = Status.DONE
TO_CLOSED_CASE = ("Chaos: Aufenthaltstitel von Kawa", "Chaos: Kawa antwortet spät")


def told_of(process: BotProcess, number: int, update_id: int, answer: object) -> str:
    """What the database and the log say of a request and of the update pressing for it
    (for a failure's message)."""
    with sqlite3.connect(f"file:{process.db_path}?mode=ro", uri=True) as conn:
        request = conn.execute("SELECT status, lotse_id FROM request WHERE id = ?", (number,))
        offers = conn.execute(
            "SELECT lotse_id, round, status FROM offer WHERE request_id = ?", (number,)
        ).fetchall()
        news = conn.execute(
            "SELECT side, status, claimed_by FROM case_notice WHERE request_id = ?", (number,)
        ).fetchall()
        press = conn.execute(
            "SELECT attempts, done_at FROM inbox WHERE update_id = ?", (update_id,)
        ).fetchall()
        state = request.fetchall()
    wrong = [line for line in process.log().splitlines() if " ERROR " in line][-8:]
    return (
        f"request {state}, offers {offers}, news {news}; the press (update {update_id}): "
        f"{press}, answered {answer}; errors in the log: {wrong}"
    )


async def telling(flow: Awaitable[None], process: BotProcess, *users: FakeUser) -> None:
    """Run the flow of people on Telegram; a wait in vain names the step of the script it
    stopped at, the last screens of each of them and the end of the bot's log."""
    try:
        await flow
    except TimeoutError as exc:
        frames = traceback.extract_tb(exc.__traceback__)
        step = next(
            (
                f"{Path(f.filename).name}:{f.lineno} {f.line}"
                for f in reversed(frames)
                if "/tests/" in f.filename
            ),
            "?",
        )
        last = {
            user.data["first_name"]: [
                (m.text[:50], [b.get("callback_data") for row in m.buttons for b in row][:8])
                for m in user.bot_messages()[-3:]
            ]
            for user in users
        }
        log = process.log()[-1500:]
        raise AssertionError(f"waited in vain at {step}; last screens: {last}; log: {log}") from exc


@pytest.fixture
def plan() -> Plan:
    return make_plan(datetime.now(UTC))


@pytest.fixture
async def daemon() -> AsyncIterator[FakeSignalDaemon]:
    server = FakeSignalDaemon()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def process(
    api: FakeBotAPI, daemon: FakeSignalDaemon, tmp_path: Path, plan: Plan
) -> AsyncIterator[BotProcess]:
    config = city_file(
        tmp_path,
        telegram_ids=f"[{COORDINATOR_ID}]",
        reminders_minutes_before=plan.minutes_before,
        remind_hours_before="1",
        messages_per_second="15",  # a few hundred copies take long enough to be killed often
    )
    bot = BotProcess(api, tmp_path / "lotsenbot.sqlite3", tmp_path / "bot.log", config, daemon)
    yield bot
    if bot.proc is not None and bot.proc.returncode is None:
        await bot.kill()


async def test_everything_survives_repeated_sigkill_on_both_channels(
    api: FakeBotAPI, daemon: FakeSignalDaemon, process: BotProcess, plan: Plan
) -> None:
    began = wall.monotonic()
    chance = random.Random(20261124)
    api.patience = daemon.patience = PATIENCE
    killer = Killer(process, chance)
    side = SignalSide(daemon, process.db_path, killer)
    audience: list[FakeUser | SignalPhone] = [
        api.user(i, f"P{i}", language_code=None) for i in AUDIENCE
    ]
    signal_audience = [
        SignalPhone(side, f"+4917600{i:05d}", f"S{i}", "de") for i in range(SIGNAL_AUDIENCE)
    ]
    await seed_people(process.db_path, AUDIENCE)
    await seed_people(process.db_path, [p.user.uuid for p in signal_audience], channel="signal")
    side.start()
    await process.start()

    # Set-up, without kills: Lotsen on both messengers, a coordinator with a broadcast ready,
    # a Stammtisch date.
    seats = [(language, round_) for round_ in range(2) for language in LANGUAGES]
    on_signal = [language for language, round_ in seats if round_ and language in SIGNAL_LANGUAGES]
    on_telegram = [
        language for language, round_ in seats if not round_ or language not in on_signal
    ]
    codes = await invite_codes(api, len(seats) + 1)
    signal_lotsen = [
        SignalPhone(side, f"+4917200{i:05d}", f"SignalLotse{i}", language)
        for i, language in enumerate(on_signal)
    ]
    on_telegram_, _ = await asyncio.gather(
        asyncio.gather(
            *(
                become_lotse(api, 8100 + i, f"Lotse{i}", [language, "de"], code)
                for i, (language, code) in enumerate(zip(on_telegram, codes, strict=False))
            ),
            become_lotse(api, 8190, "Kurdo", ["ku"], codes[-1]),
        ),
        asyncio.gather(
            *(
                signal_become_lotse(phone, [phone.language, "de"], code)
                for phone, code in zip(signal_lotsen, codes[len(on_telegram) : -1], strict=True)
            )
        ),
    )
    *telegram_lotsen, kurdo = on_telegram_
    coordinator = api.user(COORDINATOR_ID, "Koordination", language_code="de")
    await onboard(coordinator, "de")
    await compose(coordinator, NEWS, "everyone")
    await add_stammtisch(process, Plan.stammtisch_for(plan.due[0]))  # announced at next start
    telegram_refugees = [
        api.user(8200 + i, f"Person{i:02d}", language_code=LANGUAGES[i % len(LANGUAGES)])
        for i in range(TELEGRAM_REFUGEES)
    ]
    # Half of them quote-reply to each screen they answer, the others type the number alone
    # (it answers the chat's latest screen, also when handled again after a kill).
    signal_refugees = [
        SignalPhone(
            side,
            f"+4917011{i:05d}",
            f"Signalperson{i:02d}",
            SIGNAL_LANGUAGES[i % 3],
            quoting=i % 2 == 0,
        )
        for i in range(SIGNAL_REFUGEES)
    ]
    kawa = api.user(8290, "Kawa", language_code="ku")
    berfin = api.user(8291, "Berfin", language_code="ku")
    relaying = [*telegram_refugees[1::2], *signal_refugees[1::2]]

    # Accept presses per offer on each messenger, to count the races.
    telegram_presses: Counter[str] = Counter()
    signal_presses: Counter[str] = Counter()
    # The requests Kurdo already took (an offer sent again after a kill is a second message
    # of the same request, and stays until it is pressed).
    taken: set[str] = set()
    refused = 0  # replies to the closed case that were answered
    kawas_case = 0
    traffic_done = asyncio.Event()

    async def forger(lotse: FakeUser) -> None:
        """Press forged buttons now and then: hours no button offers, data with parts
        missing, numbers too large (each once crashed a handler or closed a case)."""
        while not traffic_done.is_set():  # slowly enough to stay within the rate limit
            await asyncio.sleep(chance.uniform(1.0, 2.5))
            case = chance.randint(1, TELEGRAM_REFUGEES + SIGNAL_REFUGEES)
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
            lambda m: (is_offer(m) or "").startswith("offer:accept:") and is_offer(m) not in taken
        )
        data = is_offer(offer)
        assert data is not None
        taken.add(data)
        query = await kurdo.press(data=data, message=offer)
        pressed, number = api.last_update_id, int(data.rsplit(":", 1)[1])
        try:
            return number, await user.wait_for_text("Kurdo")
        except TimeoutError as exc:
            raise AssertionError(
                f"#{number}: {user.data['first_name']} never heard of Kurdo; "
                + told_of(process, number, pressed, kurdo.answer(query))
            ) from exc

    async def replies_to_a_closed_case() -> None:
        """Kurdo (nobody else speaks Kurdish) closes Kawa's case, takes Berfin's, and replies
        to Kawa's old message; Kawa replies to the closed case as well."""
        nonlocal refused, kawas_case
        number, news = await take(kawa)
        kawas_case = number
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

    def enough() -> bool:
        return (
            traffic_done.is_set() and killer.kills >= MIN_KILLS and datetime.now(UTC) > plan.due[0]
        )

    duties = [
        asyncio.create_task(LotseDuty(api, lotse, telegram_presses).run())
        for lotse in telegram_lotsen
    ]
    duties += [
        asyncio.create_task(SignalLotseDuty(phone, signal_presses).run()) for phone in signal_lotsen
    ]
    duties.append(asyncio.create_task(forger(telegram_lotsen[0])))
    # Send now to a few hundred asks once more; the yes goes out under fire.
    await coordinator.press(data="bc:send")
    question = await coordinator.wait_for_message(lambda m: has_data(m, "bc:send_yes"))
    chaos = asyncio.create_task(killer.run(enough))
    await coordinator.press(data="bc:send_yes", message=question)
    people = [
        *(
            telling(
                refugee(user, plan, chance.uniform(0, 8), relay=user in relaying), process, user
            )
            for user in telegram_refugees
        ),
        *(
            signal_refugee(phone, plan, chance.uniform(0, 8), relay=phone in relaying)
            for phone in signal_refugees
        ),
        telling(replies_to_a_closed_case(), process, kurdo, kawa, berfin),
    ]
    flows = asyncio.ensure_future(asyncio.wait_for(asyncio.gather(*people), 360))
    try:
        await asyncio.wait({flows, chaos}, return_when=asyncio.FIRST_COMPLETED)
        if chaos.done():
            chaos.result()  # the bot died by itself
        await flows
        traffic_done.set()
        await asyncio.wait_for(asyncio.shield(chaos), 240)
    finally:
        for task in (flows, chaos):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
    if process.proc is None or process.proc.returncode is not None:
        await process.start()
    chaos_took = wall.monotonic() - began

    # Calm again: every request gets its Lotse, the broadcast finishes, due reminders go out.
    def count(query: str) -> int:
        with sqlite3.connect(f"file:{process.db_path}?mode=ro", uri=True) as conn:
            return int(conn.execute(query).fetchone()[0])

    requests = TELEGRAM_REFUGEES + SIGNAL_REFUGEES + 1  # and Berfin's
    await api.wait_until(lambda: final_report(coordinator), timeout=60)
    await api.wait_until(
        lambda: count("SELECT count(*) FROM request WHERE status = 'accepted'") == requests,
        timeout=60,
    )
    # The news of an acceptance is sent while its press is handled.
    assert await handled(process.db_path, api.last_update_id, timeout=60)
    await daemon.wait_until(
        lambda: count("SELECT count(*) FROM stamped_inbox WHERE done_at IS NULL") == 0, timeout=60
    )
    for duty in duties:
        duty.cancel()
    await asyncio.gather(*duties, return_exceptions=True)
    assert await process.terminate() == 0
    await side.stop()

    refugees: list[FakeUser | SignalPhone] = [*telegram_refugees, *signal_refugees]
    lotsen: list[FakeUser | SignalPhone] = [*telegram_lotsen, *signal_lotsen]
    everyone = [*audience, *signal_audience, *refugees, *lotsen, coordinator, kurdo, kawa, berfin]
    report = check(
        process.db_path,
        [*refugees, kawa, berfin],
        [*lotsen, kurdo],
        everyone,
        updates=api.last_update_id,
        signal=side,
        kills=killer.killed_wall,
    )
    assert not report.problems(), report.problems()
    assert report.not_accepted == [f"#{kawas_case}: done"]  # Kurdo closed it
    # Every copy went out (one cut off by a kill is unconfirmed: perhaps it arrived).
    out = sum(report.counts[f"broadcast:{status}"] for status in ("sent", "unconfirmed", "sending"))
    assert out >= len(AUDIENCE) + SIGNAL_AUDIENCE, report.summary()
    # Whatever was lost in the window, the person typed again (and nothing else was lost).
    phones = [*signal_refugees, *signal_lotsen]
    assert sum(phone.retyped for phone in phones) == len(report.lost_in_window)
    # A relayed message is passed on at least once: handled again after a kill between
    # passing it on and marking its input done, it arrives twice (see the README).
    relayed, relays_lost, repeated = relays(relaying, lotsen)
    assert relays_lost == []
    # The replies to the closed case reached nobody: no message of the bot carries them.
    assert refused == len(TO_CLOSED_CASE)
    for user in everyone:
        assert not any(text in m.text for m in user.bot_messages() for text in TO_CLOSED_CASE)
    # The forged presses changed nothing (every case is still accepted) and alarmed nobody.
    alert = views.error_alert(t("de"), "\0", "\0").split("\0")[0]
    assert not [m for m in coordinator.bot_messages() if m.text.startswith(alert)]
    assert not [m for m in telegram_lotsen[0].bot_messages() if m.text == views.apology(t("ar"))]
    await assert_stored_load_is_counted(process.db_path)
    took = wall.monotonic() - began
    presses = telegram_presses + signal_presses
    races = sum(1 for n in presses.values() if n >= 2)
    mixed = sum(1 for offer in signal_presses if telegram_presses[offer])
    summary = (
        f"chaos: the bot survived {killer.kills} SIGKILLs ({killer.while_starting} while "
        f"starting) in {chaos_took:.0f} s; {report.requests} requests "
        f"({SIGNAL_REFUGEES} on Signal), {races} accepted by a race of two Lotsen "
        f"({mixed} between Telegram and Signal); "
        f"{relayed} messages relayed ({len(repeated)} twice); {report.summary()}; "
        f"{refused} replies to a closed case refused; whole test {took:.0f} s"
    )
    print(summary)
    assert killer.kills >= MIN_KILLS, summary
