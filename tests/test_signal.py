"""The bot on Signal, through the local signal-cli daemon over HTTP, next to Telegram.

People on Signal answer the numbered lists with numbers in their own digits; a request asked
on Signal reaches a Lotse on Telegram, and their messages cross over both ways.
"""

from __future__ import annotations

import dataclasses
import json
import re
import sqlite3
from collections.abc import AsyncIterator
from contextlib import closing
from pathlib import Path

import pytest

from bot.config import CityConfig
from bot.domain.people import Contact
from bot.i18n import language_name
from channels.signal.fakedaemon import FakeSignalDaemon, FakeSignalUser, SignalMessage
from channels.signal.inputs import STALE
from channels.telegram.fakeapi import FakeBotAPI
from handlers import office_views, views
from tests.conftest import COORDINATOR_ID, RunningBot, eventually, start_bot
from tests.scenario import become_lotse, invite_codes, label, onboard, t

#: How each language writes the digits 0-9.
DIGITS = {
    "ar": "٠١٢٣٤٥٦٧٨٩",  # Arabic-Indic
    "fa": "۰۱۲۳۴۵۶۷۸۹",  # Persian
    "uk": "0123456789",
    "de": "0123456789",
}


def written(number: int, language: str) -> str:
    return "".join(DIGITS[language][int(d)] for d in str(number))


def listed(message: SignalMessage) -> dict[str, int]:
    """The numbered list under a message: each label with its number."""
    return {m[2]: int(m[1]) for m in re.finditer(r"(?m)^(\d+)\. (.+)$", message.text)}


@pytest.fixture
async def daemon() -> AsyncIterator[FakeSignalDaemon]:
    server = FakeSignalDaemon()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def both(
    api: FakeBotAPI, daemon: FakeSignalDaemon, city: CityConfig, tmp_path: Path
) -> AsyncIterator[RunningBot]:
    """The bot on Telegram and on Signal at once."""
    bot = await start_bot(api, city, tmp_path / "lotsenbot.sqlite3", signal=daemon)
    yield bot
    await bot.shutdown()
    assert not daemon.violations


async def answer(user: FakeSignalUser, wanted: str, language: str) -> None:
    """Type the number of ``wanted`` in the latest list the bot sent, in the language's
    digits."""

    def shown() -> SignalMessage | None:
        lists = [m for m in user.bot_messages() if listed(m)]
        return lists[-1] if lists and wanted in listed(lists[-1]) else None

    message = await user.daemon.wait_until(shown)
    await user.send(written(listed(message)[wanted], language))


def latest_menu(bot: RunningBot, chat: str) -> list[tuple[str, str]]:
    with closing(sqlite3.connect(bot.settings.db_path)) as conn:
        row = conn.execute(
            "SELECT choices FROM menu WHERE channel = 'signal' AND chat = ? "
            "ORDER BY message_id DESC LIMIT 1",
            (chat,),
        ).fetchone()
    return [tuple(pair) for pair in json.loads(row[0])] if row else []  # type: ignore[misc]


def pending(bot: RunningBot) -> int:
    with closing(sqlite3.connect(bot.settings.db_path)) as conn:
        return int(
            conn.execute("SELECT count(*) FROM stamped_inbox WHERE done_at IS NULL").fetchone()[0]
        )


def offers(bot: RunningBot, user: FakeSignalUser, prefix: str) -> bool:
    """Whether the latest screen in the chat has a choice whose action begins with ``prefix``."""
    return any(a.startswith(prefix) for _, a in latest_menu(bot, user.uuid))


async def pick(bot: RunningBot, user: FakeSignalUser, action: str, language: str) -> None:
    """Type the number that stands for ``action`` in the latest screen, as the list shows it."""
    found: list[int] = []

    def offered() -> bool:
        actions = [a for _, a in latest_menu(bot, user.uuid)]
        if action in actions:
            found[:] = [actions.index(action) + 1]
        return bool(found)

    await eventually(offered)
    label_of = latest_menu(bot, user.uuid)[found[0] - 1][0]
    assert any(listed(m).get(label_of) == found[0] for m in user.bot_messages())
    await user.send(written(found[0], language))


async def onboard_on_signal(user: FakeSignalUser, language: str) -> None:
    """A first message, the language by its number, consent by its number: the menu."""
    await user.send({"ar": "مرحبا", "fa": "سلام", "uk": "Привіт", "de": "Hallo"}[language])
    await answer(user, language_name(language), language)
    await answer(user, label(language, "✅ I agree"), language)
    await user.wait_for_text(label(language, "What would you like to do?"))


