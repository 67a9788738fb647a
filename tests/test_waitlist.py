"""The training waiting list over HTTP: joining, places, a training announced, confirmations,
a freed place moving up, the training held, leaving, and the anonymous export."""

from __future__ import annotations

import asyncio
import csv
import io
import re
import sqlite3
from datetime import date, datetime, time, timedelta

from openpyxl import load_workbook

from bot.i18n import language_name
from channels.telegram.fakeapi import BotMessage, FakeBotAPI, FakeUser
from handlers.views import consent_withdrawn
from tests.conftest import COORDINATOR_ID, RunningBot, plain
from tests.scenario import (
    BY_TELEGRAM_ID,
    become_lotse,
    has_data,
    invite_codes,
    join_waitlist,
    label,
    local_date,
    onboard,
    seed_people,
    t,
    telegram_id_of,
)


def visible(text: str) -> str:
    return re.sub("[\u2067\u2068\u2069]", "", text)


def announcements(user: FakeUser) -> list[BotMessage]:
    return [m for m in user.bot_messages() if any(d.startswith("wl:t:") for d in _data(m))]


def training_of(notice: BotMessage) -> str:
    """``wl:t:<id>``: what the answer buttons of a training notice start with."""
    return next(d for d in _data(notice) if d.startswith("wl:t:")).rsplit(":", 1)[0]


def _data(message: BotMessage) -> list[str]:
    return [str(b.get("callback_data", "")) for row in message.buttons for b in row]


async def answer(user: FakeUser, training: str, yes: bool) -> BotMessage:
    """Press *I'll come* / *Not this time* (``training`` is ``wl:t:<id>``)."""
    seen = len(user.bot_messages())
    await user.press(data=f"{training}:{'yes' if yes else 'no'}")
    return await user.wait_for_message(lambda m: True, after=seen)


async def test_waiting_list_training_confirmations_and_move_up(
    running: RunningBot, api: FakeBotAPI
) -> None:
    coordinator = api.user(COORDINATOR_ID, "Koordination", language_code="de")
    await onboard(coordinator, "de")
    (code,) = await invite_codes(api, 1)
    lotse = await become_lotse(api, 700, "Jonas", ["de"], code)
    bystander = api.user(799, "Karim", language_code="ar")
    await onboard(bystander, "ar")

    people = {
        "ar": api.user(701, "Rania Haddad", language_code="ar"),
        "fa": api.user(702, "Reza", language_code="fa"),
        "uk": api.user(703, "Olena", language_code="uk"),
        "de": api.user(704, "Petra", language_code="de"),
    }
    for place, (language, user) in enumerate(people.items(), start=1):
        await onboard(user, language)
        typed = None if language == "ar" else f"{user.data['first_name']} Muster"
        phone = "0176 1234567" if language == "fa" else None
        joined = await join_waitlist(user, language, typed_name=typed, phone=phone, district=place)
        assert f"<b>{place}</b>" in (joined.html or ""), (language, joined.html)
        assert visible(joined.text) == visible(
            t(language).gettext(
                "Thank you! You are number <b>{place}</b> on the waiting list. When the next "
                "training is planned, you will be told here.",
                place=place,
            )
        ).replace("<b>", "").replace("</b>", "")

    # The menu entry now shows one's place.
    await people["uk"].press(data="menu:become")
    await people["uk"].wait_for_text(label("uk", "Your place: {place}").format(place=3))

    # The coordinator sees the list with what coordination needs.
    await coordinator.send("/waitlist")
    overview = await coordinator.wait_for_message(lambda m: has_data(m, "wlc:new"))
    assert "Rania Haddad" in overview.text and "0176 1234567" in overview.text
    assert "4" in overview.text.split("\n")[0]

    # A training in three weeks, 2 places, answers within two weeks.
    now = running.clock.now().astimezone(running.city.timezone)
    day = (now + timedelta(days=21)).date()
    by = (now + timedelta(days=14)).date()
    await coordinator.press(data="wlc:new")
    await coordinator.send(day.strftime("%d.%m.%Y"))  # typed
    await coordinator.press(data="wlc:time:1800")
    await coordinator.press(data="wlc:place")
    await coordinator.press(data="wlc:cap:10")
    await coordinator.wait_for_message(lambda m: has_data(m, f"wlc:by:{by.isoformat()}"))
    await coordinator.press(data=f"wlc:by:{by.isoformat()}")
    summary = await coordinator.wait_for_message(lambda m: has_data(m, "wlc:save"))
    goes_to = t("de").ngettext(
        "It goes to {n} person on the waiting list.",
        "It goes to {n} people on the waiting list.",
        4,
    )
    assert goes_to in summary.text and "Rathaus Dorsten" in summary.text
    await coordinator.press(data="wlc:save")

    for language, user in people.items():
        notice = await user.wait_for_message(lambda m, u=user: m in announcements(u))
        text = visible(notice.text)
        assert t(language).day(day) in text, (language, text)
        assert t(language).clock(time(18)) in text
        assert t(language).day(by) in text
    assert announcements(lotse) == [] and announcements(bystander) == []


