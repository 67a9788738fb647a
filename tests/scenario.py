"""Scripted people for scenario tests: they tap the same buttons a person would."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.clock import to_db
from bot.i18n import Texts, language_name, texts
from bot.storage.database import Database
from channels.telegram.fakeapi import BotMessage, FakeBotAPI, FakeUser
from handlers import asking_views
from tests.conftest import COORDINATOR_ID

BERLIN = ZoneInfo("Europe/Berlin")


def t(language: str) -> Texts:
    return texts(language, BERLIN)


def label(language: str, message: str) -> str:
    return t(language).gettext(message)


# Written out here, not taken from Babel, so that tests check the long dates people read.
MONTHS = {
    "de": "Januar Februar März April Mai Juni Juli August September Oktober November Dezember",
    "uk": "січня лютого березня квітня травня червня липня серпня вересня жовтня листопада грудня",
    "ar": "يناير فبراير مارس أبريل مايو يونيو يوليو أغسطس سبتمبر أكتوبر نوفمبر ديسمبر",
    "ps": "جنوري فبروري مارچ اپریل مۍ جون جولای اګست سېپتمبر اکتوبر نومبر دسمبر",
    "ti": "ጥሪ ለካቲት መጋቢት ሚያዝያ ጉንበት ሰነ ሓምለ ነሓሰ መስከረም ጥቅምቲ ሕዳር ታሕሳስ",
    "fr": "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
}
WEEKDAYS: dict[str, str | tuple[str, ...]] = {  # Monday first
    "de": "Montag Dienstag Mittwoch Donnerstag Freitag Samstag Sonntag",
    "uk": "понеділок вівторок середа четвер пʼятниця субота неділя",
    "ar": "الاثنين الثلاثاء الأربعاء الخميس الجمعة السبت الأحد",
    "ps": ("دوشنبه", "سه شنبه", "چهارشنبه", "پنج شنبه", "جمعه", "اونۍ", "یکشنبه"),
    "ti": "ሰኑይ ሰሉስ ረቡዕ ሓሙስ ዓርቢ ቀዳም ሰንበት",
    "fr": "lundi mardi mercredi jeudi vendredi samedi dimanche",
}


def local_date(language: str, day: date) -> str:
    """How the day reads in ``language``'s long format (only the languages written out above)."""
    month = MONTHS[language].split()[day.month - 1]
    weekdays = WEEKDAYS[language]
    weekday = (weekdays.split() if isinstance(weekdays, str) else weekdays)[day.weekday()]
    return {
        "de": f"{weekday}, {day.day}. {month} {day.year}",
        "uk": f"{weekday}, {day.day} {month} {day.year}\u202fр.",  # narrow no-break space
        "ar": f"{weekday}، {day.day} {month} {day.year}",
        "ps": f"{weekday} {day.day}, {month}, {day.year}",
        "ti": f"{weekday}፣ {day.day} {month} {day.year}",
        "fr": f"{weekday} {day.day} {month} {day.year}",
    }[language]


async def onboard(user: FakeUser, language: str) -> None:
    """/start, pick ``language``, agree; wait for the main menu."""
    await user.send("/start")
    await user.press(language_name(language), data=f"lang:{language}")
    await user.press(label(language, "✅ I agree"))
    await user.wait_for_text(label(language, "What would you like to do?"))


async def invite_codes(api: FakeBotAPI, count: int) -> list[str]:
    """The coordinator creates invitation links with /invite."""
    coordinator = api.user(COORDINATOR_ID, "Koordination", language_code="de")
    seen = len(coordinator.bot_messages())
    await coordinator.send(f"/invite {count}")
    message = await coordinator.wait_for_message(lambda m: "start=" in m.text, after=seen)
    return re.findall(r"start=([A-Z0-9]+)", message.text)


