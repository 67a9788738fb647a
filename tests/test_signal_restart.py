"""Signal across a crash: an input handled again after a SIGKILL means what it meant the first
time, against the real ``lotsenbot run`` and the local signal-cli daemon."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import AsyncIterator
from contextlib import closing
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.i18n import language_name
from channels.signal.fakedaemon import FakeSignalDaemon, FakeSignalUser
from channels.telegram.fakeapi import FakeBotAPI
from handlers import asking_views, views
from handlers import waitlist_views as wv
from tests.conftest import eventually, plain
from tests.process import BotProcess
from tests.scenario import BERLIN, label, t
from tests.test_signal import answer, listed, onboard_on_signal


def latest(bot: BotProcess, user: FakeSignalUser) -> list[str]:
    """The actions of the newest screen in the person's chat, in their numbers' order."""
    with closing(sqlite3.connect(bot.db_path)) as conn:
        row = conn.execute(
            "SELECT choices FROM menu WHERE chat = ? ORDER BY message_id DESC LIMIT 1",
            (user.uuid,),
        ).fetchone()
    return [action for _, action in json.loads(row[0])] if row else []


async def type_number_of(bot: BotProcess, user: FakeSignalUser, action: str) -> None:
    """Type, without quoting, the number of ``action`` once the newest screen offers it."""
    await eventually(lambda: action in latest(bot, user))
    await user.send(str(latest(bot, user).index(action) + 1))


@pytest.fixture
async def daemon() -> AsyncIterator[FakeSignalDaemon]:
    server = FakeSignalDaemon()
    await server.start()
    yield server
    await server.stop()


async def test_a_number_handled_again_after_a_kill_answers_the_screen_it_answered(
    api: FakeBotAPI, daemon: FakeSignalDaemon, tmp_path: Path
) -> None:
    bot = BotProcess(api, tmp_path / "lotsenbot.sqlite3", tmp_path / "bot.log", signal=daemon)
    await bot.start()
    try:
        user = daemon.user("+4917011112222", "Olena")
        await user.send("Привіт")
        await answer(user, language_name("uk"), "uk")
        consent = await user.wait_for_message(lambda m: label("uk", "✅ I agree") in listed(m))
        # The person agrees by quoting the screen; the bot turns the screen into its answer
        # (its choices are gone then) and dies while it sends the main menu: the number is
        # stored and not done.
        home = label("uk", "What would you like to do?")
        daemon.hold("send", lambda params: home in str(params.get("message")))
        await user.reply(consent, str(listed(consent)[label("uk", "✅ I agree")]))
        await daemon.wait_until(lambda: daemon.held.get("send"))
        await bot.kill()
        daemon.release("send")
        seen = len(user.bot_messages())
        await bot.start()
        # Handled again, the number still means *I agree*: the main menu comes.
        await user.wait_for_message(lambda m: home in m.text, after=seen)
        assert all(m.text != views.button_expired(t("uk")) for m in user.bot_messages()[seen:])
    finally:
        if bot.proc is not None and bot.proc.returncode is None:
            await bot.kill()


async def test_a_dialog_step_handled_again_after_a_kill_shows_the_step_it_led_to(
    api: FakeBotAPI, daemon: FakeSignalDaemon, tmp_path: Path
) -> None:
    bot = BotProcess(api, tmp_path / "lotsenbot.sqlite3", tmp_path / "bot.log", signal=daemon)
    await bot.start()

    try:
        user = daemon.user("+4917011113333", "Olena Bondar")
        await onboard_on_signal(user, "uk")
        await type_number_of(bot, user, views.MENU_BECOME)
        await type_number_of(bot, user, "wl:join")
        # She takes the name Signal shows; the bot records the step and dies while it sends
        # the next one (how the office can reach her).
        contact = plain(wv.ask_contact(t("uk")).text).split("\n")[0]
        daemon.hold("send", lambda params: contact in str(params.get("message")))
        await type_number_of(bot, user, "wld:name")
        await daemon.wait_until(lambda: daemon.held.get("send"))
        await bot.kill()
        daemon.release("send")
        seen = len(user.bot_messages())
        await bot.start()
        # Handled again, the number changes nothing and the step it led to comes again.
        await user.wait_for_message(lambda m: contact in m.text, after=seen)
    finally:
        if bot.proc is not None and bot.proc.returncode is None:
            await bot.kill()


async def test_the_time_of_a_request_handled_again_after_a_kill_shows_the_next_step(
    api: FakeBotAPI, daemon: FakeSignalDaemon, tmp_path: Path
) -> None:
    bot = BotProcess(api, tmp_path / "lotsenbot.sqlite3", tmp_path / "bot.log", signal=daemon)
    await bot.start()

    try:
        user = daemon.user("+4917011114444", "Olena Bondar")
        await onboard_on_signal(user, "uk")
        await type_number_of(bot, user, views.MENU_REQUEST)
        await type_number_of(bot, user, "ask:topic:jobcenter")
        await eventually(lambda: "ask:topic:jobcenter" not in latest(bot, user))
        await user.send("Brief vom Jobcenter verstehen")
        day = (datetime.now(BERLIN) + timedelta(days=1)).date().isoformat()
        for action in ("ask:langs_done", "ask:district:0", f"ask:day:{day}", "ask:hour:09"):
            await type_number_of(bot, user, action)
        # The quarter typed alone; the bot records the step and dies while it sends the next.
        place = plain(asking_views.ask_place(t("uk")).text).split("\n")[0]
        daemon.hold("send", lambda params: place in str(params.get("message")))
        await type_number_of(bot, user, "ask:time:0900")
        await daemon.wait_until(lambda: daemon.held.get("send"))
        await bot.kill()
        daemon.release("send")
        seen = len(user.bot_messages())
        await bot.start()
        await user.wait_for_message(lambda m: place in m.text, after=seen)
    finally:
        if bot.proc is not None and bot.proc.returncode is None:
            await bot.kill()
