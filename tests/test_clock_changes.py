"""Daylight saving in Dorsten.

A repeating Stammtisch at 18:00 stays at 18:00 across the changes in March and October; a
reminder due in the hour that happens twice in October is sent once, one due in the hour
skipped in March is sent. The bot's clock starts on the day before each change
(``ManualClock``).
"""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest

from bot.clock import ManualClock
from bot.config import CityConfig
from bot.domain.events import Pattern
from channels.telegram.fakeapi import BotMessage, FakeBotAPI, FakeUser
from tests.calendar_days import last_sunday
from tests.conftest import BERLIN, RunningBot, start_bot, suite_start
from tests.scenario import become_lotse, invite_codes, t

YEAR = suite_start(datetime.now(UTC).date()).year
SPRING = last_sunday(YEAR, 3)  # 02:00 CET becomes 03:00 CEST
AUTUMN = last_sunday(YEAR, 10)  # 03:00 CEST becomes 02:00 CET: 02:00-03:00 happens twice


def at(day: date, hour: int, minute: int = 0, *, fold: int = 0) -> datetime:
    """A moment on Dorsten's wall clock (``fold=1``: the second of a twice-shown time)."""
    return datetime.combine(day, time(hour, minute), BERLIN).replace(fold=fold)


def invitations(user: FakeUser) -> list[BotMessage]:
    return [m for m in user.bot_messages() if m.kind == "document" and m.text.startswith("📣")]


def reminders(user: FakeUser) -> list[BotMessage]:
    return [m for m in user.bot_messages() if m.text.startswith("⏰")]


def local(message: BotMessage) -> datetime:
    """When the message was sent, on Dorsten's wall clock."""
    return datetime.fromtimestamp(message.date, UTC).astimezone(BERLIN)


async def say_yes(lotse: FakeUser, invitation: BotMessage) -> None:
    data = next(
        b["callback_data"]
        for row in invitation.buttons
        for b in row
        if b.get("callback_data", "").startswith("ev:rsvp:") and b["callback_data"].endswith(":yes")
    )
    await lotse.press(data=data, message=invitation)
    await lotse.wait_for_message(lambda m: any(b.startswith("• ") for b in m.button_labels()))


@pytest.fixture
async def bots(api: FakeBotAPI, tmp_path: Path) -> AsyncIterator[list[RunningBot]]:
    """The bots a test starts (each on its own clock); stopped afterwards."""
    started: list[RunningBot] = []
    yield started
    for bot in started:
        await bot.shutdown()


async def start_at(
    bots: list[RunningBot],
    api: FakeBotAPI,
    city: CityConfig,
    tmp_path: Path,
    clock: ManualClock,
    remind_before: timedelta | None = None,
) -> tuple[RunningBot, FakeUser]:
    """The bot on ``clock``, with one Lotse who speaks Arabic."""
    if remind_before is not None:
        stammtisch = dataclasses.replace(city.stammtisch, remind_before=remind_before)
        city = dataclasses.replace(city, stammtisch=stammtisch)
    running = await start_bot(api, city, tmp_path / "lotsenbot.sqlite3", clock)
    bots.append(running)
    (code,) = await invite_codes(api, 1)
    lotse = await become_lotse(api, 801, "Amira", ["ar"], code)
    return running, lotse


async def step_through(running: RunningBot, until: datetime, step: timedelta) -> None:
    """Let time pass in steps, the timers looked at after each (mailings finished)."""
    while running.clock.now() + step <= until:
        await running.advance(step)
        await running.timers.mailings.wait_idle()


