"""The messenger unreachable for a while: 502s, refused connections, calls that hang.

The bot backs off with jitter up to a cap, spends no CPU waiting, logs the outage once (then
once a minute) instead of every try, and afterwards catches up: the updates Telegram held
are handled in order, timers that fell due meanwhile are done late.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from datetime import time as clock_time
from pathlib import Path

import pytest

from bot.i18n import language_name
from channels.signal.fakedaemon import FakeSignalDaemon
from channels.telegram.fakeapi import FakeBotAPI
from handlers.outages import Backoff, Outage
from tests.conftest import RunningBot, eventually
from tests.process import BotProcess
from tests.scenario import ask_for_lotse, become_lotse, invite_codes, label, onboard, t
from tests.test_signal import answer, listed

PICKER = t("de").gettext("Please choose your language:")
AGREE = label("de", "✅ I agree")


def cpu_seconds(pid: int) -> float:
    """User and system CPU time the process has used so far."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.fixture
async def process(api: FakeBotAPI, tmp_path: Path) -> AsyncIterator[BotProcess]:
    bot = BotProcess(api, tmp_path / "lotsenbot.sqlite3", tmp_path / "bot.log")
    yield bot
    if bot.proc is not None and bot.proc.returncode is None:
        await bot.kill()


async def test_a_long_outage_costs_no_cpu_one_log_line_and_nothing_held_is_lost(
    api: FakeBotAPI, process: BotProcess
) -> None:
    await process.start()
    assert process.proc is not None
    samira, jonas = api.user(7001, "Samira"), api.user(7002, "Jonas")
    await samira.send("/start")
    await samira.wait_for_text(PICKER)
    cpu_before, started = cpu_seconds(process.proc.pid), time.monotonic()

    # Connection refused: nothing listens, for 6 seconds. Telegram holds what people send.
    port = int(api.url.rsplit(":", 1)[1])
    await api.stop()
    await samira.press(data="lang:de")
    await samira.send("/privacy")
    await asyncio.sleep(6)  # the outage's length: time is what this test is about

    # 502 Bad Gateway for every call, for 6 seconds.
    bad_gateway = api.inject("*", 502, "Bad Gateway", times=10**9)
    await api.start(port=port)
    polls = api.polls
    await jonas.send("/start")
    # It tries again in its own time (the wait it drew after the refusals may outlast 6 s),
    # and then backs off instead of hammering.
    await api.wait_until(lambda: api.polls > polls, timeout=20)
    polls = api.polls
    await asyncio.sleep(6)
    tries = api.polls - polls
    assert tries <= 6, tries

    # Calls that hang unanswered, for 6 seconds; then the Bot API is back.
    api.hold("*")
    bad_gateway.times = 0
    await asyncio.sleep(6)
    cpu = cpu_seconds(process.proc.pid) - cpu_before
    waited = time.monotonic() - started
    assert cpu < 1.0, f"{cpu:.2f} s CPU in {waited:.0f} s of outage"
    api.release("*", perform=False)
    back = time.monotonic()

    # Caught up: each person's updates handled, in order.
    await jonas.wait_for_text(PICKER, timeout=90)
    await samira.wait_for_message(lambda m: "/mydata" in m.text, timeout=30)
    caught_up = time.monotonic() - back
    texts = [m.text for m in samira.bot_messages()]
    consent = next(i for i, m in enumerate(samira.bot_messages()) if AGREE in m.button_labels())
    privacy = next(i for i, text in enumerate(texts) if "/mydata" in text)
    assert consent < privacy
    assert await process.terminate() == 0

    log = process.log()
    outage = [line for line in log.splitlines() if "Bot API" in line or "getUpdates" in line]
    assert len(outage) == 2, outage  # one line when it began, one when it ended
    assert "cannot be reached (" in outage[0] and "over after" in outage[1]
    print(
        f"\nTelegram outage: {cpu:.2f} s CPU in {waited:.0f} s, {len(outage)} log lines, "
        f"{tries} polls in 6 s of 502s, caught up {caught_up:.1f} s after"
    )


@pytest.fixture
async def daemon() -> AsyncIterator[FakeSignalDaemon]:
    server = FakeSignalDaemon()
    await server.start()
    yield server
    await server.stop()