async def test_training_announced_in_the_new_languages(
    running: RunningBot, api: FakeBotAPI
) -> None:
    """Pashto, Sorani, Tigrinya, Somali and French: the long dates as each language writes
    them, checked against the month names written out for Pashto, Tigrinya and French."""
    coordinator = api.user(COORDINATOR_ID, "Koordination", language_code="de")
    await onboard(coordinator, "de")
    names = {"ps": "Zarmina", "ckb": "Shilan", "ti": "Semhar", "so": "Hodan", "fr": "Aïcha"}
    people = {}
    for index, (language, name) in enumerate(names.items()):
        people[language] = user = api.user(760 + index, name, language_code=language)
        await onboard(user, language)
        await join_waitlist(user, language, typed_name=None, phone=None, district=index)
        both = t(language).join([language_name(language), language_name("de")])
        assert any(visible(both) in visible(m.text) for m in user.bot_messages()), language

    now = running.clock.now().astimezone(running.city.timezone)
    day, by = (now + timedelta(days=40)).date(), (now + timedelta(days=30)).date()
    await announce_training(coordinator, day, 10, by)
    await coordinator.press(data="wlc:save")
    for language, user in people.items():
        notice = await user.wait_for_message(lambda m, u=user: m in announcements(u))
        text = visible(notice.text)
        if language in ("ps", "ti", "fr"):
            assert local_date(language, day) in text and local_date(language, by) in text, text
        assert t(language).day(day) in text and t(language).day(by) in text, (language, text)
        assert t(language).clock(time(18)) in text


