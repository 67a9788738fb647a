"""APScheduler drives the timers; the database holds them.

Every timer (escalation, expiry, reminders, announcements, scheduled broadcasts) is a row
in the ``timer`` table. This module only decides *when to look*: once at start (catching up
on what fell due while the bot was down), at the next due time, and every minute as a safety
net. What is due is then done by :meth:`Schedule.run_due`, which marks each timer done after
its work, so nothing is skipped and nothing is done twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.clock import Clock, SystemClock
from bot.services.events import EventService
from bot.services.mailings import MailingService
from bot.services.requests import RequestService
from bot.services.retention import RetentionService, Swept
from bot.services.schedule import Schedule

__all__ = ["Timers"]

log = logging.getLogger(__name__)


class Timers:
    """Look for due timers at the right moments."""

    def __init__(
        self,
        schedule: Schedule,
        requests: RequestService,
        events: EventService,
        mailings: MailingService,
        retention: RetentionService,
        clock: Clock,
        interval: float = 60.0,
        online: Callable[[], bool] = lambda: True,
    ) -> None:
        self.schedule = schedule
        self.requests = requests
        self.events = events
        self.mailings = mailings
        self.sweeper = retention
        self.clock = clock
        self.interval = interval
        self.online = online
        self._looks: set[asyncio.Task[int]] = set()
        self._lock = asyncio.Lock()
        self._scheduler = AsyncIOScheduler(timezone=UTC)

    async def start(self) -> None:
        """Catch up, then keep looking."""
        self._scheduler.add_job(
            self.run_due,
            IntervalTrigger(seconds=self.interval),
            id="tick",
            coalesce=True,
            max_instances=1,
            misfire_grace_time=None,
        )
        # Retention is an idempotent sweep: at every start and then every six hours.
        self._scheduler.add_job(
            self.retention,
            IntervalTrigger(hours=6),
            id="retention",
            coalesce=True,
            max_instances=1,
            misfire_grace_time=None,
        )
        self._scheduler.start()
        await self.mailings.resume()
        await self.requests.redeliver_offers()
        await self.retention()
        await self.run_due()

    async def stop(self) -> None:
        """Stop looking (a run in progress finishes) and let mailings pause cleanly."""
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        if self._looks:
            await asyncio.wait(set(self._looks))
        async with self._lock:
            pass
        await self.mailings.stop()

    async def retention(self) -> Swept:
        """Apply every rule of retention (see :mod:`bot.services.retention`)."""
        async with self._lock:
            swept = await self.sweeper.sweep()
        if swept != Swept():
            log.info(
                "retention: %d case(s) erased, %d quiet case(s) asked about, %d unfinished "
                "draft(s) or dialog(s) and %d other record(s) erased, %d person(s) without "
                "consent erased",
                swept.cases,
                swept.warned,
                swept.unfinished,
                swept.other,
                swept.people,
            )
        return swept

    def look_now(self) -> None:
        """Look for due timers at once (the messenger answers again after an outage)."""
        task = asyncio.get_running_loop().create_task(self.run_due())
        self._looks.add(task)
        task.add_done_callback(self._looks.discard)

    async def run_due(self) -> int:
        """Do what is due now and plan the next look; return how many timers ran.

        While a messenger cannot be reached (``online`` is false), due timers wait: their
        messages would fail. They are done late as soon as it answers again
        (:meth:`look_now`), or at the next minute's look.
        """
        if not self.online():
            return 0
        async with self._lock:
            await self.events.extend_all()  # a rule's next dates appear as time goes on
            await self.mailings.pick_up()  # recorded by the command line meanwhile
            done = await self.schedule.run_due()
            upcoming = await self.schedule.next_due()
        if upcoming is not None and isinstance(self.clock, SystemClock) and self._scheduler.running:
            # Real time: wake up exactly then. A shifted clock (tests, demo) is driven by calls.
            self._scheduler.add_job(
                self.run_due,
                DateTrigger(run_date=upcoming),
                id="next",
                replace_existing=True,
                misfire_grace_time=None,
            )
        if done:
            log.info("ran %d timer(s)", done)
        return done
