"""Help requests end to end: over HTTP, three roles, several languages."""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from bot.config import CityConfig, RequestRules
from bot.domain.requests import MAX_FILES
from bot.i18n import LANGUAGES
from bot.services.requests import MAX_TEXT
from channels.telegram.fakeapi import BotMessage, FakeBotAPI, FakeUser
from handlers import asking_views, case_views, coordination_views, lotse_views, views
from handlers import request_views as rv
from tests.conftest import COORDINATOR_ID, RunningBot, plain, shifted_clock, start_bot
from tests.scenario import (
    BY_TELEGRAM_ID,
    ask_for_lotse,
    become_lotse,
    has_data,
    invite_codes,
    label,
    onboard,
    plain_first_line,
    t,
    telegram_id_of,
)


def visible(text: str) -> str:
    """Text without the invisible direction isolates."""
    return text.replace("\u2068", "").replace("\u2069", "")


def offers_request(message: object, number: int) -> bool:
    """Whether a message is the offer of request ``number``, in whichever language it is."""
    text = visible(getattr(message, "text", ""))
    return "🔔" in text and any(
        visible(t(code).gettext("🔔 <b>New request #{number}</b>", number=str(number)))
        .replace("<b>", "")
        .replace("</b>", "")
        in text
        for code in LANGUAGES
    )


def rows(bot: RunningBot, sql: str, *params: object) -> list[tuple[object, ...]]:
    with sqlite3.connect(bot.settings.db_path) as conn:
        return conn.execute(sql, params).fetchall()


def offer_messages(user) -> list:  # type: ignore[no-untyped-def]
    return [
        m
        for m in user.bot_messages()
        if any(
            b.get("callback_data", "").startswith("offer:accept:") for row in m.buttons for b in row
        )
        or m.text == lotse_views.offer_gone(t("de"))
        or ("#" in m.text and "🔔" in m.text)
    ]


async def test_arabic_request_with_text_is_offered_accepted_relayed_and_closed(
    running: RunningBot, api: FakeBotAPI
) -> None:
    codes = await invite_codes(api, 3)
    speaks_arabic = await become_lotse(api, 101, "Yusuf", ["ar", "de"], codes[0])
    speaks_ukrainian = await become_lotse(api, 102, "Oksana", ["uk"], codes[1])
    also_arabic = await become_lotse(api, 103, "Lina", ["de", "ar"], codes[2])

    refugee = api.user(201, "Amal", language_code="ar")
    await onboard(refugee, "ar")
    await ask_for_lotse(refugee, "ar", text="رسالة من Jobcenter لا أفهمها", name="Amal")

    offer = await speaks_arabic.wait_for_text("🔔")
    await also_arabic.wait_for_text("🔔")
    assert "رسالة من Jobcenter" in offer.text  # what the person wrote about the matter
    assert "Amal" not in offer.text  # but not who they are
    assert not any("🔔" in m.text for m in speaks_ukrainian.bot_messages())

    await speaks_arabic.press(label("ar", "✅ Accept"))
    details = await speaks_arabic.wait_for_text("Amal")
    assert "رسالة من Jobcenter" in details.text
    news = await refugee.wait_for_text("Yusuf")
    assert news.text == asking_views.accepted_for_person(
        t("ar"), _request_stub(1), "Yusuf"
    ).replace("<b>", "").replace("</b>", "")
    taken = await also_arabic.wait_for_message(lambda m: m.text == lotse_views.offer_gone(t("de")))
    assert taken.buttons == []

    # Messages go through the bot both ways, marked with the case.
    await refugee.send("شكرا، متى نلتقي؟")
    relayed = await speaks_arabic.wait_for_text("شكرا، متى نلتقي؟")
    assert relayed.text == case_views.relayed(t("ar"), _request_stub(1), "Amal", "شكرا، متى نلتقي؟")
    await api.push_update(
        {
            "message": {
                "message_id": 10_000,
                "from": speaks_arabic.data,
                "chat": {"id": speaks_arabic.id, "type": "private", "first_name": "Yusuf"},
                "date": 0,
                "text": "Morgen um 10 Uhr am Jobcenter",
                "reply_to_message": relayed.raw,
            }
        }
    )
    answer = await refugee.wait_for_text("Morgen um 10 Uhr am Jobcenter")
    assert "Yusuf" in answer.text and "101" not in answer.text

    # Done, with hours; the person is asked for feedback.
    await speaks_arabic.press(label("ar", "✅ Mark as done"))
    await speaks_arabic.press("2")
    question = await refugee.wait_for_message(lambda m: "👍" in m.button_labels())
    await refugee.press("👍", message=question)
    await refugee.wait_for_text(label("ar", "Thank you for your feedback!"))
    own = await speaks_arabic.wait_for_message(lambda m: "🙂" in m.button_labels())
    await speaks_arabic.press("🙂", message=own)
    await speaks_arabic.wait_for_text(label("ar", "Thank you for your feedback!"))
    assert rows(running, "SELECT status, hours, feedback, lotse_feedback FROM request") == [
        ("done", 2.0, "good", "ok")
    ]


