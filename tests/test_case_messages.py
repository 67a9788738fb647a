"""Messages of a case: a reply reaches only the case it replies to (never a closed case,
never someone else's), and a Lotse who hands a case back keeps only its number."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.config import CityConfig, RequestRules
from bot.domain.requests import Request, Status
from channels.telegram.fakeapi import BotMessage, FakeBotAPI, FakeUser
from handlers import asking_views, case_views, lotse_views, views
from tests.conftest import RunningBot, start_bot
from tests.scenario import (
    ask_for_lotse,
    become_lotse,
    has_data,
    invite_codes,
    label,
    onboard,
    passed_on,
    t,
)

RESIDENCE = "Amals Aufenthaltstitel läuft am 3. März ab, Termin bei der Ausländerbehörde"


def case(number: int, status: Status, person_id: int | None = None) -> Request:
    """A request as the views see it, for the expected texts."""
    return Request(
        id=number,
        person_id=person_id,
        status=status,
        step=None,
        topic=None,
        description=None,
        languages=(),
        district=None,
        day=None,
        time=None,
        place=None,
        first_name=None,
        round=0,
        lotse_id=None,
        created_at=datetime.now(UTC),
        confirmed_at=None,
        accepted_at=None,
    )


async def reply(user: FakeUser, to: BotMessage, text: str) -> int:
    """Telegram's *Reply* on one of the bot's messages: the update carries the message."""
    return await user.send_raw(text=text, reply_to_message=to.raw)


async def next_message(user: FakeUser, seen: int) -> BotMessage:
    """The first bot message in the chat after the first ``seen`` ones."""
    return await user.wait_for_message(after=seen)


def received(user: FakeUser, fragment: str) -> list[BotMessage]:
    return [m for m in user.bot_messages() if fragment in m.text]


async def accept_next_offer(lotse: FakeUser, number: int) -> BotMessage:
    """The Lotse accepts the offer of request ``number``; return the details message."""
    await lotse.press(data=f"offer:accept:{number}")
    return await lotse.wait_for_message(
        lambda m: m.text.startswith("✅") and has_data(m, f"case:done:{number}")
    )


async def test_reply_to_a_closed_case_is_refused_and_reaches_nobody(
    running: RunningBot, api: FakeBotAPI
) -> None:
    """The audit's case: Amal's case is closed, Bashir's is open, the Lotse replies to one of
    Amal's old messages with her residence details. Bashir must not receive them."""
    codes = await invite_codes(api, 1)
    yusuf = await become_lotse(api, 701, "Yusuf", ["de", "ar"], codes[0])
    amal = api.user(702, "Amal", language_code="ar")
    await onboard(amal, "ar")
    await ask_for_lotse(amal, "ar", text="رسالة من Jobcenter", name="Amal")
    details = await accept_next_offer(yusuf, 1)
    await amal.wait_for_text("Yusuf")
    await amal.send("شكرا")
    amals_message = await yusuf.wait_for_text("شكرا")

    # Amal's case is done.
    await yusuf.press(label("de", "✅ Mark as done"), message=details)
    await yusuf.press("2")
    await amal.wait_for_message(lambda m: "👍" in m.button_labels())

    bashir = api.user(703, "Bashir", language_code="ar")
    await onboard(bashir, "ar")
    await ask_for_lotse(bashir, "ar", text="Brief von der Krankenkasse", name="Bashir")
    await accept_next_offer(yusuf, 2)
    await bashir.wait_for_text("Yusuf")
    bashir_had, amal_had = len(bashir.bot_messages()), len(amal.bot_messages())

    # A reply to Amal's relayed message, and one to Amal's details: both refused.
    refused = case_views.reply_refused(t("de"), running.city, case(1, Status.DONE), 0)
    for old in (amals_message, details):
        seen = len(yusuf.bot_messages())
        await reply(yusuf, old, RESIDENCE)
        answer = await next_message(yusuf, seen)
        assert answer.text == refused
        assert "#1" in answer.text and running.city.contact.email in answer.text
    assert len(bashir.bot_messages()) == bashir_had and not received(bashir, "Aufenthalt")
    assert len(amal.bot_messages()) == amal_had and not received(amal, "Aufenthalt")

    # Written without replying, it goes to the one running case, and the Lotse sees that it
    # went (a reaction on his message, no message more).
    seen = len(yusuf.bot_messages())
    await yusuf.send("Hallo Bashir, wann passt es Ihnen?")
    relayed = await bashir.wait_for_text("Hallo Bashir, wann passt es Ihnen?")
    assert "\u20682\u2069" in relayed.text  # case #2, in Bashir's Arabic
    await passed_on(api, yusuf, "Hallo Bashir, wann passt es Ihnen?")
    assert len(yusuf.bot_messages()) == seen
    assert not received(amal, "Hallo Bashir")


