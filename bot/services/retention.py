"""Retention: every kind of personal data ages out by a rule (PRIVACY.md, Retention).

The sweep is idempotent and runs at every start and every six hours (:mod:`bot.scheduler`).
Everything it does is decided from what is stored, so a restart or a long downtime neither
skips a rule nor repeats a message.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.config import CityConfig
from bot.domain.requests import Request, Status
from bot.services.audit import AuditService
from bot.services.console import ConsoleService
from bot.services.lotsen import LotsenService
from bot.services.notifier import Notifier
from bot.services.people import PeopleService
from bot.services.privacy import PrivacyService
from bot.services.requests import RequestService
from bot.storage.retention import RetentionRepository

__all__ = ["IDLE_NOTICE", "NO_CONSENT", "RetentionService", "Swept"]

log = logging.getLogger(__name__)

#: The Lotse and the coordinators are asked this long before a quiet case is closed.
IDLE_NOTICE = timedelta(days=7)
#: Someone who never agreed (or withdrew) is erased after this long without writing.
NO_CONSENT = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class Swept:
    """What one sweep did (counts only, for the log)."""

    cases: int = 0
    warned: int = 0
    unfinished: int = 0
    other: int = 0
    people: int = 0


class RetentionService:
    """Ask about quiet cases, close them when nobody answers, and erase what ages out."""

    def __init__(
        self,
        repo: RetentionRepository,
        requests: RequestService,
        lotsen: LotsenService,
        people: PeopleService,
        privacy: PrivacyService,
        audit: AuditService,
        notifier: Notifier,
        city: CityConfig,
        clock: Clock,
        console: ConsoleService,
    ) -> None:
        self.repo = repo
        #: The office console's links and sessions, deleted once over.
        self.console = console
        self.requests = requests
        self.lotsen = lotsen
        self.people = people
        self.privacy = privacy
        self.audit = audit
        self.notify = notifier
        self.city = city
        self.clock = clock

    @property
    def keep(self) -> timedelta:
        """How long details of a closed case, and a case without activity, are kept."""
        return timedelta(days=self.city.retention_days)

    @property
    def notice(self) -> timedelta:
        """How long before closing a quiet case its Lotse and the coordinators are asked."""
        return min(IDLE_NOTICE, self.keep / 2)

    async def sweep(self) -> Swept:
        """Apply every rule once."""
        now = self.clock.now()
        unfinished = await self.repo.drop_unfinished(
            now - timedelta(days=self.city.unfinished_days)
        )
        closed = 0
        for request_id in await self.repo.past_deadline(now - self.keep, now - self.notice):
            closed += await self._close(request_id, now, deadline=True)
        warned = await self._warn(now)
        cases = closed + await self.repo.erase_closed(now - self.keep)
        other = (
            await self.repo.expire_waitlist(now - timedelta(days=self.city.waitlist_days))
            + await self.repo.expire_mailings(now - self.keep)
            + await self.repo.expire_answers(now - self.keep)
            + await self.repo.expire_rejections(now - self.keep)
            + await self.repo.expire_office(now - self.keep)
            + await self.audit.expire()
            + await self.console.expire()
            + await self.repo.expire_former_lotsen(
                now - timedelta(days=self.city.former_lotse_days)
            )
        )
        people = 0
        silent = await self.repo.without_consent(now - NO_CONSENT, self.city.coordinators)
        for person_id in silent:
            person = await self.people.by_id(person_id)
            if person is not None:
                await self.privacy.erase(person)  # the same as /delete
                people += 1
        if cases or unfinished or other:
            await self.repo.purge_old_pages()
        return Swept(cases, warned, unfinished, other, people)

    async def _warn(self, now: datetime) -> int:
        """Ask once per quiet spell whether a case without activity still runs."""
        quiet_since = now - (self.keep - self.notice)
        warned = 0
        for request_id in await self.repo.unwarned_idle(quiet_since):
            since = await self.repo.claim_warning(request_id, quiet_since, now)
            request = await self.requests.get(request_id) if since is not None else None
            if since is None or request is None:
                continue
            lotse = await self.lotsen.by_person_id(request.lotse_id) if request.lotse_id else None
            deadline = max(since + self.keep, now + self.notice)
            await self.notify.idle_warning(request, lotse, since, deadline)
            warned += 1
        return warned

    async def still_running(self, request: Request) -> bool:
        """*Still running*: the case counts as active from now on; False if it is not open."""
        return await self.requests.touch(request)

    async def close_now(self, request: Request, by_person_id: int) -> bool:
        """*Close now*: close the quiet case and erase its details at once."""
        closed = await self._close(request.id, self.clock.now(), by_person_id=by_person_id)
        if closed:
            await self.repo.purge_old_pages()
        return closed

    async def _close(
        self, request_id: int, now: datetime, deadline: bool = False, by_person_id: int = 0
    ) -> bool:
        request = await self.requests.get(request_id)  # read before its details are erased
        if request is None or request.status is not Status.ACCEPTED:
            return False
        guard = (now - self.keep, now - self.notice) if deadline else None
        if not await self.repo.close_case(request_id, now, guard):
            return False
        lotse = await self.lotsen.by_person_id(request.lotse_id) if request.lotse_id else None
        await self.notify.idle_closed(
            request, lotse if lotse is not None and lotse.person_id != by_person_id else None
        )
        return True
