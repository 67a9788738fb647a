"""Typing instead of tapping, over the wire: a typed answer stays in its step, a number typed
at a question of the bot is its answer, and a message for one of several cases waits for its
case. Also the ends of asking: what comes next, what is remembered, what is not asked."""

from __future__ import annotations

import sqlite3

from bot.i18n import language_name
from channels.telegram.fakeapi import BotMessage, FakeUser
from handlers import asking_views, case_views, lotse_views, views
from handlers import request_views as rv
from tests.conftest import RunningBot
from tests.scenario import (
    ask_for_lotse,
    become_lotse,
    has_data,
    invite_codes,
    label,
    onboard,
    plain_first_line,
    t,
)

HERVEST = 5  # Dorsten's Stadtteile in the city file: Hervest is the sixth


def rows(bot: RunningBot, sql: str, *params: object) -> list[tuple[object, ...]]:
    with sqlite3.connect(bot.settings.db_path) as conn:
        return conn.execute(sql, params).fetchall()


def since(user: FakeUser, seen: int) -> list[BotMessage]:
    return user.bot_messages()[seen:]


async def answer(user: FakeUser, text: str, until: str) -> BotMessage:
    """Type ``text`` and wait for the next message carrying the action ``until``."""
    seen = len(user.bot_messages())
    await user.send(text)
    return await user.wait_for_message(lambda m: has_data(m, until), after=seen)


def no_menu(user: FakeUser, seen: int, language: str) -> None:
    menu = views.main_menu(t(language)).text
    assert not [m for m in since(user, seen) if m.text == menu], "the main menu came"


async def test_typed_answers_stay_in_their_step_and_fill_it(running: RunningBot, api) -> None:  # type: ignore[no-untyped-def]
    """At each step, typed text that is a choice's label (any case, no accents, no emoji) is
    that choice, a typed time or language names are taken, and anything else asks the same
    step again in one line: never the main menu, never losing the draft."""
    user = api.user(401, "Oksana", language_code="de")
    await onboard(user, "de")
    seen = len(user.bot_messages())
    await user.press(label("de", "🤝 I need a Lotse"))
    await user.wait_for_message(lambda m: has_data(m, "ask:topic:jobcenter"), after=seen)
    # A word that is no topic at the topic step: said so, and the topic step again.
    mark = len(user.bot_messages())
    await answer(user, "Hallo", "ask:topic:jobcenter")
    assert since(user, mark)[0].text == views.not_understood(t("de"))
    # A sentence there is what it is about: kept, and the topic asked.
    mark = len(user.bot_messages())
    await answer(user, "Ich habe einen Brief vom Jobcenter bekommen", "ask:topic:jobcenter")
    assert since(user, mark)[0].text == asking_views.words_kept(t("de"))
    assert rows(running, "SELECT status, step, description FROM request") == [
        ("draft", "topic", "Ich habe einen Brief vom Jobcenter bekommen")
    ]
    # The topic's label, typed in other letters: chosen; the matter is not asked again.
    topic = rv.topic_label(t("de"), "jobcenter").upper()
    mark = len(user.bot_messages())
    await answer(user, topic, "ask:langs_done")
    assert plain_first_line(asking_views.ask_description(t("de")).text) not in "\n".join(
        m.text for m in since(user, mark)
    )
    # Languages named in a sentence are ticked; the step stays for more.
    ticked = await answer(user, "Deutsch und ein bisschen Arabisch", "ask:langs_done")
    assert f"✅ {language_name('ar')}" in ticked.button_labels()
    assert f"✅ {language_name('de')}" in ticked.button_labels()
    await user.press(data="ask:langs_done", message=ticked)
    await user.wait_for_message(lambda m: has_data(m, f"ask:district:{HERVEST}"), after=seen)
    await answer(user, "hervest", "ask:day:flex")
    day = (await user.wait_for_message(lambda m: has_data(m, "ask:day:flex"), after=seen)).buttons
    await answer(user, "irgendwann", "ask:day:flex")
    await user.press(data=day[0][0]["callback_data"])
    await user.wait_for_message(lambda m: has_data(m, "ask:time:none"), after=seen)
    await answer(user, "halb zehn", "ask:time:none")
    await answer(user, "9:30", "ask:place:skip")
    await answer(user, "Jobcenter, Halterner Straße", "ask:name:telegram")
    await answer(user, "Oksana", "ask:confirm")
    no_menu(user, seen, "de")
    assert rows(
        running, "SELECT step, topic, description, languages, district, time, place FROM request"
    ) == [
        (
            "confirm",
            "jobcenter",
            "Ich habe einen Brief vom Jobcenter bekommen",
            "de ar",
            "Hervest",
            "09:30",
            "Jobcenter, Halterner Straße",
        )
    ]
    # Typed "Send" at the summary sends it, as the button would.
    await user.send(plain_first_line(label("de", "✅ Send request")))
    await user.wait_for_text(plain_first_line(asking_views.sent(t("de")).text))
    assert rows(running, "SELECT status FROM request") in ([("open",)], [("offered",)])


