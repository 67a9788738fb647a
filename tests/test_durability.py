"""Nothing is lost when the process dies: the real ``lotsenbot run``, killed and restarted."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import subprocess
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.config import load_city
from bot.i18n import LANGUAGES, language_name, texts
from channels.telegram.fakeapi import BotMessage, FakeBotAPI, FakeUser
from handlers import lotse_views, views
from tests.conftest import CITY_FILE, COORDINATOR_ID, eventually, plain
from tests.process import LOTSENBOT, BotProcess, bot_env, city_file
from tests.scenario import (
    BY_TELEGRAM_ID,
    ask_for_lotse,
    become_lotse,
    has_data,
    label,
    onboard,
    telegram_id_of,
)

BERLIN = ZoneInfo("Europe/Berlin")
PICKER = texts("de", BERLIN).gettext("Please choose your language:")


@pytest.fixture
async def process(api: FakeBotAPI, tmp_path: Path) -> AsyncIterator[BotProcess]:
    bot = BotProcess(api, tmp_path / "lotsenbot.sqlite3", tmp_path / "bot.log")
    yield bot
    if bot.proc is not None and bot.proc.returncode is None:
        await bot.kill()


def inbox(db_path: Path) -> list[tuple[int, int, bool]]:
    """(update_id, attempts, done) for every stored update, read with plain sqlite3."""
    with sqlite3.connect(db_path) as conn:
        rows = conn.execute(
            "SELECT update_id, attempts, done_at IS NOT NULL AND payload IS NULL FROM inbox"
        ).fetchall()
    return [(r[0], r[1], bool(r[2])) for r in rows]


async def test_update_fetched_but_not_handled_survives_sigkill(
    api: FakeBotAPI, process: BotProcess
) -> None:
    await process.start()
    user = api.user(5001, "Samira", language_code="de")

    # The reply cannot go out, so handling cannot finish.
    api.hold("sendMessage")
    update_id = await user.send("/start")
    # The bot has fetched the update and told "Telegram" so (offset past it) ...
    await api.wait_until(lambda: api.confirmed > update_id and api.held)
    await process.kill()
    api.release("sendMessage", perform=False)  # ... and died before its reply was delivered.
    assert user.bot_messages() == []
    assert api._pending == []  # Telegram will not deliver it again.
    assert inbox(process.db_path) == [(update_id, 1, False)]  # its handling had begun

    await process.start()
    picker = await user.wait_for_text(PICKER)
    assert picker.button_labels()[0] == "✓ Deutsch"
    await eventually(lambda: inbox(process.db_path) == [(update_id, 2, True)])
    # Exactly once in effect: one welcome, not two.
    assert [m.text for m in user.bot_messages()] == [picker.text]

    # The conversation goes on normally after the restart.
    await user.press("العربية")
    consent = views.consent(texts("ar", BERLIN), load_city(CITY_FILE)).text
    await user.wait_for_text(plain(consent))
    assert await process.terminate() == 0


async def test_a_crash_loop_gives_up_only_the_update_that_brings_it_about(
    api: FakeBotAPI, process: BotProcess
) -> None:
    """Aylin and Bora write at the same time, and the process dies whenever it answers Aylin
    (as if her message took it down). What was in hand at a crash is handled again one at a
    time: her message is given up after three tries, and Bora, whose message was in hand
    with hers at the first crash, gets his answer."""
    await process.start()
    aylin = api.user(5301, "Aylin", language_code="de")
    bora = api.user(5302, "Bora", language_code="de")

    def to(user: FakeUser) -> int:
        return sum(1 for call in api.held if int(call.params.get("chat_id", 0)) == user.id)

    async def dies_answering(*users: FakeUser) -> None:
        """Nothing goes out (held since ``api.hold``); killed once it tries to answer them."""
        before = {user.id: to(user) for user in users}
        await api.wait_until(lambda: all(to(user) > before[user.id] for user in users))
        await process.kill()
        api.release("sendMessage", perform=False)

    api.hold("sendMessage")
    await aylin.send("/start")
    await bora.send("/start")
    await dies_answering(aylin, bora)  # both in hand at the first crash
    for _ in range(2):
        api.hold("sendMessage")
        await process.start()
        await dies_answering(aylin)
    await process.start()

    await bora.wait_for_text(PICKER)
    await eventually(lambda: all(done for _, _, done in inbox(process.db_path)))
    assert await process.terminate() == 0
    assert aylin.bot_messages() == []
    assert "gave up 1 update(s) that failed 3 times" in process.log()


async def test_language_choice_interrupted_mid_handling_takes_effect_once(
    api: FakeBotAPI, process: BotProcess
) -> None:
    await process.start()
    user = api.user(5002, "Dmytro", language_code="uk")
    await user.send("/start")
    await user.wait_for_text(texts("uk", BERLIN).gettext("Please choose your language:"))

    # The choice is stored, then the bot dies while confirming it on screen.
    api.hold("editMessageText")
    await user.press("✓ українська")
    update_id = api.last_update_id
    await api.wait_until(lambda: api.confirmed > update_id and api.held)
    await process.kill()
    api.release("editMessageText", perform=False)

    await process.start()
    uk = texts("uk", BERLIN)
    confirmed = await user.wait_for_text(
        uk.gettext("✓ Language: {language}", language="українська")
    )
    assert confirmed.edits == 1
    await user.wait_for_message(lambda m: m.button_labels()[:1] == [uk.gettext("✅ I agree")])
    await eventually(lambda: all(done for _, _, done in inbox(process.db_path)))
    with sqlite3.connect(process.db_path) as conn:
        people = conn.execute(f"SELECT {telegram_id_of('person')}, language FROM person").fetchall()
    assert people == [(5002, "uk")]
    consent_messages = [
        m for m in user.bot_messages() if m.button_labels()[:1] == [uk.gettext("✅ I agree")]
    ]
    assert len(consent_messages) == 1
    assert await process.terminate() == 0


async def test_language_choice_killed_after_its_edit_still_reaches_consent(
    api: FakeBotAPI, process: BotProcess
) -> None:
    """The picker was already edited when the bot died: handled again, the unchanged edit
    ("message is not modified") must not stop the person from getting the consent step."""
    await process.start()
    user = api.user(5004, "Olena", language_code="uk")
    await user.send("/start")
    await user.wait_for_text(texts("uk", BERLIN).gettext("Please choose your language:"))

    api.hold("sendMessage")  # the consent step, sent after the picker is edited
    await user.press("✓ українська")
    await api.wait_until(lambda: api.held)
    await process.kill()
    api.release("sendMessage", perform=False)
    uk = texts("uk", BERLIN)
    chosen = uk.gettext("✓ Language: {language}", language="українська")
    assert any(m.text == plain(chosen) for m in user.bot_messages())

    await process.start()
    await user.wait_for_message(lambda m: m.button_labels()[:1] == [uk.gettext("✅ I agree")])
    await eventually(lambda: all(done for _, _, done in inbox(process.db_path)))
    assert await process.terminate() == 0
    assert "unexpected BadRequest" not in process.log()
    consent = [
        m for m in user.bot_messages() if m.button_labels()[:1] == [uk.gettext("✅ I agree")]
    ]
    assert len(consent) == 1


async def test_sigterm_finishes_the_update_in_hand(api: FakeBotAPI, process: BotProcess) -> None:
    await process.start()
    user = api.user(5003, "Leyla", language_code="tr")
    api.hold("sendMessage")
    update_id = await user.send("/start")
    await api.wait_until(lambda: api.held)
    assert process.proc is not None
    process.proc.send_signal(signal.SIGTERM)
    await asyncio.sleep(0.5)  # the bot is shutting down, the reply still held
    api.release("sendMessage")
    assert await asyncio.wait_for(process.proc.wait(), 30) == 0
    assert len(user.bot_messages()) == 1
    assert inbox(process.db_path) == [(update_id, 1, True)]
    assert "Lotsenbot stopped" in process.log()


async def test_lotsenbot_run_speaks_every_language_after_the_picker(
    api: FakeBotAPI, process: BotProcess
) -> None:
    await process.start()
    for index, language in enumerate(LANGUAGES):
        user = api.user(5100 + index, "Person", language_code="de")
        await user.send("/start")
        await user.wait_for_text(PICKER)
        await user.press(language_name(language) if language != "de" else "✓ Deutsch")
    city = load_city(CITY_FILE)
    for index, language in enumerate(LANGUAGES):
        user = api.user(5100 + index)
        expected = views.consent(texts(language, BERLIN), city).text
        wanted = plain(expected)
        await user.wait_for_message(lambda m, wanted=wanted: m.text == wanted)
    assert await process.terminate() == 0


async def test_intake_and_case_survive_sigkill(api: FakeBotAPI, process: BotProcess) -> None:
    from tests.scenario import become_lotse, has_data, invite_codes, label, onboard

    # The coordination office is set up with the command line, as an operator would.
    added = subprocess.run(  # noqa: ASYNC221 - a short CLI call before the bot starts
        [str(LOTSENBOT), "coordinator", "add", str(COORDINATOR_ID)],
        env=bot_env(None, process.db_path),
        capture_output=True,
        text=True,
        check=False,
    )
    assert added.returncode == 0, added.stderr
    await process.start()
    codes = await invite_codes(api, 1)
    lotse = await become_lotse(api, 5301, "Bashir", ["fa"], codes[0])
    refugee = api.user(5302, "Parisa", language_code="fa")
    await onboard(refugee, "fa")
    await refugee.press(label("fa", "🤝 I need a Lotse"))
    await refugee.press(data="ask:topic:housing")
    await refugee.wait_for_message(lambda m: has_data(m, "ask:stop"))

    # Killed while the description is being handled (its answer held back).
    api.hold("sendMessage")
    await refugee.send("Wohnungsbesichtigung, Vermieter schreibt auf Deutsch")
    await api.wait_until(lambda: api.held)
    await process.kill()
    api.release("sendMessage", perform=False)

    await process.start()
    languages = await refugee.wait_for_message(lambda m: has_data(m, "ask:langs_done"))
    assert sum(has_data(m, "ask:langs_done") for m in refugee.bot_messages()) == 1
    await refugee.press(data="ask:langs_done", message=languages)
    await refugee.press(data="ask:district:5")

    # Killed between two steps: the next tap continues where the person was.
    await refugee.wait_for_message(lambda m: has_data(m, "ask:day:flex"))
    await process.kill()
    await process.start()
    await refugee.press(data="ask:day:flex")
    await refugee.wait_for_message(lambda m: has_data(m, "ask:name:telegram"))
    await refugee.send("Parisa")
    await refugee.press(data="ask:confirm")
    await lotse.wait_for_text("🔔")
    await lotse.press(label("fa", "✅ Accept"))
    await refugee.wait_for_text("Bashir")

    # Killed with an open case: after the restart the case is intact and relays work.
    await process.kill()
    await process.start()
    await refugee.send("سلام، کی همدیگر را ببینیم؟")
    await lotse.wait_for_text("کی همدیگر را ببینیم")
    with sqlite3.connect(process.db_path) as conn:
        stored = conn.execute(
            "SELECT status, description, district, first_name FROM request"
        ).fetchall()
    assert stored == [
        ("accepted", "Wohnungsbesichtigung, Vermieter schreibt auf Deutsch", "Hervest", "Parisa")
    ]
    assert await process.terminate() == 0


async def offered_to_two(
    api: FakeBotAPI, process: BotProcess
) -> tuple[FakeUser, FakeUser, BotMessage]:
    """Yusuf and Rania become Lotsen, Amal asks for an appointment tomorrow: Yusuf, Amal and
    Yusuf's offer (Rania has hers too)."""
    invited = subprocess.run(  # noqa: ASYNC221 - set-up before the bot starts
        [str(LOTSENBOT), "invite", "--count", "2"],
        env=bot_env(None, process.db_path),
        capture_output=True,
        text=True,
        check=True,
    )
    codes = invited.stdout.split()
    await process.start()
    yusuf = await become_lotse(api, 5201, "Yusuf", ["ar"], codes[0])
    rania = await become_lotse(api, 5202, "Rania", ["ar"], codes[1])
    amal = api.user(5203, "Amal", language_code="ar")
    await onboard(amal, "ar")
    tomorrow = (datetime.now(BERLIN) + timedelta(days=1)).date()
    await ask_for_lotse(amal, "ar", day=tomorrow.isoformat(), time="1700", name="Amal")
    offer = await yusuf.wait_for_message(lambda m: m.text.startswith("🔔"))
    await rania.wait_for_message(lambda m: m.text.startswith("🔔"))
    return yusuf, amal, offer


