"""An existing database upgrades in place, and the bot carries on with all of it.

The database (tests/data/schema-0008.sql) was made by the bot at schema 0008 with
tests/data/make_schema_0008.py: people, a Lotse, an open case with messages relayed both
ways, a finished broadcast, someone on the training waiting list. Telegram's side of those
chats comes with it (schema-0008-telegram.json), so people answer the messages they have.
The bot starts on it the next morning and applies whatever migrations came after 0008.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from bot.clock import ManualClock
from bot.config import CityConfig
from bot.domain.requests import Status
from bot.storage.database import _migrations
from channels.telegram.fakeapi import BotMessage, FakeBotAPI, FakeUser
from handlers import asking_views, case_views
from handlers import broadcast_views as bv
from tests.conftest import COORDINATOR_ID, assert_stored_load_is_counted, plain, start_bot
from tests.data.make_schema_0008 import (
    AMAL,
    AMAL_WROTE,
    DUMP,
    JONAS,
    JONAS_WROTE,
    MADE_AT,
    MIRA,
    MIRA_NAME,
    NEWS,
    TELEGRAM,
)
from tests.scenario import BY_TELEGRAM_ID, passed_on, t
from tests.test_broadcasts import compose, copies
from tests.test_case_messages import case, reply
from tests.test_mydata import missing_from, my_data


def load(path: Path) -> None:
    """The database file as it was at schema 0008."""
    with closing(sqlite3.connect(path)) as conn:
        conn.executescript(DUMP.read_text(encoding="utf-8"))


def reports(coordinator: FakeUser) -> list[BotMessage]:
    """The coordinator's reports of finished broadcasts."""
    header = plain(t("de").gettext("✅ <b>Broadcast finished</b> ({audience})", audience=""))
    return [m for m in coordinator.bot_messages() if m.text.startswith(header.split("(")[0])]


async def test_a_database_of_schema_0008_upgrades_in_place_and_the_bot_carries_on(
    api: FakeBotAPI, city: CityConfig, tmp_path: Path
) -> None:
    path = tmp_path / "lotsenbot.sqlite3"
    load(path)
    with closing(sqlite3.connect(path)) as conn:
        telegram_ids = dict(conn.execute("SELECT id, telegram_id FROM person").fetchall())
    api.restore(json.loads(TELEGRAM.read_text(encoding="utf-8")))
    coordinator, jonas, amal, mira = (api.user(i) for i in (COORDINATOR_ID, JONAS, AMAL, MIRA))
    bot = await start_bot(api, city, path, ManualClock(MADE_AT + timedelta(days=1)))
    try:
        with closing(sqlite3.connect(path)) as conn:
            assert conn.execute("PRAGMA user_version").fetchone() == (len(_migrations()),)
            # Everyone is reached where they were: one contact each, their Telegram id.
            contacts = conn.execute(
                "SELECT person_id, channel, address FROM contact ORDER BY person_id"
            ).fetchall()
            assert contacts == [
                (person_id, "telegram", str(telegram_id))
                for person_id, telegram_id in sorted(telegram_ids.items())
            ]
            assert len(telegram_ids) == 4
        accepted = replace(case(1, Status.ACCEPTED), topic="jobcenter")

        # Jonas answers Amal's message of yesterday by replying to it: it reaches her, with
        # the case number, and he sees where it went.
        hers = case_views.relayed(t("de"), accepted, "Amal", AMAL_WROTE)
        (earlier,) = [m for m in jonas.bot_messages() if m.text == hers]
        answer = "Guten Morgen Amal, bringen Sie den Brief bitte mit."
        seen = len(jonas.bot_messages())
        await reply(jonas, earlier, answer)
        await amal.wait_for_message(
            lambda m: m.text == case_views.relayed(t("ar"), accepted, "Jonas", answer)
        )
        await passed_on(api, jonas, answer)
        # And Amal answers his message of yesterday the same way.
        his = case_views.relayed(t("ar"), accepted, "Jonas", JONAS_WROTE)
        (earlier,) = [m for m in amal.bot_messages() if m.text == his]
        seen = len(amal.bot_messages())
        await reply(amal, earlier, "شكرا")
        await jonas.wait_for_message(
            lambda m: m.text == case_views.relayed(t("de"), accepted, "Amal", "شكرا")
        )
        await passed_on(api, amal, "شكرا")

        # Amal's /status shows her case.
        seen = len(amal.bot_messages())
        await amal.send("/status")
        status = await amal.wait_for_message(after=seen)
        assert status.text == plain(asking_views.status_list(t("ar"), [accepted]).text)

        # The coordinator's /waitlist shows Mira, waiting since yesterday.
        de = t("de")
        seen = len(coordinator.bot_messages())
        await coordinator.send("/waitlist")
        overview = await coordinator.wait_for_message(after=seen)
        lines = overview.text.split("\n")
        assert lines[0] == plain(de.ngettext("<b>Waiting list</b>: {n} person", "", 1))
        assert lines[1].startswith(f"1. {MIRA_NAME} · {de.gettext('the chat with the bot')} · ")
        assert "Altendorf-Ulfkotte" in lines[1]
        assert de.short_day(MADE_AT.date()) in lines[1]

        # The finished broadcast: its report stays the only one, nothing of it is sent again,
        # and a new broadcast goes to everyone once.
        assert len(reports(coordinator)) == 1
        await compose(coordinator, "Neue Sprachkurse ab Januar", "everyone")
        await coordinator.press(data="bc:send")
        await api.wait_until(lambda: len(reports(coordinator)) == 2)
        await bot.timers.mailings.wait_idle()
        for user in (jonas, amal, mira):
            assert [NEWS in m.text for m in copies(user)] == [True, False], user.id
        news_off = await amal.press(data=bv.NEWS_OFF, message=copies(amal)[0])
        await amal.wait_for_answer(news_off)
        await amal.wait_for_text(plain(bv.news_off(t("ar")).text))

        # /mydata still lists every row about each of them, read from the upgraded schema.
        exports = {}
        for user in (coordinator, jonas, amal, mira):
            exports[user.id] = export = await my_data(user, api)
            with closing(sqlite3.connect(path)) as conn:
                (person_id,) = conn.execute(
                    f"SELECT id FROM person WHERE {BY_TELEGRAM_ID}", (user.id,)
                ).fetchone()
                missing, _ = missing_from(export, conn, person_id, user.id)
            assert missing == [], (user.id, missing)
        assert [(r["id"], r["status"]) for r in exports[AMAL]["requests"]] == [(1, "accepted")]
        assert [r["status"] for r in exports[AMAL]["mailings_received"]] == ["sent", "sent"]
        assert exports[COORDINATOR_ID]["broadcasts_written"][0]["text"] == NEWS
        assert exports[COORDINATOR_ID]["mailing_reports"][0]["status"] == "done"
        assert exports[MIRA]["waiting_list"]["name"] == MIRA_NAME
    finally:
        await bot.shutdown()
    await assert_stored_load_is_counted(path)