async def test_seats_in_order_move_up_held_and_leaving(
    running: RunningBot, api: FakeBotAPI
) -> None:
    coordinator = api.user(COORDINATOR_ID, "Koordination", language_code="de")
    await onboard(coordinator, "de")
    languages = ["ar", "uk", "de", "fa"]
    users = [
        api.user(710 + i, f"Person{i}", language_code=lang) for i, lang in enumerate(languages)
    ]
    for i, (user, language) in enumerate(zip(users, languages, strict=True)):
        await onboard(user, language)
        await join_waitlist(user, language, typed_name=None, phone=None, district=i)
    a, b, c, d = users

    now = running.clock.now().astimezone(running.city.timezone)
    day = (now + timedelta(days=10)).date()
    by = (now + timedelta(days=7)).date()
    await coordinator.send("/waitlist")
    await coordinator.press(data="wlc:new")
    await coordinator.press(data=f"wlc:day:{day.isoformat()}")
    await coordinator.press(data="wlc:time:1000")
    await coordinator.wait_for_message(lambda m: has_data(m, "wlc:place"))
    await coordinator.send("Caritas-Haus, Kirchplatz 1")  # another place, typed
    await coordinator.wait_for_message(lambda m: has_data(m, "wlc:cap:10"))
    await coordinator.send("2")  # typed capacity
    await coordinator.press(data=f"wlc:by:{by.isoformat()}")
    summary = await coordinator.wait_for_message(lambda m: has_data(m, "wlc:save"))
    assert "Caritas-Haus, Kirchplatz 1" in summary.text
    await coordinator.press(data="wlc:save")
    notices = [await u.wait_for_message(lambda m, u=u: m in announcements(u)) for u in users]
    training = training_of(notices[0])

    # Seats go in the order of the answers: two places, then reserves.
    placed = await answer(a, training, yes=True)
    assert any(x.endswith(":no") for x in _data(placed)) and not any(
        x.endswith(":yes") for x in _data(placed)
    )
    await answer(b, training, yes=True)
    reserve = await answer(c, training, yes=True)
    assert visible(reserve.text) == visible(
        t("de").gettext(
            "You are reserve number {number}. If a place becomes free, you will be told at once.",
            number=1,
        )
    )
    await answer(d, training, yes=False)
    seen = len(coordinator.bot_messages())
    await coordinator.send("/waitlist")
    overview = await coordinator.wait_for_message(lambda m: has_data(m, "wlc:new"), after=seen)
    counts = t("de").gettext(
        "{places} of {capacity} places taken, {reserves} reserves, {declined} said no, "
        "{told} told. Answers by {day}.",
        places=2,
        capacity=2,
        reserves=1,
        declined=1,
        told=4,
        day=t("de").day(by),
    )
    assert counts in overview.text, overview.text
    # And who answered: places and reserves in the order of the answers, then the no.
    de = t("de")
    lines = overview.text.split("\n")
    assert f"✅ {de.join(['Person0', 'Person1'])}" in lines, overview.text
    assert "⏳ Person2" in lines and "❌ Person3" in lines

    # A repeated yes keeps the seat.
    again = await answer(b, training, yes=True)
    assert not any(x.endswith(":yes") for x in _data(again))
    # The first person with a place cannot come: the reserve moves up and is told.
    cannot = a.bot_messages()[-1]
    assert any(d.endswith(":no") for d in _data(cannot))
    await answer(a, training, yes=False)
    moved = await c.wait_for_text("🎉")
    assert "Caritas-Haus, Kirchplatz 1" in moved.text
    await running.timers.mailings.wait_idle()
    assert len([m for m in c.bot_messages() if m.text.startswith("🎉")]) == 1

    # After the confirm-by date a yes is no longer taken; a no still is.
    await running.advance(timedelta(days=8))
    query = await d.press(data=f"{training}:yes")
    assert (await d.wait_for_answer(query)).get("show_alert")
    still = await answer(c, training, yes=True)  # a repeated yes keeps her place
    assert not any(x.endswith(":yes") for x in _data(still))

    # The day before, those with a place are reminded, once; then it is held, and those with
    # a place leave the list as trained.
    starts = datetime.combine(day, time(10, 0), running.city.timezone)
    await running.advance(starts - timedelta(hours=12) - running.clock.now())
    await running.advance(timedelta(hours=13))

    def reminders(user: FakeUser) -> list[BotMessage]:
        return [m for m in user.bot_messages() if m.text.startswith("⏰")]

    await b.wait_for_message(lambda m: m in reminders(b))
    await c.wait_for_message(lambda m: m in reminders(c))
    await running.advance(timedelta(hours=1))
    assert [len(reminders(u)) for u in users] == [0, 1, 1, 0]
    assert "Caritas-Haus, Kirchplatz 1" in reminders(b)[0].text
    seen = len(coordinator.bot_messages())
    await coordinator.send("/waitlist")
    overview = await coordinator.wait_for_message(lambda m: has_data(m, "wlc:new"), after=seen)
    heading = t("de").ngettext(
        "<b>Waiting list</b>: {n} person", "<b>Waiting list</b>: {n} people", 2
    )
    assert overview.text.split("\n")[0] == heading.replace("<b>", "").replace("</b>", "")
    assert "Person0" in overview.text and "Person3" in overview.text
    assert "Person1" not in overview.text and "Person2" not in overview.text

    # Leaving takes one more tap; the export no longer has them, and never any name.
    await d.press(data="menu:become")
    await d.press(data="wl:leave")
    await d.press(data="wl:leave_yes")
    await d.wait_for_text(
        label("fa", "You are no longer on the waiting list. You are welcome back at any time.")
    )
    await coordinator.press(data="wlc:export:csv")
    document = await coordinator.wait_for_message(
        lambda m: m.kind == "document" and ".csv" in api.file_names.get(m.file_id or "", "")
    )
    content = api.files[document.file_id or ""]
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert rows[0] == ["joined_month", "languages", "district", "status", "last_called_month"]
    assert sorted(r[3] for r in rows[1:]) == ["trained", "trained", "waiting"]
    assert [r[1] for r in rows[1:] if r[3] == "waiting"] == ["ar de"]
    assert b"Person" not in content and b"710" not in content
    await coordinator.press(data="wlc:export:xlsx")
    workbook = await coordinator.wait_for_message(
        lambda m: m.kind == "document" and ".xlsx" in api.file_names.get(m.file_id or "", "")
    )
    sheet = load_workbook(io.BytesIO(api.files[workbook.file_id or ""])).active
    assert sheet is not None
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0][0] == "joined_month" and len(values) == 4
    assert not any("Person" in str(v) for row in values for v in row)


