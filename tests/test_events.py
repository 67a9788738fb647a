"""Stammtisch dates over HTTP: a repeating rule, invitations in eight languages, answers,
reminders at the right time, a restart in between, moving and cancelling, the command line."""

from __future__ import annotations

import re
import sqlite3
import subprocess
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from bot.config import CityConfig
from bot.domain.events import EventRule, Pattern
from channels.telegram.fakeapi import BotMessage, FakeBotAPI, FakeUser
from tests.conftest import COORDINATOR_ID, RunningBot, start_bot
from tests.process import LOTSENBOT, bot_env
from tests.scenario import become_lotse, invite_codes, local_date, onboard, t


def visible(text: str) -> str:
    """Text without the invisible direction marks around values and lists."""
    return re.sub("[\u2067\u2068\u2069]", "", text)


#: The two topics of the rule below, listed as each language lists them.
TOPICS = {"de": "Bürgergeld und ZUE Dorsten", "fr": "Bürgergeld et ZUE Dorsten"}


def invitations(user: FakeUser) -> list[BotMessage]:
    return [m for m in user.bot_messages() if m.kind == "document" and m.text.startswith("📣")]


def long_date(language: str, day: date) -> str:
    """The long date as written out in the test, or else as Babel writes it."""
    return local_date(language, day) if language in LITERAL else t(language).day(day)


LITERAL = ("de", "uk", "ar", "ps", "ti", "fr")


def invitation_to(user: FakeUser, language: str, day: date) -> BotMessage | None:
    """The invitation ``user`` got to the date on ``day``, if any."""
    wanted = long_date(language, day)
    return next((m for m in invitations(user) if wanted in visible(m.text)), None)


def reminders(user: FakeUser) -> list[BotMessage]:
    return [m for m in user.bot_messages() if m.text.startswith("⏰")]


def first_wednesday_after(moment: datetime, city: CityConfig) -> datetime:
    rule = EventRule(0, "", Pattern(2, 1).rrule, time(18), "", (), 7, True, moment)
    return rule.dates(city.timezone, moment, moment + timedelta(days=70))[0]


async def plan_single_date(coordinator: FakeUser, title: str, day: date, at: str) -> None:
    """/stammtisch → a new date: the title, the day and the time typed, the usual place."""
    await coordinator.send("/stammtisch")
    await coordinator.press(data="ev:new")
    await coordinator.send(title)
    await coordinator.wait_for_message(lambda m: "evd:day:" in str(m.buttons))
    await coordinator.send(f"{day.day}.{day.month}.{day.year}")
    await coordinator.wait_for_message(lambda m: "evd:time:" in str(m.buttons))
    await coordinator.send(at)
    await coordinator.press(data="evd:place:default")
    await coordinator.press(data="evd:goto:confirm")
    await coordinator.press(data="evd:save")


async def plan_rule_by_dialog(coordinator: FakeUser) -> None:
    """/stammtisch → repeating dates → first Wednesday, 18:00, usual place, two topics."""
    await coordinator.send("/stammtisch")
    await coordinator.press(data="ev:rules")
    await coordinator.press(data="ev:rule_new")
    await coordinator.press(data="evd:title:default")
    await coordinator.press(data="evd:nth:1")
    await coordinator.press(data="evd:wd:2")
    await coordinator.press(data="evd:time:1800")
    await coordinator.press(data="evd:place:default")
    await coordinator.press(data="evd:topic:0")  # Bürgergeld, from the city file's suggestions
    await coordinator.wait_for_message(
        lambda m: any("✅ Bürgergeld" in b for b in m.button_labels())
    )
    await coordinator.send("ZUE Dorsten")  # typed
    await coordinator.wait_for_text("ZUE Dorsten")
    await coordinator.press(data="evd:goto:confirm")
    summary = await coordinator.wait_for_message(lambda m: "evd:save" in str(m.buttons))
    assert TOPICS["de"] in summary.text
    await coordinator.press(data="evd:save")


