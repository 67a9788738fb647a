"""Shared fixtures: a fake Bot API on loopback and the real bot talking to it over HTTP."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import re
import sqlite3
from calendar import isleap
from collections.abc import AsyncIterator, Callable
from contextlib import closing
from datetime import UTC, date, datetime, timedelta
from html import unescape
from itertools import count
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.clock import ManualClock
from bot.config import CityConfig, Settings, load_city
from bot.domain.people import Contact
from bot.scheduler import Timers
from bot.storage.database import Database
from channels.runner import serve
from channels.signal.fakedaemon import FakeSignalDaemon
from channels.telegram.fakeapi import FakeBotAPI

ROOT = Path(__file__).resolve().parent.parent
CITY_FILE = ROOT / "data" / "dorsten.toml"
COORDINATOR_ID = 9000
BERLIN = ZoneInfo("Europe/Berlin")


async def eventually(predicate: Callable[[], object], timeout: float = 10.0) -> None:
    """Poll ``predicate`` (e.g. a database check) until it holds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)


def plain(html: str) -> str:
    """The text a user sees for one of the bot's HTML messages."""
    return unescape(re.sub(r"</?[a-z-]+>", "", html))


@pytest.fixture
def city() -> CityConfig:
    """Dorsten's city file, with one coordinator."""
    return coordinated_by(load_city(CITY_FILE), COORDINATOR_ID)


def coordinated_by(city: CityConfig, *telegram_ids: int) -> CityConfig:
    """``city`` with these Telegram users as its coordinators."""
    contacts = frozenset(Contact("telegram", str(i)) for i in telegram_ids)
    return dataclasses.replace(city, coordinators=contacts)


@pytest.fixture
async def api() -> AsyncIterator[FakeBotAPI]:
    """A fresh fake Bot API server on a free loopback port."""
    server = FakeBotAPI()
    await server.start()
    yield server
    await server.stop()


@dataclasses.dataclass
class RunningBot:
    """The bot under test, running in this event loop against the fake server."""

    api: FakeBotAPI
    settings: Settings
    city: CityConfig
    clock: ManualClock
    stop: asyncio.Event
    task: asyncio.Task[None]
    timers: Timers

    async def advance(self, delta: timedelta) -> int:
        """Move the bot's clock forward and run what fell due; return how many timers ran."""
        self.clock.advance(delta)
        return await self.timers.run_due()

    async def handled_all(self) -> None:
        """Wait until the bot has stored and handled every update the fake API gave out."""
        last = self.api.last_update_id

        def handled() -> bool:
            with closing(sqlite3.connect(self.settings.db_path)) as conn:
                stored, waiting = conn.execute(
                    "SELECT max(update_id), count(*) - count(done_at) FROM inbox"
                ).fetchone()
            return (stored or 0) >= last and waiting == 0

        await eventually(handled)

    async def db(self) -> Database:
        """A second connection to the bot's database, for assertions."""
        db = Database(self.settings.db_path)
        await db.open()
        return db

    async def shutdown(self) -> None:
        """Stop the bot as SIGTERM would and wait until it has stopped."""
        self.stop.set()
        await asyncio.wait_for(self.task, 30)


#: The calendar the suite runs on: Tuesday 15 January, 09:30 in Dorsten, of a year laid out
#: like 2030 (same weekdays, not a leap year). The year is the first such one after this one,
#: because the ``lotsenbot`` command a test runs beside the bot keeps the real time and
#: refuses dates that have passed.
CALENDAR_TWIN = 2030


def suite_start(today: date) -> datetime:
    """The moment the suite's clock starts at, on a calendar that never changes."""
    shape = (date(CALENDAR_TWIN, 1, 1).weekday(), isleap(CALENDAR_TWIN))
    year = next(y for y in count(today.year + 1) if (date(y, 1, 1).weekday(), isleap(y)) == shape)
    return datetime(year, 1, 15, 9, 30, tzinfo=BERLIN)


