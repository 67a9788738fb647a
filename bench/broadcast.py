"""A broadcast to 5,000 people, composed by a coordinator in the bot and sent with one tap."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path

from bench.harness import (
    COORDINATOR_ID,
    LANGUAGES,
    BenchAPI,
    BotProcess,
    city_file,
    create_schema,
    seed_people,
)

RECIPIENTS = range(100_000, 105_000)
NEWS = "Stammtisch am Mittwoch: Bürgergeld & Sprachkurse"


@dataclass
class Broadcast:
    copies: int
    seconds: float
    violations: int  # 429s the fake server had to give (limits on only)
    kinds: dict[str, int]  # which limit they hit
    first: float  # seconds from the tap on *send* to the first copy

    @property
    def per_second(self) -> float:
        return self.copies / self.seconds


async def broadcast(folder: Path, *, limit: int | None, per_second: int) -> Broadcast:
    """Send to every recipient; ``limit``: the fake server answers 429 above it (overall)."""
    api = BenchAPI()
    await api.start()
    db_path = folder / "lotsenbot.sqlite3"
    await create_schema(db_path)
    seed_people(db_path, [COORDINATOR_ID, *RECIPIENTS], languages=LANGUAGES)
    for user_id in RECIPIENTS:
        api.user(user_id, f"P{user_id}", language_code=None)
    coordinator = api.user(COORDINATOR_ID, "Koordination", language_code="de")
    config = city_file(
        folder, telegram_ids=f"[{COORDINATOR_ID}]", messages_per_second=str(per_second)
    )
    bot = BotProcess("lotsenbot", api, folder, config)
    await bot.start()
    copies: list[float] = []
    expected = len(RECIPIENTS) + 1  # the coordinator is one of everyone
    done = asyncio.Event()

    def on_reply(chat_id: int, data: list[str], at: float) -> None:
        if "news:off" in data:
            copies.append(at)
            if len(copies) >= expected:
                done.set()

    try:
        seen = len(coordinator.bot_messages())
        await coordinator.send("/broadcast")
        await coordinator.wait_for_message(lambda m: m.text.startswith("📢"), after=seen)
        await coordinator.send(NEWS)
        await coordinator.press(data="bc:aud:everyone")
        await coordinator.wait_for_message(
            lambda m: any(b.get("callback_data") == "bc:send" for r in m.buttons for b in r),
            after=seen,
        )
        limits = api.enforce_limits(overall=limit) if limit else None
        api.on_reply = on_reply
        # To a large audience *Send now* asks once more, with the count: the clock starts at
        # the yes.
        seen = len(coordinator.bot_messages())
        await coordinator.press(data="bc:send")
        question = await coordinator.wait_for_message(
            lambda m: any(b.get("callback_data") == "bc:send_yes" for r in m.buttons for b in r),
            after=seen,
        )
        started = time.perf_counter()
        await coordinator.press(data="bc:send_yes", message=question)
        await asyncio.wait_for(done.wait(), timeout=120)
        took = copies[-1] - started
    finally:
        await bot.stop()
        await api.stop()
    kinds: dict[str, int] = {}
    for violation in limits.violations if limits else []:
        kind = violation.split(":")[0].split()[0]
        kinds[kind] = kinds.get(kind, 0) + 1
    violations = len(limits.violations) if limits else 0
    return Broadcast(len(copies), took, violations, kinds, copies[0] - started)
