"""Make the database that tests/test_upgrade.py upgrades: today's schema (migration 0008)
with a little of everything, made by the real bot through the fake Bot API.

    .venv/bin/python -m tests.data.make_schema_0008

writes, next to this file,

* ``schema-0008.sql``: the database as ``sqlite3``'s ``iterdump()`` gives it, followed by
  its ``PRAGMA user_version`` (which a dump leaves out);
* ``schema-0008-telegram.json``: what the fake Bot API held at the end (the people, their
  chats with the bot's messages and buttons, the next update and message ids), the side of
  the conversation Telegram keeps; the test continues from it with ``FakeBotAPI.restore``.

What is in it, all at made-up people, on a frozen clock from ``MADE_AT`` on (so the files
come out the same every time):

* the coordinator (``COORDINATOR_ID``, German);
* Jonas (``JONAS``), who asked for approval as a Lotse, was approved and added Arabic;
* Amal (``AMAL``, Arabic), who asked for a Lotse (case #1, a letter from the Jobcenter);
  Jonas accepted; she wrote to him (``AMAL_WROTE``) and he answered by replying to it
  (``JONAS_WROTE``);
* a broadcast to everyone (``NEWS``), sent and finished;
* Mira (``MIRA``, Ukrainian), who joined the training waiting list as ``MIRA_NAME``.

The files are the schema at 0008 and must stay so: after a later migration this script
refuses to run, since it would make a database of that later schema.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sqlite3
import tempfile
from contextlib import closing
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bot.clock import ManualClock
from bot.config import load_city
from bot.i18n import language_name
from bot.storage.database import _migrations
from channels.telegram.fakeapi import FakeBotAPI, FakeUser
from handlers import lotse_views
from tests.conftest import BERLIN, CITY_FILE, COORDINATOR_ID, RunningBot, start_bot
from tests.scenario import ask_for_lotse, has_data, join_waitlist, label, onboard, t
from tests.test_broadcasts import compose, copies, final_report
from tests.test_case_messages import accept_next_offer, reply

HERE = Path(__file__).resolve().parent
SCHEMA = 8
DUMP = HERE / f"schema-{SCHEMA:04d}.sql"
TELEGRAM = HERE / f"schema-{SCHEMA:04d}-telegram.json"

#: When the first person writes; each step below comes a few minutes later.
MADE_AT = datetime(2026, 11, 24, 10, 0, tzinfo=BERLIN)
JONAS, AMAL, MIRA = 7101, 7102, 7103
AMAL_WROTE = "Ich habe einen Brief vom Jobcenter bekommen und verstehe ihn nicht."
JONAS_WROTE = "Hallo Amal, ich kann am Donnerstag um 10 Uhr mit Ihnen hingehen."
MIRA_NAME = "Mira Beispiel"
NEWS = "Stammtisch am Mittwoch um 18 Uhr im Treffpunkt Altstadt"


class FrozenClock(ManualClock):
    """A clock that stands still until it is moved (the real time does not leak in)."""

    def __init__(self, start: datetime) -> None:
        super().__init__(start)
        self.start = start
        self.offset = timedelta()

    def now(self) -> datetime:
        """The start plus what it was moved by."""
        return self.start + self.offset


async def scenario(bot: RunningBot, api: FakeBotAPI) -> None:
    """The people's steps, each as a person would take them."""

    async def step(later: timedelta) -> None:
        await bot.handled_all()  # every answer was sent at the time it was due
        bot.clock.advance(later)

    coordinator = api.user(COORDINATOR_ID, "Koordination", language_code="de")
    await onboard(coordinator, "de")

    await step(timedelta(minutes=3))
    jonas = api.user(JONAS, "Jonas", language_code="de")
    await onboard(jonas, "de")
    await jonas.press(label("de", "🧭 I am a Lotse"))
    await jonas.press(label("de", "🙋 Ask for approval"))
    application = await coordinator.wait_for_text("Jonas")
    await step(timedelta(minutes=5))
    await coordinator.press(label("de", "✅ Approve"), message=application)
    await jonas.wait_for_text(lotse_views.welcome_lotse(t("de"))[:30])
    await add_language(jonas, "ar")

    await step(timedelta(minutes=7))
    amal = api.user(AMAL, "Amal", language_code="ar")
    await onboard(amal, "ar")
    await ask_for_lotse(amal, "ar", text="رسالة من Jobcenter", name="Amal")
    await step(timedelta(minutes=4))
    await accept_next_offer(jonas, 1)
    await amal.wait_for_text("Jonas")
    await step(timedelta(minutes=2))
    await amal.send(AMAL_WROTE)
    relayed = await jonas.wait_for_text(AMAL_WROTE)
    await step(timedelta(minutes=6))
    await reply(jonas, relayed, JONAS_WROTE)
    await amal.wait_for_text(JONAS_WROTE)

    await step(timedelta(minutes=9))
    mira = api.user(MIRA, "Mira", language_code="uk")
    await onboard(mira, "uk")
    await join_waitlist(mira, "uk", typed_name=MIRA_NAME, phone=None, district=1)

    await step(timedelta(minutes=14))
    await compose(coordinator, NEWS, "everyone")
    await coordinator.press(data="bc:send")
    await api.wait_until(lambda: final_report(coordinator))
    await bot.timers.mailings.wait_idle()
    for user in (jonas, amal, mira):
        assert len(copies(user)) == 1, user.id
    await bot.handled_all()


