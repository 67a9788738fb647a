"""Help requests end to end: over HTTP, three roles, several languages."""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from bot.config import CityConfig, RequestRules
from bot.fakeapi import FakeBotAPI
from handlers import request_views as rv
from tests.conftest import COORDINATOR_ID, RunningBot, start_bot
from tests.scenario import ask_for_lotse, become_lotse, invite_codes, label, onboard, t


def visible(text: str) -> str:
    """Text without the invisible direction isolates."""
    return text.replace("\u2068", "").replace("\u2069", "")


def rows(bot: RunningBot, sql: str, *params: object) -> list[tuple[object, ...]]:
    with sqlite3.connect(bot.settings.db_path) as conn:
        return conn.execute(sql, params).fetchall()


def offer_messages(user) -> list:  # type: ignore[no-untyped-def]
    return [m for m in user.bot_messages() if any(
        b.get("callback_data", "").startswith("offer:accept:") for row in m.buttons for b in row
    ) or m.text == rv.offer_gone(t("de")) or "#" in m.text and "🔔" in m.text]


async def test_arabic_request_with_text_is_offered_accepted_relayed_and_closed(
    running: RunningBot, api: FakeBotAPI
) -> None:
    codes = await invite_codes(api, 3)
    speaks_arabic = await become_lotse(api, 101, "Yusuf", ["ar", "de"], codes[0])
    speaks_ukrainian = await become_lotse(api, 102, "Oksana", ["uk"], codes[1])
    also_arabic = await become_lotse(api, 103, "Lina", ["de", "ar"], codes[2])

    refugee = api.user(201, "Amal", language_code="ar")
    await onboard(refugee, "ar")
    await ask_for_lotse(refugee, "ar", text="رسالة من Jobcenter لا أفهمها", name="Amal")

    offer = await speaks_arabic.wait_for_text("🔔")
    await also_arabic.wait_for_text("🔔")
    assert "رسالة من Jobcenter" in offer.text  # what the person wrote about the matter
    assert "Amal" not in offer.text  # but not who they are
    assert not any("🔔" in m.text for m in speaks_ukrainian.bot_messages())

    await speaks_arabic.press(label("ar", "✅ Accept"))
    details = await speaks_arabic.wait_for_text("Amal")
    assert "رسالة من Jobcenter" in details.text
    news = await refugee.wait_for_text("Yusuf")
    assert news.text == rv.accepted_for_person(t("ar"), _request_stub(1), "Yusuf").replace(
        "<b>", "").replace("</b>", "")
    taken = await also_arabic.wait_for_message(lambda m: m.text == rv.offer_gone(t("de")))
    assert taken.buttons == []

    # Messages go through the bot both ways, marked with the case.
    await refugee.send("شكرا، متى نلتقي؟")
    relayed = await speaks_arabic.wait_for_text("شكرا، متى نلتقي؟")
    assert "#1" in visible(relayed.text) and "Amal" in relayed.text
    await api.push_update({"message": {
        "message_id": 10_000, "from": speaks_arabic.data,
        "chat": {"id": speaks_arabic.id, "type": "private", "first_name": "Yusuf"},
        "date": 0, "text": "Morgen um 10 Uhr am Jobcenter",
        "reply_to_message": relayed.raw,
    }})
    answer = await refugee.wait_for_text("Morgen um 10 Uhr am Jobcenter")
    assert "Yusuf" in answer.text and "101" not in answer.text

    # Done, with hours; the person is asked for feedback.
    await speaks_arabic.press(label("de", "✅ Mark as done"))
    await speaks_arabic.press("2")
    question = await refugee.wait_for_message(lambda m: "👍" in m.button_labels())
    await refugee.press("👍", message=question)
    await refugee.wait_for_text(label("ar", "Thank you for your feedback!"))
    assert rows(running, "SELECT status, hours, feedback FROM request") == [("done", 2.0, "good")]


def _request_stub(number: int):  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    from bot.domain.requests import Request, Status

    return Request(number, None, Status.ACCEPTED, None, None, None, None, None, (), None, None,
                   None, None, None, 0, None, datetime.now(UTC), None, None)