@pytest.mark.parametrize("language", ["ar", "fa", "uk"])
async def test_first_conversation_on_signal(
    both: RunningBot, daemon: FakeSignalDaemon, language: str
) -> None:
    user = daemon.user("+4917011110001", "Amal Haddad")
    await onboard_on_signal(user, language)
    menu = user.bot_messages()[-1]
    # The menu's choices as a numbered list, in the person's language.
    assert listed(menu)[label(language, "🤝 I need a Lotse")] >= 1
    # Bold headings as UTF-16 ranges that cut the text where the heading is.
    welcome = next(m for m in user.bot_messages() if m.text_styles)
    assert all(part.strip() and part in welcome.text for part in welcome.styled("BOLD"))
    with closing(sqlite3.connect(both.settings.db_path)) as conn:
        stored = conn.execute(
            "SELECT p.language, p.consent_at IS NOT NULL FROM person p JOIN contact c "
            "ON c.person_id = p.id WHERE c.channel = 'signal' AND c.address = ?",
            (user.uuid,),
        ).fetchone()
    assert stored == (language, 1)  # the person is known by their UUID, not their number
    await eventually(lambda: pending(both) == 0)  # each event handled and marked done


async def test_a_number_for_no_screen_or_beyond_the_list_is_no_longer_valid(
    both: RunningBot, daemon: FakeSignalDaemon
) -> None:
    user = daemon.user("+4917011110002", "Oksana")
    await onboard_on_signal(user, "uk")
    expired = views.button_expired(t("uk"))
    # A quote of a message the bot never sent, answered with a number.
    seen = len(user.bot_messages())
    await user.reply(None, "1", timestamp=12345)
    await user.wait_for_message(lambda m: m.text == expired, after=seen)
    # A number beyond the menu's list.
    seen = len(user.bot_messages())
    await user.send("99")
    await user.wait_for_message(lambda m: m.text == expired, after=seen)
    # The menu still answers: the notices are no screens.
    await answer(user, label("uk", "🤝 I need a Lotse"), "uk")
    await user.wait_for_message(lambda m: bool(listed(m)), after=len(user.bot_messages()))
    assert all(a != STALE for _, a in latest_menu(both, user.uuid))


async def test_a_stale_number_of_an_answered_screen(
    both: RunningBot, daemon: FakeSignalDaemon
) -> None:
    user = daemon.user("+4917011110003", "Reza")
    await onboard_on_signal(user, "fa")
    # The language picker was answered: it now says which language was chosen, no list.
    picker = user.bot_messages()[0]
    assert picker.edits and not listed(picker) and language_name("fa") in picker.text
    seen = len(user.bot_messages())
    await user.reply(picker, written(2, "fa"))  # 2 was English in the picker
    await user.wait_for_message(lambda m: m.text == views.button_expired(t("fa")), after=seen)
    await eventually(lambda: pending(both) == 0)
    assert len(user.bot_messages()) == seen + 1  # the notice, nothing else
    with closing(sqlite3.connect(both.settings.db_path)) as conn:
        language = conn.execute(
            "SELECT p.language FROM person p JOIN contact c ON c.person_id = p.id "
            "WHERE c.channel = 'signal' AND c.address = ?",
            (user.uuid,),
        ).fetchone()
    assert language == ("fa",)