@pytest.mark.parametrize("language", LANGUAGES)
async def test_full_request_in_each_language(
    running: RunningBot, api: FakeBotAPI, language: str
) -> None:
    """Asking, the offer, accepting and messages both ways, all in the person's language."""
    tr = t(language)
    (code,) = await invite_codes(api, 1)
    lotse = await become_lotse(api, 151, "Yusuf", [language], code)
    refugee = api.user(251, "Amal", language_code=language)
    await onboard(refugee, language)
    await ask_for_lotse(refugee, language, text="Brief vom Jobcenter", name="Amal")

    offer = await lotse.wait_for_text("🔔")
    header = plain(tr.gettext("🔔 <b>New request #{number}</b>", number="1"))
    assert offer.text.startswith(header)
    topic = tr.gettext("📌 Topic: {topic}", topic=rv.topic_label(tr, "jobcenter"))
    assert plain(topic) in offer.text and "Amal" not in offer.text
    assert offer.button_labels() == [tr.gettext("✅ Accept"), tr.gettext("Not this time")]
    if language != "en":
        assert tr.gettext("✅ Accept") != "✅ Accept"

    await lotse.press(tr.gettext("✅ Accept"))
    stub = _request_stub(1)
    news = await refugee.wait_for_text("Yusuf")
    assert news.text == plain(asking_views.accepted_for_person(tr, stub, "Yusuf"))
    relayed = await _relayed(refugee, lotse, "Danke! Wann treffen wir uns?")
    assert relayed.text == plain(
        case_views.relayed(tr, stub, "Amal", "Danke! Wann treffen wir uns?")
    )
    await lotse.send_raw(text="Morgen um 10 Uhr", reply_to_message=relayed.raw)
    answer = await refugee.wait_for_text("Morgen um 10 Uhr")
    assert answer.text == plain(case_views.relayed(tr, stub, "Yusuf", "Morgen um 10 Uhr"))


async def _relayed(sender: FakeUser, receiver: FakeUser, text: str) -> BotMessage:
    await sender.send(text)
    return await receiver.wait_for_text(text)


def _request_stub(number: int):  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    from bot.domain.requests import Request, Status

    return Request(
        number,
        None,
        Status.ACCEPTED,
        None,
        None,
        None,
        None,
        None,
        (),
        None,
        None,
        None,
        None,
        None,
        0,
        None,
        datetime.now(UTC),
        None,
        None,
    )


