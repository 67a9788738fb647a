"""The first conversation as people have it: over HTTP, pressing real buttons, every language."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

import pytest

from bot.i18n import LANGUAGES, Texts, language_name, texts
from channels.telegram.fakeapi import FakeBotAPI
from handlers import views
from tests.conftest import COORDINATOR_ID, RunningBot, plain
from tests.scenario import BY_TELEGRAM_ID

BERLIN = ZoneInfo("Europe/Berlin")
SCRIPTS = {
    "ar": "\u0600-\u06ff",
    "fa": "\u0600-\u06ff",
    "ps": "\u0600-\u06ff",
    "ckb": "\u0600-\u06ff",
    "uk": "\u0400-\u04ff",
    "ru": "\u0400-\u04ff",
    "ti": "\u1200-\u137f",
}


def t(language: str) -> Texts:
    return texts(language, BERLIN)


async def person_row(bot: RunningBot, telegram_id: int) -> dict[str, object] | None:
    db = await bot.db()
    try:
        row = await db.fetch_one(f"SELECT * FROM person WHERE {BY_TELEGRAM_ID}", (telegram_id,))
        return dict(row) if row else None
    finally:
        await db.close()


@pytest.mark.parametrize("language", LANGUAGES)
async def test_whole_first_conversation_in_each_language(
    running: RunningBot, api: FakeBotAPI, language: str
) -> None:
    # Telegram guesses German; the person picks their own language.
    user = api.user(1000 + LANGUAGES.index(language), "Amal", language_code="de")
    await user.send("/start")
    picker = await user.wait_for_text(t("de").gettext("Please choose your language:"))
    assert "Integrationslotsen Dorsten" in picker.text
    assert picker.button_labels() == ["✓ Deutsch", *[language_name(c) for c in LANGUAGES[1:]]]

    await user.press(language_name(language) if language != "de" else "✓ Deutsch")
    ours = t(language)
    expected_consent = views.consent(ours, running.city).text
    consent = await user.wait_for_message(lambda m: m.text == plain(expected_consent))
    # The picker message was edited in place to confirm the choice.
    assert picker.text == ours.gettext("✓ Language: {language}", language=language_name(language))
    assert picker.buttons == []
    assert consent.button_labels()[0] == ours.gettext("✅ I agree")
    if language in SCRIPTS:
        assert re.search(f"[{SCRIPTS[language]}]", consent.text)
    if language != "en":  # really translated, not English left in the catalog
        assert expected_consent != views.consent(t("en"), running.city).text

    row = await person_row(running, user.id)
    assert row is not None and row["language"] == language and row["consent_at"] is None

    await user.press(ours.gettext("✅ I agree"))
    menu = await user.wait_for_text(ours.gettext("What would you like to do?"))
    assert menu.button_labels() == [
        ours.gettext("🎤 Quick: just send a voice note"),
        ours.gettext("🤝 I need a Lotse"),
        ours.gettext("📋 My requests"),
        ours.gettext("🧭 I am a Lotse"),
        ours.gettext("🎓 I want to become a Lotse"),
        ours.gettext("📅 Stammtisch dates"),
        ours.gettext("✉️ Write to the office"),
        ours.gettext("🌐 Language"),
        ours.gettext("🔒 Privacy"),
    ]
    row = await person_row(running, user.id)
    assert row is not None and row["consent_at"] is not None and row["consent_version"] == "1"

    # Everything that follows speaks the chosen language, although Telegram still says "de".
    seen = len(user.bot_messages())
    await user.press(ours.gettext("📅 Stammtisch dates"))
    stammtisch = await user.wait_for_message(lambda m: "Treffpunkt Altstadt" in m.text, after=seen)
    assert stammtisch.button_labels() == [ours.gettext("⬅️ Main menu")]

    await user.send("/help")
    await user.wait_for_text(plain(views.help_text(ours, running.city).text))

    seen = len(user.bot_messages())
    await user.send("Hallo, ich brauche Hilfe")
    pointer = await user.wait_for_message(after=seen)
    assert pointer.text == ours.gettext(
        "Sorry, I did not understand that. Please use the buttons below."
    )
    await user.wait_for_message(lambda m: m.text == menu.text, after=seen + 1)

    # Every message and edit goes out as HTML and without link previews.
    sent = [
        c.params
        for c in api.calls
        if c.method in ("sendMessage", "editMessageText") and c.params.get("chat_id") == user.id
    ]
    assert len(sent) >= 6
    assert all(p.get("link_preview_options") == {"is_disabled": True} for p in sent), sent
    assert all(p.get("parse_mode") == "HTML" for p in sent)


async def test_first_guess_comes_from_telegram_language_code(
    running: RunningBot, api: FakeBotAPI
) -> None:
    ukrainian = api.user(2001, "Olena", language_code="uk-UA")
    sorani = api.user(2003, "Shilan", language_code="ckb")
    await ukrainian.send("/start")
    await sorani.send("/start")
    first = await ukrainian.wait_for_text(t("uk").gettext("Please choose your language:"))
    assert "✓ українська" in first.button_labels()
    second = await sorani.wait_for_text(t("ckb").gettext("Please choose your language:"))
    assert "✓ کوردیی ناوەندی" in second.button_labels()
    # A guess is not a choice: nothing is stored before the person presses a language.
    assert await person_row(running, 2001) is None


async def test_a_language_the_bot_does_not_speak_gets_a_greeting_in_several(
    running: RunningBot, api: FakeBotAPI
) -> None:
    # Telegram in Chinese: not German (the city's language) but a line in each main language.
    user = api.user(2002, "Li", language_code="zh-hans")
    await user.send("/start")
    greeting = await user.wait_for_message(lambda m: bool(m.buttons))
    lines = greeting.text.split("\n")
    assert lines == [
        t(code).gettext("Welcome! Please choose your language.")
        for code in ("de", "en", "fr", "ar", "fa", "uk", "ru")
    ]
    assert lines[2] == "Bienvenue\u00a0! Veuillez choisir votre langue."  # each in its own
    assert re.search("[\u0600-\u06ff]", lines[3]) and re.search("[\u0400-\u04ff]", lines[5])
    assert greeting.button_labels() == [language_name(c) for c in LANGUAGES]  # none ticked
    assert await person_row(running, user.id) is None

    # The same greeting until a language is chosen; then the welcome in that language.
    await user.send("/language")
    again = await user.wait_for_message(lambda m: m.text == greeting.text and m != greeting)
    await user.press("ትግርኛ", message=again)
    ti = t("ti")
    welcome = await user.wait_for_text(plain(views.welcome(ti, running.city))[:40])
    assert re.search("[\u1200-\u137f]", welcome.text)
    consent = await user.wait_for_message(
        lambda m: m.text == plain(views.consent(ti, running.city).text)
    )
    assert user.bot_messages().index(welcome) < user.bot_messages().index(consent)
    row = await person_row(running, user.id)
    assert row is not None and row["language"] == "ti"

    # Chosen once, the language is known: no greeting any more, the picker ticks it.
    await user.send("/start")
    picker = await user.wait_for_message(lambda m: "✓ ትግርኛ" in m.button_labels())
    assert picker.text.endswith(ti.gettext("Please choose your language:"))


async def test_stored_choice_wins_and_language_can_be_changed(
    running: RunningBot, api: FakeBotAPI
) -> None:
    user = api.user(2101, "Karim", language_code="ar")
    await user.send("/start")
    await user.wait_for_text(t("ar").gettext("Please choose your language:"))
    await user.press("فارسی")
    await user.press(t("fa").gettext("✅ I agree"))
    await user.wait_for_text(t("fa").gettext("What would you like to do?"))

    await user.send("/language")
    picker = await user.wait_for_message(lambda m: "✓ فارسی" in m.button_labels())
    await user.press("Türkçe", message=picker)
    await user.wait_for_text(t("tr").gettext("What would you like to do?"))
    row = await person_row(running, user.id)
    assert row is not None and row["language"] == "tr"


async def test_declining_consent_stores_nothing_more_and_still_informs(
    running: RunningBot, api: FakeBotAPI
) -> None:
    de = t("de")
    user = api.user(2201, "Hassan", language_code="de")
    await user.send("/start")
    await user.press("✓ Deutsch")
    await user.wait_for_text(plain(views.consent(de, running.city).text))
    seen = len(user.bot_messages())
    await user.press(de.gettext("Not now"))
    declined = await user.wait_for_message(after=seen)
    assert "hildegard.hemmers@dorsten.de" in declined.text
    assert de.gettext("📅 Stammtisch dates") in declined.button_labels()
    row = await person_row(running, user.id)
    assert row is not None and row["consent_at"] is None

    # A feature that needs consent asks for it instead of opening.
    await user.send("/menu")
    consent = await user.wait_for_text(plain(views.consent(de, running.city).text))
    assert de.gettext("✅ I agree") in consent.button_labels()


async def test_becoming_a_lotse_starts_with_what_it_means(
    running: RunningBot, api: FakeBotAPI
) -> None:
    en = t("en")
    user = api.user(2301, "Sam", language_code="en")
    await user.send("/start")
    await user.press("✓ English")
    await user.press(en.gettext("✅ I agree"))
    await user.press("🎓 I want to become a Lotse")
    answer = await user.wait_for_text("A free training prepares you for it.")
    assert "Nobody will write to you in between." in answer.text
    assert answer.button_labels() == ["✍️ Put me on the waiting list", "⬅️ Main menu"]


async def test_privacy_shows_consent_time_in_local_format_and_allows_withdrawal(
    running: RunningBot, api: FakeBotAPI
) -> None:
    uk = t("uk")
    user = api.user(2401, "Iryna", language_code="uk")
    await user.send("/start")
    await user.press("✓ українська")
    await user.press(uk.gettext("✅ I agree"))
    await user.wait_for_text(uk.gettext("What would you like to do?"))
    row = await person_row(running, user.id)
    assert row is not None
    from bot.clock import from_db

    consented = from_db(str(row["consent_at"]))
    await user.send("/privacy")
    notice = await user.wait_for_text(
        uk.gettext("You gave your consent on {date}.", date=uk.datetime(consented))
    )
    assert "Iryna" not in notice.text

    await user.press(uk.gettext("Withdraw my consent"))
    await user.wait_for_text(uk.gettext("Your consent has been withdrawn."))
    row = await person_row(running, user.id)
    assert row is not None and row["consent_at"] is None and row["language"] == "uk"


async def test_rtl_values_are_isolated(running: RunningBot, api: FakeBotAPI) -> None:
    for index, language in enumerate(("ar", "fa", "ps", "ckb")):
        user = api.user(2501 + 10 * index, "Mariam", language_code=language)
        await user.send("/start")
        welcome = await user.wait_for_text(t(language).gettext("Please choose your language:"))
        assert "\u2068Integrationslotsen Dorsten\u2069" in welcome.text, language
    german = api.user(2502, "Jonas", language_code="de")
    await german.send("/start")
    plain = await german.wait_for_text(t("de").gettext("Please choose your language:"))
    assert "\u2068" not in plain.text


async def test_forged_and_stale_buttons_are_refused(running: RunningBot, api: FakeBotAPI) -> None:
    user = api.user(2601, "Omid", language_code="fa")
    await user.send("/start")
    await user.wait_for_text(t("fa").gettext("Please choose your language:"))
    for data in ("lang:xx", "lang:", "menu:admin", "consent:maybe", "x" * 64):
        query = await user.press(data=data)
        answer = await user.wait_for_answer(query)
        assert answer["text"] == t("fa").gettext("This button is no longer valid.")
    assert await person_row(running, user.id) is None


async def test_things_the_bot_cannot_use_get_a_pointer(
    running: RunningBot, api: FakeBotAPI
) -> None:
    user = api.user(2701, "Ahmad", language_code="tr")
    await user.send("/start")
    await user.press("✓ Türkçe")
    await user.press(t("tr").gettext("✅ I agree"))
    await user.wait_for_text(t("tr").gettext("What would you like to do?"))
    not_understood = t("tr").gettext(
        "Sorry, I did not understand that. Please use the buttons below."
    )
    for send in (user.send_sticker(), user.send_voice(), user.send_photo(), user.send("/nonsense")):
        seen = len(user.bot_messages())
        await send
        reply = await user.wait_for_message(after=seen)
        assert reply.text == not_understood
        menu = await user.wait_for_message(after=seen + 1)
        assert menu.text == t("tr").gettext("What would you like to do?")


async def test_commands_are_registered_per_language(running: RunningBot, api: FakeBotAPI) -> None:
    default = '{"type": "default"}'
    # Telegram takes only two-letter codes: Sorani (ckb) people see the default list, and the
    # rest is registered all the same.
    assert (default, "ckb") not in api.commands
    for language in (code for code in LANGUAGES if code != "ckb"):
        commands = api.commands[(default, language)]
        assert [c["command"] for c in commands] == [
            "start",
            "menu",
            "status",
            "stammtisch",
            "language",
            "privacy",
            "mydata",
            "delete",
            "help",
        ]
        assert commands[4]["description"] == t(language).gettext("Change the language")
        if language != "en":  # translated, not English shown to everyone
            english = [c["description"] for c in api.commands[(default, "en")]]
            assert not {c["description"] for c in commands} & set(english), language
    assert api.commands[(default, "")][0]["description"] == "Neu beginnen"
    # Coordinators see their own commands in their chat (German: they never chose a language).
    own = api.commands[(f'{{"chat_id": {COORDINATOR_ID}, "type": "chat"}}', "")]
    assert [c["command"] for c in own][-8:] == [
        "requests",
        "invite",
        "broadcast",
        "waitlist",
        "stats",
        "lotsen",
        "expenses",
        "console",
    ]
    assert own[-7]["description"] == t("de").gettext("Invitation links for new Lotsen")
    assert own[-3]["description"] == t("de").gettext("The Lotsen and their records")
    assert own[-2]["description"] == t("de").gettext("The Lotsen's expenses")
    assert own[-1]["description"] == t("de").gettext("Sign in to the office console")
    # The menus speak German: the descriptions come from the catalogs.
    assert own[-1]["description"] == "Bei der Büro-Konsole anmelden"
    assert own[0]["description"] == "Neu beginnen"


async def test_unexpected_error_apologises_and_alerts_coordinators(
    running: RunningBot, api: FakeBotAPI, caplog: pytest.LogCaptureFixture
) -> None:
    coordinator = api.user(COORDINATOR_ID, "Koordination", language_code="de")
    user = api.user(2801, "Rahim Secretname", language_code="ru")
    await user.send("/start")
    await user.press("✓ русский")
    await user.press(t("ru").gettext("✅ I agree"))
    await user.wait_for_text(t("ru").gettext("What would you like to do?"))

    api.inject("sendMessage", 400, "Bad Request: something unexpected", chat_id=user.id)
    await user.send("/help my private words")
    await user.wait_for_text(views.apology(t("ru")))
    alert = await coordinator.wait_for_text("BadRequest")
    assert "Secretname" not in alert.text and "private words" not in alert.text
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "BadRequest" in logged
    assert "Secretname" not in logged and "private words" not in logged


async def test_the_same_error_alerts_once_and_a_different_one_again(
    running: RunningBot, api: FakeBotAPI
) -> None:
    coordinator = api.user(COORDINATOR_ID, "Koordination", language_code="de")
    user = api.user(2802, "Nadia", language_code="en")
    await user.send("/start")
    await user.press("✓ English")
    await user.press(t("en").gettext("✅ I agree"))
    await user.wait_for_text(t("en").gettext("What would you like to do?"))
    apology = views.apology(t("en"))

    def alerts() -> list[str]:
        return [m.text for m in coordinator.bot_messages() if "⚠️ Lotsenbot" in m.text]

    # The same error twice (the same type at the same place): both apologised for, one alert.
    for _ in range(2):
        seen = len(user.bot_messages())
        api.inject("sendMessage", 400, "Bad Request: something unexpected", chat_id=user.id)
        await user.send("/help")
        await user.wait_for_message(lambda m: m.text == apology, after=seen)
    # A different place: alerted.
    seen = len(user.bot_messages())
    api.inject("sendMessage", 400, "Bad Request: something unexpected", chat_id=user.id)
    await user.send("/privacy")
    await user.wait_for_message(lambda m: m.text == apology, after=seen)
    # Updates of a chat are handled one after another, errors included: once this one is
    # answered, every alert about the ones before it has been sent.
    await user.send("/help")
    await user.wait_for_message(lambda m: "/language" in m.text, after=seen + 1)
    first, second = alerts()
    assert "BadRequest" in first and "BadRequest" in second
    reference = re.compile(r"[0-9a-f]{10}$")
    assert reference.search(first) and reference.search(second)
    assert first != second  # two references


async def test_group_commands_get_a_pointer_to_the_private_chat(
    running: RunningBot, api: FakeBotAPI
) -> None:
    member = api.user(2901, "Group", language_code="en")
    group_id = -100555
    api.chats[group_id] = []
    await api.push_update(
        {
            "message": {
                "message_id": 1,
                "from": member.data,
                "chat": {"id": group_id, "type": "group", "title": "Lotsen"},
                "date": 0,
                "text": "/start",
                "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
            }
        }
    )
    await api.wait_until(lambda: api.messages(group_id))
    assert api.messages(group_id)[0].text == t("en").gettext(
        "Please write to me in a private chat."
    )


async def test_flood_control_on_polling_is_honoured(running: RunningBot, api: FakeBotAPI) -> None:
    api.flood("getUpdates", retry_after=1)
    user = api.user(3001, "Nour", language_code="ar")
    await user.send("/start")
    await user.wait_for_text(t("ar").gettext("Please choose your language:"), timeout=15)