async def test_a_request_on_signal_reaches_a_lotse_on_telegram_and_messages_cross_over(
    both: RunningBot, api: FakeBotAPI, daemon: FakeSignalDaemon
) -> None:
    codes = await invite_codes(api, 1)
    lotse = await become_lotse(api, 101, "Yusuf", ["ar", "de"], codes[0])
    refugee = daemon.user("+4917011110004", "Amal Haddad")
    await onboard_on_signal(refugee, "ar")
    await pick(both, refugee, views.MENU_REQUEST, "ar")
    await pick(both, refugee, "ask:topic:jobcenter", "ar")
    await refugee.send("رسالة من Jobcenter لا أفهمها")
    await pick(both, refugee, "ask:langs_done", "ar")
    await pick(both, refugee, "ask:district:0", "ar")
    await pick(both, refugee, "ask:day:flex", "ar")
    await pick(both, refugee, "ask:place:skip", "ar")
    await eventually(
        lambda: any(a.startswith("ask:name") for _, a in latest_menu(both, refugee.uuid))
    )
    await refugee.send("Amal")
    await pick(both, refugee, "ask:confirm", "ar")

    offer = await lotse.wait_for_text("🔔")
    assert "رسالة من Jobcenter" in offer.text and "Amal" not in offer.text
    await lotse.press(label("ar", "✅ Accept"))
    details = await lotse.wait_for_text("Amal")
    assert "+49170" not in details.text  # the person's number is never shown
    await refugee.wait_for_text("Yusuf")

    # Signal → Telegram: plain text goes to the one running case.
    await refugee.send("شكرا، متى نلتقي؟")
    relayed = await lotse.wait_for_text("شكرا، متى نلتقي؟")
    assert "Amal" in relayed.text and "+49170" not in relayed.text
    # Telegram → Signal: the Lotse answers the relayed message.
    await api.push_update(
        {
            "message": {
                "message_id": 10_000,
                "from": lotse.data,
                "chat": {"id": lotse.id, "type": "private", "first_name": "Yusuf"},
                "date": 0,
                "text": "Morgen um 10 Uhr am Jobcenter",
                "reply_to_message": relayed.raw,
            }
        }
    )
    answer_ = await refugee.wait_for_text("Morgen um 10 Uhr am Jobcenter")
    assert "Yusuf" in answer_.text and "101" not in answer_.text


async def test_the_menu_memory_survives_a_restart(
    api: FakeBotAPI, daemon: FakeSignalDaemon, city: CityConfig, tmp_path: Path
) -> None:
    db_path = tmp_path / "lotsenbot.sqlite3"
    bot = await start_bot(api, city, db_path, signal=daemon)
    user = daemon.user("+4917011110005", "Olena")
    try:
        await onboard_on_signal(user, "uk")
    finally:
        await bot.shutdown()
    menu = user.bot_messages()[-1]
    number = listed(menu)[label("uk", "🤝 I need a Lotse")]
    # Typed while the bot is down: it waits on Signal's servers, then comes to the new run.
    await user.send(str(number))
    bot = await start_bot(api, city, db_path, clock=bot.clock, signal=daemon)
    try:
        topics = await user.wait_for_message(
            lambda m: m.timestamp > menu.timestamp and bool(listed(m))
        )
        assert all(a.startswith(("ask:", "menu:")) for _, a in latest_menu(bot, user.uuid))
        assert topics.text != menu.text
    finally:
        await bot.shutdown()
    assert not daemon.violations


async def test_delete_on_signal_erases_the_menus_and_the_inbox_payloads(
    both: RunningBot, daemon: FakeSignalDaemon
) -> None:
    user = daemon.user("+4917011110006", "Amal Haddad")
    await onboard_on_signal(user, "ar")
    await user.send("/delete")
    await pick(both, user, "priv:delete_yes", "ar")

    def erased() -> bool:
        with closing(sqlite3.connect(both.settings.db_path)) as conn:
            contact = conn.execute(
                "SELECT count(*) FROM contact WHERE address = ?", (user.uuid,)
            ).fetchone()[0]
            menus = conn.execute(
                "SELECT count(*) FROM menu WHERE chat = ? AND message_id <= ?",
                (user.uuid, confirm.timestamp),
            ).fetchone()[0]
            payloads = conn.execute(
                "SELECT count(*) FROM stamped_inbox WHERE sender = ? AND payload IS NOT NULL",
                (user.uuid,),
            ).fetchone()[0]
        return (contact, menus, payloads) == (0, 0, 0)

    confirm = max((m for m in user.bot_messages() if listed(m)), key=lambda m: m.timestamp)
    await eventually(erased)


async def test_writing_to_the_office_from_signal_and_the_answer_by_quote(
    both: RunningBot, api: FakeBotAPI, daemon: FakeSignalDaemon
) -> None:
    """On Signal the menu is a numbered list and the answer is a quote-reply; the office
    answers from Telegram by replying, and the thread goes on by quoting its answer."""
    coordinator = api.user(COORDINATOR_ID, "Koordination", language_code="de")
    await onboard(coordinator, "de")
    refugee = daemon.user("+4917011110009", "Amal Haddad")
    await onboard_on_signal(refugee, "ar")
    await pick(both, refugee, views.MENU_OFFICE, "ar")
    await eventually(lambda: offers(both, refugee, "of:stop"))
    await refugee.send("أحتاج موعدًا في المكتب")
    await refugee.wait_for_text(
        label("ar", "✓ Sent to the coordination office. The answer comes here.")
    )
    inbox = await coordinator.wait_for_text("أحتاج موعدًا في المكتب")
    assert language_name("ar") in inbox.text and "+49170" not in inbox.text
    await coordinator.send_raw(text="Donnerstag um 10 Uhr passt.", reply_to_message=inbox.raw)
    answer_ = await refugee.wait_for_text("Donnerstag um 10 Uhr passt.")
    await refugee.reply(answer_, "شكرا، سآتي")
    again = await coordinator.wait_for_text("شكرا، سآتي")
    assert "#1" in again.text


