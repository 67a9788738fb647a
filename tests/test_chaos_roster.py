"""Chaos with the office: Lotsen are suspended on the command line while they race to
accept offers and the real `lotsenbot run` is SIGKILLed again and again.

Afterwards: every request exists once and ended with a Lotse who is not suspended; no case,
and no open offer, is left with a suspended Lotse; each suspended Lotse was told at most
once; the stored load is what the cases say; ``PRAGMA integrity_check`` is ``ok``.
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
import subprocess
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.config import load_city
from channels.telegram.fakeapi import FakeBotAPI, FakeUser
from tests.chaos import Killer, LotseDuty, handled
from tests.conftest import COORDINATOR_ID, ROOT, assert_stored_load_is_counted
from tests.process import LOTSENBOT, BotProcess, bot_env, city_file
from tests.scenario import BY_TELEGRAM_ID, ask_for_lotse, become_lotse, invite_codes, onboard, t

REQUESTS = 8
PATIENCE = 45.0


@pytest.fixture
async def process(api: FakeBotAPI, tmp_path: Path) -> AsyncIterator[BotProcess]:
    config = city_file(tmp_path, telegram_ids=f"[{COORDINATOR_ID}]")
    bot = BotProcess(api, tmp_path / "lotsenbot.sqlite3", tmp_path / "bot.log", config)
    yield bot
    if bot.proc is not None and bot.proc.returncode is None:
        await bot.kill()


async def suspend(process: BotProcess, person_id: int) -> None:
    """``lotsenbot lotsen suspend`` beside the bot, as an operator types it."""
    done = await asyncio.to_thread(
        subprocess.run,
        [str(LOTSENBOT), "lotsen", "suspend", str(person_id), "--reason", "Chaos"],
        env=bot_env(None, process.db_path, process.config),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def person_id(db: Path, telegram_id: int) -> int:
    with sqlite3.connect(db) as conn:
        row = conn.execute(f"SELECT id FROM person WHERE {BY_TELEGRAM_ID}", (telegram_id,))
        return int(row.fetchone()[0])


async def test_suspensions_during_offers_and_kills_leave_no_case_with_a_suspended_lotse(
    api: FakeBotAPI, process: BotProcess
) -> None:
    api.patience = PATIENCE
    chance = random.Random(20261201)
    await process.start()
    codes = await invite_codes(api, 3)
    lotsen = list(
        await asyncio.gather(
            *(become_lotse(api, 8400 + i, f"L{i}", ["de"], code) for i, code in enumerate(codes))
        )
    )
    for lotse in lotsen:  # room for every request
        await lotse.press(data="prof:show:max")
        await lotse.press(data="prof:max:8")
        await lotse.wait_for_message(lambda m: "✅ 8" in m.button_labels())
    ids = [person_id(process.db_path, lotse.id) for lotse in lotsen]
    suspended = ids[:2]  # the third stays and takes everything in the end
    presses: Counter[str] = Counter()
    duties = [asyncio.create_task(LotseDuty(api, lotse, presses).run()) for lotse in lotsen]
    people = [api.user(8500 + i, f"P{i}", language_code="de") for i in range(REQUESTS)]

    def settled() -> bool:
        with sqlite3.connect(process.db_path) as conn:
            rows = conn.execute("SELECT status, lotse_id FROM request").fetchall()
            pending = conn.execute(
                "SELECT count(*) FROM timer WHERE kind GLOB 'lotse:*' AND done_at IS NULL"
            ).fetchone()[0]
        return (
            len(rows) == REQUESTS and all(r == ("accepted", ids[2]) for r in rows) and pending == 0
        )

    async def person(user: FakeUser, delay: float) -> None:
        await asyncio.sleep(delay)
        await onboard(user, "de")
        await ask_for_lotse(user, "de", name=user.data["first_name"])

    async def office(killer: Killer) -> None:
        for number, lotse_id in enumerate(suspended, start=1):
            await killer.reached(2 * number)
            await suspend(process, lotse_id)

    killer = Killer(process, chance)
    traffic = asyncio.gather(
        *(person(user, 0.4 * i) for i, user in enumerate(people)), office(killer)
    )
    try:
        await asyncio.gather(killer.run(lambda: traffic.done() and settled()), traffic)
        if process.proc is None or process.proc.returncode is not None:
            await process.start()  # the killer leaves it running when it stops
        assert await handled(process.db_path, api.last_update_id, 60)
        await api.wait_until(settled, timeout=120)
    finally:
        for duty in duties:
            duty.cancel()
        await process.kill()

    told = t("de").gettext(
        "The coordination office has paused your role as a Lotse: you get no requests "
        "for now, and your open cases go to other Lotsen. Please contact the office: "
        "{email}",
        email=load_city(process.config).contact.email,
    )
    with sqlite3.connect(process.db_path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute(
            "SELECT count(*) FROM offer WHERE status = 'open' AND lotse_id IN (?, ?)", suspended
        ).fetchone() == (0,)
        assert [r[0] for r in conn.execute("SELECT stopped FROM lotse ORDER BY person_id")] == [
            "suspended",
            "suspended",
            None,
        ]
    for lotse in lotsen[:2]:
        texts = [m.text for m in lotse.bot_messages()]
        assert sum(text.startswith(told[:40]) for text in texts) <= 1
    await assert_stored_load_is_counted(process.db_path)
    assert killer.kills >= 4
