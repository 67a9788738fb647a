"""Too much, too long, too large, or the wrong kind: a clear answer, nothing lost."""

from __future__ import annotations

from channels.telegram.fakeapi import FakeBotAPI
from handlers import asking_views
from tests.conftest import RunningBot
from tests.scenario import has_data, label, onboard, plain_first_line, t


async def start_description(user, language: str) -> None:  # type: ignore[no-untyped-def]
    await onboard(user, language)
    await user.press(label(language, "🤝 I need a Lotse"))
    await user.press(data="ask:topic:letter")
    question = plain_first_line(asking_views.ask_description(t(language)).text)
    await user.wait_for_message(lambda m: m.text.startswith(question))


async def test_too_large_and_wrong_type_are_explained_the_step_stays_a_long_text_is_cut(
    running: RunningBot, api: FakeBotAPI
) -> None:
    user = api.user(4101, "Mina", language_code="tr")
    await start_description(user, "tr")
    tr = t("tr")

    seen = len(user.bot_messages())
    await user.send_document(size=25 * 1024 * 1024)
    answer = await user.wait_for_message(after=seen)
    assert answer.text == tr.gettext("This file is too large. Please send at most {n} MB.", n=20)

    seen = len(user.bot_messages())
    await user.send_document(file_name="setup.exe", mime_type="application/x-msdownload")
    answer = await user.wait_for_message(after=seen)
    assert answer.text == tr.gettext("Please send a photo or a PDF document.")
    assert not [m for m in user.bot_messages() if has_data(m, "ask:langs_done")]

    # Still at the same step: a text over the limit is kept, cut, and said so; the next
    # question follows.
    seen = len(user.bot_messages())
    await user.send("x" * 1500)
    answer = await user.wait_for_message(after=seen)
    assert answer.text == asking_views.text_shortened(tr, 1000)
    await user.wait_for_message(lambda m: has_data(m, "ask:langs_done"), after=seen)


async def test_edited_messages_get_a_pointer(running: RunningBot, api: FakeBotAPI) -> None:
    user = api.user(4201, "Ali", language_code="fa")
    await onboard(user, "fa")
    await user.send("Hallo")
    mine = [m for m in api.messages(user.id) if not m.from_bot][-1]
    seen = len(user.bot_messages())
    await user.edit(mine.message_id, "Hallo, korrigiert")
    await user.wait_for_message(
        lambda m: (
            m.text
            == t("fa").gettext(
                "Changes to a sent message do not reach me. Please send a new message."
            )
        ),
        after=seen,
    )


async def test_flooding_gets_one_friendly_word_then_silence(
    running: RunningBot, api: FakeBotAPI
) -> None:
    user = api.user(4301, "Spam", language_code="en")
    for _ in range(45):
        await user.send("/help")
    warning = "You are sending a lot of messages at once. Please wait a moment."
    await user.wait_for_text(warning)
    await api.wait_until(lambda: api.confirmed > api.last_update_id)
    answers = [m.text for m in user.bot_messages()]
    assert answers.count(warning) == 1
    # A burst of 30 is allowed (plus the refill while the 45 arrive); the rest is ignored.
    assert 30 <= len(answers) - 1 < 45
