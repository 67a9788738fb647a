"""The quick request: a voice note from /start to sent in six actions."""

from __future__ import annotations

import pytest

from bot.i18n import language_name
from channels.telegram.fakeapi import FakeBotAPI, FakeUser
from handlers import asking_views, views
from tests.conftest import RunningBot
from tests.scenario import become_lotse, has_data, invite_codes, label, plain_first_line, t


class Counted:
    """The person's actions, counted: each message sent and each button pressed is one."""

    def __init__(self, user: FakeUser) -> None:
        self.user = user
        self.actions = 0

    async def send(self, text: str) -> None:
        self.actions += 1
        await self.user.send(text)

    async def voice(self) -> None:
        self.actions += 1
        await self.user.send_voice(data=b"OggS-quick-voice")

    async def press(self, data: str) -> None:
        await self.user.wait_for_message(lambda m: has_data(m, data))
        self.actions += 1
        await self.user.press(data=data)


@pytest.mark.parametrize("language", ["ar", "fa"])
async def test_a_voice_request_in_six_actions_reaches_the_lotse_after_accepting(
    running: RunningBot, api: FakeBotAPI, language: str
) -> None:
    (code,) = await invite_codes(api, 1)
    lotse = await become_lotse(api, 801, "Yusuf", [language, "de"], code)
    person = Counted(api.user(802, "Nasrin", language_code=language))
    await person.send("/start")
    await person.press(f"lang:{language}")
    await person.press("consent:yes")
    await person.press(views.MENU_QUICK)
    await person.user.wait_for_text(
        plain_first_line(asking_views.ask_description(t(language)).text)
    )
    await person.voice()
    await person.press("ask:confirm")
    await person.user.wait_for_text(plain_first_line(asking_views.sent(t(language)).text))
    assert person.actions == 6

    # Matched by language alone: the offer names the language and that a voice note waits.
    offer = await lotse.wait_for_text("🔔")
    assert language_name(language) in offer.text
    assert label(language, "🎤 A voice note is attached.") in offer.text
    await lotse.press(label(language, "✅ Accept"))
    voice = await lotse.wait_for_message(lambda m: m.kind == "voice")
    assert api.files[voice.file_id or ""] == b"OggS-quick-voice"
    await person.user.wait_for_text("Yusuf")
