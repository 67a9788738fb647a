"""Chaos: many people use the real `lotsenbot run` while it is SIGKILLed again and again.

Refugees ask for Lotsen, two Lotsen per language race to accept each offer, Lotsen answer a
Stammtisch invitation, a coordinator's broadcast goes to a few hundred people, and request
and Stammtisch reminders fall due — all while the process is killed at random moments (now
and then while it is still starting) and started again. Afterwards the fake Bot API's
record of what was sent and the SQLite file (read with plain ``sqlite3``) must agree:

* every confirmed request exists once, in a legal state, and ends up accepted;
* no case has two Lotsen;
* every reminder that fell due reached each side exactly once, or is still pending (a copy
  cut off by a kill mid-send is recorded as unconfirmed and not sent again);
* nobody recorded as sent received a broadcast copy twice, and nobody got one twice at all;
* ``PRAGMA integrity_check`` is ``ok``.

The harness (the killer, the Lotsen on duty, the checks) is ``tests/chaos.py``, which
``make soak`` runs for 200 kills and more.
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
import time as wall
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.fakeapi import FakeBotAPI
from tests.chaos import (
    Killer,
    LotseDuty,
    Plan,
    add_stammtisch,
    check,
    handled,
    make_plan,
    refugee,
)
from tests.conftest import COORDINATOR_ID, assert_stored_load_is_counted
from tests.process import BotProcess, city_file
from tests.scenario import become_lotse, invite_codes, onboard, seed_people
from tests.test_broadcasts import compose, final_report

LANGUAGES = ["ar", "uk", "fa", "de", "ru", "tr"]
LOTSEN_PER_LANGUAGE = 2  # so that two Lotsen race for every offer
REFUGEES = 18
AUDIENCE = range(300_000, 300_300)  # people who only get the broadcast
NEWS = "Chaos-Rundbrief: Sprachcafé am Freitag"
MIN_KILLS = 15
#: Users wait this long for any one answer: a step may span several kills and restarts.
PATIENCE = 45.0


@pytest.fixture
def plan() -> Plan:
    return make_plan(datetime.now(UTC))


@pytest.fixture
async def process(api: FakeBotAPI, tmp_path: Path, plan: Plan) -> AsyncIterator[BotProcess]:
    config = city_file(
        tmp_path,
        telegram_ids=f"[{COORDINATOR_ID}]",
        reminders_minutes_before=plan.minutes_before,
        remind_hours_before="1",
        messages_per_second="15",  # a few hundred copies take long enough to be killed often
    )
    bot = BotProcess(api, tmp_path / "lotsenbot.sqlite3", tmp_path / "bot.log", config)
    yield bot
    if bot.proc is not None and bot.proc.returncode is None:
        await bot.kill()


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
    codes = await invite_codes(api, len(LANGUAGES) * LOTSEN_PER_LANGUAGE)
    lotsen = list(
        await asyncio.gather(
            *(
                become_lotse(api, 8100 + i, f"Lotse{i}", [language, "de"], code)
                for i, (language, code) in enumerate(
                    zip(LANGUAGES * LOTSEN_PER_LANGUAGE, codes, strict=True)
                )
            )
        )
    )
    coordinator = api.user(COORDINATOR_ID, "Koordination", language_code="de")
    await onboard(coordinator, "de")
    await compose(coordinator, NEWS, "everyone")
    # Announced by the bot at its next start; its reminder falls due with the first ones.
    await add_stammtisch(process, plan.stammtisch_for(plan.due[0]))
    refugees = [
        api.user(8200 + i, f"Person{i:02d}", language_code=LANGUAGES[i % len(LANGUAGES)])
        for i in range(REFUGEES)
    ]

    killer = Killer(process, chance)
    presses: Counter[str] = Counter()  # accept presses per offer, to count the races
    traffic_done = asyncio.Event()

    def enough() -> bool:
        return (
            traffic_done.is_set() and killer.kills >= MIN_KILLS and datetime.now(UTC) > plan.due[0]
        )

    chaos = asyncio.create_task(killer.run(enough))
    duties = [asyncio.create_task(LotseDuty(api, lotse, presses).run()) for lotse in lotsen]
    await coordinator.press(data="bc:send")
    try:
        await asyncio.wait_for(
            asyncio.gather(*(refugee(user, plan, chance.uniform(0, 8)) for user in refugees)),
            240,
        )
        traffic_done.set()
        await asyncio.wait_for(asyncio.shield(chaos), 240)
    finally:
        traffic_done.set()
        if not chaos.done():
            chaos.cancel()
        await asyncio.gather(chaos, return_exceptions=True)
    chaos.result()
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
    await api.wait_until(lambda: accepted() == REFUGEES, timeout=60)
    await asyncio.sleep(1.0)  # the news of the last acceptances
    for duty in duties:
        duty.cancel()
    await asyncio.gather(*duties, return_exceptions=True)
    await handled(process.db_path, api.last_update_id, timeout=30)  # checked below
    assert await process.terminate() == 0

    everyone = [*audience, *refugees, *lotsen, coordinator]
    found = check(process.db_path, refugees, lotsen, everyone, updates=api.last_update_id)
    assert found.integrity == "ok"
    assert found.lost == []  # every update handled; every request sent confirmed and stored
    assert found.not_accepted == []
    assert found.double_assigned == []
    assert found.duplicate_copies == []  # no news, reminder or copy twice
    assert found.reminders_missed == []
    assert found.wrong == []  # every copy recorded as sent arrived, no other one did
    assert found.counts["acceptance news cut off"] == 0  # the person heard of the Lotse
    assert found.counts["broadcast:sent"] >= len(AUDIENCE)
    await assert_stored_load_is_counted(process.db_path)
    took = wall.monotonic() - began
    races = sum(1 for n in presses.values() if n >= 2)
    summary = (
        f"chaos: the bot survived {killer.kills} SIGKILLs ({killer.while_starting} while "
        f"starting) in {chaos_took:.0f} s; {REFUGEES} requests, {races} accepted by a race "
        f"of two Lotsen; {found.summary()}; whole test {took:.0f} s"
    )
    print(summary)
    assert killer.kills >= MIN_KILLS, summary