async def add_language(lotse: FakeUser, language: str) -> None:
    """Profile → languages → tick ``language``."""
    await lotse.send("/menu")
    await lotse.press(data="lotse:profile")
    await lotse.wait_for_message(lambda m: has_data(m, "prof:show:lang"))
    await lotse.press(data="prof:show:lang")
    await lotse.press(data=f"prof:lang:{language}")
    ticked = f"✅ {language_name(language)}"
    await lotse.wait_for_message(lambda m: ticked in m.button_labels())


async def make() -> tuple[str, str]:
    """Run the scenario; return the dump and the fake Bot API's state, as text."""
    if len(_migrations()) != SCHEMA:
        raise SystemExit(
            f"the schema is at {len(_migrations())} now; {DUMP.name} keeps schema {SCHEMA}"
        )
    city = dataclasses.replace(load_city(CITY_FILE), coordinator_ids=frozenset({COORDINATOR_ID}))
    api = FakeBotAPI()
    await api.start()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "lotsenbot.sqlite3"
        bot = await start_bot(api, city, path, FrozenClock(MADE_AT))
        try:
            await scenario(bot, api)
        finally:
            await bot.shutdown()
            await api.stop()
        with closing(sqlite3.connect(path)) as conn:
            (version,) = conn.execute("PRAGMA user_version").fetchone()
            assert version == SCHEMA, version
            dump = "\n".join(conn.iterdump())
    state = api.snapshot()
    assert not state["pending"], "updates left unhandled"
    return f"{dump}\nPRAGMA user_version = {SCHEMA};\n", _telegram_text(state)


def _telegram_text(state: dict[str, Any]) -> str:
    """The fake Bot API's state as JSON, one message a line (to read it, and its changes)."""

    def one(value: object) -> str:
        return json.dumps(value, ensure_ascii=False, sort_keys=True)

    parts = []
    for key in sorted(state):
        if key != "chats":
            parts.append(f" {one(key)}: {one(state[key])}")
            continue
        chats = [
            f"  {one(chat)}: [\n" + ",\n".join(f"   {one(m)}" for m in messages) + "\n  ]"
            for chat, messages in sorted(state["chats"].items(), key=lambda item: int(item[0]))
        ]
        parts.append(' "chats": {\n' + ",\n".join(chats) + "\n }")
    return "{\n" + ",\n".join(parts) + "\n}\n"


def main() -> None:
    dump, telegram = asyncio.run(make())
    DUMP.write_text(dump, encoding="utf-8")
    TELEGRAM.write_text(telegram, encoding="utf-8")
    print(f"wrote {DUMP.name} ({len(dump)} characters) and {TELEGRAM.name}")


if __name__ == "__main__":
    main()
