"""The composition root: the database, the services, the timers and the channels, started
and stopped in one place."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
from collections.abc import Callable

from bot import logs
from bot.clock import Clock, SystemClock
from bot.config import CityConfig, Settings
from bot.i18n import warm_up
from bot.scheduler import Timers
from bot.services import Repositories, build_services
from bot.storage.database import Database
from channels.telegram.channel import TelegramChannel
from channels.telegram.inputs import CHANNEL
from channels.telegram.webhook import Webhook
from handlers.mailer import MessengerMailer
from handlers.notify import MessengerNotifier
from handlers.port import Switchboard
from handlers.router import Router

__all__ = ["serve"]

log = logging.getLogger(__name__)


async def serve(
    settings: Settings,
    city: CityConfig,
    *,
    clock: Clock | None = None,
    stop: asyncio.Event | None = None,
    on_start: Callable[[Timers], None] | None = None,
    webhook: Webhook | None = None,
) -> None:
    """Run until ``stop`` is set, or until SIGTERM/SIGINT when no event is given."""
    token = settings.require_token()
    logs.install()  # also when started in process (the demo, the tests)
    clock = clock or SystemClock()
    if stop is None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)

    db = Database(settings.db_path)
    await db.open()
    try:
        channel = TelegramChannel(token, settings.api_url, webhook)
        # Every configured channel's messenger by its name: whoever is reached, is reached on
        # their own channel.
        switchboard = Switchboard({CHANNEL: channel.messenger})
        repos = Repositories.on(db)
        notifier = MessengerNotifier(
            city, repos.people, repos.lotsen, repos.requests, clock, switchboard
        )
        mailer = MessengerMailer(city, switchboard)
        services = build_services(repos, city, clock, notifier, mailer)
        if not await channel.connect(stop):
            return
        await channel.start(Router(services, switchboard), services)
        timers = Timers(
            services.schedule,
            services.requests,
            services.events,
            services.mailings,
            services.retention,
            clock,
        )
        await timers.start()
        if on_start is not None:  # tests and the demo drive the timers of a shifted clock
            on_start(timers)
        warm_up(city.timezone)
        # What start-up built (catalogs, locale data, the application) lives as long as the
        # process: keep it out of the garbage collector's full passes, which otherwise walk
        # it every time and stall every chat for tens of milliseconds.
        gc.freeze()
        log.info("Lotsenbot is running")
        try:
            await channel.run(db, clock, stop)
        finally:
            await timers.stop()
            await channel.stop()
    finally:
        await db.close()
    log.info("Lotsenbot stopped")
