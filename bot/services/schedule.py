"""Due work: each timer's owner does it, then the timer is marked done."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Protocol

from bot.clock import Clock
from bot.logs import describe
from bot.storage.timers import TimersRepository

__all__ = ["Schedule", "TimerOwner"]

log = logging.getLogger(__name__)


class TimerOwner(Protocol):
    """A service whose timers are named ``<owner>:<what>``."""

    async def on_timer(self, what: str, subject: int, due: datetime, now: datetime) -> None:
        """Do the work of the ``what`` timer of ``subject`` (due at ``due``)."""


class Schedule:
    """Route due timers to their owners (requests, events, trainings, mailings)."""

    def __init__(
        self, repo: TimersRepository, owners: Mapping[str, TimerOwner], clock: Clock
    ) -> None:
        self.repo = repo
        self.owners = owners
        self.clock = clock

    async def run_due(self) -> int:
        """Do everything whose time has come (late ones too); return how many timers ran.

        A timer is marked done only after its work, so a crash in between repeats the work
        (every owner's work is guarded against running twice) and nothing is skipped.
        """
        now = self.clock.now()
        done = 0
        for timer in await self.repo.due(now):
            owner_name, _, what = timer.kind.partition(":")
            owner = self.owners.get(owner_name)
            if owner is None:
                log.error("timer %s has no owner; left pending", timer.kind)
                continue
            try:
                await owner.on_timer(what, timer.subject, timer.due, now)
            except Exception as exc:
                log.error(
                    "timer %s of %s failed (%s); it will be retried",
                    timer.kind,
                    timer.subject,
                    describe(exc),
                )
                continue
            await self.repo.finish(timer, now)
            done += 1
        return done

    async def next_due(self) -> datetime | None:
        """When the scheduler should look again."""
        return await self.repo.next_due()
