"""Telegram's errors: flood control, server errors, blocked users; nothing that matters is lost."""

from __future__ import annotations

import sqlite3
import time

from channels.telegram.fakeapi import FakeBotAPI
from tests.conftest import COORDINATOR_ID, RunningBot, eventually
from tests.scenario import (
    BY_TELEGRAM_ID,
    ask_for_lotse,
    become_lotse,
    invite_codes,
    label,
    onboard,
    t,
    telegram_id_of,
)


async def test_flood_control_on_a_reply_is_waited_out_and_the_reply_arrives_once(
    running: RunningBot, api: FakeBotAPI
) -> None:
    user = api.user(3101, "Nour", language_code="ar")
    other = api.user(3102, "Jonas", language_code="de")
    flood = api.flood("sendMessage", retry_after=1)
    started = time.monotonic()
    await user.send("/start")
    await api.wait_until(lambda: flood.times == 0)  # the reply was answered 429
    await other.send("/start")  # another chat is not held up by the first one's wait
    await other.wait_for_text(t("de").gettext("Please choose your language:"))
    await user.wait_for_text(t("ar").gettext("Please choose your language:"))
    assert time.monotonic() - started >= 1.0
    assert len(user.bot_messages()) == 1 and len(other.bot_messages()) == 1
    chats = [c.params.get("chat_id") for c in api.calls_of("sendMessage")]
    assert chats == [3101, 3102, 3101]  # refused, the other chat's reply, the retry


async def test_server_errors_and_lost_connections_are_retried(
    running: RunningBot, api: FakeBotAPI
) -> None:
    user = api.user(3201, "Olena", language_code="uk")
    api.inject("sendMessage", 502, "Bad Gateway", times=2)
    await user.send("/start")
    await user.wait_for_text(t("uk").gettext("Please choose your language:"))
    assert len(user.bot_messages()) == 1
    assert len([c for c in api.calls_of("sendMessage") if c.params.get("chat_id") == 3201]) == 3


async def test_a_person_who_blocked_the_bot_is_marked_and_skipped(
    running: RunningBot, api: FakeBotAPI
) -> None:
    coordinator = api.user(COORDINATOR_ID)
    codes = await invite_codes(api, 2)
    blocked = await become_lotse(api, 3301, "Gone", ["fa"], codes[0])
    active = await become_lotse(api, 3302, "Here", ["fa"], codes[1])
    api.block(blocked.id)
    await blocked.send("/menu")  # the reply fails with 403
    db = running.settings.db_path

    def unreachable(telegram_id: int) -> bool:
        with sqlite3.connect(db) as conn:
            row = conn.execute(
                f"SELECT unreachable_at FROM person WHERE {BY_TELEGRAM_ID}", (telegram_id,)
            ).fetchone()
        return row is not None and row[0] is not None

    await api.wait_until(lambda: api.calls_of("sendMessage")[-1].params.get("chat_id") == 3301)
    await eventually(lambda: unreachable(3301))
    alerts = len(coordinator.bot_messages())

    refugee = api.user(3303, "Reza", language_code="fa")
    await onboard(refugee, "fa")
    await ask_for_lotse(refugee, "fa", name="Reza")
    await active.wait_for_text("🔔")
    with sqlite3.connect(db) as conn:
        offered = conn.execute(
            f"SELECT {telegram_id_of('p')} FROM offer o JOIN person p ON p.id = o.lotse_id"
        ).fetchall()
    assert offered == [(3302,)]
    assert len(coordinator.bot_messages()) == alerts  # a block is no error to alert about

    # Writing again makes them reachable.
    api.blocked.discard(blocked.id)
    await blocked.send("/menu")
    await blocked.wait_for_text(label("fa", "What would you like to do?"))
    assert not unreachable(3301)