async def test_ukrainian_voice_note_reaches_the_lotse_after_acceptance(
    running: RunningBot, api: FakeBotAPI
) -> None:
    codes = await invite_codes(api, 1)
    lotse = await become_lotse(api, 111, "Taras", ["uk", "de"], codes[0])
    refugee = api.user(211, "Olena", language_code="uk")
    await onboard(refugee, "uk")
    await ask_for_lotse(refugee, "uk", topic="health", text=None, voice=True, name="Olena")
    offer = await lotse.wait_for_text("🔔")
    assert label("uk", "🎤 A voice note is attached.") in offer.text
    assert not [m for m in lotse.bot_messages() if m.kind == "voice"]  # only after accepting
    await lotse.press(label("uk", "✅ Accept"))
    voice = await lotse.wait_for_message(lambda m: m.kind == "voice")
    stored = rows(
        running,
        "SELECT json_extract(files, '$[0].kind'), json_extract(files, '$[0].ref') FROM request",
    )
    assert stored == [("voice", voice.file_id)]  # Telegram's file id is kept, not the file
    assert "Olena" in voice.text


async def test_german_photo_of_a_letter(running: RunningBot, api: FakeBotAPI) -> None:
    codes = await invite_codes(api, 1)
    lotse = await become_lotse(api, 121, "Jonas", ["de"], codes[0])
    refugee = api.user(221, "Hassan", language_code="de")
    await onboard(refugee, "de")
    # Markup-like text is shown literally to the Lotse, never interpreted.
    await ask_for_lotse(
        refugee, "de", topic="letter", text="Brief <b>AOK</b> & Co", photo=True, name="Hassan"
    )
    offer = await lotse.wait_for_text("Brief <b>AOK</b> & Co")
    assert "🔔" in offer.text
    await lotse.press(label("de", "✅ Accept"))
    photo = await lotse.wait_for_message(lambda m: m.kind == "photo")
    assert photo.file_id is not None and photo.file_id.startswith("photo-")
    await refugee.wait_for_text("Jonas")


async def test_pages_of_a_letter_are_added_and_a_long_text_is_cut_not_lost(
    running: RunningBot, api: FakeBotAPI
) -> None:
    codes = await invite_codes(api, 1)
    lotse = await become_lotse(api, 122, "Jonas", ["uk"], codes[0])
    refugee = api.user(222, "Oksana", language_code="uk")
    await onboard(refugee, "uk")
    tr = t("uk")
    await refugee.press(label("uk", "🤝 I need a Lotse"))
    await refugee.press(data="ask:topic:letter")
    await refugee.wait_for_text(plain_first_line(asking_views.ask_description(tr).text))
    # A text over the limit is kept, cut, and the person hears so.
    seen = len(refugee.bot_messages())
    await refugee.send("Лист " * 300)
    await refugee.wait_for_message(
        lambda m: m.text == asking_views.text_shortened(tr, MAX_TEXT), after=seen
    )
    await refugee.wait_for_message(lambda m: has_data(m, "ask:langs_done"), after=seen)
    # Page one, two and three of the letter, sent at the languages step: each added, the step
    # asked again; a sixth file is one too many.
    pages = [f"page-{n}".encode() for n in range(1, 7)]
    for n, page in enumerate(pages[:5], start=1):
        seen = len(refugee.bot_messages())
        await refugee.send_photo(page)
        await refugee.wait_for_message(
            lambda m, n=n: m.text == asking_views.file_added(tr, n),
            after=seen,  # type: ignore[misc]
        )
        await refugee.wait_for_message(lambda m: has_data(m, "ask:langs_done"), after=seen)
    seen = len(refugee.bot_messages())
    await refugee.send_photo(pages[5])
    await refugee.wait_for_message(
        lambda m: m.text == asking_views.files_full(tr, MAX_FILES), after=seen
    )
    await refugee.press(data="ask:langs_done")
    await refugee.press(data="ask:district:0")
    await refugee.press(data="ask:day:flex")  # no date: no place is asked
    await refugee.wait_for_message(lambda m: has_data(m, "ask:name:telegram"))
    await refugee.send("Oksana")
    summary = await refugee.wait_for_message(lambda m: has_data(m, "ask:confirm"))
    assert tr.ngettext("📎 {n} file is attached.", "📎 {n} files are attached.", 5) in summary.text
    await refugee.press(data="ask:confirm")
    await lotse.wait_for_text("🔔")
    await lotse.press(label("uk", "✅ Accept"))
    await api.wait_until(lambda: len([m for m in lotse.bot_messages() if m.kind == "photo"]) == 5)
    sent = [api.files[m.file_id] for m in lotse.bot_messages() if m.kind == "photo" and m.file_id]
    assert sent == pages[:5]  # Telegram's own references, in order; the sixth was not taken
    (stored,) = rows(running, "SELECT length(description) FROM request")
    assert stored == (MAX_TEXT,)