async def test_signal_cli_restarting_costs_no_cpu_one_log_line_and_no_message_is_lost(
    api: FakeBotAPI, daemon: FakeSignalDaemon, tmp_path: Path
) -> None:
    bot = BotProcess(api, tmp_path / "lotsenbot.sqlite3", tmp_path / "bot.log", signal=daemon)
    await bot.start()
    try:
        assert bot.proc is not None
        olena, amal = daemon.user("+4917011112222", "Olena"), daemon.user("+4917033334444")
        await olena.send("Привіт")
        await olena.wait_for_message(lambda m: language_name("uk") in listed(m))

        # Olena picks Ukrainian. The bot's first answer is on its way when signal-cli goes
        # down (its event stream dropped): the rest of the answer meets a refused connection.
        daemon.hold("send")
        await answer(olena, language_name("uk"), "uk")
        await daemon.wait_until(lambda: daemon.held.get("send"))
        cpu_before, started = cpu_seconds(bot.proc.pid), time.monotonic()
        await daemon.go_down()
        daemon.release("send")
        await amal.send("Hallo")  # waits on Signal's servers meanwhile
        await asyncio.sleep(12)  # the outage's length: time is what this test is about
        cpu = cpu_seconds(bot.proc.pid) - cpu_before
        waited = time.monotonic() - started
        assert cpu < 1.0, f"{cpu:.2f} s CPU in {waited:.0f} s of outage"
        assert not any(label("uk", "✅ I agree") in listed(m) for m in olena.bot_messages())

        await daemon.come_back()
        back = time.monotonic()
        # Caught up: the answer that waited goes out, what came meanwhile is handled.
        await olena.wait_for_message(lambda m: label("uk", "✅ I agree") in listed(m), timeout=60)
        await amal.wait_for_message(lambda m: bool(listed(m)), timeout=60)
        caught_up = time.monotonic() - back
        texts = [m.text for m in olena.bot_messages()]
        assert len(texts) == len(set(texts)), texts  # nothing twice
        assert await bot.terminate() == 0
    finally:
        if bot.proc is not None and bot.proc.returncode is None:
            await bot.kill()
    log = bot.log()
    outage = [line for line in log.splitlines() if "signal-cli's daemon cannot be reached" in line]
    assert len(outage) == 2, outage  # one line when it began, one when it ended
    assert "cannot be reached (" in outage[0] and "over after" in outage[1]
    assert "unexpected" not in log, log
    assert not daemon.violations
    print(
        f"\nSignal outage: {cpu:.2f} s CPU in {waited:.0f} s, {len(outage)} log lines, "
        f"caught up {caught_up:.1f} s after"
    )


async def test_timers_that_fall_due_while_the_api_is_down_are_done_late(
    running: RunningBot, api: FakeBotAPI
) -> None:
    codes = await invite_codes(api, 1)
    lotse = await become_lotse(api, 7181, "Mehmet", ["tr"], codes[0])
    refugee = api.user(7281, "Zeynep", language_code="tr")
    await onboard(refugee, "tr")
    tz = running.city.timezone
    day = (running.clock.now().astimezone(tz) + timedelta(days=3)).date()
    await ask_for_lotse(refugee, "tr", name="Zeynep", day=day.isoformat(), time="1400")
    await lotse.press(label("tr", "✅ Accept"))
    await refugee.wait_for_text("Mehmet")

    def reminders() -> list[str]:
        return [m.text for u in (lotse, refugee) for m in u.bot_messages() if m.text[:1] == "⏰"]

    appointment = datetime.combine(day, clock_time(14, 0), tzinfo=tz)
    await running.advance(appointment - timedelta(days=1, minutes=5) - running.clock.now())
    assert reminders() == []

    # The Bot API goes down (its connections cut, then 502 for every call).
    outage = api.inject("*", 502, "Bad Gateway", times=10**9)
    port = int(api.url.rsplit(":", 1)[1])
    await api.stop()
    await api.start(port=port)
    await api.wait_until(lambda: not running.timers.online())
    # The day-before reminder falls due meanwhile: it waits, nothing is lost to the outage.
    assert await running.advance(timedelta(minutes=10)) == 0
    assert reminders() == []

    outage.times = 0  # back: the reminders go out by themselves, late, at once (not at the
    # next minute's look)
    back = time.monotonic()
    await eventually(lambda: len(reminders()) == 2, timeout=5)
    print(f"\nreminders sent {time.monotonic() - back:.1f} s after the Bot API answered again")
    assert await running.advance(timedelta(minutes=1)) == 0
    assert len(reminders()) == 2


def test_an_outage_is_logged_when_it_begins_once_a_minute_and_when_it_ends(
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = [0.0]
    outage = Outage("the Bot API cannot be reached", "retrying", clock=lambda: now[0])
    caplog.set_level(logging.INFO, logger="handlers.outages")
    for _ in range(300):  # a try every second for five minutes
        outage.failed("NetworkError")
        now[0] += 1.0
    outage.succeeded()
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1 + 4 + 1, lines  # began; after 1, 2, 3 and 4 minutes; ended
    assert lines[0] == "the Bot API cannot be reached (NetworkError); retrying"
    assert (
        lines[2]
        == "the Bot API cannot be reached for 120 s now (121 tries, the last: NetworkError)"
    )
    assert lines[-1] == "the Bot API cannot be reached: over after 300 s and 300 failed tries"


def test_backoff_doubles_up_to_its_cap_with_jitter() -> None:
    first = Backoff(1.0, cap=60.0)
    waits = [first.next() for _ in range(12)]
    ceilings = [min(60.0, 2.0**n) for n in range(12)]
    assert all(c / 2 <= w <= c for w, c in zip(waits, ceilings, strict=True)), waits
    assert sum(waits[-5:]) >= 150  # a minute's try, not a busy loop
    second = Backoff(1.0, cap=60.0)
    assert [second.next() for _ in range(12)] != waits  # two bots do not retry in step
    first.reset()
    assert first.next() <= 1.0
