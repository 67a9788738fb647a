"""Outages the bot waits out by itself: a messenger unreachable, the database unable to write.

Each outage is logged when it begins, at most once a minute while it lasts, and when it ends
— never once per try. Tries wait with jitter, doubling up to a cap, so a long outage costs a
try every half minute or so and no CPU in between. A database that cannot write (disk full,
I/O error) is also told to the coordinators, at most once an hour: it is the one outage a
person has to fix.

The channels use these around their intake (``channels/*/intake.py``); the router marks an
input whose handling met a database that could not write (:data:`handling_fault`), so that
the intake handles it again, whole, instead of anyone being answered with half a step.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from bot.services.people import PeopleService
from bot.storage.database import storage_fault
from handlers import views
from handlers.context import coordinator_chats, quietly
from handlers.port import Screen, Switchboard

__all__ = [
    "Backoff",
    "HandlingFault",
    "Outage",
    "StorageOutage",
    "handling_fault",
    "pause",
    "until_stored",
]

log = logging.getLogger(__name__)

R = TypeVar("R")


class Backoff:
    """Waits that double from ``first`` up to ``cap`` seconds, each between half and all of it."""

    def __init__(self, first: float = 1.0, cap: float = 60.0) -> None:
        self.first = first
        self.cap = cap
        self._tries = 0

    def next(self) -> float:
        """The wait before the next try."""
        ceiling = min(self.cap, self.first * 2 ** min(self._tries, 30))
        self._tries += 1
        return random.uniform(ceiling / 2, ceiling)  # jitter, not a secret

    def reset(self) -> None:
        """The last try worked: start from ``first`` again."""
        self._tries = 0


class Outage:
    """One kind of outage, reported at its start, once a minute, and at its end."""

    def __init__(
        self,
        what: str,
        advice: str,
        *,
        level: int = logging.WARNING,
        report_every: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        probe: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.what = what
        self.advice = advice
        self.level = level
        self.report_every = report_every
        self.clock = clock
        #: A harmless try that fails while the outage lasts (see :meth:`over`).
        self.probe = probe
        #: Called when an outage ends (e.g. the timers look at once for what fell due).
        self.on_end: list[Callable[[], None]] = []
        self._since: float | None = None
        self._reported = 0.0
        self._tries = 0

    @property
    def down(self) -> bool:
        """Whether the outage is going on (the last try failed)."""
        return self._since is not None

    def failed(self, reason: str) -> bool:
        """A try failed (``reason``: an error's type or code); True if an outage began."""
        now = self.clock()
        self._tries += 1
        if self._since is None:
            self._since = self._reported = now
            log.log(self.level, "%s (%s); %s", self.what, reason, self.advice)
            return True
        if now - self._reported >= self.report_every:
            self._reported = now
            log.log(
                self.level,
                "%s for %.0f s now (%d tries, the last: %s)",
                self.what,
                now - self._since,
                self._tries,
                reason,
            )
        return False

    def succeeded(self) -> None:
        """A try worked: an outage going on is over."""
        if self._since is None:
            return
        log.info(
            "%s: over after %.0f s and %d failed tries",
            self.what,
            self.clock() - self._since,
            self._tries,
        )
        self._since = None
        self._tries = 0
        for callback in self.on_end:
            callback()

    async def over(self, stop: asyncio.Event) -> None:
        """Wait until the outage is over: :attr:`probe` tried with backoff until it works (a
        failure it meets that is not this outage ends the wait too), or ``stop`` is set.
        Without a probe, one pause."""
        backoff = Backoff(0.5, cap=30.0)
        while not stop.is_set():
            await pause(stop, backoff.next())
            if self.probe is None:
                return
            try:
                await self.probe()
            except Exception as exc:
                fault = storage_fault(exc)
                if fault is None:
                    return
                self.failed(fault)
                continue
            self.succeeded()
            return


class StorageOutage(Outage):
    """The database cannot write; the coordinators hear of it at most once an hour."""

    def __init__(
        self,
        people: PeopleService,
        switchboard: Switchboard,
        *,
        probe: Callable[[], Awaitable[None]] | None = None,
        alert_every: float = 3600.0,
    ) -> None:
        super().__init__(
            "the database cannot write",
            "incoming messages are kept unconfirmed and everything is retried by itself; "
            "free space on the database's disk or check the disk",
            level=logging.ERROR,
            probe=probe,
        )
        self.people = people
        self.switchboard = switchboard
        self.alert_every = alert_every
        self._alerted: float | None = None
        self._alerts: set[asyncio.Task[None]] = set()

    def failed(self, reason: str) -> bool:
        """Count a failed write; alert the coordinators when an outage begins."""
        began = super().failed(reason)
        if began and (self._alerted is None or self.clock() - self._alerted >= self.alert_every):
            self._alerted = self.clock()
            task = asyncio.get_running_loop().create_task(self._alert(reason))
            self._alerts.add(task)
            task.add_done_callback(self._alerts.discard)
        return began

    async def _alert(self, reason: str) -> None:
        try:
            chats = await coordinator_chats(self.people)  # reads still work
        except Exception as exc:
            log.error("could not find the coordinators to alert (%s)", type(exc).__name__)
            return
        for contact, t in chats:
            screen = Screen(views.storage_alert(t, reason))
            try:
                await quietly(self.switchboard.send(contact, screen), "a storage alert")
            except Exception as exc:  # e.g. Signal could not record the screen it sent
                log.warning("a storage alert failed: %s", type(exc).__name__)


@dataclass
class HandlingFault:
    """Set while an input is handled: whether the database refused a write meanwhile."""

    storage: bool = False


#: The fault record of the input being handled, set by the intake that will handle it again
#: (see :class:`handlers.router.Router`); None where nothing would.
handling_fault: contextvars.ContextVar[HandlingFault | None] = contextvars.ContextVar(
    "handling_fault", default=None
)


async def pause(stop: asyncio.Event, seconds: float) -> None:
    """Wait ``seconds``, or less if ``stop`` is set meanwhile."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)


async def until_stored(write: Callable[[], Awaitable[R]], outage: Outage, stop: asyncio.Event) -> R:
    """Make ``write``, again and again with backoff while the database cannot write (until
    ``stop``); anything else it raises, and a storage fault once stopped, is raised."""
    backoff = Backoff(0.5, cap=30.0)
    while True:
        try:
            result = await write()
        except Exception as exc:
            fault = storage_fault(exc)
            if fault is None or stop.is_set():
                raise
            outage.failed(fault)
            await pause(stop, backoff.next())
        else:
            outage.succeeded()
            return result
