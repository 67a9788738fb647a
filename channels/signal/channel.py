"""The Signal channel: signal-cli's daemon reached over HTTP; connect, listen, stop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path

from bot.clock import Clock
from bot.services import Services
from bot.storage.database import Database
from bot.storage.inbox import MenuRepository, StampedInbox
from channels.signal.inputs import CHANNEL
from channels.signal.intake import SignalIntake
from channels.signal.messenger import SignalMessenger
from channels.signal.rpc import SignalRPC
from channels.signal.store import AttachmentStore
from handlers.outages import Backoff, Outage
from handlers.router import Router

__all__ = ["PATIENCE", "SignalChannel"]

log = logging.getLogger(__name__)

#: How long a message waits for a daemon that is restarting or down before it counts as
#: not sent (seconds).
PATIENCE = 600.0


class SignalChannel:
    """The bot's Signal account ``account`` on the signal-cli daemon at ``url``; events are
    stored in the inbox before they are handled."""

    name = CHANNEL

    def __init__(
        self,
        url: str,
        account: str,
        db: Database,
        clock: Clock,
        *,
        attachments: Path | None = None,
        tidy_every: float = 3600.0,
    ) -> None:
        #: signal-cli's daemon unreachable: logged once a minute; timers wait while it lasts.
        self.outage = Outage(
            "signal-cli's daemon cannot be reached",
            "events wait on Signal's servers, messages and timers until it answers; retrying "
            "with backoff up to half a minute, reported once a minute",
        )
        self.rpc = SignalRPC(url, account, patience=PATIENCE, outage=self.outage)
        self.store = AttachmentStore(attachments) if attachments is not None else None
        self.tidy_every = tidy_every
        self.account = account
        self.menus = MenuRepository(db, CHANNEL)
        self.messenger = SignalMessenger(self.rpc, account, self.menus, clock)
        self._router: Router | None = None
        self._services: Services | None = None

    async def connect(self, stop: asyncio.Event) -> bool:
        """Wait until the daemon answers (``/api/v1/check``); False if stopped meanwhile."""
        backoff = Backoff(1.0, cap=30.0)
        while not stop.is_set():
            if await self.rpc.check():
                self.outage.succeeded()
                return True
            self.outage.failed("no answer to /api/v1/check")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=backoff.next())
        return False

    async def start(self, router: Router, services: Services) -> None:
        """Take events to ``router`` from now on."""
        self._router, self._services = router, services
        self.messenger.on_challenge = router.captcha_needed
        if self.store is None:
            log.warning(
                "LOTSENBOT_SIGNAL_ATTACHMENTS is not set: signal-cli keeps the files people "
                "send until they are erased by hand (see PRIVACY.md)"
            )
        log.info("the Signal channel is running")

    async def run(self, db: Database, clock: Clock, stop: asyncio.Event) -> None:
        """Handle what the last run left, then listen until ``stop`` is set."""
        assert self._router is not None and self._services is not None, "start() first"
        intake = SignalIntake(
            self.rpc,
            StampedInbox(db, CHANNEL),
            self.menus,
            self._router,
            self.messenger,
            self._services,
            clock,
            self.account,
            store=self.store,
            tidy_every=self.tidy_every,
        )
        try:
            await intake.run(stop)
        finally:
            self.rpc.give_up()  # what still waits for the daemon now is not sent

    async def stop(self) -> None:
        """Close the connections to the daemon."""
        await self.rpc.close()