async def test_offers_respect_language_pause_quiet_hours_and_load(
    api: FakeBotAPI, city: CityConfig, tmp_path: Path
) -> None:
    city = dataclasses.replace(city, requests=RequestRules(offer_count=10))
    # Late in the evening, so that the quiet hours the profile offers contain "now".
    clock = shifted_clock()
    local = clock.now().astimezone(city.timezone)
    evening = local.replace(hour=23, minute=0, second=0, microsecond=0)
    clock.advance(evening - local if evening > local else evening + timedelta(days=1) - local)
    bot = await start_bot(api, city, tmp_path / "bot.sqlite3", clock)
    try:
        codes = await invite_codes(api, 5)
        fits = await become_lotse(api, 131, "Fits", ["fa"], codes[0])
        other_language = await become_lotse(api, 132, "Other", ["tr"], codes[1])
        paused = await become_lotse(api, 133, "Paused", ["fa"], codes[2])
        await paused.press(data="prof:show:pause")
        await paused.press(data="prof:pause:14")
        await paused.wait_for_text("⏸")
        night_owl = await become_lotse(api, 134, "Quiet", ["fa"], codes[3])
        await night_owl.press(data="prof:show:quiet")
        await night_owl.press(data="prof:quiet:22-7")
        await night_owl.wait_for_text("🌙")
        busy = await become_lotse(api, 135, "Busy", ["fa"], codes[4])

        # Busy takes a first request and is then at their cap of one open case.
        await busy.press(data="prof:show:max")
        await busy.press(data="prof:max:1")
        first = api.user(231, "Reza", language_code="fa")
        await onboard(first, "fa")
        await ask_for_lotse(first, "fa", name="Reza")
        await busy.press(label("fa", "✅ Accept"))
        await first.wait_for_text("Busy")

        second = api.user(232, "Sara", language_code="fa")
        await onboard(second, "fa")
        await ask_for_lotse(second, "fa", name="Sara")
        await fits.wait_for_message(lambda m: offers_request(m, 2))
        offered = {
            r[0]
            for r in rows(
                bot,
                f"SELECT {telegram_id_of('p')} FROM offer o JOIN person p "
                "ON p.id = o.lotse_id WHERE o.request_id = 2",
            )
        }
        assert offered == {fits.id}
        for left_out in (other_language, paused, night_owl, busy):
            assert not any(offers_request(m, 2) for m in left_out.bot_messages())
    finally:
        await bot.shutdown()