async def test_a_coordinator_on_signal_suspends_a_lotse_from_the_numbered_card(
    api: FakeBotAPI, daemon: FakeSignalDaemon, city: CityConfig, tmp_path: Path
) -> None:
    """The roster as numbered lists; the reason typed as text, not taken for a number."""
    office = daemon.user("+4917011110009", "Büro")
    signal_office = Contact("signal", office.uuid)
    city = dataclasses.replace(city, coordinators=city.coordinators | {signal_office})
    bot = await start_bot(api, city, tmp_path / "lotsenbot.sqlite3", signal=daemon)
    try:
        codes = await invite_codes(api, 1)
        lotse = await become_lotse(api, 102, "Hana", ["uk"], codes[0])
        await onboard_on_signal(office, "de")
        await office.send("/lotsen")
        with closing(sqlite3.connect(bot.settings.db_path)) as conn:
            (hana,) = conn.execute("SELECT person_id FROM lotse").fetchone()
        await pick(bot, office, f"ro:card:{hana}", "de")
        await pick(bot, office, f"ro:suspend:{hana}", "de")
        await office.wait_for_text("Hana")
        await office.send("Termin 3 nicht wahrgenommen")
        card = await office.wait_for_text("Termin 3 nicht wahrgenommen")
        assert label("de", "▶️ Reinstate") in listed(card)
        await lotse.wait_for_text(
            t("uk").gettext(
                "The coordination office has paused your role as a Lotse: you get no requests "
                "for now, and your open cases go to other Lotsen. Please contact the office: "
                "{email}",
                email=city.contact.email,
            )
        )
        await pick(bot, office, f"ro:reinstate:{hana}", "de")
        await lotse.wait_for_text(
            t("uk").gettext("You are an active Lotse again and will receive requests.")
        )
    finally:
        await bot.shutdown()
    assert not daemon.violations


async def test_a_concern_from_signal_reaches_only_the_office(
    both: RunningBot, api: FakeBotAPI, daemon: FakeSignalDaemon
) -> None:
    """*Something is wrong* is a numbered choice on Signal; the reason is typed, and a text
    that begins with a number is taken as text, not as a choice."""
    coordinator = api.user(COORDINATOR_ID, "Koordination", language_code="de")
    await onboard(coordinator, "de")
    codes = await invite_codes(api, 1)
    lotse = await become_lotse(api, 103, "Yusuf", ["ar", "de"], codes[0])
    refugee = daemon.user("+4917011110010", "Amal Haddad")
    await onboard_on_signal(refugee, "ar")
    await pick(both, refugee, views.MENU_REQUEST, "ar")
    await pick(both, refugee, "ask:topic:jobcenter", "ar")
    await refugee.send("رسالة من Jobcenter")
    await pick(both, refugee, "ask:langs_done", "ar")
    await pick(both, refugee, "ask:district:0", "ar")
    await pick(both, refugee, "ask:day:flex", "ar")
    await pick(both, refugee, "ask:place:skip", "ar")
    await eventually(lambda: offers(both, refugee, "ask:name"))
    await refugee.send("Amal")
    await pick(both, refugee, "ask:confirm", "ar")
    await lotse.press(label("ar", "✅ Accept"))
    await refugee.wait_for_text("Yusuf")
    lotse_seen = len(lotse.bot_messages())

    await pick(both, refugee, "cn:ask:1", "ar")
    await eventually(lambda: offers(both, refugee, "cn:stop"))
    await refugee.send("3 مرات لم يأتِ")
    await refugee.wait_for_text(office_views.concern_thanks(t("ar")))
    note = await coordinator.wait_for_text("3 مرات لم يأتِ")
    assert "+49170" not in note.text and "Yusuf" in note.text
    assert len(lotse.bot_messages()) == lotse_seen