async def test_entries_not_called_for_a_year_are_erased(
    running: RunningBot, api: FakeBotAPI
) -> None:
    user = api.user(720, "Mira", language_code="tr")
    await onboard(user, "tr")
    await join_waitlist(user, "tr", typed_name="Mira Demir", phone=None, district=0)
    running.clock.advance(timedelta(days=running.city.waitlist_days - 1))
    await running.timers.retention()
    await user.press(data="menu:become")
    await user.wait_for_text(label("tr", "Your place: {place}").format(place=1))

    running.clock.advance(timedelta(days=2))
    await running.timers.retention()
    seen = len(user.bot_messages())
    await user.press(data="menu:become")
    await user.wait_for_message(lambda m: has_data(m, "wl:join"), after=seen)  # the intro again
    with sqlite3.connect(running.settings.db_path) as conn:
        assert conn.execute("SELECT count(*) FROM waitlist").fetchone() == (0,)


async def test_a_long_list_is_shown_in_pages(running: RunningBot, api: FakeBotAPI) -> None:
    coordinator = api.user(COORDINATOR_ID, "Koordination", language_code="de")
    await onboard(coordinator, "de")
    # Forty people waiting; how each joins is shown above.
    ids = range(30_001, 30_041)
    await seed_people(running.settings.db_path, ids)
    with sqlite3.connect(running.settings.db_path) as conn:
        conn.executemany(
            "INSERT INTO waitlist (person_id, name, joined_at) "
            f"SELECT id, 'Name ' || {telegram_id_of('person')}, created_at FROM person "
            f"WHERE {BY_TELEGRAM_ID}",
            [(i,) for i in ids],
        )
    seen = len(coordinator.bot_messages())
    await coordinator.send("/waitlist")
    first = await coordinator.wait_for_message(lambda m: has_data(m, "wlc:new"), after=seen)
    assert "1. Name 30001" in first.text and "10. Name 30010" in first.text
    assert "Name 30011" not in first.text
    assert first.button_labels()[0] == "11–20 ➡️"
    await coordinator.press(data="wlc:page:3", message=first)
    await coordinator.wait_for_message(lambda m: "40. Name 30040" in m.text)
    assert "Name 30030" not in first.text and first.button_labels()[0] == "⬅️ 21–30"


async def test_leaving_or_deleting_with_a_place_gives_it_to_the_next(
    running: RunningBot, api: FakeBotAPI
) -> None:
    coordinator = api.user(COORDINATOR_ID, "Koordination", language_code="de")
    await onboard(coordinator, "de")
    users = [api.user(740 + i, f"Anna{i}", language_code="ru") for i in range(3)]
    for i, user in enumerate(users):
        await onboard(user, "ru")
        await join_waitlist(user, "ru", typed_name=None, phone=None, district=i)
    day = (running.clock.now().astimezone(running.city.timezone) + timedelta(days=9)).date()
    await announce_training(coordinator, day, 1, day - timedelta(days=2))
    await coordinator.press(data="wlc:save")
    notices = [await u.wait_for_message(lambda m, u=u: m in announcements(u)) for u in users]
    training = training_of(notices[0])
    for user in users:
        await answer(user, training, yes=True)  # one place, two reserves

    first, second, third = users
    await first.press(data="menu:become")
    await first.press(data="wl:leave")
    await first.press(data="wl:leave_yes")
    await second.wait_for_text("🎉")

    await second.send("/delete")
    await second.press(label("ru", "🗑 Yes, delete everything"))
    await third.wait_for_text("🎉")
    await running.timers.mailings.wait_idle()
    assert [len([m for m in u.bot_messages() if "🎉" in m.text]) for u in users] == [0, 1, 1]
    with sqlite3.connect(running.settings.db_path) as conn:
        assert conn.execute(
            "SELECT count(*) FROM training_seat WHERE seat = 'place'"
        ).fetchone() == (1,)


async def announce_training(
    coordinator: FakeUser, day: date, capacity: int, answers_by: date
) -> BotMessage:
    """/waitlist → *Announce a training* with the usual place; return the summary.

    The day is typed: the calendar offers only days from a week ahead.
    """
    await coordinator.send("/waitlist")
    await coordinator.press(data="wlc:new")
    await coordinator.send(f"{day.day}.{day.month}.{day.year}")
    for data in ("wlc:time:1800", "wlc:place"):
        await coordinator.press(data=data)
    await coordinator.wait_for_message(lambda m: has_data(m, "wlc:cap:10"))
    await coordinator.send(str(capacity))
    await coordinator.press(data=f"wlc:by:{answers_by.isoformat()}")
    return await coordinator.wait_for_message(lambda m: has_data(m, "wlc:save"))