async def test_fifty_lotsen_press_accept_at_once_exactly_one_wins(
    api: FakeBotAPI, city: CityConfig, tmp_path: Path
) -> None:
    city = dataclasses.replace(city, requests=RequestRules(offer_count=50))
    bot = await start_bot(api, city, tmp_path / "bot.sqlite3")
    try:
        codes = await invite_codes(api, 50)
        lotsen = await asyncio.gather(
            *(become_lotse(api, 1000 + i, f"L{i}", ["ru"], code) for i, code in enumerate(codes))
        )
        refugee = api.user(241, "Ivan", language_code="ru")
        await onboard(refugee, "ru")
        await ask_for_lotse(refugee, "ru", name="Ivan")
        await asyncio.gather(*(lotse.wait_for_text("🔔") for lotse in lotsen))
        queries = await asyncio.gather(*(lotse.press(label("ru", "✅ Accept")) for lotse in lotsen))
        answers = await asyncio.gather(
            *(lotse.wait_for_answer(q) for lotse, q in zip(lotsen, queries, strict=True))
        )
        taken = [a for a in answers if a.get("text") == lotse_views.offer_gone(t("ru"))]
        assert len(taken) == 49
        assert rows(bot, "SELECT count(*) FROM request WHERE status = 'accepted'") == [(1,)]
        assert rows(bot, "SELECT count(*) FROM offer WHERE status = 'accepted'") == [(1,)]
        winner = [lotse for lotse, a in zip(lotsen, answers, strict=True) if not a.get("text")]
        assert len(winner) == 1
        await refugee.wait_for_text(winner[0].data["first_name"])
        news = [m for m in refugee.bot_messages() if "🎉" in m.text]
        assert len(news) == 1
    finally:
        await bot.shutdown()


async def test_forged_buttons_cannot_take_see_or_change_a_case(
    running: RunningBot, api: FakeBotAPI
) -> None:
    codes = await invite_codes(api, 2)
    offered = await become_lotse(api, 151, "Offered", ["ar"], codes[0])
    outsider = await become_lotse(api, 152, "Outsider", ["tr"], codes[1])
    refugee = api.user(251, "Nour", language_code="ar")
    await onboard(refugee, "ar")
    await ask_for_lotse(refugee, "ar", name="Nour")
    await offered.wait_for_text("🔔")
    stranger = api.user(252, "Mallory", language_code="tr")
    await onboard(stranger, "tr")

    expired = views.button_expired(t("tr"))
    attempts = [
        (outsider, "offer:accept:1", expired),  # a Lotse who was not offered it
        (stranger, "offer:accept:1", expired),  # not a Lotse at all
        (stranger, "req:cancel_yes:1", expired),  # someone else's request
        (stranger, "case:done:1", expired),
        (stranger, "fb:1:bad", expired),
        (stranger, "coord:assign:1:1", coordination_views.not_allowed(t("tr"))),
        (outsider, "offer:accept:999", expired),
        (outsider, "offer:accept:1; DROP TABLE request", expired),
    ]
    for user, data, refusal in attempts:
        query = await user.press(data=data)
        answer = await user.wait_for_answer(query)
        assert answer.get("show_alert") is True
        assert answer.get("text") == refusal, data
        assert "Nour" not in (answer.get("text") or "")
    assert rows(running, "SELECT status, lotse_id FROM request") == [("offered", None)]

    await offered.press(label("ar", "✅ Accept"))
    await refugee.wait_for_text("Offered")
    await refugee.press(data="req:cancel_yes:1")  # (not via /status: still checked)
    await refugee.wait_for_message(
        lambda m: m.text == asking_views.cancelled(t("ar"), _request_stub(1)).text
    )
    # The case is closed now: a stale Accept or Done changes nothing and reveals nothing.
    for user, data, language in [
        (offered, "case:done:1", "ar"),
        (outsider, "offer:accept:1", "tr"),
    ]:
        query = await user.press(data=data)
        answer = await user.wait_for_answer(query)
        assert answer.get("show_alert") is True
        assert answer.get("text") == views.button_expired(t(language)), data
    assert rows(running, "SELECT status FROM request") == [("cancelled",)]
    assert expired != views.button_expired(t("en"))  # the refusal was in Turkish