async def test_languages_are_understood_in_the_readers_own_words(
    running: RunningBot,
    api,  # type: ignore[no-untyped-def]
) -> None:
    """A Farsi reader types "Farsi and a little German" in Farsi: both are ticked."""
    user = api.user(402, "Sara", language_code="fa")
    await onboard(user, "fa")
    await user.press(label("fa", "🤝 I need a Lotse"))
    await user.press(data="ask:topic:letter")
    await user.wait_for_text(plain_first_line(asking_views.ask_description(t("fa")).text))
    await answer(user, "نامه", "ask:langs_done")
    ticked = await answer(user, "فارسی و کمی آلمانی", "ask:langs_done")
    labels = ticked.button_labels()
    assert f"✅ {language_name('fa')}" in labels and f"✅ {language_name('de')}" in labels
    assert rows(running, "SELECT languages, step FROM request") == [("de fa", "languages")]


async def _case(api, lotse_id: int, person_id: int, name: str, number: int, code: str | None):  # type: ignore[no-untyped-def]
    """A person asks (Arabic), the Lotse accepts; both wait for the news."""
    lotse = (
        await become_lotse(api, lotse_id, "Yusuf", ["de", "ar"], code)
        if code
        else api.user(lotse_id)
    )
    person = api.user(person_id, name, language_code="ar")
    await onboard(person, "ar")
    await ask_for_lotse(person, "ar", name=name)
    await lotse.press(data=f"offer:accept:{number}")
    await person.wait_for_message(lambda m: m.text.startswith("🎉"))
    return lotse, person


async def test_hours_typed_at_the_hours_question_are_its_answer(
    running: RunningBot,
    api,  # type: ignore[no-untyped-def]
) -> None:
    """Asked how many hours case #1 took, the Lotse types "2,5": that is the answer (half
    hours allowed), and nothing reaches the person."""
    (code,) = await invite_codes(api, 1)
    lotse, amal = await _case(api, 501, 502, "Amal", 1, code)
    await lotse.press(data="case:done:1")
    question = lotse_views.hours_question(t("de"), _stub(1)).text
    await lotse.wait_for_text(question)
    heard = len(amal.bot_messages())
    seen = len(lotse.bot_messages())
    await lotse.send("zwei")  # not a number: asked again
    await lotse.wait_for_message(lambda m: m.text == question, after=seen)
    await lotse.send("2,5")
    done = lotse_views.case_done(t("de"), _stub(1))
    await lotse.wait_for_message(lambda m: done in m.text, after=seen)
    assert rows(running, "SELECT status, hours FROM request") == [("done", 2.5)]
    await amal.wait_for_message(lambda m: "👍" in m.button_labels(), after=heard)
    assert not [m for m in since(amal, heard) if "2,5" in m.text or "zwei" in m.text]
    # The question is answered: typed text is a message again (the case is closed now).
    assert rows(running, "SELECT count(*) FROM dialog") == [(0,)]


