"""Chaos: many people use the real `lotsenbot run` while it is SIGKILLed again and again."""

from __future__ import annotations

import asyncio
import random
import sqlite3
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.fakeapi import FakeBotAPI, FakeUser
from handlers import request_views as rv
from tests.conftest import COORDINATOR_ID
from tests.process import LOTSENBOT, BotProcess, bot_env
from tests.scenario import ask_for_lotse, become_lotse, invite_codes, label, onboard, t

LANGUAGES = ["ar", "uk", "fa", "de", "ru", "tr"]


@pytest.fixture
async def process(api: FakeBotAPI, tmp_path: Path) -> AsyncIterator[BotProcess]:
    bot = BotProcess(api, tmp_path / "lotsenbot.sqlite3", tmp_path / "bot.log")
    added = subprocess.run(  # noqa: ASYNC221 - set-up before the bot starts
        [str(LOTSENBOT), "coordinator", "add", str(COORDINATOR_ID)],
        env=bot_env(None, bot.db_path),
        capture_output=True,
        text=True,
        check=False,
    )
    assert added.returncode == 0, added.stderr
    yield bot
    if bot.proc is not None and bot.proc.returncode is None:
        await bot.kill()


async def test_requests_and_cases_survive_repeated_sigkill(
    api: FakeBotAPI, process: BotProcess
) -> None:
    chance = random.Random(20261124)
    await process.start()
    codes = await invite_codes(api, len(LANGUAGES))
    lotsen = [
        await become_lotse(api, 8100 + i, f"Lotse{i}", [language, "de"], code)
        for i, (language, code) in enumerate(zip(LANGUAGES, codes, strict=True))
    ]
    refugees = [
        api.user(8200 + i, f"Person{i}", language_code=language)
        for i, language in enumerate(LANGUAGES * 2)
    ]

    kills = 0
    traffic_done = asyncio.Event()

    async def killer() -> None:
        nonlocal kills
        while not traffic_done.is_set():
            await asyncio.sleep(chance.uniform(0.2, 0.8))
            if traffic_done.is_set():
                break
            await process.kill()
            kills += 1
            await asyncio.sleep(chance.uniform(0.0, 0.3))
            await process.start()

    async def person(user: FakeUser, language: str, delay: float) -> None:
        await asyncio.sleep(delay)  # people arrive over several seconds
        await onboard(user, language)
        await ask_for_lotse(user, language, name=user.data["first_name"])

    chaos = asyncio.create_task(killer())
    try:
        await asyncio.wait_for(
            asyncio.gather(
                *(
                    person(user, user.data["language_code"], chance.uniform(0, 12))
                    for user in refugees
                )
            ),
            240,
        )
    finally:
        traffic_done.set()
        await chaos
    if process.proc is None or process.proc.returncode is not None:
        await process.start()

    # Every Lotse accepts what is offered to them; first accept wins.
    async def accept_all(lotse: FakeUser) -> None:
        for message in [m for m in lotse.bot_messages() if m.buttons and "🔔" in m.text]:
            await lotse.press(data=message.buttons[0][0]["callback_data"], message=message)

    await asyncio.gather(*(accept_all(lotse) for lotse in lotsen))
    await asyncio.sleep(1.0)
    assert await process.terminate() == 0

    with sqlite3.connect(process.db_path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        sent = {
            u.id
            for u in refugees
            if any(
                m.text.startswith(rv.sent(t(u.data["language_code"])).text[:12])
                for m in u.bot_messages()
            )
        }
        stored = dict(
            conn.execute(
                "SELECT p.telegram_id, count(*) FROM request r JOIN person p ON p.id = r.person_id "
                "WHERE r.status <> 'draft' GROUP BY p.telegram_id"
            ).fetchall()
        )
        # No confirmed request lost, none duplicated.
        assert set(stored) == sent == {u.id for u in refugees}
        assert set(stored.values()) == {1}
        # No case with two Lotsen.
        doubles = conn.execute(
            "SELECT request_id FROM offer WHERE status = 'accepted' "
            "GROUP BY request_id HAVING count(*) > 1"
        ).fetchall()
        assert doubles == []
        mismatched = conn.execute(
            "SELECT r.id FROM request r JOIN offer o ON o.request_id = r.id "
            "AND o.status = 'accepted' WHERE r.lotse_id IS NOT o.lotse_id"
        ).fetchall()
        assert mismatched == []
    # Each person heard about their Lotse at most once.
    for user in refugees:
        language = user.data["language_code"]
        news = [m for m in user.bot_messages() if m.text.startswith("🎉")]
        assert len(news) <= 1, language
    print(f"chaos: the bot survived {kills} SIGKILLs")
    assert kills >= 5
    assert label("de", "✅ Accept")