async def test_nobody_accepts_escalation_to_all_then_coordinators_then_expiry(
    api: FakeBotAPI, city: CityConfig, tmp_path: Path
) -> None:
    city = dataclasses.replace(city, requests=RequestRules(offer_count=1))
    bot = await start_bot(api, city, tmp_path / "bot.sqlite3")
    try:
        codes = await invite_codes(api, 2)
        first = await become_lotse(api, 161, "First", ["uk"], codes[0])
        second = await become_lotse(api, 162, "Second", ["uk"], codes[1])
        coordinator = api.user(COORDINATOR_ID)
        refugee = api.user(261, "Mykola", language_code="uk")
        await onboard(refugee, "uk")
        tomorrow = (bot.clock.now().astimezone(city.timezone) + timedelta(days=1)).date()
        await ask_for_lotse(refugee, "uk", name="Mykola", day=tomorrow.isoformat(), time="1000")

        def offered_to(user) -> bool:  # type: ignore[no-untyped-def]
            return any("🔔" in m.text for m in user.bot_messages())

        await api.wait_until(lambda: offered_to(first) or offered_to(second))
        assert offered_to(first) != offered_to(second)  # round 1: the best one only

        # No answer within the escalation time: everyone sharing a language is asked.
        assert await bot.advance(timedelta(minutes=121)) >= 1
        await api.wait_until(lambda: offered_to(first) and offered_to(second))

        # Still nobody: the coordinators get it with buttons to assign by hand,
        # and the person is told honestly that it takes longer.
        await bot.advance(timedelta(minutes=121))
        alert = await coordinator.wait_for_message(lambda m: "#1" in visible(m.text))
        assert "Mykola" not in alert.text
        assert any(label.startswith(("First", "Second")) for label in alert.button_labels())
        await refugee.wait_for_text(asking_views.taking_longer(t("uk"), _request_stub(1))[:25])

        # The appointment passes without a Lotse: the request expires and the person is told.
        await bot.advance(timedelta(days=2))
        told = await refugee.wait_for_text("hildegard.hemmers@dorsten.de")
        assert rows(bot, "SELECT status FROM request") == [("expired",)]
        # Asking again is one tap away, and so is the menu.
        assert [b["callback_data"] for row in told.buttons for b in row] == [
            views.MENU_REQUEST,
            views.MENU_HOME,
        ]
        # The coordinators, who had it, hear that it expired.
        await coordinator.wait_for_text(
            t("de").gettext(
                "⌛ Request #{number} expired: no Lotse was found in time. The person was told.",
                number="1",
            )
        )
        assert all(
            m.buttons == [] for m in first.bot_messages() + second.bot_messages() if "🔔" in m.text
        )
    finally:
        await bot.shutdown()


async def test_coordinator_assigns_by_hand(
    api: FakeBotAPI, city: CityConfig, tmp_path: Path
) -> None:
    bot = await start_bot(api, city, tmp_path / "bot.sqlite3")
    try:
        codes = await invite_codes(api, 1)
        lotse = await become_lotse(api, 171, "Aylin", ["tr"], codes[0])
        coordinator = api.user(COORDINATOR_ID)
        refugee = api.user(271, "Ali", language_code="ar")
        await onboard(refugee, "ar")
        await ask_for_lotse(refugee, "ar", name="Ali")  # nobody speaks Arabic or German
        alert = await coordinator.wait_for_message(lambda m: "Aylin" in " ".join(m.button_labels()))
        await coordinator.press(alert.button_labels()[0], message=alert)
        await lotse.wait_for_text("Ali")
        await refugee.wait_for_text("Aylin")
        assert rows(bot, "SELECT status FROM request") == [("accepted",)]
    finally:
        await bot.shutdown()