def news_of(db_path: Path, what: str) -> list[tuple[str, str]]:
    """(side, status) of the case news ``what``, read with plain sqlite3."""
    with sqlite3.connect(db_path) as conn:
        rows = conn.execute("SELECT side, status FROM case_notice WHERE what = ?", (what,))
        return [(str(side), str(status)) for side, status in rows]


async def killed_while_sending(
    api: FakeBotAPI, process: BotProcess, matching: Callable[[dict[str, Any]], bool]
) -> None:
    """Kill the bot while it sends the message ``matching`` (held since ``api.hold``; it
    never arrives); start it again."""
    await api.wait_until(lambda: any(matching(call.params) for call in api.held))
    await process.kill()
    api.release("sendMessage", perform=False)
    await process.start()


async def test_acceptance_cut_off_by_sigkill_is_finished_once_on_restart(
    api: FakeBotAPI, process: BotProcess
) -> None:
    """Killed after the acceptance was stored, before anyone was told: the winner's press,
    handled again, tells both sides once and the reminders are there; nobody hears "taken"."""
    yusuf, amal, offer = await offered_to_two(api, process)

    # Closing Rania's copy of the offer is the first thing after the acceptance is stored.
    api.hold("editMessageText")
    await yusuf.press(data=offer.buttons[0][0]["callback_data"], message=offer)
    update_id = api.last_update_id
    await api.wait_until(lambda: api.confirmed > update_id and api.held)
    await process.kill()
    api.release("editMessageText", perform=False)
    with sqlite3.connect(process.db_path) as conn:
        assert conn.execute("SELECT status FROM request").fetchall() == [("accepted",)]

    await process.start()
    await amal.wait_for_message(lambda m: m.text.startswith("🎉"))
    await yusuf.wait_for_message(lambda m: "Amal" in m.text)
    await eventually(lambda: all(done for _, _, done in inbox(process.db_path)))
    assert await process.terminate() == 0
    assert len([m for m in amal.bot_messages() if m.text.startswith("🎉")]) == 1
    assert len([m for m in yusuf.bot_messages() if "Amal" in m.text]) == 1
    taken = plain(lotse_views.offer_gone(texts("ar", BERLIN)))
    assert not any(taken in m.text for m in yusuf.bot_messages())
    with sqlite3.connect(process.db_path) as conn:
        reminders = conn.execute(
            "SELECT count(*) FROM timer WHERE kind GLOB 'request:remind:*' AND done_at IS NULL"
        ).fetchone()[0]
        notices = conn.execute("SELECT what, side, status FROM case_notice").fetchall()
    assert reminders >= 1  # set with the acceptance, not lost with the process
    assert sorted(notices) == [("accepted", "lotse", "sent"), ("accepted", "person", "sent")]


