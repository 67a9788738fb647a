"""The Telegram channel: connect, listen (long polling or a webhook), stop."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from telegram.error import InvalidToken, NetworkError

from bot.clock import Clock
from bot.config import ConfigError
from bot.services import Services
from bot.storage.database import Database
from bot.storage.inbox import InboxRepository
from channels.telegram.app import LotsenApp, build_application, listen
from channels.telegram.commands import register_commands
from channels.telegram.intake import Intake
from channels.telegram.messenger import TelegramMessenger
from channels.telegram.webhook import Webhook, serve_webhook
from handlers.outages import Backoff, Outage
from handlers.router import Router

__all__ = ["TelegramChannel"]

log = logging.getLogger(__name__)


class TelegramChannel:
    """One bot account on the Bot API at ``api_url``; updates are stored in the inbox before
    Telegram is told it may forget them."""

    name = "telegram"

    def __init__(self, token: str, api_url: str, webhook: Webhook | None = None) -> None:
        #: The Bot API unreachable (refused, timeouts, ``5xx``): logged once a minute.
        self.outage = Outage(
            "the Bot API cannot be reached",
            "updates wait with Telegram and timers until it answers; retrying with backoff "
            "up to a minute, reported once a minute",
        )
        self.app: LotsenApp = build_application(token, api_url, self.outage)
        self._router: Router | None = None
        self.messenger = TelegramMessenger(self.app.bot)
        self.webhook = webhook

    async def connect(self, stop: asyncio.Event) -> bool:
        """Initialize (getMe), retrying while the network is down; False if stopped meanwhile."""
        backoff = Backoff(1.0, cap=60.0)
        while not stop.is_set():
            try:
                await self.app.initialize()
                return True
            except InvalidToken:
                raise ConfigError("TELEGRAM_BOT_TOKEN was refused by the Bot API server") from None
            except NetworkError:  # reported by the request's outage, once a minute
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=backoff.next())
        return False

    async def start(self, router: Router, services: Services) -> None:
        """Take updates to ``router`` from now on; register the command menus."""
        self._router = router
        listen(self.app, router, self.messenger)
        if self.webhook is None:
            await self.app.bot.delete_webhook()  # polling and a webhook exclude each other
        await register_commands(self.app.bot, services)
        await self.app.start()
        log.info("the Telegram channel is running as @%s", self.app.bot.username)

    async def run(self, db: Database, clock: Clock, stop: asyncio.Event) -> None:
        """Handle what the last run left, then listen until ``stop`` is set."""
        assert self._router is not None, "start() first"
        intake = Intake(
            self.app,
            InboxRepository(db),
            clock,
            api_outage=self.outage,
            storage_outage=self._router.storage,
        )
        if self.webhook is None:
            await intake.run(stop)
        else:
            await serve_webhook(self.app, intake, self.webhook, stop)

    async def stop(self) -> None:
        """Stop taking updates (after the ones in hand are done)."""
        await self.app.stop()
        await self.app.shutdown()
