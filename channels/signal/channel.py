"""The Signal channel: signal-cli's daemon reached over HTTP; connect, listen, stop."""

from __future__ import annotations

import asyncio
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
from handlers.router import Router

__all__ = ["SignalChannel"]

log = logging.getLogger(__name__)


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
        self.rpc = SignalRPC(url, account)
        self.store = AttachmentStore(attachments) if attachments is not None else None
        self.tidy_every = tidy_every
        self.account = account
        self.menus = MenuRepository(db, CHANNEL)
        self.messenger = SignalMessenger(self.rpc, account, self.menus, clock)
        self._router: Router | None = None
        self._services: Services | None = None

    async def connect(self, stop: asyncio.Event) -> bool:
        """Wait until the daemon answers (``/api/v1/check``); False if stopped meanwhile."""
        delay = 1.0
        while not stop.is_set():
            if await self.rpc.check():
                return True
            log.warning("cannot reach signal-cli's daemon; retrying in %.0f s", delay)
            try:
                await asyncio.wait_for(stop.wait(), timeout=delay)
            except TimeoutError:
                delay = min(delay * 2, 60.0)
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
        await intake.run(stop)

    async def stop(self) -> None:
        """Close the connections to the daemon."""
        await self.rpc.close()
