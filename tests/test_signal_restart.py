"""Signal across a crash: an input handled again after a SIGKILL means what it meant the first
time, against the real ``lotsenbot run`` and the local signal-cli daemon."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.i18n import language_name
from channels.signal.fakedaemon import FakeSignalDaemon
from channels.telegram.fakeapi import FakeBotAPI
from handlers import views
from tests.process import BotProcess
from tests.scenario import label, t
from tests.test_signal import answer, listed


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