async def test_trained_people_give_up_other_places_and_may_join_again(
    running: RunningBot, api: FakeBotAPI
) -> None:
    coordinator = api.user(COORDINATOR_ID, "Koordination", language_code="de")
    await onboard(coordinator, "de")
    xenia, yara = api.user(760, "Xenia", language_code="uk"), api.user(761, "Yara", "ar")
    for user, language in ((xenia, "uk"), (yara, "ar")):
        await onboard(user, language)
        await join_waitlist(user, language, typed_name=None, phone=None, district=0)
    today = running.clock.now().astimezone(running.city.timezone).date()
    trainings = []
    for days in (5, 10):
        day = today + timedelta(days=days)
        await announce_training(coordinator, day, 1, day - timedelta(days=1))
        await coordinator.press(data="wlc:save")
        notice = await xenia.wait_for_message(
            lambda m, day=day: m in announcements(xenia) and t("uk").day(day) in visible(m.text)
        )
        trainings.append(training_of(notice))
    await answer(xenia, trainings[0], yes=True)
    await answer(xenia, trainings[1], yes=True)  # she has both places
    await answer(yara, trainings[1], yes=True)  # reserve for the second

    await running.advance(timedelta(days=6))  # the first training has taken place
    await yara.wait_for_text("🎉")  # Xenia's second place is hers now
    await running.timers.mailings.wait_idle()
    assert len([m for m in xenia.bot_messages() if "🎉" in m.text]) == 0

    # Xenia is trained: the menu entry explains again, and joining puts her at the end.
    seen = len(xenia.bot_messages())
    await xenia.press(data="menu:become")
    await xenia.wait_for_message(lambda m: has_data(m, "wl:join"), after=seen)
    joined = await join_waitlist(xenia, "uk", typed_name=None, phone=None, district=1)
    assert "<b>2</b>" in (joined.html or "")


async def test_stale_buttons_late_saves_and_withdrawn_consent(
    running: RunningBot, api: FakeBotAPI
) -> None:
    coordinator = api.user(COORDINATOR_ID, "Koordination", language_code="de")
    await onboard(coordinator, "de")
    zoe = api.user(770, "Zoe", language_code="en")
    await onboard(zoe, "en")
    await zoe.press(data="menu:become")
    await zoe.press(data="wl:join")
    await zoe.press(data="wld:name")
    await zoe.press(data="wld:tg")
    await zoe.press(data="wld:lang_done")
    await zoe.wait_for_message(lambda m: has_data(m, "wld:district:0"))
    # An old button of an earlier step does not skip the Stadtteil.
    query = await zoe.press(data="wld:tg")
    assert (await zoe.wait_for_answer(query)).get("show_alert")
    with sqlite3.connect(running.settings.db_path) as conn:
        assert conn.execute("SELECT step FROM dialog").fetchall() == [("district",)]
    await zoe.press(data="wld:district:3")
    await zoe.press(data="wld:save")
    await zoe.wait_for_text("You are number")

    # A summary left open past its answer-by day is not sent.
    today = running.clock.now().astimezone(running.city.timezone).date()
    await announce_training(coordinator, today + timedelta(days=8), 5, today + timedelta(days=1))
    running.clock.advance(timedelta(days=3))
    query = await coordinator.press(data="wlc:save")
    assert (await coordinator.wait_for_answer(query)).get("show_alert")
    assert announcements(zoe) == []

    # Withdrawing consent takes her off the list.
    await zoe.press(data="menu:privacy")
    await zoe.press(data="consent:withdraw")
    await zoe.wait_for_text(consent_withdrawn(t("en")))
    with sqlite3.connect(running.settings.db_path) as conn:
        assert conn.execute("SELECT count(*) FROM waitlist").fetchone() == (0,)


