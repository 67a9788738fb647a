"""The bot on Signal, through the local signal-cli daemon over HTTP, next to Telegram.

People on Signal answer the numbered lists with numbers in their own digits; a request asked
on Signal reaches a Lotse on Telegram, and their messages cross over both ways.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import closing
from pathlib import Path

import pytest

from bot.config import CityConfig
from bot.i18n import language_name
from channels.signal.fakedaemon import FakeSignalDaemon, FakeSignalUser, SignalMessage
from channels.signal.inputs import STALE
from channels.telegram.fakeapi import FakeBotAPI
from handlers import asking_views, views
from handlers.messages import RELAYED
from tests.conftest import RunningBot, eventually, start_bot
from tests.scenario import become_lotse, invite_codes, label, passed_on, t

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


def known_on_signal(bot: RunningBot, user: FakeSignalUser) -> bool:
    with closing(sqlite3.connect(bot.settings.db_path)) as conn:
        found = conn.execute("SELECT 1 FROM contact WHERE address = ?", (user.uuid,)).fetchone()
    return found is not None


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
    # Then where the person is: the menu again, whose numbers answer now.
    menu = await user.wait_for_message(
        lambda m: label("fa", "🤝 I need a Lotse") in listed(m), after=seen
    )
    await eventually(lambda: pending(both) == 0)
    assert len(user.bot_messages()) == seen + 2  # the notice and the menu, nothing else
    assert latest_menu(both, user.uuid) and menu.timestamp > picker.timestamp
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
    await pick(both, refugee, "ask:day:flex", "ar")  # no date: no place is asked
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


async def test_files_cross_over_between_signal_and_telegram(
    both: RunningBot, api: FakeBotAPI, daemon: FakeSignalDaemon
) -> None:
    codes = await invite_codes(api, 1)
    lotse = await become_lotse(api, 102, "Yusuf", ["ar", "de"], codes[0])
    refugee = daemon.user("+4917011110007", "Amal Haddad")
    await onboard_on_signal(refugee, "ar")
    await pick(both, refugee, views.MENU_REQUEST, "ar")
    await pick(both, refugee, "ask:topic:jobcenter", "ar")
    # A voice note says what it is about; the two pages of the letter follow, at the next
    # step, in one message: both are added to the request, and the step is asked again once.
    await refugee.send_voice(b"\xff\xf1amal-speaks")
    await eventually(lambda: offers(both, refugee, "ask:lang:"))
    seen = len(refugee.bot_messages())
    await refugee.send_photos(b"\xff\xd8page-1", b"\xff\xd8page-2")
    added = asking_views.file_added(t("ar"), 3)
    await refugee.wait_for_message(lambda m: m.text == added, after=seen)
    step = await refugee.wait_for_message(lambda m: bool(listed(m)), after=seen)
    await eventually(lambda: pending(both) == 0)
    assert len(refugee.bot_messages()) == seen + 2  # one word for both, then the step again
    assert step.timestamp > next(m for m in refugee.bot_messages() if m.text == added).timestamp
    await pick(both, refugee, "ask:langs_done", "ar")
    await pick(both, refugee, "ask:district:0", "ar")
    await pick(both, refugee, "ask:day:flex", "ar")
    await eventually(lambda: offers(both, refugee, "ask:name"))
    await refugee.send("Amal")
    await pick(both, refugee, "ask:confirm", "ar")

    # The Lotse on Telegram gets copies of all three, uploaded, only after accepting.
    await lotse.wait_for_text("🔔")
    assert not [m for m in lotse.bot_messages() if m.kind != "text"]
    await lotse.press(label("ar", "✅ Accept"))
    await api.wait_until(lambda: len([m for m in lotse.bot_messages() if m.kind != "text"]) == 3)
    copies = [api.files[m.file_id] for m in lotse.bot_messages() if m.file_id]
    assert copies == [b"\xff\xf1amal-speaks", b"\xff\xd8page-1", b"\xff\xd8page-2"]

    # A photo from the Lotse reaches Amal on Signal, and her text reaches him; each sender's
    # own message is marked as passed on.
    await lotse.send_photo(b"\x89PNG-the-way", caption="Hier ist der Weg")
    await refugee.wait_for_message(
        lambda m: any(a.data == b"\x89PNG-the-way" for a in m.attachments)
    )
    await passed_on(api, lotse, "Hier ist der Weg")
    sent = await refugee.send("شكرا")
    await lotse.wait_for_text("شكرا")
    own = daemon.find(refugee.number, sent)
    assert own is not None
    await daemon.wait_until(lambda: own.reactions.get(daemon.account) == RELAYED)


async def test_signal_cli_keeps_a_file_only_while_a_request_needs_it(
    api: FakeBotAPI, city: CityConfig, tmp_path: Path
) -> None:
    folder = tmp_path / "signal-cli" / "attachments"
    daemon = FakeSignalDaemon(attachments_dir=folder)
    await daemon.start()
    db_path = tmp_path / "lotsenbot.sqlite3"
    bot = await start_bot(api, city, db_path, signal=daemon)
    try:
        kept, erased = (
            daemon.user(n, name)
            for n, name in (("+4917011110008", "Reza"), ("+4917011110009", "Oksana"))
        )
        for user, language in ((kept, "fa"), (erased, "uk")):
            await onboard_on_signal(user, language)
            await pick(bot, user, views.MENU_REQUEST, language)
            await pick(bot, user, "ask:topic:health", language)
            await user.send_voice(f"voice of {user.name}".encode())
            await eventually(lambda user=user: offers(bot, user, "ask:lang:"))  # type: ignore[misc]
        # A sticker and a video, which no request takes, are in signal-cli's folder too.
        await erased.send_document("clip.mp4", "video/mp4", b"\x00\x00video")
        files = {p.name: p.read_bytes() for p in folder.iterdir()}
        assert len(files) == 3
        await erased.send("/delete")
        await pick(bot, erased, "priv:delete_yes", "uk")
        await eventually(lambda: not known_on_signal(bot, erased))
    finally:
        await bot.shutdown()
    # A file signal-cli wrote just now may belong to an event on its way: it stays; older
    # ones that nothing needs are erased when the bot starts (and every hour).
    hour_ago = time.time() - 3600
    for path in folder.iterdir():
        os.utime(path, (hour_ago, hour_ago))
    bot = await start_bot(api, city, db_path, clock=bot.clock, signal=daemon)
    try:
        await eventually(lambda: len(list(folder.iterdir())) == 1)
        (left,) = folder.iterdir()
        assert left.read_bytes() == b"voice of Reza"
    finally:
        await bot.shutdown()
        await daemon.stop()


async def test_several_numbers_pick_several_and_show_one_new_state(
    both: RunningBot, daemon: FakeSignalDaemon
) -> None:
    user = daemon.user("+4917011110010", "Oksana")
    await onboard_on_signal(user, "uk")
    await pick(both, user, views.MENU_REQUEST, "uk")
    await pick(both, user, "ask:topic:school", "uk")
    await user.send("Лист зі школи")
    await eventually(lambda: offers(both, user, "ask:lang:"))
    actions = [a for _, a in latest_menu(both, user.uuid)]
    wanted = ("ask:lang:ru", "ask:lang:de")
    numbers = [actions.index(a) + 1 for a in wanted]
    seen = len(user.bot_messages())
    await user.send(" ".join(written(n, "uk") for n in numbers))
    # Both ticked, in one new state of the list: not one message per number.
    ticked = [f"✅ {language_name(code)}" for code in ("uk", "ru", "de")]
    state = await user.wait_for_message(lambda m: all(x in listed(m) for x in ticked), after=seen)
    await eventually(lambda: pending(both) == 0)
    assert [m for m in user.bot_messages()[seen:] if listed(m)] == [state]


async def test_a_quote_of_the_persons_own_message_answers_no_screen(
    both: RunningBot, daemon: FakeSignalDaemon
) -> None:
    user = daemon.user("+4917011110011", "Reza")
    await onboard_on_signal(user, "fa")
    own = daemon.find(user.number, await user.send("سلام دوباره"))
    assert own is not None
    seen = len(user.bot_messages())
    # "1" quoting their own message: no screen is answered; the menu is shown again.
    await user.reply(own, written(1, "fa"))
    await user.wait_for_message(lambda m: m.text == views.button_expired(t("fa")), after=seen)
    await user.wait_for_message(lambda m: bool(listed(m)), after=seen)
    assert all(not a.startswith("ask:") for _, a in latest_menu(both, user.uuid))


async def test_an_invitation_code_typed_by_someone_known_makes_them_a_lotse(
    both: RunningBot, api: FakeBotAPI, daemon: FakeSignalDaemon
) -> None:
    (code,) = await invite_codes(api, 1)
    user = daemon.user("+4917011110012", "Taras")
    await onboard_on_signal(user, "uk")
    await user.send(code.lower())
    # The Lotse's profile follows, its choices numbered.
    await eventually(lambda: offers(both, user, "prof:"))
    with closing(sqlite3.connect(both.settings.db_path)) as conn:
        status = conn.execute(
            "SELECT l.status FROM lotse l JOIN contact c ON c.person_id = l.person_id "
            "WHERE c.address = ?",
            (user.uuid,),
        ).fetchone()
    assert status == ("active",)


async def test_typed_answers_on_signal_a_stadtteil_a_time_and_half_hours(
    both: RunningBot, api: FakeBotAPI, daemon: FakeSignalDaemon
) -> None:
    """On Signal, too, typed answers stay in their step: a Stadtteil's name, a time typed as
    9:30; and a Lotse asked how many hours the case took types 2,5 — the answer, not the
    numbers 2 and 5 of the list (its labels are numbers themselves)."""
    (code,) = await invite_codes(api, 1)
    lotse = daemon.user("+4917011110020", "Yusuf")
    await lotse.send(f"/start {code}")
    await answer(lotse, language_name("de"), "de")
    await answer(lotse, label("de", "✅ I agree"), "de")
    await eventually(lambda: offers(both, lotse, "prof:"))
    refugee = daemon.user("+4917011110021", "Amal Haddad")
    await onboard_on_signal(refugee, "de")
    await pick(both, refugee, views.MENU_REQUEST, "de")
    await pick(both, refugee, "ask:topic:jobcenter", "de")
    await refugee.send("Ein Brief vom Jobcenter")
    await pick(both, refugee, "ask:langs_done", "de")
    await eventually(lambda: offers(both, refugee, "ask:district:"))
    await refugee.send("hervest")
    await eventually(lambda: offers(both, refugee, "ask:day:2"))
    days = [a for _, a in latest_menu(both, refugee.uuid) if a.startswith("ask:day:2")]
    await pick(both, refugee, days[1], "de")
    await eventually(lambda: offers(both, refugee, "ask:hour:"))
    await refugee.send("9:30")
    await eventually(lambda: offers(both, refugee, "ask:place:"))

    def stored(sql: str) -> list[tuple[object, ...]]:
        with closing(sqlite3.connect(both.settings.db_path)) as conn:
            return conn.execute(sql).fetchall()

    assert stored("SELECT district, time FROM request") == [("Hervest", "09:30")]
    await pick(both, refugee, "ask:place:skip", "de")
    await eventually(lambda: offers(both, refugee, "ask:name:"))
    await refugee.send("Amal")
    await pick(both, refugee, "ask:confirm", "de")
    await pick(both, lotse, "offer:accept:1", "de")
    await pick(both, lotse, "case:done:1", "de")
    await eventually(lambda: offers(both, lotse, "case:hours:1:"))
    await lotse.send("2,5")
    await eventually(lambda: stored("SELECT status, hours FROM request") == [("done", 2.5)])
    assert not [m for m in refugee.bot_messages() if "2,5" in m.text]
