"""Webhook mode: updates posted by Telegram with the secret are handled; others are refused."""

from __future__ import annotations

import asyncio
import logging
import socket
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from aiohttp import ClientSession

from bot.config import CityConfig, Settings
from channels.runner import serve
from channels.telegram.fakeapi import FakeBotAPI
from channels.telegram.webhook import SECRET_HEADER, Webhook
from tests.conftest import CITY_FILE, shifted_clock
from tests.scenario import t


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def webhook_bot(
    api: FakeBotAPI, city: CityConfig, tmp_path: Path
) -> AsyncIterator[tuple[Webhook, str]]:
    """The bot in webhook mode, once Telegram was told where to post; its URL and secret."""
    port = free_port()
    hook = Webhook(f"http://127.0.0.1:{port}/telegram/hook", "127.0.0.1", port)
    settings = Settings(api.token, api.url, tmp_path / "bot.sqlite3", CITY_FILE)
    stop = asyncio.Event()
    task = asyncio.create_task(
        serve(settings, city, clock=shifted_clock(), stop=stop, webhook=hook)
    )
    try:
        await api.wait_until(lambda: api.webhook.get("url") == hook.url or task.done(), 10)
        assert not task.done()
        yield hook, api.webhook["secret_token"]
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


async def test_webhook_receives_with_secret_and_refuses_without(
    api: FakeBotAPI, city: CityConfig, tmp_path: Path
) -> None:
    async with webhook_bot(api, city, tmp_path) as (hook, secret):
        assert secret and len(secret) >= 32

        user = api.user(7001, "Hook", language_code="uk")
        await user.send("/start")
        await user.wait_for_text(t("uk").gettext("Please choose your language:"))
        assert 200 in api.webhook_answers

        forged = {
            "update_id": 999_999,
            "message": {
                "message_id": 1,
                "date": 0,
                "text": "/start",
                "chat": {"id": 7002, "type": "private"},
                "from": {"id": 7002, "is_bot": False, "first_name": "Mallory"},
                "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
            },
        }
        mallory = api.user(7002, "Mallory")
        async with ClientSession() as session:
            for headers in ({}, {SECRET_HEADER: "wrong"}):
                async with session.post(hook.url, json=forged, headers=headers) as response:
                    assert response.status == 403
        with sqlite3.connect(tmp_path / "bot.sqlite3") as conn:  # stored before any answer
            assert conn.execute(
                "SELECT count(*) FROM inbox WHERE update_id = 999999"
            ).fetchone() == (0,)
        # Her own /start, posted by Telegram, is handled after anything that came before it
        # in her chat: its answer is the only message she has.
        await mallory.send("/start")
        prompt = await mallory.wait_for_text(t("de").gettext("Please choose your language:"))
        assert mallory.bot_messages() == [prompt]


MARK = "Secretword"
MALFORMED = [
    b"[]",
    b'[{"update_id": 1}]',
    b"42",
    b'"' + MARK.encode() + b'"',
    b"null",
    b"{not json " + MARK.encode(),
    b"\xff\xfe",
    b"{}",
    b'{"message": {}}',
    b'{"update_id": "x"}',
    b'{"update_id": 1.5}',
    b'{"update_id": true}',
    b'{"update_id": 99999999999999999999999}',
    b'{"update_id": 1, "message": "' + MARK.encode() + b'"}',
    b'{"update_id": 2, "callback_query": 1}',
    b'{"update_id": 3, "message": {"message_id": 1, "date": 99999999999999999999, '
    b'"chat": {"id": 1, "type": "private"}, "text": "' + MARK.encode() + b'"}}',
    b'{"update_id": 4, "x": ' + b"[" * 900 + b"]" * 900 + b"}",
    b'{"update_id": 5, "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
]


async def test_malformed_bodies_with_the_secret_get_400_and_one_log_line(
    api: FakeBotAPI, city: CityConfig, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with webhook_bot(api, city, tmp_path) as (hook, secret):
        headers = {SECRET_HEADER: secret, "Content-Type": "application/json"}
        async with ClientSession() as session:
            for body in MALFORMED:
                caplog.clear()
                async with session.post(hook.url, data=body, headers=headers) as response:
                    assert response.status == 400, body[:60]
                logged = [r for r in caplog.records if r.levelno >= logging.WARNING]
                assert [r.name for r in logged] == ["channels.telegram.webhook"], body[:60]
                assert logged[0].exc_info is None
                assert MARK not in logged[0].getMessage()
        # The bot goes on as before.
        user = api.user(7003, "After", language_code="tr")
        await user.send("/start")
        await user.wait_for_text(t("tr").gettext("Please choose your language:"))
    with sqlite3.connect(tmp_path / "bot.sqlite3") as conn:
        assert conn.execute("SELECT count(*) FROM inbox").fetchone() == (1,)
