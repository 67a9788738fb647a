"""Property-based: whatever people send, in whatever state, the bot answers and never fails."""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.config import load_city
from bot.fakeapi import FakeBotAPI, FakeUser
from handlers import views
from tests.conftest import CITY_FILE, COORDINATOR_ID, start_bot
from tests.scenario import t

COMMANDS = [
    "/start",
    "/menu",
    "/status",
    "/help",
    "/privacy",
    "/language",
    "/mydata",
    "/delete",
    "/invite",
    "/requests",
    "/broadcast",
    "/stammtisch",
    "/waitlist",
    "/stats",
    "/start ABCDEF1234",
    "/nonsense",
    "/start x y",
]
PREFIXES = [
    "lang:",
    "consent:",
    "menu:",
    "ask:",
    "req:",
    "offer:",
    "case:",
    "att:",
    "fb:",
    "prof:",
    "lotse:",
    "coord:",
    "priv:",
    "bc:",
    "news:",
    "ev:",
    "evd:",
    "wl:",
    "wld:",
    "wlc:",
    "st:",
    "idle:keep:",
    "idle:close:",
    "",
]

callback_data = st.builds(
    lambda prefix, rest: (prefix + rest).encode()[:64].decode("utf-8", "ignore") or "x",
    st.sampled_from(PREFIXES),
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=0x2FFF), max_size=40)
    | st.sampled_from(["yes", "no", "1", "999", "1:2", "de", "xx", "accept:1", "-1", "9" * 30]),
)

actions = st.one_of(
    st.tuples(st.just("text"), st.text(min_size=1, max_size=300).filter(str.strip)),
    st.tuples(st.just("text"), st.just("ﷺ" * 4096)),
    st.tuples(st.just("command"), st.sampled_from(COMMANDS)),
    st.tuples(st.just("press"), st.integers(min_value=0, max_value=30)),
    st.tuples(st.just("press"), st.integers(min_value=0, max_value=30)),
    st.tuples(st.just("forge"), callback_data),
    st.tuples(st.just("sticker"), st.none()),
    st.tuples(st.just("voice"), st.none()),
    st.tuples(st.just("photo"), st.none()),
    st.tuples(st.just("location"), st.none()),
    st.tuples(st.just("edit"), st.text(min_size=1, max_size=50).filter(str.strip)),
)


def _done(db: Path, update_id: int) -> bool:
    try:
        with sqlite3.connect(db) as conn:
            row = conn.execute(
                "SELECT done_at FROM inbox WHERE update_id = ?", (update_id,)
            ).fetchone()
    except sqlite3.Error:
        return False
    return row is not None and row[0] is not None


def _footprint(api: FakeBotAPI, user: FakeUser) -> tuple[int, int, int]:
    messages = user.bot_messages()
    return len(messages), sum(m.edits for m in messages), len(api.callback_answers)


async def _act(user: FakeUser, kind: str, value: Any) -> int:
    if kind in ("text", "command"):
        return await user.send(value)
    if kind == "press":
        buttons = [(m, b) for m in user.bot_messages()[-4:] for row in m.buttons for b in row]
        if buttons:
            message, button = buttons[value % len(buttons)]
            await user.press(data=button["callback_data"], message=message)
            return user.api.last_update_id
        return await user.send("/start")
    if kind == "forge":
        await user.press(data=value)
        return user.api.last_update_id
    if kind == "sticker":
        return await user.send_sticker()
    if kind == "voice":
        return await user.send_voice()
    if kind == "photo":
        return await user.send_photo()
    if kind == "location":
        return await user.send_raw(location={"latitude": 51.66, "longitude": 6.96})
    mine = [m for m in user.api.messages(user.id) if not m.from_bot]
    if mine:
        return await user.edit(mine[-1].message_id, value)
    return await user.send(value)


async def _run(language: str, onboarded: bool, steps: list[tuple[str, Any]]) -> None:
    api = FakeBotAPI()
    await api.start()
    city = dataclasses.replace(load_city(CITY_FILE), coordinator_ids=frozenset({COORDINATOR_ID}))
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "bot.sqlite3"
        bot = await start_bot(api, city, db)
        try:
            user = api.user(6001, "Fuzz", language_code=language)
            if onboarded:
                await user.send("/start")
                await user.press(data=f"lang:{language}")
                await user.press(data="consent:yes")
                await user.wait_for_message(lambda m: len(m.buttons) >= 6)
            for kind, value in steps:
                before = _footprint(api, user)
                update_id = await _act(user, kind, value)
                for _ in range(500):
                    if _done(db, update_id):
                        break
                    await asyncio.sleep(0.01)
                assert _done(db, update_id), f"{kind} was never handled"
                await api.wait_until(lambda before=before: _footprint(api, user) != before, 5)
                assert not bot.task.done()
            apologies = [m for m in user.bot_messages() if m.text == views.apology(t(language))]
            assert apologies == [], "an unexpected error happened"
        finally:
            await bot.shutdown()
            await api.stop()


@settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    language=st.sampled_from(["de", "ar", "uk", "ku"]),
    onboarded=st.booleans(),
    steps=st.lists(actions, min_size=1, max_size=10),
)
def test_every_input_in_every_state_gets_an_answer(
    language: str, onboarded: bool, steps: list[tuple[str, Any]]
) -> None:
    asyncio.run(_run(language, onboarded, steps))