async def test_news_of_a_case_cut_off_by_sigkill_arrives_once_after_restart(
    api: FakeBotAPI, process: BotProcess
) -> None:
    """Killed while the person is told who helps, and again while she is asked how it went
    (after the Lotse closed the case): each press, handled again, sends what it was cut off
    in, once; what arrived before is not sent again."""
    yusuf, amal, offer = await offered_to_two(api, process)

    def news(params: dict[str, Any]) -> bool:
        return str(params["text"]).startswith("🎉")

    api.hold("sendMessage", news)
    await yusuf.press(data=offer.buttons[0][0]["callback_data"], message=offer)
    # Yusuf's details went out at the same time, and are recorded as arrived.
    await eventually(lambda: ("lotse", "sent") in news_of(process.db_path, "accepted"))
    await killed_while_sending(api, process, news)
    await amal.wait_for_message(lambda m: m.text.startswith("🎉"))
    number = offer.buttons[0][0]["callback_data"].rsplit(":", 1)[1]  # offer:accept:<id>

    await yusuf.press(data=f"case:done:{number}")
    hours = await yusuf.wait_for_message(lambda m: has_data(m, f"case:hours:{number}:2"))

    def question(params: dict[str, Any]) -> bool:
        return "fb:" in str(params.get("reply_markup"))

    api.hold("sendMessage", question)
    await yusuf.press(data=f"case:hours:{number}:2", message=hours)
    await killed_while_sending(api, process, question)
    await amal.wait_for_message(lambda m: has_data(m, f"fb:{number}:good"))
    await eventually(lambda: all(done for _, _, done in inbox(process.db_path)))
    assert await process.terminate() == 0

    assert len([m for m in amal.bot_messages() if m.text.startswith("🎉")]) == 1
    assert len([m for m in amal.bot_messages() if has_data(m, f"fb:{number}:good")]) == 1
    assert len([m for m in yusuf.bot_messages() if "Amal" in m.text]) == 1
    with sqlite3.connect(process.db_path) as conn:
        notices = conn.execute("SELECT what, side, status FROM case_notice").fetchall()
        status = conn.execute("SELECT status, hours FROM request").fetchall()
    assert sorted(notices) == [
        ("accepted", "lotse", "sent"),
        ("accepted", "person", "sent"),
        ("closed", "person", "sent"),
    ]
    assert status == [("done", 2.0)]