async def test_a_message_for_one_of_several_cases_is_kept_and_its_case_asked(
    running: RunningBot,
    api,  # type: ignore[no-untyped-def]
) -> None:
    """A Lotse with two cases writes plainly: the text is kept and "Which case?" asked with
    a choice per case (number and first name); the choice sends it there only. A leading
    ``#1`` picks case 1 at once."""
    (code,) = await invite_codes(api, 1)
    lotse, amal = await _case(api, 511, 512, "Amal", 1, code)
    _, bashir = await _case(api, 511, 513, "Bashir", 2, None)
    heard_amal, heard_bashir = len(amal.bot_messages()), len(bashir.bot_messages())
    seen = len(lotse.bot_messages())
    await lotse.send("Ich komme um zehn")
    asked = await lotse.wait_for_message(lambda m: has_data(m, "relay:to:2"), after=seen)
    assert asked.text == case_views.which_case(t("de"), []).text
    assert asked.button_labels() == ["#1 Amal", "#2 Bashir"]
    await lotse.send("und bringe den Brief mit")  # kept too, the question stays
    await lotse.wait_for_message(lambda m: has_data(m, "relay:to:2"), after=seen + 1)
    await lotse.press("#2 Bashir")
    await bashir.wait_for_text("und bringe den Brief mit")
    assert [m.text for m in since(bashir, heard_bashir) if "Ich komme um zehn" in m.text]
    await lotse.send("#1 Termin am Montag")
    await amal.wait_for_text("Termin am Montag")
    assert not [m for m in since(amal, heard_amal) if "#1 Termin" in m.text]
    assert not [m for m in since(amal, heard_amal) if "Ich komme" in m.text]
    assert not [m for m in since(bashir, heard_bashir) if "Montag" in m.text]


def _stub(number: int):  # type: ignore[no-untyped-def]
    from tests.test_requests import _request_stub

    return _request_stub(number)


async def test_the_ends_of_asking_lead_on_and_asking_again_remembers(
    running: RunningBot,
    api,  # type: ignore[no-untyped-def]
) -> None:
    """My requests is in the menu and /help; a second request is told of the first, and
    stopping it says the first stays open; a cancelled request offers the way on; asking
    again takes the languages, Stadtteil and name of the last request."""
    user = api.user(601, "Olena", language_code="uk")
    await onboard(user, "uk")
    tr = t("uk")
    menu = await user.wait_for_text(views.main_menu(tr).text)
    assert label("uk", "📋 My requests") in menu.button_labels()
    await user.send("/help")
    await user.wait_for_text("/status")
    await ask_for_lotse(user, "uk", district=HERVEST, name="Olena")
    # The stop button does not read "cancel request" (that is what /status does).
    seen = len(user.bot_messages())
    await user.press(label("uk", "🤝 I need a Lotse"))
    topic = await user.wait_for_message(lambda m: has_data(m, "ask:stop"), after=seen)
    stop = [b["text"] for row in topic.buttons for b in row if b["callback_data"] == "ask:stop"]
    assert stop == [label("uk", "✖️ Stop asking")] and "Скасувати запит" not in stop[0]
    assert asking_views.another_request(tr, _stub(1)) in [m.text for m in since(user, seen)]
    await user.press(data="ask:stop")
    stopped = await user.wait_for_text(asking_views.stopped(tr, _stub(1)).text)
    assert stopped.button_labels() == [views.home_button(tr).label]
    # My requests from the menu; cancelling offers a new request and the menu.
    await user.press(label("uk", "📋 My requests"))
    await user.press(tr.gettext("✖️ Cancel #{number}", number="1"))
    await user.press(label("uk", "No, keep it"))
    kept = await user.wait_for_text(asking_views.nothing_changed(tr))
    assert kept.button_labels() == [views.home_button(tr).label]
    await user.press(tr.gettext("✖️ Cancel #{number}", number="1"))
    await user.press(label("uk", "Yes, cancel it"))
    cancelled = await user.wait_for_text(asking_views.cancelled(tr, _stub(1)).text)
    assert cancelled.button_labels() == [
        label("uk", "🤝 I need a Lotse"),
        views.home_button(tr).label,
    ]
    # Asking again: after the matter comes the date, and after the date the summary.
    seen = len(user.bot_messages())
    await user.press(label("uk", "🤝 I need a Lotse"), message=cancelled)
    await user.press(data="ask:topic:letter")
    await user.wait_for_text(plain_first_line(asking_views.ask_description(tr).text))
    await answer(user, "Лист", "ask:day:flex")
    await user.press(data="ask:day:flex")
    summary = await user.wait_for_message(lambda m: has_data(m, "ask:confirm"), after=seen)
    assert "Hervest" in summary.text and "Olena" in summary.text
    assert not [m for m in since(user, seen) if has_data(m, "ask:langs_done")]
    assert not [m for m in since(user, seen) if has_data(m, "ask:place:skip")]
    assert rows(running, "SELECT languages, district, first_name FROM request WHERE id = 2") == [
        ("uk", "Hervest", "Olena")
    ]


