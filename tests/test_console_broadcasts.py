"""Broadcasts composed at the office console, over HTTP against the real bot: each person of
the audience gets exactly one copy in the right language, the progress counts up to the
report, a large audience is asked once more, a later one can be cancelled."""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
from collections.abc import AsyncIterator
from datetime import timedelta
from html import unescape
from pathlib import Path
from typing import Any

import pytest

from bot.config import CityConfig
from bot.domain.mailings import Audience
from channels.signal.fakedaemon import FakeSignalDaemon
from channels.telegram.fakeapi import FakeBotAPI, FakeUser
from handlers import broadcast_views as bv
from handlers.broadcasts import LARGE_AUDIENCE
from tests.conftest import COORDINATOR_ID, plain
from tests.console import Browser, console_bot
from tests.scenario import become_lotse, invite_codes, onboard, seed_people, t
from tests.test_console_office import desk_with_signal
from tests.test_signal import onboard_on_signal

GERMAN = "Stammtisch am Mittwoch: Bürgergeld & <Kita>"
ARABIC = "اجتماع يوم الأربعاء: Bürgergeld"
HEADER = "📢"
JSON = dict[str, Any]


@pytest.fixture
async def daemon() -> AsyncIterator[FakeSignalDaemon]:
    """A fake signal-cli daemon on a free loopback port."""
    server = FakeSignalDaemon()
    await server.start()
    yield server
    await server.stop()


def copies(user: FakeUser) -> list[str]:
    """The broadcast copies a user received (each carries *no more news*)."""
    return [
        m.text
        for m in user.bot_messages()
        if any(b.get("callback_data") == bv.NEWS_OFF for row in m.buttons for b in row)
    ]


async def followed(browser: Browser, mailing: str, seen: list[int] | None = None) -> JSON:
    """Read a broadcast's progress as the page's script does, until it is done; each
    reading's finished count goes to ``seen``."""
    while True:
        state: JSON = json.loads((await browser.get(mailing + "/progress")).html)
        if seen is not None:
            seen.append(int(state["finished"]))
        if state["done"]:
            return state
        await asyncio.sleep(0.05)