async def test_offers_recorded_before_the_answer_reach_the_lotse_after_sigkill(
    api: FakeBotAPI, process: BotProcess
) -> None:
    """The person is answered before the Lotsen are told; a kill in between loses no offer."""
    invited = subprocess.run(  # noqa: ASYNC221 - set-up before the bot starts
        [str(LOTSENBOT), "invite", "--count", "1"],
        env=bot_env(None, process.db_path),
        capture_output=True,
        text=True,
        check=True,
    )
    await process.start()
    lotse = await become_lotse(api, 5401, "Darya", ["uk"], invited.stdout.split()[0])
    refugee = api.user(5402, "Olha", language_code="uk")
    await onboard(refugee, "uk")
    await refugee.press(label("uk", "🤝 I need a Lotse"))
    await refugee.press(data="ask:topic:school")
    await refugee.wait_for_message(lambda m: has_data(m, "ask:stop"))
    await refugee.send("Anmeldung an der Grundschule")
    for data in ("ask:langs_done", "ask:district:2", "ask:day:flex"):
        await refugee.press(data=data)
    await refugee.wait_for_message(lambda m: has_data(m, "ask:name:telegram"))
    await refugee.send("Olha")
    await refugee.wait_for_message(lambda m: has_data(m, "ask:confirm"))

    # Every message waits: the answer to the person, and so the offers after it.
    api.hold("sendMessage")
    await refugee.press(data="ask:confirm")
    await api.wait_until(lambda: api.held)
    await process.kill()
    # Only the answer to the person was under way: the offer comes after it.
    assert [str(c.params.get("chat_id")) for c in api.held] == [str(refugee.id)]
    api.release("sendMessage", perform=False)
    with sqlite3.connect(process.db_path) as conn:
        assert conn.execute("SELECT status FROM request").fetchall() == [("offered",)]

    await process.start()
    await lotse.wait_for_text("🔔")
    await eventually(lambda: all(done for _, _, done in inbox(process.db_path)))
    assert await process.terminate() == 0
    assert len([m for m in lotse.bot_messages() if m.text.startswith("🔔")]) == 1