async def test_reminders_the_day_before_and_two_hours_before_with_attendance(
    running: RunningBot, api: FakeBotAPI
) -> None:
    codes = await invite_codes(api, 1)
    lotse = await become_lotse(api, 181, "Mehmet", ["tr"], codes[0])
    coordinator = api.user(COORDINATOR_ID)
    refugee = api.user(281, "Zeynep", language_code="tr")
    await onboard(refugee, "tr")
    tz = running.city.timezone
    in_three_days = (running.clock.now().astimezone(tz) + timedelta(days=3)).date()
    await ask_for_lotse(
        refugee,
        "tr",
        name="Zeynep",
        day=in_three_days.isoformat(),
        time="1400",
        place="Jobcenter, Halterner Str. 1",
    )
    await lotse.press(label("tr", "✅ Accept"))
    await refugee.wait_for_text("Mehmet")
    assert {r[0] for r in rows(running, "SELECT kind FROM timer WHERE done_at IS NULL")} == {
        "request:remind:0",
        "request:remind:1",
    }

    def reminders(user) -> list:  # type: ignore[no-untyped-def]
        return [m for m in user.bot_messages() if m.text.startswith("⏰")]

    from datetime import datetime, time

    appointment = datetime.combine(in_three_days, time(14, 0), tzinfo=tz)
    # Just before the day-before reminder: nothing yet.
    await running.advance(appointment - timedelta(days=1, minutes=5) - running.clock.now())
    assert reminders(lotse) == [] and reminders(refugee) == []
    await running.advance(timedelta(minutes=10))
    await api.wait_until(lambda: len(reminders(lotse)) == 1 and len(reminders(refugee)) == 1)
    assert "Zeynep" in reminders(lotse)[0].text and "Mehmet" in reminders(refugee)[0].text
    # Each reminder names the case and the place.
    for reminder in (reminders(lotse)[0], reminders(refugee)[0]):
        assert "#1" in visible(reminder.text)
        assert "Jobcenter, Halterner Str. 1" in reminder.text
    before = reminders(refugee)[0].text

    # The refugee cannot come: the Lotse and the coordinators are told, the coordinators
    # which case and which Lotse; the reminder keeps its date and shows the answer.
    await refugee.press(label("tr", "I can't come"), message=reminders(refugee)[0])
    await lotse.wait_for_text("⚠️")
    await coordinator.wait_for_message(
        lambda m: "#1" in visible(m.text) and "⚠️" in m.text and "Mehmet" in m.text
    )
    answered = t("tr").gettext("Your answer: {answer}", answer=label("tr", "I can't come"))
    await api.wait_until(lambda: answered in reminders(refugee)[0].text)
    assert reminders(refugee)[0].text.startswith(before)
    assert reminders(refugee)[0].buttons == []

    # Two hours before: the second reminder, once, even if the timers run twice.
    await running.advance(appointment - timedelta(hours=2) - running.clock.now())
    await running.advance(timedelta(seconds=1))
    await api.wait_until(lambda: len(reminders(lotse)) == 2 and len(reminders(refugee)) == 2)
    assert rows(
        running,
        "SELECT count(*) FROM timer WHERE kind LIKE 'request:remind:%' AND done_at IS NOT NULL",
    ) == [(2,)]


async def test_status_lists_and_cancels_with_confirmation(
    running: RunningBot, api: FakeBotAPI
) -> None:
    codes = await invite_codes(api, 1)
    lotse = await become_lotse(api, 191, "Dana", ["de"], codes[0])
    refugee = api.user(291, "Jana", language_code="de")
    await onboard(refugee, "de")
    await ask_for_lotse(refugee, "de", name="Jana")
    await lotse.press(label("de", "✅ Accept"))
    await refugee.wait_for_text("Dana")
    await refugee.send("/status")
    status = await refugee.wait_for_message(lambda m: "req:cancel:1" in str(m.buttons))
    assert rv.status_label(t("de"), _stub_status("accepted")) in status.text
    await refugee.press(status.button_labels()[0], message=status)
    question = await refugee.wait_for_message(lambda m: "cancel_yes" in str(m.buttons))
    await refugee.press(question.button_labels()[1], message=question)  # no, keep it
    await refugee.wait_for_text(label("de", "Alright, nothing was changed."))
    assert rows(running, "SELECT status FROM request") == [("accepted",)]
    await refugee.press(data="req:cancel_yes:1", message=question)
    await lotse.wait_for_text(lotse_views.cancelled_for_lotse(t("de"), _request_stub(1)))
    assert rows(running, "SELECT status FROM request") == [("cancelled",)]