def audit(db_path: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(db_path) as conn:
        return conn.execute("SELECT via, action FROM audit ORDER BY id").fetchall()


def text_of(html: str) -> str:
    return unescape(re.sub(r"<[^>]+>", "", html))


async def test_a_broadcast_from_the_desk_reaches_each_lotse_once_in_their_language(
    api: FakeBotAPI, city: CityConfig, tmp_path: Path
) -> None:
    async with console_bot(api, city, tmp_path) as desk:
        coordinator = api.user(COORDINATOR_ID, "Koordination", language_code="de")
        await onboard(coordinator, "de")
        codes = await invite_codes(api, 2)
        yusuf = await become_lotse(api, 301, "Yusuf", ["ar"], codes[0])
        oksana = await become_lotse(api, 302, "Oksana", ["uk"], codes[1])
        reza = api.user(303, "Reza", language_code="fa")
        await onboard(reza, "fa")
        browser = await desk.signed_in()
        de = t("de")

        form = await browser.get("/broadcasts")
        assert form.status == 200
        lotsen = f"{bv.audience_label(de, Audience('lotsen'))} (2)"
        assert f'<option value="lotsen" selected>{lotsen}</option>' in form.html
        assert 'name="tr_ar" lang="ar" dir="rtl"' in form.html  # the translations beside it

        saved = await browser.post(
            "/broadcasts/draft",
            {"text": GERMAN, "audience": "lotsen", "tr_ar": ARABIC, "tr_uk": ""},
            csrf=await browser.csrf("/broadcasts"),
        )
        assert saved.status == 303 and saved.location == "/broadcasts/draft"
        preview = await browser.get("/broadcasts/draft")
        shown = text_of(preview.html)
        assert (
            plain(
                de.ngettext(
                    "It goes to {audience}: {n} person.",
                    "It goes to {audience}: {n} people.",
                    2,
                    audience=bv.audience_label(de, Audience("lotsen")),
                )
            )
            in shown
        )
        assert GERMAN in shown and ARABIC in shown  # markup characters shown literally
        assert "<Kita>" not in preview.html  # and escaped

        sent = await browser.post(
            "/broadcasts/send", {"when": "now"}, csrf=await browser.csrf("/broadcasts/draft")
        )
        assert sent.status == 303 and sent.location is not None
        mailing = sent.location
        assert re.fullmatch(r"/broadcasts/\d+", mailing)
        # The same form once more sends nothing: the draft was used.
        again = await browser.post("/broadcasts/send", {"when": "now"})
        assert again.status == 303 and again.location == "/broadcasts"

        # The progress counts up to the report.
        seen: list[int] = []
        state = await asyncio.wait_for(followed(browser, mailing, seen), 20)
        assert state["total"] == 2 and state["sent"] == 2 and state["finished"] == 2
        assert seen == sorted(seen)
        report = text_of((await browser.get(mailing)).html)
        assert f'<a href="{mailing}">' in (await browser.get("/broadcasts")).html  # listed
        assert plain(de.ngettext("{n} recipient in all.", "{n} recipients in all.", 2)) in report

        arabic = await yusuf.wait_for_message(lambda m: m.text.startswith(HEADER))
        assert ARABIC in arabic.text and GERMAN not in arabic.text
        ukrainian = await oksana.wait_for_message(lambda m: m.text.startswith(HEADER))
        assert GERMAN in ukrainian.text
        assert len(copies(yusuf)) == 1 and len(copies(oksana)) == 1
        assert copies(reza) == []  # not a Lotse
        assert ("console", "broadcast") in audit(desk.bot.settings.db_path)


async def test_a_large_audience_is_asked_once_more_and_a_later_one_can_be_cancelled(
    api: FakeBotAPI, city: CityConfig, tmp_path: Path
) -> None:
    async with console_bot(api, city, tmp_path) as desk:
        coordinator = api.user(COORDINATOR_ID, "Koordination", language_code="de")
        await onboard(coordinator, "de")
        ids = range(700_000, 700_000 + LARGE_AUDIENCE)
        await seed_people(desk.bot.settings.db_path, ids, language="de")
        browser = await desk.signed_in()
        await browser.post(
            "/broadcasts/draft",
            {"text": "Neuigkeiten", "audience": "everyone"},
            csrf=await browser.csrf("/broadcasts"),
        )
        asked = await browser.post("/broadcasts/send", {"when": "now"})
        recipients = LARGE_AUDIENCE + 1  # and the coordinator
        assert asked.status == 200
        question = plain(
            t("de").ngettext(
                "Send it now to {n} person?",
                "Send it now to {n} people?",
                recipients,
                n=t("de").number(recipients),
            )
        )
        assert question in text_of(asked.html)
        assert f'name="confirm" value="{recipients}"' in asked.html

        # Later instead: a time that has passed is refused, a coming one waits.
        now = desk.bot.clock.now().astimezone(city.timezone)
        past = await browser.post(
            "/broadcasts/send",
            {"when": "later", "day": now.date().isoformat(), "time": "00:00"},
        )
        assert past.status == 400
        tomorrow = (now + timedelta(days=1)).date().isoformat()
        later = await browser.post(
            "/broadcasts/send", {"when": "later", "day": tomorrow, "time": "10:00"}
        )
        assert later.status == 303 and later.location is not None
        waiting = await browser.get(later.location)
        assert plain(bv.cancelled(t("de"))) not in text_of(waiting.html)
        cancelled = await browser.post(later.location + "/cancel", {})
        assert cancelled.status == 303
        assert plain(bv.cancelled(t("de"))) in text_of((await browser.get(later.location)).html)
        await desk.bot.advance(timedelta(days=2))
        assert copies(coordinator) == []
        actions = [
            a
            for via, a in audit(desk.bot.settings.db_path)
            if via == "console" and not a.startswith("console.")
        ]
        assert actions == ["broadcast", "broadcast.cancel"]


async def test_a_broadcast_from_the_desk_reaches_a_signal_phone_in_its_language(
    api: FakeBotAPI, daemon: FakeSignalDaemon, city: CityConfig, tmp_path: Path
) -> None:
    async with desk_with_signal(api, daemon, city, tmp_path) as desk:
        coordinator = api.user(COORDINATOR_ID, "Koordination", language_code="de")
        await onboard(coordinator, "de")
        nour = daemon.user("+4917011110042", "Nour")
        await onboard_on_signal(nour, "ar")
        browser = await desk.signed_in()
        saved = await browser.post(
            "/broadcasts/draft",
            {"text": GERMAN, "audience": "language:ar", "tr_ar": ARABIC},
            csrf=await browser.csrf("/broadcasts"),
        )
        assert saved.status == 303
        sent = await browser.post("/broadcasts/send", {"when": "now"})
        assert sent.status == 303 and sent.location is not None
        copy = await nour.wait_for_text(ARABIC)
        assert GERMAN not in copy.text
        await asyncio.wait_for(followed(browser, sent.location), 20)
        assert sum(ARABIC in m.text for m in nour.bot_messages()) == 1
        assert copies(coordinator) == []  # German: not in the audience