async def test_a_reserve_who_blocked_the_bot_is_passed_over(
    running: RunningBot, api: FakeBotAPI
) -> None:
    coordinator = api.user(COORDINATOR_ID, "Koordination", language_code="de")
    await onboard(coordinator, "de")
    users = [api.user(780 + i, f"Lale{i}", language_code="tr") for i in range(3)]
    for i, user in enumerate(users):
        await onboard(user, "tr")
        await join_waitlist(user, "tr", typed_name=None, phone=None, district=i)
    today = running.clock.now().astimezone(running.city.timezone).date()
    await announce_training(coordinator, today + timedelta(days=9), 1, today + timedelta(days=5))
    await coordinator.press(data="wlc:save")
    notice = await users[0].wait_for_message(lambda m: m in announcements(users[0]))
    training = training_of(notice)
    for user in users:
        await answer(user, training, yes=True)  # one place, reserves 1 and 2

    # The first reserve blocks the bot (Telegram answers 403 from then on).
    # The bot writes at the same time: take the write lock first (waiting for it), so that
    # the update cannot meet a newer snapshot half-way; waiting in a thread of its own, as
    # the bot in this process needs its event loop to finish the transaction that holds it.
    def block() -> None:
        conn = sqlite3.connect(running.settings.db_path, timeout=30, isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(
                f"UPDATE person SET unreachable_at = created_at WHERE {BY_TELEGRAM_ID}",
                (users[1].id,),
            )
            conn.execute("COMMIT")
        finally:
            conn.close()

    await asyncio.to_thread(block)
    await answer(users[0], training, yes=False)
    await users[2].wait_for_text("🎉")
    await running.timers.mailings.wait_idle()
    assert not any("🎉" in m.text for m in users[1].bot_messages())


async def test_an_announced_training_can_be_changed_and_those_told_hear_of_it(
    running: RunningBot, api: FakeBotAPI
) -> None:
    coordinator = api.user(COORDINATOR_ID, "Koordination", language_code="de")
    await onboard(coordinator, "de")
    coming = api.user(761, "Mariam", language_code="fa")
    away = api.user(762, "Taras", language_code="uk")
    for user, language in ((coming, "fa"), (away, "uk")):
        await onboard(user, language)
        await join_waitlist(user, language, typed_name=None, phone=None, district=0)
    now = running.clock.now().astimezone(running.city.timezone)
    day, by = (now + timedelta(days=10)).date(), (now + timedelta(days=7)).date()
    await announce_training(coordinator, day, 10, by)
    await coordinator.press(data="wlc:save")
    training = training_of(await coming.wait_for_message(lambda m: m in announcements(coming)))
    await away.wait_for_message(lambda m: m in announcements(away))
    await answer(coming, training, yes=True)
    await answer(away, training, yes=False)

    # /waitlist → change it: another day, typed as 25.1., another place.
    number = training.split(":")[2]
    seen = len(coordinator.bot_messages())
    await coordinator.send("/waitlist")
    overview = await coordinator.wait_for_message(
        lambda m: has_data(m, f"wlc:edit:{number}"), after=seen
    )
    await coordinator.press(data=f"wlc:edit:{number}", message=overview)
    later = day + timedelta(days=2)
    await coordinator.wait_for_message(lambda m: any(d.startswith("wlc:day:") for d in _data(m)))
    await coordinator.send(f"{later.day}.{later.month}.")
    await coordinator.press(data="wlc:time:1800")
    await coordinator.wait_for_message(lambda m: has_data(m, "wlc:place"))
    await coordinator.send("Caritas-Haus, Kirchplatz 1")
    await coordinator.press(data="wlc:cap:10")
    await coordinator.press(data=f"wlc:by:{by.isoformat()}")
    summary = await coordinator.wait_for_message(lambda m: has_data(m, "wlc:save"))
    de = t("de")
    assert plain(de.gettext("<b>Change the training to this?</b>")) in summary.text
    await coordinator.press(data="wlc:save", message=summary)

    # Mariam, who said yes, hears of the change and keeps her place; Taras, who said no, not.
    fa = t("fa")
    changed = await coming.wait_for_message(
        lambda m: plain(fa.gettext("🔁 <b>The training was changed</b>")) in m.text
    )
    assert "Caritas-Haus, Kirchplatz 1" in changed.text
    assert fa.day(later) in visible(changed.text)
    await running.handled_all()
    assert not any("Caritas-Haus" in m.text for m in away.bot_messages())
    with sqlite3.connect(running.settings.db_path) as conn:
        assert conn.execute("SELECT place, capacity FROM training").fetchall() == [
            ("Caritas-Haus, Kirchplatz 1", 10)
        ]
        assert conn.execute("SELECT seat FROM training_seat WHERE answer = 'yes'").fetchall() == [
            ("place",)
        ]
