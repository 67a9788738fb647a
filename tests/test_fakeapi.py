"""The fake Bot API answers like Telegram, checked with python-telegram-bot's own Bot."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, RetryAfter

from channels.telegram.fakeapi import FakeBotAPI


@pytest.fixture
async def client(api: FakeBotAPI) -> AsyncIterator[Bot]:
    bot = Bot(api.token, base_url=f"{api.url}/bot", base_file_url=f"{api.url}/file/bot")
    async with bot:
        yield bot


async def test_send_edit_and_errors(api: FakeBotAPI, client: Bot) -> None:
    api.user(1)
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Ja", callback_data="yes")]])
    sent = await client.send_message(
        1, "<b>Hallo</b> &amp; mehr", parse_mode="HTML", reply_markup=keyboard
    )
    assert api.messages(1)[0].text == "Hallo & mehr"
    assert api.messages(1)[0].button_labels() == ["Ja"]
    with pytest.raises(BadRequest, match=r"(?i)not modified"):
        await client.edit_message_text(
            "<b>Hallo</b> &amp; mehr",
            chat_id=1,
            message_id=sent.message_id,
            parse_mode="HTML",
            reply_markup=keyboard,
        )
    await client.edit_message_text("Tschüss", chat_id=1, message_id=sent.message_id)
    assert api.messages(1)[0].text == "Tschüss" and api.messages(1)[0].edits == 1
    with pytest.raises(BadRequest, match=r"(?i)can.t parse entities"):
        await client.send_message(1, "a < b", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)too long"):
        await client.send_message(1, "x" * 4097)
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await client.send_message(404, "hello")


async def test_blocked_users_and_flood_control(api: FakeBotAPI, client: Bot) -> None:
    api.user(2)
    api.block(2)
    with pytest.raises(Forbidden, match=r"(?i)blocked by the user"):
        await client.send_message(2, "hello")
    api.user(3)
    api.flood("sendMessage", retry_after=7)
    with pytest.raises(RetryAfter) as raised:
        await client.send_message(3, "hello")
    assert raised.value.retry_after.total_seconds() == 7  # type: ignore[union-attr]
    await client.send_message(3, "hello")


async def test_long_polling_with_offset(api: FakeBotAPI, client: Bot) -> None:
    user = api.user(4, "Amal", "ar")
    first = await user.send("/start")
    second = await user.send_voice()
    updates = await client.get_updates(timeout=1)
    assert [u.update_id for u in updates] == [first, second]
    assert updates[0].message.text == "/start" and updates[1].message.voice is not None
    assert await client.get_updates(offset=second + 1, timeout=0) == ()
    assert api.confirmed == second + 1


async def test_documents_photos_and_files(api: FakeBotAPI, client: Bot) -> None:
    api.user(5)
    message = await client.send_document(5, b"%PDF-1.4 data", filename="plan.pdf")
    assert message.document is not None
    stored = await client.get_file(message.document.file_id)
    assert bytes(await stored.download_as_bytearray()) == b"%PDF-1.4 data"
    photo = await client.send_photo(5, message.document.file_id, caption="Brief")
    assert photo.caption == "Brief"
    assert await client.set_my_commands([("start", "Start")], language_code="ar")
    assert api.commands[('{"type": "default"}', "ar")][0]["command"] == "start"
