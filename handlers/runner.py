"""Run the bot: open the database, start the application, poll until told to stop."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
from collections.abc import Callable

from telegram.error import InvalidToken, NetworkError

from bot import logs
from bot.clock import Clock, SystemClock
from bot.config import CityConfig, ConfigError, Settings
from bot.i18n import warm_up
from bot.scheduler import Timers
from bot.services import Repositories, build_services
from bot.storage.database import Database
from bot.storage.inbox import InboxRepository
from handlers.app import build_application
from handlers.commands import register_commands
from handlers.context import LotsenApp
from handlers.intake import Intake
from handlers.mailer import TelegramMailer
from handlers.notify import TelegramNotifier
from handlers.webhook import Webhook, serve_webhook

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
        repos = Repositories.on(db)
        notifier = TelegramNotifier(city, repos.people, repos.lotsen, repos.requests, clock)
        mailer = TelegramMailer(city)
        services = build_services(repos, city, clock, notifier, mailer)
        app = build_application(token, settings.api_url, services)
        notifier.bot = mailer.bot = app.bot
        if not await _connect(app, stop):
            return
        if webhook is None:
            await app.bot.delete_webhook()  # polling and a webhook exclude each other
        await register_commands(app.bot, services)
        await app.start()
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
        log.info("Lotsenbot is running as @%s", app.bot.username)
        intake = Intake(app, InboxRepository(db), clock)
        try:
            if webhook is None:
                await intake.run(stop)
            else:
                await serve_webhook(app, intake, webhook, stop)
        finally:
            await timers.stop()
            await app.stop()
            await app.shutdown()
    finally:
        await db.close()
    log.info("Lotsenbot stopped")


async def _connect(app: LotsenApp, stop: asyncio.Event) -> bool:
    """Initialize (getMe), retrying while the network is down; False if stopped meanwhile."""
    delay = 1.0
    while not stop.is_set():
        try:
            await app.initialize()
            return True
        except InvalidToken:
            raise ConfigError("TELEGRAM_BOT_TOKEN was refused by the Bot API server") from None
        except NetworkError as exc:
            log.warning(
                "cannot reach the Bot API (%s); retrying in %.0f s", type(exc).__name__, delay
            )
            try:
                await asyncio.wait_for(stop.wait(), timeout=delay)
            except TimeoutError:
                delay = min(delay * 2, 60.0)
    return False
