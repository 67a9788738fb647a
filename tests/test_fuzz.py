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
from tests.conftest import CITY_FILE, COORDINATOR_ID, eventually, start_bot
from tests.scenario import ask_for_lotse, become_lotse, has_data, invite_codes, onboard, t

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


# ---------------------------------------------------------------- replies to a closed case

replies = st.tuples(
    st.sampled_from(["lotse", "person"]),
    st.sampled_from(["reply", "reply", "text"]),
    st.integers(min_value=0, max_value=60),
    st.text(min_size=1, max_size=60).filter(str.strip),
)


async def _case_world(api: FakeBotAPI) -> tuple[FakeUser, FakeUser, FakeUser]:
    """A Lotse closed Amal's case (#1) after messages both ways and runs Bashir's (#2)."""
    codes = await invite_codes(api, 1)
    lotse = await become_lotse(api, 6101, "Yusuf", ["de", "ar"], codes[0])
    amal, bashir = (
        api.user(6102, "Amal", language_code="ar"),
        api.user(6103, "Bashir", language_code="ar"),
    )
    await onboard(amal, "ar")
    await ask_for_lotse(amal, "ar", name="Amal")
    await lotse.press(data="offer:accept:1")
    await amal.wait_for_message(lambda m: m.text.startswith("🎉"))
    await amal.send("Fuzz: Amal schreibt")
    await lotse.wait_for_text("Fuzz: Amal schreibt")
    await lotse.send("Fuzz: Yusuf schreibt")
    await amal.wait_for_text("Fuzz: Yusuf schreibt")
    await lotse.press(data="case:done:1")
    hours = await lotse.wait_for_message(lambda m: has_data(m, "case:hours:1:2"))
    await lotse.press(data="case:hours:1:2", message=hours)
    await amal.wait_for_message(lambda m: "👍" in m.button_labels())
    await onboard(bashir, "ar")
    await ask_for_lotse(bashir, "ar", name="Bashir")
    await lotse.press(data="offer:accept:2")
    await bashir.wait_for_message(lambda m: m.text.startswith("🎉"))
    return lotse, amal, bashir


def _case_of(db: Path, chat_id: int, message_id: int) -> int | None:
    with sqlite3.connect(db) as conn:
        row = conn.execute(
            "SELECT request_id FROM relay WHERE receiver_chat = ? AND message_id = ?",
            (chat_id, message_id),
        ).fetchone()
    return int(row[0]) if row else None


async def _run_replies(steps: list[tuple[str, str, int, str]]) -> None:
    api = FakeBotAPI()
    await api.start()
    city = dataclasses.replace(load_city(CITY_FILE), coordinator_ids=frozenset({COORDINATOR_ID}))
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "bot.sqlite3"
        bot = await start_bot(api, city, db)
        try:
            lotse, amal, bashir = await _case_world(api)
            nowhere: list[str] = []  # must reach nobody
            only_bashir: list[str] = []  # may reach Bashir (case #2), nobody else
            for number, (who, kind, index, value) in enumerate(steps):
                user = lotse if who == "lotse" else amal
                text = f"F{number}: {value.strip()}"
                before = _footprint(api, user)
                chat = [m for m in api.messages(user.id) if not m.deleted]
                if kind == "reply" and chat:
                    target = chat[index % len(chat)]
                    case = _case_of(db, user.id, target.message_id)
                    update_id = await user.send_raw(text=text, reply_to_message=target.raw)
                else:
                    case = 2 if user is lotse else None  # plain text: the one running case
                    update_id = await user.send(text)
                (only_bashir if user is lotse and case == 2 else nowhere).append(text)
                await eventually(lambda update_id=update_id: _done(db, update_id))
                await api.wait_until(
                    lambda before=before, user=user: _footprint(api, user) != before, 5
                )
            for person in (lotse, amal, bashir):
                shown = " ".join(m.text for m in person.bot_messages())
                for text in nowhere:
                    assert text not in shown, (text, person.id)
                for text in only_bashir:
                    assert person is bashir or text not in shown, (text, person.id)
                apologies = [m for m in person.bot_messages() if m.text in _apologies()]
                assert apologies == [], "an unexpected error happened"
        finally:
            await bot.shutdown()
            await api.stop()


def _apologies() -> set[str]:
    return {views.apology(t(language)) for language in ("de", "ar")}


@settings(
    max_examples=6,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(steps=st.lists(replies, min_size=1, max_size=8))
def test_replies_to_a_closed_case_reach_nobody(steps: list[tuple[str, str, int, str]]) -> None:
    """A Lotse and the person of a closed case reply to any message in their chats, or write
    plainly: nothing reaches the closed case's other side, and a reply to a message that is
    not of the running case reaches nobody."""
    asyncio.run(_run_replies(steps))
