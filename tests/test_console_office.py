"""The console's concerns and messages to the office over HTTP on loopback, with the real bot,
the fake Telegram API and the fake signal-cli daemon: the lists of open and answered ones,
and the answer from the desk, which arrives on the person's (fake) phone — on Telegram and
on Signal — where a reply to it continues the thread."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from bot.config import CityConfig
from bot.i18n import language_name
from channels.signal.fakedaemon import FakeSignalDaemon
from channels.telegram.fakeapi import FakeBotAPI
from handlers import office_views, views
from tests.conftest import COORDINATOR_ID, RunningBot, eventually, plain, start_bot
from tests.console import ConsoleBot, free_port
from tests.scenario import ask_for_lotse, become_lotse, has_data, invite_codes, onboard, t
from tests.test_signal import offers, onboard_on_signal, pick


@pytest.fixture
async def daemon() -> AsyncIterator[FakeSignalDaemon]:
    """A fake signal-cli daemon on a free loopback port."""
    server = FakeSignalDaemon()
    await server.start()
    yield server
    await server.stop()


def console_audit(bot: RunningBot) -> list[tuple[str, int | None]]:
    """(action, request) of the console's answers in the audit log, in order."""
    with sqlite3.connect(bot.settings.db_path) as conn:
        return conn.execute(
            "SELECT action, request_id FROM audit WHERE via = 'console' "
            "AND action LIKE '%.reply' ORDER BY id"
        ).fetchall()


def threads(html: str) -> list[int]:
    """The threads a list shows, in order."""
    return [int(n) for n in re.findall(r'<a href="/concerns/(\d+)">', html)]


@asynccontextmanager
async def desk_with_signal(
    api: FakeBotAPI, daemon: FakeSignalDaemon, city: CityConfig, tmp_path: Path
) -> AsyncIterator[ConsoleBot]:
    """The bot on Telegram and Signal, with its console on a free loopback port."""
    port = free_port()
    bot = await start_bot(
        api, city, tmp_path / "lotsenbot.sqlite3", signal=daemon, console=("127.0.0.1", port)
    )
    desk = ConsoleBot(bot, api, f"http://127.0.0.1:{port}", [])
    try:
        yield desk
    finally:
        for browser in desk.browsers:
            await browser.close()
        await bot.shutdown()
    assert not daemon.violations


async def test_a_concern_answered_from_the_desk_reaches_the_person_on_telegram(
    api: FakeBotAPI, daemon: FakeSignalDaemon, city: CityConfig, tmp_path: Path
) -> None:
    async with desk_with_signal(api, daemon, city, tmp_path) as desk:
        coordinator = api.user(COORDINATOR_ID, "Koordination", language_code="de")
        await onboard(coordinator, "de")
        codes = await invite_codes(api, 1)
        ada = await become_lotse(api, 701, "Ada", ["de", "ar"], codes[0])
        amal = api.user(801, "Amal", language_code="ar")
        await onboard(amal, "ar")
        await ask_for_lotse(amal, "ar", text="رسالة من Jobcenter", name="Amal")
        await ada.press(data="offer:accept:1")
        await amal.wait_for_message(lambda m: has_data(m, "cn:ask:1"))
        await amal.press(data="cn:ask:1")
        await amal.press(data="cn:r:1:absent")
        await coordinator.wait_for_text("#1")
        browser = await desk.signed_in()

        waiting = await browser.get("/concerns")
        assert waiting.status == 200 and threads(waiting.html) == [1]
        assert threads((await browser.get("/concerns?show=answered")).html) == []
        page = await browser.get("/concerns/1")
        de = t("de")
        assert plain(de.gettext("Did not come to the appointment")) in plain(page.html)
        assert 'href="/requests/1"' in page.html
        assert re.search(r'<a href="/lotsen/\d+">Ada</a>', page.html)  # her card, to act on

        token = await browser.csrf("/concerns/1")
        empty = await browser.post("/concerns/1/answer", {"text": "  "}, csrf=token)
        assert empty.location == "/concerns/1?done=invalid"
        done = await browser.post(
            "/concerns/1/answer", {"text": "Wir rufen Sie morgen an."}, csrf=token
        )
        assert done.status == 303 and done.location == "/concerns/1?done=answered"
        answer = await amal.wait_for_text("Wir rufen Sie morgen an.")
        assert answer.text == plain(
            office_views.answer_for_person(t("ar"), "Wir rufen Sie morgen an.")
        )
        assert "Wir rufen Sie morgen an." not in "".join(m.text for m in ada.bot_messages())
        assert threads((await browser.get("/concerns")).html) == []
        assert threads((await browser.get("/concerns?show=answered")).html) == [1]
        assert "Wir rufen Sie morgen an." in (await browser.get("/concerns/1")).html

        # Amal replies to the answer in her chat: the thread is open again for the office.
        await amal.send_raw(text="شكرا", reply_to_message=answer.raw)
        await coordinator.wait_for_text("شكرا")
        await eventually(lambda: threads_open(desk) == [1])
        assert threads((await browser.get("/concerns?kind=concern")).html) == [1]
        assert threads((await browser.get("/concerns?kind=message")).html) == []
        assert console_audit(desk.bot) == [("concern.reply", 1)]


def threads_open(desk: ConsoleBot) -> list[int]:
    with sqlite3.connect(desk.bot.settings.db_path) as conn:
        return [
            row[0]
            for row in conn.execute(
                "SELECT t.id FROM office_thread t WHERE (SELECT direction FROM office_message m "
                "WHERE m.thread_id = t.id ORDER BY m.id DESC LIMIT 1) = 'in'"
            )
        ]


async def test_an_answer_from_the_desk_arrives_on_a_signal_phone(
    api: FakeBotAPI, daemon: FakeSignalDaemon, city: CityConfig, tmp_path: Path
) -> None:
    async with desk_with_signal(api, daemon, city, tmp_path) as desk:
        coordinator = api.user(COORDINATOR_ID, "Koordination", language_code="de")
        await onboard(coordinator, "de")
        refugee = daemon.user("+4917011110009", "Amal Haddad")
        await onboard_on_signal(refugee, "ar")
        await pick(desk.bot, refugee, views.MENU_OFFICE, "ar")
        await eventually(lambda: offers(desk.bot, refugee, "of:stop"))
        await refugee.send("أحتاج موعدًا في المكتب")
        await coordinator.wait_for_text("أحتاج موعدًا في المكتب")
        browser = await desk.signed_in()

        listed = await browser.get("/concerns")
        assert threads(listed.html) == [1]
        assert "أحتاج موعدًا في المكتب" in listed.html and language_name("ar") in listed.html
        page = await browser.get("/concerns/1")
        assert "Signal" in page.html and "+49170" not in page.html

        done = await browser.post(
            "/concerns/1/answer",
            {"text": "Donnerstag um 10 Uhr passt."},
            csrf=await browser.csrf("/concerns/1"),
        )
        assert done.location == "/concerns/1?done=answered"
        answer = await refugee.wait_for_text("Donnerstag um 10 Uhr passt.")
        text = "Donnerstag um 10 Uhr passt."
        assert answer.text == plain(office_views.answer_for_person(t("ar"), text))
        await refugee.reply(answer, "شكرا، سآتي")
        again = await coordinator.wait_for_text("شكرا، سآتي")
        assert "#1" in again.text
        assert console_audit(desk.bot) == [("message.reply", None)]