async def test_hand_back_offers_the_request_again_to_someone_else(
    running: RunningBot, api: FakeBotAPI
) -> None:
    codes = await invite_codes(api, 2)
    first = await become_lotse(api, 301, "Erste", ["en"], codes[0])
    second = await become_lotse(api, 302, "Zweite", ["en"], codes[1])
    refugee = api.user(401, "Sam", language_code="en")
    await onboard(refugee, "en")
    await ask_for_lotse(refugee, "en", name="Sam")
    await first.wait_for_text("🔔")
    await first.press(label("en", "✅ Accept"))
    await refugee.wait_for_text("Erste")
    await first.press(label("en", "↩️ Hand back"))
    await first.press(label("en", "Yes, hand it back"))
    await refugee.wait_for_text(asking_views.handed_back_for_person(t("en"), _request_stub(1)))
    # The second Lotse's first offer was edited to "taken"; now a new one arrives.
    await second.wait_for_message(lambda m: "🔔" in m.text and m.buttons != [])
    gone = [m for m in second.bot_messages() if m.text == lotse_views.offer_gone(t("en"))]
    assert len(gone) == 1
    # Not offered again (its one offer, like the rest of the case, is cut down to "handed back").
    offers = [c for c in api.calls_of("sendMessage") if "🔔" in str(c.params.get("text"))]
    assert [str(c.params.get("chat_id")) for c in offers].count(str(first.id)) == 1
    await second.press(label("en", "✅ Accept"))
    await refugee.wait_for_text("Zweite")


async def test_volunteer_without_code_asks_and_is_approved(
    running: RunningBot, api: FakeBotAPI
) -> None:
    coordinator = api.user(COORDINATOR_ID)
    volunteer = api.user(501, "Petra", language_code="de")
    await onboard(volunteer, "de")
    await volunteer.press(label("de", "🧭 I am a Lotse"))
    await volunteer.press(label("de", "🙋 Ask for approval"))
    application = await coordinator.wait_for_text("Petra")
    await coordinator.press(label("de", "✅ Approve"), message=application)
    await volunteer.wait_for_text(lotse_views.welcome_lotse(t("de"))[:30])
    await coordinator.wait_for_text(coordination_views.application_decided(t("de"), "Petra", True))
    # A second press on the same (stale) button changes nothing.
    query = await coordinator.press(
        data=application.raw["reply_markup"]["inline_keyboard"][0][0]["callback_data"],
        message=application,
    )
    assert (await coordinator.wait_for_answer(query)).get("show_alert") is True
    assert rows(
        running,
        f"SELECT role FROM person WHERE {BY_TELEGRAM_ID}",
        501,
    ) == [("lotse",)]


def _stub_status(value: str):  # type: ignore[no-untyped-def]
    from bot.domain.requests import Status

    return Status(value)


async def test_the_lotse_serving_the_stadtteil_is_asked_first(
    api: FakeBotAPI, city: CityConfig, tmp_path: Path
) -> None:
    city = dataclasses.replace(city, requests=RequestRules(offer_count=1))
    bot = await start_bot(api, city, tmp_path / "bot.sqlite3")
    try:
        codes = await invite_codes(api, 2)
        elsewhere = await become_lotse(api, 601, "Altstadt", ["ar"], codes[0])
        nearby = await become_lotse(api, 602, "Hervest", ["ar"], codes[1])
        for lotse, district in ((elsewhere, 0), (nearby, 5)):  # 5 = Hervest
            await lotse.press(data="prof:show:dist")
            await lotse.press(data=f"prof:dist:{district}")
            ticked = f"✅ {city.districts[district]}"
            await lotse.wait_for_message(lambda m, ticked=ticked: ticked in m.button_labels())
        refugee = api.user(603, "Huda", language_code="ar")
        await onboard(refugee, "ar")
        await ask_for_lotse(refugee, "ar", name="Huda", district=5)
        await nearby.wait_for_text("🔔")
        assert not any("🔔" in m.text for m in elsewhere.bot_messages())
    finally:
        await bot.shutdown()