async def test_request_killed_before_its_offers_were_recorded_is_offered_at_start(
    api: FakeBotAPI, tmp_path: Path
) -> None:
    """Confirmed, then killed before the first round of offers was recorded: the next start
    offers it (it does not wait for the escalation hours later)."""
    config = city_file(tmp_path, telegram_ids=f"[{COORDINATOR_ID}]")
    process = BotProcess(api, tmp_path / "lotsenbot.sqlite3", tmp_path / "bot.log", config)
    invited = subprocess.run(  # noqa: ASYNC221 - set-up before the bot starts
        [str(LOTSENBOT), "invite", "--count", "1"],
        env=bot_env(None, process.db_path, config),
        capture_output=True,
        text=True,
        check=True,
    )
    api.user(COORDINATOR_ID, "Koordination", language_code="de")
    await process.start()
    try:
        lotse = await become_lotse(api, 5501, "Jonas", ["de"], invited.stdout.split()[0])
        refugee = api.user(5502, "Parisa", language_code="fa")
        await onboard(refugee, "fa")
        await refugee.press(label("fa", "🤝 I need a Lotse"))
        await refugee.press(data="ask:topic:school")
        await refugee.wait_for_message(lambda m: has_data(m, "ask:stop"))
        await refugee.send("Anmeldung an der Grundschule")
        for data in ("ask:langs_done", "ask:district:2", "ask:day:flex"):
            await refugee.press(data=data)
        await refugee.wait_for_message(lambda m: has_data(m, "ask:name:telegram"))
        await refugee.send("Parisa")
        await refugee.wait_for_message(lambda m: has_data(m, "ask:confirm"))

        # Nobody speaks Farsi: the coordinators are told first, before German-speaking Lotsen
        # are asked. Killed while that message is under way, nothing is offered yet.
        api.hold("sendMessage")
        await refugee.press(data="ask:confirm")
        await api.wait_until(lambda: api.held)
        await process.kill()
        assert [str(c.params.get("chat_id")) for c in api.held] == [str(COORDINATOR_ID)]
        api.release("sendMessage", perform=False)
        with sqlite3.connect(process.db_path) as conn:
            assert conn.execute("SELECT status, round FROM request").fetchall() == [("open", 0)]
            assert conn.execute("SELECT count(*) FROM offer").fetchone() == (0,)

        await process.start()
        await lotse.wait_for_text("🔔")
        await eventually(lambda: all(done for _, _, done in inbox(process.db_path)))
        assert await process.terminate() == 0
        assert len([m for m in lotse.bot_messages() if m.text.startswith("🔔")]) == 1
    finally:
        if process.proc is not None and process.proc.returncode is None:
            await process.kill()


