"""Use cases of data protection: access (/mydata), erasure (/delete) and retention."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.clock import Clock
from bot.config import CityConfig
from bot.domain.people import Person
from bot.domain.requests import Status
from bot.services.lotsen import LotsenService
from bot.services.requests import RequestService
from bot.services.waitlist import WaitlistService
from bot.storage.privacy import PrivacyRepository

__all__ = ["PrivacyService"]


class PrivacyService:
    """What the person may see and erase, and what ages out on its own."""

    def __init__(
        self,
        repo: PrivacyRepository,
        lotsen: LotsenService,
        requests: RequestService,
        waitlist: WaitlistService,
        city: CityConfig,
        clock: Clock,
    ) -> None:
        self.repo = repo
        self.lotsen = lotsen
        self.requests = requests
        self.waitlist = waitlist
        self.city = city
        self.clock = clock

    async def export(self, person: Person) -> dict[str, Any]:
        """Everything stored about the person (GDPR Art. 15)."""
        return await self.repo.export(person.id)

    async def erase(self, person: Person) -> None:
        """Erase the person (GDPR Art. 17).

        A Lotse's open cases are handed back first (and offered to others); the person's own
        running requests are cancelled, and their Lotse is told.
        """
        await self.waitlist.leave(person)  # a training place they held goes to a reserve
        lotse = await self.lotsen.get(person)
        if lotse is not None:
            for case in await self.requests.cases(lotse):
                await self.requests.hand_back(case, lotse)
        for request in await self.requests.of_person(person):
            if request.status in (Status.OPEN, Status.OFFERED, Status.ACCEPTED):
                await self.requests.cancel(request, person)
        await self.repo.erase(person.id, self.clock.now())

    async def apply_retention(self) -> int:
        """Erase what closed cases no longer need; return how many requests were cleaned."""
        now = self.clock.now()
        cleaned = await self.repo.expire(now - timedelta(days=self.city.retention_days))
        await self.repo.expire_waitlist(now - timedelta(days=self.city.waitlist_days))
        return cleaned