async def become_lotse(
    api: FakeBotAPI, user_id: int, name: str, languages: list[str], code: str
) -> FakeUser:
    """A volunteer opens the invitation link, picks a language, agrees, edits the profile."""
    user = api.user(user_id, name, language_code=languages[0])
    first = languages[0]
    await user.send(f"/start {code}")
    await user.press(data=f"lang:{first}:{code}")
    await user.press(data=f"consent:yes:{code}")
    await user.wait_for_message(lambda m: has_data(m, "prof:show:lang"))
    for language in languages[1:]:
        await user.press(data="prof:show:lang")
        await user.press(data=f"prof:lang:{language}")
        ticked = f"✅ {language_name(language)}"
        await user.wait_for_message(lambda m, ticked=ticked: ticked in m.button_labels())  # type: ignore[misc]
    return user


async def ask_for_lotse(
    user: FakeUser,
    language: str,
    *,
    topic: str = "jobcenter",
    text: str | None = "Brief vom Jobcenter verstehen",
    voice: bool = False,
    photo: bool = False,
    district: int = 0,
    day: str = "flex",
    time: str | None = None,
    name: str = "Amal",
    place: str | None = None,
    also: tuple[str, ...] = (),
) -> BotMessage:
    """Go through the whole intake and send the request; return the confirmation. Asking
    again, the languages, the Stadtteil and the name of the last request are taken again (not
    asked); without a date there is no place to give. ``day``: ``flex``, ``tomorrow`` or an
    ISO date of the calendar.

    ``also``: languages ticked besides the person's own."""
    tr = t(language)
    await user.press(label(language, "🤝 I need a Lotse"))
    await user.press(data=f"ask:topic:{topic}")
    await user.wait_for_text(plain_first_line(asking_views.ask_description(tr).text))
    seen = len(user.bot_messages())
    if voice:
        await user.send_voice()
    elif photo:
        await user.send_photo(caption=text)
    else:
        assert text is not None
        await user.send(text)
    step = await user.wait_for_message(
        lambda m: has_data(m, "ask:langs_done") or has_data(m, "ask:day:flex"), after=seen
    )
    if has_data(step, "ask:langs_done"):
        for code in also:
            await user.press(data=f"ask:lang:{code}")
            ticked = f"✅ {language_name(code)}"
            await user.wait_for_message(lambda m, ticked=ticked: ticked in m.button_labels())  # type: ignore[misc]
        await user.press(data="ask:langs_done")
        await user.press(data=f"ask:district:{district}")
    if day == "tomorrow":  # the calendar's second day
        days = await user.wait_for_message(lambda m: has_data(m, "ask:day:flex"), after=seen)
        day = days.buttons[0][1]["callback_data"].removeprefix("ask:day:")
    await user.press(data=f"ask:day:{day}")
    if day != "flex":
        await user.press(data=f"ask:time:{time or 'none'}")
        if place is None:
            await user.press(data="ask:place:skip")
        else:
            await user.wait_for_message(lambda m: has_data(m, "ask:place:skip"), after=seen)
            await user.send(place)
    step = await user.wait_for_message(
        lambda m: has_data(m, "ask:name:telegram") or has_data(m, "ask:confirm"), after=seen
    )
    if not has_data(step, "ask:confirm"):
        await user.send(name)
    await user.press(data="ask:confirm")
    return await user.wait_for_text(plain_first_line(asking_views.sent(tr).text))


async def join_waitlist(
    user: FakeUser, language: str, *, typed_name: str | None, phone: str | None, district: int
) -> BotMessage:
    """Menu → *I want to become a Lotse* → the join dialog; return the 'you are number …'."""
    await user.press(data="menu:become")
    await user.press(data="wl:join")
    if typed_name is None:
        await user.press(data="wld:name")  # the Telegram name offered as a button
    else:
        await user.wait_for_message(lambda m: has_data(m, "wld:discard"))
        await user.send(typed_name)
    await user.wait_for_message(lambda m: has_data(m, "wld:tg"))
    if phone is None:
        await user.press(data="wld:tg")
    else:
        await user.send(phone)
    # The chosen language is ticked already; add German.
    await user.wait_for_message(lambda m: f"✓ {language_name(language)}" in m.button_labels())
    if language != "de":
        await user.press(data="wld:lang:de")
        await user.wait_for_message(lambda m: f"✓ {language_name('de')}" in m.button_labels())
    await user.press(data="wld:lang_done")
    await user.press(data=f"wld:district:{district}")
    summary = await user.wait_for_message(lambda m: has_data(m, "wld:save"))
    assert language_name(language) in summary.text
    seen = len(user.bot_messages())
    await user.press(data="wld:save")
    return await user.wait_for_message(lambda m: not m.buttons, after=seen)