async def _killed_after(process: BotProcess, change: str, request_id: int, lotse: int) -> None:
    """Leave the database as a kill right after the first statement of ``change`` does:
    the request waits again (``open``), no offer of the new round is recorded yet."""
    from bot.domain.requests import Status
    from bot.storage.database import Database
    from bot.storage.requests import RequestsRepository

    db = Database(process.db_path)
    await db.open()
    try:
        repo, now = RequestsRepository(db), datetime.now(BERLIN)
        if change == "confirm":
            assert await repo.move(request_id, [Status.DRAFT], Status.OPEN, now, step=None)
        else:
            assert await repo.reopen(request_id, lotse, now)
    finally:
        await db.close()


@pytest.mark.parametrize("change", ["confirm", "hand back"])
async def test_request_opened_but_not_yet_offered_is_offered_after_sigkill(
    api: FakeBotAPI, process: BotProcess, change: str
) -> None:
    """Opening a request (or getting it back from a Lotse) and recording its offers are two
    statements; a kill between them must not leave it waiting without anyone asked."""
    invited = subprocess.run(  # noqa: ASYNC221 - set-up before the bot starts
        [str(LOTSENBOT), "invite", "--count", "2"],
        env=bot_env(None, process.db_path),
        capture_output=True,
        text=True,
        check=True,
    )
    codes = invited.stdout.split()
    await process.start()
    first = await become_lotse(api, 5501, "Darya", ["ru"], codes[0])
    refugee = api.user(5502, "Olha", language_code="ru")
    await onboard(refugee, "ru")
    if change == "confirm":
        await refugee.press(label("ru", "🤝 I need a Lotse"))
        await refugee.press(data="ask:topic:school")
        await refugee.wait_for_message(lambda m: has_data(m, "ask:stop"))
        await refugee.send("Anmeldung an der Grundschule")
        for data in ("ask:langs_done", "ask:district:2", "ask:day:flex"):
            await refugee.press(data=data)
        await refugee.wait_for_message(lambda m: has_data(m, "ask:name:telegram"))
        await refugee.send("Olha")
        await refugee.wait_for_message(lambda m: has_data(m, "ask:confirm"))
        waiting = first
    else:
        await ask_for_lotse(refugee, "ru", text="Anmeldung an der Grundschule", name="Olha")
        await first.press(label("ru", "✅ Accept"))
        await refugee.wait_for_text("Darya")
        waiting = await become_lotse(api, 5503, "Igor", ["ru"], codes[1])
    await process.kill()
    with sqlite3.connect(process.db_path) as conn:
        lotse_id = conn.execute(
            f"SELECT id FROM person WHERE {BY_TELEGRAM_ID}", (5501,)
        ).fetchone()[0]
    await _killed_after(process, change, 1, lotse_id)

    await process.start()
    offer = await waiting.wait_for_text("🔔")
    assert "Anmeldung an der Grundschule" in offer.text
    assert await process.terminate() == 0
    with sqlite3.connect(process.db_path) as conn:
        assert conn.execute("SELECT status, round FROM request").fetchall() == [("offered", 1)]
        timers = conn.execute(
            "SELECT kind FROM timer WHERE kind IN ('request:escalate', 'request:expire') "
            "AND done_at IS NULL ORDER BY kind"
        ).fetchall()
    assert timers == [("request:escalate",), ("request:expire",)]  # it still moves on alone