async def test_quarter_hours_an_unknown_stadtteil_and_no_place_without_a_date(
    running: RunningBot,
    api,  # type: ignore[no-untyped-def]
) -> None:
    """A second tap on an hour gives its quarters; "I don't know" is a Stadtteil answer
    (stored as none); a request without a date is not asked for a place."""
    user = api.user(701, "Ali", language_code="de")
    await onboard(user, "de")
    seen = len(user.bot_messages())
    await user.press(label("de", "🤝 I need a Lotse"))
    await user.press(data="ask:topic:letter")
    await answer(user, "Brief", "ask:langs_done")
    await user.press(data="ask:langs_done")
    await user.press(label("de", "🤷 I don't know"))
    days = await user.wait_for_message(lambda m: has_data(m, "ask:day:flex"), after=seen)
    await user.press(data=days.buttons[0][0]["callback_data"], message=days)
    await user.press("10:00")
    quarters = await user.wait_for_message(lambda m: has_data(m, "ask:time:1015"), after=seen)
    assert quarters.button_labels()[:4] == ["10:00", "10:15", "10:30", "10:45"]
    await user.press("10:15", message=quarters)
    await user.wait_for_message(lambda m: has_data(m, "ask:place:skip"), after=seen)
    assert rows(running, "SELECT district, time FROM request") == [(None, "10:15")]
    # From the summary, the date changed to none: the place goes, and is not asked.
    await user.press(data="ask:place:skip")
    await answer(user, "Ali", "ask:confirm")
    mark = len(user.bot_messages())
    await user.press(data="ask:edit:day")
    await user.press(data="ask:day:flex")
    await user.wait_for_message(lambda m: has_data(m, "ask:confirm"), after=mark)
    assert not [m for m in since(user, mark) if has_data(m, "ask:place:skip")]
    assert rows(running, "SELECT day, time, place FROM request") == [(None, None, None)]


def test_times_and_hours_as_people_type_them() -> None:
    """The forms of a typed time and of typed hours that are taken, and some that are not."""
    from datetime import time

    from handlers.dialogs import typed_time
    from handlers.lotse import typed_hours

    for text in ("9:30", "09.30", "9.30 Uhr", "٩:٣٠", "۹:۳۰"):
        assert typed_time(text) == time(9, 30), text
    assert typed_time("9 Uhr") == time(9) and typed_time("9h") == time(9)
    assert typed_time("9") is None and typed_time("9", hour_alone=True) == time(9)
    for text in ("25:00", "9:75", "halb zehn", "9-10"):
        assert typed_time(text, hour_alone=True) is None, text
    assert [typed_hours(x) for x in ("2", "2,5", "2.5 h", "3 Std.", "۲٫۵", "1,25")] == [
        2,
        2.5,
        2.5,
        3,
        2.5,
        1.5,
    ]
    for text in ("zwei", "25", "2-3", "", "-1"):
        assert typed_hours(text) is None, text