async def test_repeating_stammtisch_invitation_answers_reminder_and_restart(
    running: RunningBot, api: FakeBotAPI, city: CityConfig, tmp_path: Path
) -> None:
    coordinator = api.user(COORDINATOR_ID, "Koordination", language_code="de")
    await onboard(coordinator, "de")
    codes = await invite_codes(api, 8)
    yusuf = await become_lotse(api, 501, "Yusuf", ["ar"], codes[0])
    oksana = await become_lotse(api, 502, "Oksana", ["uk"], codes[1])
    jonas = await become_lotse(api, 503, "Jonas", ["de"], codes[2])
    lotsen = {"ar": yusuf, "uk": oksana, "de": jonas}
    newer = {"ps": "Zarmina", "ckb": "Shilan", "ti": "Semhar", "so": "Hodan", "fr": "Aïcha"}
    for index, (language, name) in enumerate(newer.items()):
        lotsen[language] = await become_lotse(api, 504 + index, name, [language], codes[3 + index])

    await plan_rule_by_dialog(coordinator)
    # The first date whose invitation and reminder both lie ahead, whatever day this is: a
    # date less than a week away is announced at once, and is not the one followed here.
    first = first_wednesday_after(running.clock.now() + timedelta(days=8), city)
    day = first.date()
    # The dates appear in /stammtisch at once; the invitation goes out a week before.
    listing = await coordinator.wait_for_message(
        lambda m: local_date("de", day) in m.text and "ev:card" in str(m.buttons)
    )
    assert "Treffpunkt Altstadt" in listing.text
    assert invitation_to(yusuf, "ar", day) is None
    await running.advance(first - timedelta(days=7) - running.clock.now() + timedelta(minutes=1))

    invited: dict[str, BotMessage] = {}
    for language, lotse in lotsen.items():
        invitation = await lotse.wait_for_message(
            lambda m, lotse=lotse, language=language: m == invitation_to(lotse, language, day)
        )
        invited[language] = invitation
        text = visible(invitation.text)
        assert long_date(language, day) in text, (language, text)
        assert t(language).clock(time(18)) in text
        topics = visible(t(language).join(["Bürgergeld", "ZUE Dorsten"]))
        assert topics in text and topics == TOPICS.get(language, topics), (language, text)
        ics = api.files[invitation.file_id or ""].decode()
        assert "BEGIN:VCALENDAR" in ics and "Treffpunkt Altstadt" in ics
        assert f"DTSTART:{first.astimezone(UTC):%Y%m%dT%H%M%SZ}" in ics
        assert api.file_names[invitation.file_id or ""].endswith(".ics")
    assert not any(m.kind == "document" for m in coordinator.bot_messages())  # Lotsen only

    # Answers: yes, maybe, no; the coordinator sees the count.
    answers = {"ar": "yes", "uk": "maybe", "de": "no"}
    for language, lotse in lotsen.items():
        invitation = invited[language]
        answer = answers.get(language, "yes")
        await lotse.press(data=_rsvp(invitation, answer), message=invitation)
        await lotse.wait_for_message(lambda m: any(b.startswith("• ") for b in m.button_labels()))
    event_id = int(_rsvp(invited["ar"], "yes").split(":")[2])
    seen = len(coordinator.bot_messages())
    await coordinator.press(data=f"ev:card:{event_id}")
    card = await coordinator.wait_for_message(lambda m: "✅ 6" in m.text, after=seen)
    assert "🤔 1" in card.text and "❌ 1" in card.text

    # On /stammtisch each row of answers says which date it answers.
    seen = len(yusuf.bot_messages())
    await yusuf.send("/stammtisch")
    listing = await yusuf.wait_for_message(lambda m: "ev:rsvp:" in str(m.buttons), after=seen)
    answer_rows = [
        [b["text"] for b in row]
        for row in listing.buttons
        if any(b.get("callback_data", "").startswith("ev:rsvp:") for b in row)
    ]
    ar = t("ar")
    labels = {ar.short_day(d): d for d in _days_near(first.date())}
    assert len(answer_rows) == 3
    dated = []
    for row in answer_rows:
        (day_label,) = [label for label in labels if all(label in b for b in row)]
        dated.append(labels[day_label])
    assert len(set(dated)) == 3 and first.date() in dated
    answered = answer_rows[dated.index(first.date())]
    assert [b.startswith("• ") for b in answered] == [True, False, False]

    # The reminder is due a day before. Just before: nothing.
    remind_at = first - timedelta(hours=24)
    await running.advance(remind_at - running.clock.now() - timedelta(minutes=5))
    assert not any(reminders(lotse) for lotse in lotsen.values())

    # The bot stops before the reminder is due and starts again an hour after.
    clock = running.clock
    await running.shutdown()
    clock.advance(timedelta(hours=1))
    restarted = await start_bot(api, running.city, running.settings.db_path, clock)
    try:
        for language, lotse in lotsen.items():
            if language == "de":
                continue
            reminder = await lotse.wait_for_message(lambda m, lotse=lotse: m in reminders(lotse))
            assert long_date(language, day) in visible(reminder.text), language
            # It shows the answer given rather than asking again.
            tr = t(language)
            given = tr.gettext("✅ I'll come") if answers.get(language, "yes") == "yes" else None
            assert tr.gettext("Will you come?") not in reminder.text, language
            if given is not None:
                assert tr.gettext("Your answer: {answer}", answer=given) in reminder.text
        await restarted.advance(timedelta(hours=2))
        await restarted.advance(timedelta(days=1))
    finally:
        await restarted.shutdown()
    assert [len(reminders(lotse)) for lotse in lotsen.values()] == [1, 1, 0, 1, 1, 1, 1, 1]


def _days_near(day: date) -> list[date]:
    """The days around ``day`` the next few dates of a monthly rule can fall on."""
    return [day + timedelta(days=i) for i in range(-7, 120)]


