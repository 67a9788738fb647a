"""Webhook mode: updates posted by Telegram with the secret are handled; others are refused."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

from aiohttp import ClientSession

from bot.config import CityConfig, Settings
from bot.fakeapi import FakeBotAPI
from handlers.runner import serve
from handlers.webhook import SECRET_HEADER, Webhook
from tests.conftest import CITY_FILE, shifted_clock
from tests.scenario import t


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_webhook_receives_with_secret_and_refuses_without(
    api: FakeBotAPI, city: CityConfig, tmp_path: Path
) -> None:
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
        secret = api.webhook["secret_token"]
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
        api.user(7002, "Mallory")
        async with ClientSession() as session:
            for headers in ({}, {SECRET_HEADER: "wrong"}):
                async with session.post(hook.url, json=forged, headers=headers) as response:
                    assert response.status == 403
        await asyncio.sleep(0.3)
        assert api.messages(7002) == []
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
