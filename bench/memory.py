"""Resident memory of the running bot (``lotsenbot run``) as the database grows."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bench.harness import (
    LANGUAGES,
    BenchAPI,
    BotProcess,
    Replies,
    closed_loop_user,
    full_intake,
    intake_world,
    seed_people,
)

ACTIVE = range(1_000, 1_100)


async def resident_memory(folder: Path, people: int) -> int:
    """KiB of RSS after start and 100 people going through the intake, ``people`` in the db."""
    api = BenchAPI()
    await api.start()
    await intake_world(api, folder)
    seed_people(folder / "lotsenbot.sqlite3", range(200_000, 200_000 + people))
    for user_id in ACTIVE:
        api.user(user_id, "Amal", language_code=LANGUAGES[user_id % len(LANGUAGES)])
    bot = BotProcess("lotsenbot", api, folder)
    await bot.start()
    try:
        replies = Replies(api)
        await asyncio.gather(
            *(closed_loop_user(api, replies, u, full_intake(u), 120) for u in ACTIVE)
        )
        await asyncio.sleep(0.5)
        return bot.rss_kib()
    finally:
        await bot.stop()
        await api.stop()
