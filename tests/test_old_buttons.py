"""Buttons from the past act only while what they belong to is current."""

from __future__ import annotations

from channels.telegram.fakeapi import FakeBotAPI
from handlers import views
from tests.conftest import RunningBot
from tests.scenario import ask_for_lotse, has_data, label, t


async def test_an_old_not_now_after_agreeing_changes_nothing_and_says_nothing_false(
    running: RunningBot, api: FakeBotAPI
) -> None:
    user = api.user(4301, "Reza", language_code="fa")
    await user.send("/start")
    await user.press(data="lang:fa")
    await user.wait_for_message(lambda m: has_data(m, "consent:no"))
    # Something unclear before agreeing brings the consent screen again: two copies.
    await user.send("سلام")
    await user.wait_for_message(
        lambda m: len([c for c in user.bot_messages() if has_data(c, "consent:no")]) == 2
    )
    consent = next(m for m in user.bot_messages() if has_data(m, "consent:no"))
    await user.press(label("fa", "✅ I agree"))
    await user.wait_for_text(label("fa", "What would you like to do?"))
    await ask_for_lotse(user, "fa", name="Reza")
    seen = len(user.bot_messages())
    query = await user.press(data="consent:no", message=consent)
    answer = await user.wait_for_answer(query)
    assert (answer.get("text"), answer.get("show_alert")) == (views.button_expired(t("fa")), True)
    # Where the person is comes again (the menu); the false "we only store your language"
    # does not.
    menu = await user.wait_for_message(lambda m: has_data(m, "menu:request"), after=seen)
    declined = views.consent_declined(t("fa"), running.city)
    assert all(m.text != declined.text for m in user.bot_messages()[seen:])
    assert menu is not None
    # And an old "I agree" only shows the menu: nothing is asked or stored again.
    seen = len(user.bot_messages())
    await user.press(data="consent:yes", message=consent)
    await user.wait_for_message(lambda m: has_data(m, "menu:request"), after=seen)
    assert len(user.bot_messages()) == seen + 1