def shifted_clock() -> ManualClock:
    """The bot's clock in a test: it starts at a fixed moment and runs on from there.

    ``LOTSENBOT_TEST_NOW`` sets another start (an ISO date and time, ``now`` for the real
    time): ``make test-calendar`` runs the tests that plan dates on the days that are hard
    for calendars. ``LOTSENBOT_TEST_HOURS=3`` moves the start three hours later, to find a
    test that only passes at some hours of the day.
    """
    chosen = os.environ.get("LOTSENBOT_TEST_NOW", "")
    if chosen == "now":
        clock = ManualClock()
    elif chosen:
        start = datetime.fromisoformat(chosen)
        clock = ManualClock(start if start.tzinfo else start.replace(tzinfo=BERLIN))
    else:
        clock = ManualClock(suite_start(datetime.now(UTC).date()))
    clock.advance(timedelta(hours=float(os.environ.get("LOTSENBOT_TEST_HOURS", "0"))))
    return clock


async def start_bot(
    api: FakeBotAPI,
    city: CityConfig,
    db_path: Path,
    clock: ManualClock | None = None,
    signal: FakeSignalDaemon | None = None,
    console: tuple[str, int] | None = None,
    console_url: str | None = None,
) -> RunningBot:
    """Start the real application against ``api`` (and the local signal-cli daemon
    ``signal``, if given) and wait until it polls (and listens to the daemon's events).

    Pass the ``clock`` of an earlier run to restart the bot at the time it had reached;
    ``console`` (host, port) serves the office console there (see ``tests/console.py``).
    """
    settings = Settings(
        token=api.token,
        api_url=api.url,
        db_path=db_path,
        config_path=CITY_FILE,
        signal_url=signal.url if signal is not None else None,
        signal_account=signal.account if signal is not None else None,
        signal_attachments=signal.attachments_dir if signal is not None else None,
        console_listen=console,
        console_url=console_url,
    )
    clock = clock or shifted_clock()
    api.now = lambda: clock.now().timestamp()  # message dates on the bot's calendar
    stop = asyncio.Event()
    polls = len(api.calls_of("getUpdates"))
    started: list[Timers] = []
    task = asyncio.create_task(
        serve(settings, city, clock=clock, stop=stop, on_start=started.append)
    )
    streams = signal.connects if signal is not None else 0
    await api.wait_until(lambda: len(api.calls_of("getUpdates")) > polls or task.done())
    if signal is not None and not task.done():
        await signal.wait_until(lambda: signal.connects > streams or task.done())
    if task.done():
        task.result()
    return RunningBot(api, settings, city, clock, stop, task, started[0])


@pytest.fixture
async def running(api: FakeBotAPI, city: CityConfig, tmp_path: Path) -> AsyncIterator[RunningBot]:
    """The bot, started on a fresh database in a temporary directory."""
    bot = await start_bot(api, city, tmp_path / "lotsenbot.sqlite3")
    yield bot
    await bot.shutdown()
    await assert_stored_load_is_counted(bot.settings.db_path)


async def assert_stored_load_is_counted(db_path: Path) -> None:
    """The load matching reads (kept by triggers) equals the load counted from the cases."""
    db = Database(db_path)
    await db.open()
    try:
        drift = await db.fetch_all(
            """
            SELECT l.person_id FROM lotse l, offer_window w
            WHERE l.open_cases <> (SELECT count(*) FROM request r
                                   WHERE r.lotse_id = l.person_id AND r.status = 'accepted')
               OR l.recent_offers <> (SELECT count(*) FROM offer o
                                      WHERE o.lotse_id = l.person_id AND o.created_at >= w.since)
               OR EXISTS (SELECT 1 FROM lotse_language s WHERE s.person_id = l.person_id
                          AND (s.open_cases, s.recent_offers) <> (l.open_cases, l.recent_offers))
            """
        )
    finally:
        await db.close()
    assert not drift, [row[0] for row in drift]