def _rsvp(message: BotMessage, answer: str) -> str:
    for data in (b["callback_data"] for row in message.buttons for b in row):
        if data.startswith("ev:rsvp:") and data.endswith(f":{answer}"):
            return str(data)
    raise LookupError(answer)


async def test_single_date_moved_and_cancelled(running: RunningBot, api: FakeBotAPI) -> None:
    coordinator = api.user(COORDINATOR_ID, "Koordination", language_code="de")
    await onboard(coordinator, "de")
    (code,) = await invite_codes(api, 1)
    lotse = await become_lotse(api, 601, "Mina", ["fa"], code)
    newcomer = api.user(602, "Dara", language_code="fa")
    await onboard(newcomer, "fa")

    # A single date through the dialog, typed where typing is quicker.
    day = (running.clock.now().astimezone(running.city.timezone) + timedelta(days=10)).date()
    await plan_single_date(coordinator, "Sommerfest der Lotsen", day, "17:45")
    invitation = await lotse.wait_for_message(lambda m: m in invitations(lotse))
    assert "Sommerfest der Lotsen" in invitation.text
    assert t("fa").clock(time(17, 45)) in visible(invitation.text)
    await lotse.press(data=_rsvp(invitation, "yes"), message=invitation)

    # /stammtisch shows it to anyone; only Lotsen get answer buttons.
    await newcomer.send("/stammtisch")
    shown = await newcomer.wait_for_message(lambda m: "Sommerfest der Lotsen" in m.text)
    assert "ev:rsvp" not in str(shown.buttons)
    query = await newcomer.press(data=_rsvp(invitation, "yes"))
    assert (await newcomer.wait_for_answer(query)).get("show_alert")

    # Moved by two days: the Lotse gets the new date and an updated calendar entry.
    event_id = int(_rsvp(invitation, "yes").split(":")[2])
    new_day = day + timedelta(days=2)
    await coordinator.press(data=f"ev:move:{event_id}")
    await coordinator.press(data=f"evd:day:{new_day.isoformat()}")
    await coordinator.press(data="evd:time:1800")
    await coordinator.press(data="evd:save")
    moved = await lotse.wait_for_message(lambda m: m.text.startswith("🔁"))
    assert t("fa").day(new_day) in visible(moved.text)
    assert "SEQUENCE:1" in api.files[moved.file_id or ""].decode()

    # Cancelled: the Lotse hears of it; the newcomer, never told, does not.
    await coordinator.press(data=f"ev:card:{event_id}")
    await coordinator.press(data=f"ev:cancel:{event_id}")
    await coordinator.press(data=f"ev:cancel_yes:{event_id}")
    await lotse.wait_for_message(lambda m: m.text.startswith("❌"))
    assert not any(m.text.startswith("❌") for m in newcomer.bot_messages())
    with sqlite3.connect(running.settings.db_path) as conn:
        pending = conn.execute(
            "SELECT count(*) FROM timer WHERE kind GLOB 'event:*' AND done_at IS NULL"
        ).fetchone()[0]
    assert pending == 0  # no reminder for a cancelled date


async def test_command_line_plans_dates_the_running_bot_announces(
    running: RunningBot, api: FakeBotAPI, tmp_path: Path
) -> None:
    (code,) = await invite_codes(api, 1)
    lotse = await become_lotse(api, 701, "Leyla", ["tr"], code)
    at = (running.clock.now().astimezone(running.city.timezone) + timedelta(days=3)).replace(
        hour=18, minute=30, second=0, microsecond=0
    )
    env = bot_env(None, running.settings.db_path)
    added = subprocess.run(  # noqa: ASYNC221 - a short command next to the running bot
        [
            str(LOTSENBOT),
            "event",
            "add",
            "--at",
            at.strftime("%Y-%m-%d %H:%M"),
            "--topics",
            "Schuldnerberatung",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert added.returncode == 0, added.stderr
    assert re.match(r"event \d+: Stammtisch, ", added.stdout)
    rule = subprocess.run(  # noqa: ASYNC221
        [str(LOTSENBOT), "event", "rule", "--every", "last friday", "--time", "19:00"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert rule.returncode == 0, rule.stderr
    assert "FREQ=MONTHLY;BYDAY=-1FR" in rule.stdout
    bad = subprocess.run(  # noqa: ASYNC221
        [str(LOTSENBOT), "event", "rule", "--every", "sometimes"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 2 and "--every" in bad.stderr

    await running.advance(timedelta(minutes=1))  # the bot's next look at its timers
    invitation = await lotse.wait_for_message(lambda m: "Schuldnerberatung" in m.text)
    assert t("tr").clock(time(18, 30)) in invitation.text
    listed = subprocess.run(  # noqa: ASYNC221
        [str(LOTSENBOT), "event", "list"], env=env, capture_output=True, text=True, check=False
    )
    assert at.strftime("%Y-%m-%d %H:%M") in listed.stdout and "rule 1" in listed.stdout