async def test_reply_to_a_handed_back_case_is_refused_and_its_details_are_cut(
    running: RunningBot, api: FakeBotAPI
) -> None:
    codes = await invite_codes(api, 1)
    erste = await become_lotse(api, 711, "Erste", ["en"], codes[0])
    sam = api.user(712, "Sam", language_code="en")
    await onboard(sam, "en")
    await ask_for_lotse(sam, "en", text="Letter from the Familienkasse", photo=True, name="Sam")
    sams_details = await accept_next_offer(erste, 1)
    photo = await erste.wait_for_message(lambda m: m.kind == "photo")
    await sam.wait_for_text("Erste")
    await sam.send("My permit expires soon")
    sams_message = await erste.wait_for_text("My permit expires soon")
    await erste.send("Hello, see you on Monday")
    await sam.wait_for_text("Hello, see you on Monday")
    await passed_on(api, erste, "Hello, see you on Monday")

    kim = api.user(713, "Kim", language_code="en")
    await onboard(kim, "en")
    await ask_for_lotse(kim, "en", text="Kindergeld form", name="Kim")
    await accept_next_offer(erste, 2)
    await kim.wait_for_text("Erste")

    # Erste hands Sam's case back: every message of it in Erste's chat keeps only the number.
    await erste.press(label("en", "↩️ Hand back"), message=sams_details)
    await erste.press(label("en", "Yes, hand it back"))
    await sam.wait_for_text(asking_views.handed_back_for_person(t("en"), case(1, Status.OPEN)))
    cut = lotse_views.handed_back(t("en"), case(1, Status.OPEN))
    cut_down = (sams_details, sams_message)
    await api.wait_until(lambda: all(m.text == cut for m in cut_down))
    assert all(m.buttons == [] for m in cut_down)
    assert photo.deleted  # the photo of the letter is gone from the chat
    for message in erste.bot_messages():
        assert "Sam" not in message.text and "Familienkasse" not in message.text
        assert "permit" not in message.text
    assert any("Kindergeld form" in m.text for m in erste.bot_messages())  # Kim's is untouched

    # A reply to Sam's message is refused; Kim receives nothing.
    kim_had = len(kim.bot_messages())
    for old in (sams_message, sams_details):
        seen = len(erste.bot_messages())
        await reply(erste, old, "About your permit: bring the letter")
        answer = await next_message(erste, seen)
        assert answer.text == case_views.reply_refused(
            t("en"), running.city, case(1, Status.OPEN), 0
        )
        assert "#1" in answer.text and running.city.contact.email in answer.text
    assert len(kim.bot_messages()) == kim_had
    assert not received(sam, "bring the letter")


async def test_refugee_reply_to_a_handed_back_case_is_refused(
    running: RunningBot, api: FakeBotAPI
) -> None:
    codes = await invite_codes(api, 2)
    yusuf = await become_lotse(api, 721, "Yusuf", ["de", "ar"], codes[0])
    lina = await become_lotse(api, 722, "Lina", ["de", "ar"], codes[1])
    amal = api.user(723, "Amal", language_code="ar")
    await onboard(amal, "ar")
    await ask_for_lotse(amal, "ar", text="رسالة من Jobcenter", name="Amal")
    await lina.wait_for_text("🔔")
    details = await accept_next_offer(yusuf, 1)
    await yusuf.send("Hallo Amal, ich bin Yusuf")
    from_yusuf = await amal.wait_for_text("ich bin Yusuf")
    await yusuf.press(label("de", "↩️ Hand back"), message=details)
    await yusuf.press(label("de", "Yes, hand it back"))
    back = await amal.wait_for_text(
        visible(asking_views.handed_back_for_person(t("ar"), case(1, Status.OPEN)))[:20]
    )
    await lina.wait_for_message(lambda m: has_data(m, "offer:accept:1"))

    # While request #1 has no Lotse, a reply to Yusuf's message goes nowhere.
    waiting = case_views.reply_refused(t("ar"), running.city, case(1, Status.OPEN, 0), 0)
    for old in (from_yusuf, back):
        seen = len(amal.bot_messages())
        await reply(amal, old, "وثيقة الإقامة")
        answer = await next_message(amal, seen)
        assert visible(answer.text) == visible(waiting)
        assert running.city.contact.email in answer.text
    assert not received(yusuf, "وثيقة الإقامة") and not received(lina, "وثيقة الإقامة")