@pytest.mark.parametrize("change", [SPRING, AUTUMN], ids=["march", "october"])
async def test_a_repeating_stammtisch_stays_at_18_across_the_clock_change(
    bots: list[RunningBot], api: FakeBotAPI, city: CityConfig, tmp_path: Path, change: date
) -> None:
    clock = ManualClock(at(change - timedelta(days=10), 9, 30))
    running, lotse = await start_at(bots, api, city, tmp_path, clock)
    rule = await running.timers.events.add_rule(
        "Stammtisch", Pattern(2, 0), time(18), "Treffpunkt Altstadt"
    )
    assert rule is not None
    with sqlite3.connect(running.settings.db_path) as conn:
        rows = conn.execute(
            "SELECT starts_at FROM event WHERE rule_id = ? ORDER BY starts_at", (rule.id,)
        ).fetchall()
    starts = [datetime.fromisoformat(r[0]) for r in rows]
    assert len(starts) >= 10
    assert {s.astimezone(BERLIN).time() for s in starts} == {time(18)}
    # The dates span the change: before and after it, 18:00 is another hour in UTC.
    assert {s.hour for s in starts} == {16, 17}
    before = next(s for s in starts if s.date() < change)
    after = next(s for s in starts if s.date() > change)
    assert after - before == timedelta(days=7, hours=-1 if change == SPRING else 1)

    # The date before the change is less than a week away: invited at once. The one after
    # it is announced a week before, and its reminder comes a day before, at 18:00.
    first = await lotse.wait_for_message(lambda m: m in invitations(lotse))
    assert t("ar").clock(time(18)) in first.text
    assert f"DTSTART:{before:%Y%m%dT%H%M%SZ}" in api.files[first.file_id or ""].decode()
    # (A week and a day before on Dorsten's wall clock: 18:00, whatever the UTC offset.)
    after = after.astimezone(BERLIN)
    await step_through(running, after - timedelta(days=7), timedelta(days=1))
    await running.advance(after - timedelta(days=7) + timedelta(minutes=1) - clock.now())
    await lotse.wait_for_message(lambda m: len(invitations(lotse)) == 2)
    second = invitations(lotse)[1]
    assert t("ar").clock(time(18)) in second.text
    ics = api.files[second.file_id or ""].decode()
    assert f"DTSTART:{after.astimezone(UTC):%Y%m%dT%H%M%SZ}" in ics
    await say_yes(lotse, second)
    await step_through(running, after - timedelta(hours=24, minutes=5), timedelta(hours=6))
    assert reminders(lotse) == []
    await step_through(running, after - timedelta(hours=23), timedelta(minutes=5))
    (reminder,) = reminders(lotse)
    sent = local(reminder)
    assert (sent.date(), sent.hour) == (after.date() - timedelta(days=1), 18)
    assert t("ar").clock(time(18)) in reminder.text


async def test_a_reminder_due_in_the_hour_that_happens_twice_is_sent_once(
    bots: list[RunningBot], api: FakeBotAPI, city: CityConfig, tmp_path: Path
) -> None:
    # A date at 10:30 on the day of the change, its reminder 8 hours before: at 02:30.
    clock = ManualClock(at(AUTUMN - timedelta(days=1), 9, 30))
    running, lotse = await start_at(bots, api, city, tmp_path, clock, timedelta(hours=8))
    event = await running.timers.events.plan(
        "Stammtisch", AUTUMN, time(10, 30), "Treffpunkt Altstadt"
    )
    assert event is not None
    await say_yes(lotse, await lotse.wait_for_message(lambda m: m in invitations(lotse)))

    # From 01:40 (summer time) through 02:00-03:00 twice to 03:20 (winter time).
    await running.advance(at(AUTUMN, 1, 40) - clock.now())
    assert at(AUTUMN, 3, 20).astimezone(UTC) - at(AUTUMN, 1, 40) == timedelta(hours=2, minutes=40)
    await step_through(running, at(AUTUMN, 3, 20), timedelta(minutes=5))
    (reminder,) = reminders(lotse)
    sent = local(reminder)
    assert (sent.date(), sent.hour) == (AUTUMN, 2) and 30 <= sent.minute < 36, sent
    assert t("ar").clock(time(10, 30)) in reminder.text
    await step_through(running, at(AUTUMN, 10, 0), timedelta(minutes=20))
    assert len(reminders(lotse)) == 1


async def test_a_reminder_due_in_the_skipped_hour_is_sent(
    bots: list[RunningBot], api: FakeBotAPI, city: CityConfig, tmp_path: Path
) -> None:
    # A date at 10:30 on the day of the change, its reminder 8 hours before: at 02:30,
    # a time the clocks in Dorsten never show that night.
    clock = ManualClock(at(SPRING - timedelta(days=1), 9, 30))
    running, lotse = await start_at(bots, api, city, tmp_path, clock, timedelta(hours=8))
    event = await running.timers.events.plan(
        "Stammtisch", SPRING, time(10, 30), "Treffpunkt Altstadt"
    )
    assert event is not None
    await say_yes(lotse, await lotse.wait_for_message(lambda m: m in invitations(lotse)))

    await running.advance(at(SPRING, 1, 40) - clock.now())
    assert at(SPRING, 3, 50).astimezone(UTC) - at(SPRING, 1, 40).astimezone(UTC) == timedelta(
        hours=1, minutes=10
    )
    await step_through(running, at(SPRING, 3, 50), timedelta(minutes=5))
    (reminder,) = reminders(lotse)
    sent = local(reminder)
    assert sent.date() == SPRING and sent.hour in (1, 3), sent  # 02:xx does not exist
    assert t("ar").clock(time(10, 30)) in reminder.text
    await step_through(running, at(SPRING, 10, 0), timedelta(minutes=20))
    assert len(reminders(lotse)) == 1
