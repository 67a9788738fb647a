"""The bot on Signal, through the local signal-cli daemon over HTTP, next to Telegram.

People on Signal answer the numbered lists with numbers in their own digits; a request asked
on Signal reaches a Lotse on Telegram, and their messages cross over both ways.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import re
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import closing
from datetime import timedelta
from pathlib import Path

import pytest

from bot import cli
from bot.config import CityConfig, MailingRules, RequestRules
from bot.domain.people import Contact
from bot.i18n import language_name
from channels.signal.fakedaemon import FakeSignalDaemon, FakeSignalUser, SignalMessage
from channels.signal.inputs import STALE
from channels.telegram.fakeapi import FakeBotAPI
from handlers import asking_views, coordination_views, lotse_views, office_views, views
from handlers.messages import RELAYED
from tests.conftest import COORDINATOR_ID, RunningBot, eventually, plain, start_bot
from tests.scenario import (
    ask_for_lotse,
    become_lotse,
    invite_codes,
    label,
    onboard,
    passed_on,
    seed_people,
    t,
)
from tests.test_broadcasts import compose, copies, final_report
from tests.test_case_messages import reply
from tests.test_events import plan_single_date

#: How each language writes the digits 0-9.
DIGITS = {
    "ar": "٠١٢٣٤٥٦٧٨٩",  # Arabic-Indic
    "fa": "۰۱۲۳۴۵۶۷۸۹",  # Persian
    "uk": "0123456789",
    "ru": "0123456789",
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
    await user.send(
        {"ar": "مرحبا", "fa": "سلام", "uk": "Привіт", "ru": "Привет"}.get(language, "Hallo")
    )
    await answer(user, language_name(language), language)
    await answer(user, label(language, "✅ I agree"), language)
    await user.wait_for_text(label(language, "What would you like to do?"))


async def finish_on_signal(bot: RunningBot, user: FakeSignalUser, language: str, name: str) -> None:
    """The rest of the questionnaire after what it is about: languages as preset, the first
    Stadtteil, no fixed date (so no place), the name typed, then *Send*."""
    for action in ("ask:langs_done", "ask:district:0", "ask:day:flex"):
        await pick(bot, user, action, language)
    await eventually(lambda: offers(bot, user, "ask:name"))
    await user.send(name)
    await pick(bot, user, "ask:confirm", language)


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


async def test_a_number_sent_before_the_next_screen_arrived_answers_the_screen_on_the_phone(
    both: RunningBot, daemon: FakeSignalDaemon
) -> None:
    """Two numbers typed one after the other, the second while the screen the first brings
    is still on its way: the second answers the screen the person had, not the new one."""
    user = daemon.user("+4917011110004", "Oksana")
    await onboard_on_signal(user, "uk")
    topics = plain(asking_views.ask_topic(t("uk"), both.city).text)
    daemon.hold("send", lambda params: topics in plain(str(params.get("message"))))
    await answer(user, label("uk", "🤝 I need a Lotse"), "uk")
    await daemon.wait_until(lambda: daemon.held.get("send"))
    # Meant for the menu, still the latest screen on her phone (its second choice).
    seen = len(user.bot_messages())
    await user.send("2")
    await eventually(lambda: pending(both) == 2)  # stored; the topics go out after it
    daemon.release("send")
    await eventually(lambda: pending(both) == 0)
    with closing(sqlite3.connect(both.settings.db_path)) as conn:
        asked = conn.execute("SELECT topic, step FROM request WHERE status = 'draft'").fetchall()
    # Not read as the second topic of a list she had not seen.
    assert asked == [(None, "topic")], asked
    # She is where the first number took her: the topics, to choose from now.
    assert "ask:topic:jobcenter" in {action for _, action in latest_menu(both, user.uuid)}
    assert all(topics in plain(m.text) for m in user.bot_messages()[seen:])


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
    await finish_on_signal(both, refugee, "ar", "Amal")

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
    secret = "رسالة من مكتب الأجانب رقم الغرفة 317"
    await pick(both, user, views.MENU_REQUEST, "ar")
    await pick(both, user, "ask:topic:auslaenderbehoerde", "ar")
    await user.send(secret)
    await eventually(lambda: offers(both, user, "ask:lang:"))
    await user.send_voice(b"\xff\xf1voice-of-amal")
    attachment = next(a.id for m in daemon.messages(user.number) for a in m.attachments)
    await eventually(lambda: offers(both, user, "ask:lang:") and pending(both) == 0)
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
    await eventually(lambda: pending(both) == 0)
    # Down to the bytes of the database file and its write-ahead log, once the handling
    # has come to its end: after the rows, the channel's screens go, then the WAL is purged.
    db_path = both.settings.db_path
    traces = [t.encode() for t in (user.uuid, user.number, "Amal Haddad", secret, attachment)]

    def left() -> list[bytes]:
        blob = db_path.read_bytes() + db_path.with_name(db_path.name + "-wal").read_bytes()
        return [trace for trace in traces if trace in blob]

    await eventually(lambda: not left())
    assert left() == []


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
    await finish_on_signal(both, refugee, "ar", "Amal")

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


async def test_a_broadcast_to_both_messengers_waits_out_signals_captcha(
    api: FakeBotAPI,
    daemon: FakeSignalDaemon,
    city: CityConfig,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    city = dataclasses.replace(city, mailings=MailingRules(signal_per_second=5.0))
    db_path = tmp_path / "lotsenbot.sqlite3"
    bot = await start_bot(api, city, db_path, signal=daemon)
    try:
        coordinator = api.user(COORDINATOR_ID, "Koordination", language_code="de")
        await onboard(coordinator, "de")
        on_telegram = [api.user(9100 + n, f"T{n}") for n in range(12)]
        on_signal = [daemon.user(f"+49170222{n:04d}", f"S{n}") for n in range(12)]
        await seed_people(db_path, [u.id for u in on_telegram], language="uk")
        await seed_people(db_path, [u.uuid for u in on_signal], language="ar", channel="signal")
        news = "Stammtisch am Mittwoch: neue Termine der Schuldnerberatung"
        await compose(coordinator, news, "everyone")
        await coordinator.press(data="bc:send")

        def on_signal_so_far() -> int:
            return sum(1 for u in on_signal for m in u.bot_messages() if news in m.text)

        # A few copies in, Signal wants a captcha: it holds every further message.
        await daemon.wait_until(lambda: on_signal_so_far() >= 3)
        daemon.rate_limit(retry_after=1, challenge="challenge-7", times=10_000)
        alert = views.captcha_alert(t("de"), "challenge-7")
        await coordinator.wait_for_message(lambda m: m.text == alert)
        held = on_signal_so_far()
        assert held < len(on_signal)
        # Telegram goes on at its own pace meanwhile.
        await api.wait_until(lambda: all(copies(u) for u in on_telegram))
        assert on_signal_so_far() == held

        # Whoever runs the server solves it: the rest goes out, nobody twice.
        monkeypatch.setenv("LOTSENBOT_SIGNAL_URL", daemon.url)
        monkeypatch.setenv("LOTSENBOT_SIGNAL_ACCOUNT", daemon.account)
        captcha = "signalcaptcha://signal-recaptcha-v2.solved-by-a-person"
        assert await asyncio.to_thread(cli.main, ["signal-captcha", "challenge-7", captcha]) == 0
        await daemon.wait_until(lambda: on_signal_so_far() == len(on_signal), timeout=30)
        await api.wait_until(lambda: final_report(coordinator) is not None, timeout=30)
        assert all(len(copies(u)) == 1 for u in on_telegram)
        assert all(sum(news in m.text for m in u.bot_messages()) == 1 for u in on_signal)
        # One alert, however many copies met the limit.
        assert [m.text for m in coordinator.bot_messages()].count(alert) == 1
    finally:
        await bot.shutdown()
    assert not daemon.violations


async def test_fifty_lotsen_on_both_messengers_accept_at_once_and_exactly_one_wins(
    api: FakeBotAPI, daemon: FakeSignalDaemon, city: CityConfig, tmp_path: Path
) -> None:
    city = dataclasses.replace(city, requests=RequestRules(offer_count=50))
    db_path = tmp_path / "lotsenbot.sqlite3"
    bot = await start_bot(api, city, db_path, signal=daemon)
    try:
        on_telegram = [api.user(5000 + n, f"T{n}", language_code="ru") for n in range(25)]
        on_signal = [daemon.user(f"+49170333{n:04d}", f"S{n}") for n in range(25)]
        await seed_people(db_path, [u.id for u in on_telegram], language="ru", lotse=True)
        await seed_people(
            db_path, [u.uuid for u in on_signal], language="ru", lotse=True, channel="signal"
        )
        refugee = daemon.user("+4917011110013", "Ivan")
        await onboard_on_signal(refugee, "ru")
        for action in (views.MENU_REQUEST, "ask:topic:housing"):
            await pick(bot, refugee, action, "ru")
        await refugee.send("Письмо от арендодателя")
        await finish_on_signal(bot, refugee, "ru", "Ivan")

        await asyncio.gather(*(u.wait_for_text("🔔") for u in on_telegram))
        await eventually(lambda: all(offers(bot, u, "offer:accept:") for u in on_signal))
        accept = [
            next(
                n
                for n, (_, a) in enumerate(latest_menu(bot, u.uuid), 1)
                if a.startswith("offer:accept:")
            )
            for u in on_signal
        ]
        # Everyone at once: a tap on Telegram, the number on Signal.
        queries = await asyncio.gather(
            *(u.press(label("ru", "✅ Accept")) for u in on_telegram),
            *(u.send(str(n)) for u, n in zip(on_signal, accept, strict=True)),
        )
        answers = await asyncio.gather(
            *(u.wait_for_answer(q) for u, q in zip(on_telegram, queries[:25], strict=True))
        )
        gone = lotse_views.offer_gone(t("ru"))

        def settled() -> bool:
            waiting = "SELECT count(*) FROM offer WHERE status = 'offered'"
            return rows_of(db_path, waiting) == [(0,)]

        await eventually(settled, timeout=30)
        assert rows_of(db_path, "SELECT count(*) FROM request WHERE status = 'accepted'") == [(1,)]
        assert rows_of(db_path, "SELECT count(*) FROM offer WHERE status = 'accepted'") == [(1,)]
        # The one who won hears the details; every other offer says it was taken.
        won = [u for u, a in zip(on_telegram, answers, strict=True) if not a.get("text")]
        assert [a["text"] for a in answers if a.get("text") == gone] == [gone] * (25 - len(won))
        won_on_signal = [u for u in on_signal if any("Ivan" in m.text for m in u.bot_messages())]
        assert len(won) + len(won_on_signal) == 1
        lost_on_signal = [u for u in on_signal if u not in won_on_signal]
        await daemon.wait_until(
            lambda: all(any(m.text == gone for m in u.bot_messages()) for u in lost_on_signal)
        )
        (name,) = rows_of(
            db_path,
            "SELECT l.first_name FROM lotse l JOIN request r ON r.lotse_id = l.person_id",
        )
        await refugee.wait_for_text(str(name[0]))
        assert len([m for m in refugee.bot_messages() if "🎉" in m.text]) == 1
    finally:
        await bot.shutdown()
    assert not daemon.violations


def rows_of(db_path: Path, sql: str) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(db_path)) as conn:
        return [tuple(row) for row in conn.execute(sql).fetchall()]


async def test_a_lotse_on_signal_joins_takes_an_offer_and_closes_the_case(
    both: RunningBot, api: FakeBotAPI, daemon: FakeSignalDaemon
) -> None:
    (code,) = await invite_codes(api, 1)
    taras = daemon.user("+4917011110014", "Taras Bondar")
    # The invitation's code as the first message: language, consent, then the profile.
    await taras.send(f"/start {code}")
    await answer(taras, language_name("uk"), "uk")
    await answer(taras, label("uk", "✅ I agree"), "uk")
    await eventually(lambda: offers(both, taras, "prof:show:lang"))
    await pick(both, taras, "prof:show:lang", "uk")
    await pick(both, taras, "prof:lang:ru", "uk")
    await taras.wait_for_message(lambda m: f"✅ {language_name('ru')}" in listed(m))

    refugee = api.user(611, "Olena", language_code="ru")
    await onboard(refugee, "ru")
    await ask_for_lotse(refugee, "ru", voice=True, text=None, name="Olena")
    await eventually(lambda: offers(both, taras, "offer:accept:"))
    offer = next(m for m in reversed(taras.bot_messages()) if "🔔" in m.text)
    assert "Olena" not in offer.text
    (accept,) = [a for _, a in latest_menu(both, taras.uuid) if a.startswith("offer:accept:")]
    await pick(both, taras, accept, "uk")
    # The details, and the voice note itself, fetched from Telegram and sent on Signal.
    details = await taras.wait_for_message(lambda m: "Olena" in m.text and "🔔" not in m.text)
    voice = await taras.wait_for_message(lambda m: bool(m.attachments))
    assert voice.attachments[0].data == b"OggS-voice" and voice.voice_note
    await refugee.wait_for_text("Taras")

    # A quote-reply to the details reaches Olena; her answer reaches him.
    await taras.reply(details, "Добрий день, Олено! Я прийду в понеділок.")
    relayed = await refugee.wait_for_text("Я прийду в понеділок")
    await reply(refugee, relayed, "Спасибо!")
    await taras.wait_for_text("Спасибо!")

    # Done: the case's choices are on its details, further up: a quote-reply answers them.
    number = accept.rsplit(":", 1)[1]
    done = listed(details)[label("uk", "✅ Mark as done")]
    await taras.reply(details, written(done, "uk"))
    await eventually(lambda: offers(both, taras, f"case:hours:{number}:"))
    await pick(both, taras, f"case:hours:{number}:2", "uk")
    await eventually(
        lambda: rows_of(both.settings.db_path, "SELECT status, hours FROM request") == [("done", 2)]
    )


async def test_a_coordinator_and_a_member_on_signal(
    api: FakeBotAPI, daemon: FakeSignalDaemon, city: CityConfig, tmp_path: Path
) -> None:
    office = daemon.user("+4917011110015", "Büro Integration")
    city = dataclasses.replace(city, coordinators=frozenset({Contact("signal", office.uuid)}))
    bot = await start_bot(api, city, tmp_path / "lotsenbot.sqlite3", signal=daemon)
    try:
        await onboard_on_signal(office, "de")
        # /invite 2 gives two links that open a chat with the bot's number, the codes beside.
        seen = len(office.bot_messages())
        await office.send("/invite 2")
        links = await office.wait_for_message(lambda m: "signal.me" in m.text, after=seen)
        codes = re.findall(r"/start ([A-Z0-9]{10})", links.text)
        assert len(codes) == 2 and daemon.account in links.text
        # A member of the public who used the bot before types one: they become a Lotse.
        member = daemon.user("+4917011110016", "Hadi")
        await onboard_on_signal(member, "fa")
        await member.send(codes[0])
        await eventually(lambda: offers(bot, member, "prof:"))
        # /requests and /stats answer on Signal as on Telegram; the chart comes as a file.
        seen = len(office.bot_messages())
        await office.send("/requests")
        await office.wait_for_message(lambda m: bool(m.text), after=seen)
        seen = len(office.bot_messages())
        await office.send("/stats")
        await eventually(lambda: offers(bot, office, "st:"))
        # /mydata: the member gets the document of everything stored about them.
        seen = len(member.bot_messages())
        await member.send("/mydata")
        document = await member.wait_for_message(lambda m: bool(m.attachments), after=seen)
        stored = json.loads(document.attachments[0].data)
        assert stored["person"]["language"] == "fa" and "lotse" in stored
        assert member.uuid in document.attachments[0].data.decode()
        # A coordinator's command from someone who is none is refused, nothing created.
        seen = len(member.bot_messages())
        await member.send("/invite 5")
        await member.wait_for_message(
            lambda m: m.text == coordination_views.not_allowed(t("fa")), after=seen
        )
        assert rows_of(bot.settings.db_path, "SELECT count(*) FROM invite") == [(2,)]
    finally:
        await bot.shutdown()
    assert not daemon.violations


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


async def test_a_stammtisch_invitation_on_signal_carries_the_calendar_file(
    both: RunningBot, api: FakeBotAPI, daemon: FakeSignalDaemon
) -> None:
    lotse = daemon.user("+4917011110017", "Mina")
    await seed_people(
        both.settings.db_path, [lotse.uuid], language="fa", lotse=True, channel="signal"
    )
    coordinator = api.user(COORDINATOR_ID, "Koordination", language_code="de")
    await onboard(coordinator, "de")
    day = (both.clock.now().astimezone(both.city.timezone) + timedelta(days=10)).date()
    await plan_single_date(coordinator, "Sommerfest der Lotsen", day, "17:45")
    # The invitation comes with the date as a calendar file, its answers numbered.
    invitation = await lotse.wait_for_message(lambda m: "Sommerfest der Lotsen" in m.text)
    (calendar,) = invitation.attachments
    assert b"BEGIN:VCALENDAR" in calendar.data
    assert b"Sommerfest der Lotsen" in calendar.data
    await eventually(lambda: offers(both, lotse, "ev:rsvp:"))
    (yes,) = [
        a for _, a in latest_menu(both, lotse.uuid) if a.startswith("ev:rsvp:") and ":yes" in a
    ]
    await pick(both, lotse, yes, "fa")
    await eventually(
        lambda: rows_of(both.settings.db_path, "SELECT answer FROM rsvp") == [("yes",)]
    )


async def test_joining_the_waiting_list_on_signal(
    both: RunningBot, daemon: FakeSignalDaemon
) -> None:
    user = daemon.user("+4917011110018", "Samira Ahmadi")
    await onboard_on_signal(user, "fa")
    await pick(both, user, views.MENU_BECOME, "fa")
    await pick(both, user, "wl:join", "fa")
    await pick(both, user, "wld:name", "fa")  # the name Signal shows, offered as a choice
    await pick(both, user, "wld:tg", "fa")  # this chat is enough
    # Two more languages in one answer, then on.
    await eventually(lambda: offers(both, user, "wld:lang:"))
    actions = [a for _, a in latest_menu(both, user.uuid)]
    numbers = [actions.index(a) + 1 for a in ("wld:lang:de", "wld:lang:en")]
    await user.send(" ".join(written(n, "fa") for n in numbers))
    await user.wait_for_message(lambda m: f"✓ {language_name('en')}" in listed(m))
    await pick(both, user, "wld:lang_done", "fa")
    await pick(both, user, "wld:district:1", "fa")
    await pick(both, user, "wld:save", "fa")
    await eventually(
        lambda: (
            rows_of(both.settings.db_path, "SELECT name, contact, languages FROM waitlist")
            == [("Samira Ahmadi", None, "fa,de,en")]
        )
    )


async def test_a_phone_number_typed_on_signal_is_text_not_numbers_of_a_list(
    both: RunningBot, daemon: FakeSignalDaemon
) -> None:
    user = daemon.user("+4917011110028", "Jana Novak")
    await onboard_on_signal(user, "uk")
    await pick(both, user, views.MENU_BECOME, "uk")
    await pick(both, user, "wl:join", "uk")
    await pick(both, user, "wld:name", "uk")
    await eventually(lambda: offers(both, user, "wld:tg"))
    # Digits and spaces, as a number of the list would be: the office's way to reach her.
    await user.send("0176 1234567")
    await eventually(lambda: offers(both, user, "wld:lang:"))
    await pick(both, user, "wld:lang_done", "uk")
    await pick(both, user, "wld:district:1", "uk")
    await pick(both, user, "wld:save", "uk")
    await eventually(
        lambda: (
            rows_of(both.settings.db_path, "SELECT name, contact FROM waitlist")
            == [("Jana Novak", "0176 1234567")]
        )
    )


async def test_a_quick_voice_request_on_signal_in_six_messages(
    both: RunningBot, api: FakeBotAPI, daemon: FakeSignalDaemon
) -> None:
    (code,) = await invite_codes(api, 1)
    lotse = await become_lotse(api, 103, "Yusuf", ["fa", "de"], code)
    user = daemon.user("+4917011110019", "Nasrin Karimi")
    await onboard_on_signal(user, "fa")  # 1. hello, 2. the language, 3. agreed
    await pick(both, user, views.MENU_QUICK, "fa")  # 4.
    await eventually(lambda: offers(both, user, "ask:stop"))
    await user.send_voice(b"\xff\xf1nasrin-speaks")  # 5.
    await pick(both, user, "ask:confirm", "fa")  # 6.
    sent = [m for m in daemon.messages(user.number) if not m.from_bot]
    assert len(sent) == 6
    await lotse.wait_for_text("🔔")
    await lotse.press(label("fa", "✅ Accept"))
    voice = await lotse.wait_for_message(lambda m: m.file_id is not None)
    assert api.files[voice.file_id or ""] == b"\xff\xf1nasrin-speaks"
    await user.wait_for_text("Yusuf")


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
    # The case's choices are on its details (the calendar file came after): quoted.
    details = await lotse.wait_for_message(lambda m: "Amal" in m.text and bool(listed(m)))
    await lotse.reply(details, str(listed(details)[label("de", "✅ Mark as done")]))
    await eventually(lambda: offers(both, lotse, "case:hours:1:"))
    await lotse.send("2,5")
    await eventually(lambda: stored("SELECT status, hours FROM request") == [("done", 2.5)])
    assert not [m for m in refugee.bot_messages() if "2,5" in m.text]


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
    await finish_on_signal(both, refugee, "ar", "Amal")
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