async def test_refugee_reply_to_a_closed_case_is_refused_plain_text_finds_the_running_one(
    running: RunningBot, api: FakeBotAPI
) -> None:
    codes = await invite_codes(api, 2)
    yusuf = await become_lotse(api, 731, "Yusuf", ["de", "ar"], codes[0])
    lina = await become_lotse(api, 732, "Lina", ["de", "ar"], codes[1])
    amal = api.user(733, "Amal", language_code="ar")
    await onboard(amal, "ar")

    # The first case: Yusuf accepts, writes, and closes it.
    await ask_for_lotse(amal, "ar", text="رسالة من Jobcenter", name="Amal")
    await lina.wait_for_text("🔔")
    first = await accept_next_offer(yusuf, 1)
    await yusuf.send("Hallo Amal, ich bin Yusuf")
    from_yusuf = await amal.wait_for_text("ich bin Yusuf")
    await yusuf.press(label("de", "✅ Mark as done"), message=first)
    await yusuf.press("1")
    await amal.wait_for_message(lambda m: "👍" in m.button_labels())

    # A second request goes to Lina.
    await amal.send("/menu")
    await amal.wait_for_message(
        lambda m: has_data(m, "menu:request"), after=len(amal.bot_messages())
    )
    await ask_for_lotse(amal, "ar", text="Formular Kindergeld", name="Amal")
    await lina.wait_for_message(lambda m: has_data(m, "offer:accept:2"))
    await accept_next_offer(lina, 2)
    accepted = await amal.wait_for_message(lambda m: "🎉" in m.text and "Lina" in m.text)

    # A reply to Yusuf's message of the closed #1 is refused.
    seen = len(amal.bot_messages())
    await reply(amal, from_yusuf, "وثيقة الإقامة")
    answer = await next_message(amal, seen)
    assert visible(answer.text) == visible(
        case_views.reply_refused(t("ar"), running.city, case(1, Status.DONE), 0)
    )
    assert running.city.contact.email in answer.text

    # A reply to a message that belongs to no case (the help) is not guessed either.
    seen = len(amal.bot_messages())
    await amal.send("/help")
    helps = await next_message(amal, seen)
    assert helps.text == views.help_text(t("ar"), running.city).text
    seen = len(amal.bot_messages())
    await reply(amal, helps, "وثيقة الإقامة")
    assert (await next_message(amal, seen)).text == case_views.reply_unknown(t("ar"))
    for lotse in (yusuf, lina):
        assert not received(lotse, "وثيقة الإقامة")

    # Plain text, a reply to the acceptance of #2 and one to Amal's own relayed message reach
    # Lina; each time Amal sees that it went.
    seen = len(amal.bot_messages())
    await amal.send("متى نلتقي؟")
    await lina.wait_for_text("متى نلتقي؟")
    await reply(amal, accepted, "شكرا لينا")
    await lina.wait_for_text("شكرا لينا")
    own = next(m for m in api.messages(amal.id) if not m.from_bot and m.text == "متى نلتقي؟")
    await reply(amal, own, "وأيضا")
    await lina.wait_for_text("وأيضا")
    for text in ("متى نلتقي؟", "شكرا لينا", "وأيضا"):
        await passed_on(api, amal, text)
    assert len(amal.bot_messages()) == seen
    for text in ("متى نلتقي؟", "شكرا لينا", "وأيضا"):
        assert not received(yusuf, text)


def visible(text: str) -> str:
    """Text without the invisible direction isolates."""
    return text.replace("\u2068", "").replace("\u2069", "")


async def test_offers_of_both_rounds_show_the_place_but_no_name(
    api: FakeBotAPI, city: CityConfig, tmp_path: Path
) -> None:
    """What PRIVACY.md says a Lotse sees before accepting, in the first and the second round."""
    city = dataclasses.replace(city, requests=RequestRules(offer_count=1))
    bot = await start_bot(api, city, tmp_path / "bot.sqlite3")
    try:
        codes = await invite_codes(api, 2)
        lotsen = [
            await become_lotse(api, 741 + i, name, ["de"], code)
            for i, (name, code) in enumerate(zip(("Erste", "Zweite"), codes, strict=True))
        ]
        refugee = api.user(743, "Hala", language_code="de")
        await onboard(refugee, "de")
        await ask_for_lotse(
            refugee,
            "de",
            text="Brief der Familienkasse",
            name="Hala",
            day="tomorrow",  # a place is asked for an appointment with a date
            place="Bahnhofstraße 4",
        )

        def offers() -> list[BotMessage]:
            return [m for lotse in lotsen for m in lotse.bot_messages() if m.text.startswith("🔔")]

        await api.wait_until(lambda: len(offers()) == 1)  # round 1: the best one
        await bot.advance(city.requests.escalate_after + timedelta(minutes=1))
        await api.wait_until(lambda: len(offers()) == 2)  # round 2: the other one as well
        first, second = offers()
        assert first.chat_id != second.chat_id
        for offer in (first, second):
            assert "Bahnhofstraße 4" in offer.text  # the place as typed
            assert "Brief der Familienkasse" in offer.text  # the matter
            assert "Hala" not in offer.text  # no name
        assert first.text == second.text
    finally:
        await bot.shutdown()
