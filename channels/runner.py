"""The composition root: the database, the services, the timers and the channels, started
and stopped in one place."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
from collections.abc import Callable
from typing import Protocol

from bot import logs
from bot.clock import Clock, SystemClock
from bot.config import CityConfig, Settings
from bot.i18n import warm_up
from bot.scheduler import Timers
from bot.services import Repositories, Services, build_services
from bot.storage.database import Database
from channels.console.server import ConsoleServer
from channels.signal.channel import SignalChannel
from channels.telegram.channel import TelegramChannel
from channels.telegram.webhook import Webhook
from handlers.mailer import MessengerMailer
from handlers.notify import MessengerNotifier
from handlers.outages import Outage, StorageOutage
from handlers.port import Messenger, Switchboard
from handlers.router import Router

__all__ = ["serve"]

log = logging.getLogger(__name__)


class Channel(Protocol):
    """What the composition root needs of a channel (``channels/<name>/channel.py``)."""

    name: str
    #: The messenger unreachable: logged once a minute; timers wait while it lasts.
    outage: Outage

    @property
    def messenger(self) -> Messenger: ...

    async def connect(self, stop: asyncio.Event) -> bool: ...

    async def start(self, router: Router, services: Services) -> None: ...

    async def run(self, db: Database, clock: Clock, stop: asyncio.Event) -> None: ...

    async def stop(self) -> None: ...


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
    settings.require_channel()
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
        channels: list[Channel] = []
        if settings.token is not None:
            channels.append(TelegramChannel(settings.require_token(), settings.api_url, webhook))
        if settings.signal_url is not None or settings.signal_account is not None:
            url, account = settings.require_signal()
            channels.append(
                SignalChannel(url, account, db, clock, attachments=settings.signal_attachments)
            )
        # Every running channel's messenger by its name: whoever is reached, is reached on
        # their own channel.
        switchboard = Switchboard({channel.name: channel.messenger for channel in channels})
        repos = Repositories.on(db)
        notifier = MessengerNotifier(
            city, repos.people, repos.lotsen, repos.requests, clock, switchboard
        )
        mailer = MessengerMailer(city, switchboard)
        services = build_services(
            repos, city, clock, notifier, mailer, console_url=settings.console_base
        )
        for channel in channels:
            if not await channel.connect(stop):
                return
        storage = StorageOutage(services.people, switchboard, probe=db.probe)
        router = Router(services, switchboard, storage=storage)
        for channel in channels:
            await channel.start(router, services)
        timers = Timers(
            services.schedule,
            services.requests,
            services.events,
            services.mailings,
            services.retention,
            clock,
            online=lambda: not any(channel.outage.down for channel in channels),
        )
        for channel in channels:
            channel.outage.on_end.append(timers.look_now)  # what fell due meanwhile, done late
        await timers.start()
        # The office console: one more adapter on the same services, if it is set up.
        console = None
        if settings.console_listen is not None and settings.console_base is not None:
            host, port = settings.console_listen
            console = ConsoleServer(services, switchboard, host, port, settings.console_base)
        if on_start is not None:  # tests and the demo drive the timers of a shifted clock
            on_start(timers)
        warm_up(city.timezone)
        # What start-up built (catalogs, locale data, the application) lives as long as the
        # process: keep it out of the garbage collector's full passes, which otherwise walk
        # it every time and stall every chat for tens of milliseconds.
        gc.freeze()
        log.info("Lotsenbot is running")
        try:
            if console is not None:
                await console.start()
            # One failing channel (e.g. a token refused) stops the others too.
            async with asyncio.TaskGroup() as group:
                for channel in channels:
                    group.create_task(channel.run(db, clock, stop))
        finally:
            if console is not None:
                await console.stop()
            await timers.stop()
            for channel in channels:
                await channel.stop()
    finally:
        await db.close()
    log.info("Lotsenbot stopped")