#: SQL condition on a person row: the person with the Telegram user id ``?``.
BY_TELEGRAM_ID = "id = (SELECT person_id FROM contact WHERE channel = 'telegram' AND address = ?)"


def telegram_id_of(person: str = "p") -> str:
    """SQL: the Telegram user id (an integer) of the person row ``person``."""
    return (
        "(SELECT CAST(c.address AS INTEGER) FROM contact c "
        f"WHERE c.person_id = {person}.id AND c.channel = 'telegram')"
    )


async def passed_on(api: FakeBotAPI, user: FakeUser, text: str) -> BotMessage:
    """Wait until the user's own message ``text`` is marked as passed on to the other side
    of their case (the bot's reaction on it), and return it."""
    from handlers.messages import RELAYED

    def marked() -> list[BotMessage]:
        return [
            m
            for m in api.messages(user.id)
            if not m.from_bot and m.text == text and m.reactions == [RELAYED]
        ]

    await api.wait_until(lambda: bool(marked()))
    return marked()[0]


async def send_now(coordinator: FakeUser, *, tries: int = 3) -> None:
    """A broadcast's *Send now*; to a large audience the bot asks once more, with the count:
    yes. (A press lost to a kill of the bot is made again.)"""
    for attempt in range(tries):
        seen = len(coordinator.bot_messages())
        await coordinator.press(data="bc:send")
        try:
            question = await coordinator.wait_for_message(
                lambda m: has_data(m, "bc:send_yes") or m.text.startswith("📤"), after=seen
            )
        except TimeoutError:
            if attempt == tries - 1:
                raise
            continue
        if has_data(question, "bc:send_yes"):
            await coordinator.press(data="bc:send_yes", message=question)
        return


def has_data(message: BotMessage, data: str) -> bool:
    """Whether the message has a button sending ``data``."""
    return any(b.get("callback_data") == data for row in message.buttons for b in row)


def plain_first_line(html: str) -> str:
    return re.sub(r"</?[a-z]+>", "", html).split("\n")[0][:40]


async def seed_people(
    db_path: Path,
    telegram_ids: Iterable[int | str],
    *,
    language: str = "de",
    lotse: bool = False,
    channel: str = "telegram",
) -> None:
    """Put many people who agreed (optionally active Lotsen) into the database at once, by
    their addresses on ``channel``.

    Large audiences are set up this way; how people get there one by one is what the
    scenario tests above show. ``telegram_ids`` are their addresses on ``channel`` (on
    Signal: UUIDs).
    """
    db = Database(db_path)
    await db.open()
    now = to_db(datetime.now(UTC))
    try:
        async with db.transaction() as conn:
            for telegram_id in telegram_ids:
                cursor = await conn.execute(
                    "INSERT INTO person (role, language, consent_at, consent_version, "
                    "created_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
                    ("lotse" if lotse else "member", language, now, "1", now),
                )
                row = await cursor.fetchone()
                await cursor.close()
                assert row is not None
                await conn.execute(
                    "INSERT INTO contact (channel, address, person_id, last_used) "
                    "VALUES (?, ?, ?, ?)",
                    (channel, str(telegram_id), row[0], now),
                )
                if lotse:
                    await conn.execute(
                        "INSERT INTO lotse (person_id, first_name, created_at) VALUES (?, ?, ?)",
                        (row[0], f"L{telegram_id}", now),
                    )
                    await conn.execute(
                        "INSERT INTO lotse_language (language, person_id) VALUES (?, ?)",
                        (language, row[0]),
                    )
    finally:
        await db.close()
