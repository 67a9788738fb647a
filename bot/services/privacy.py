"""Use cases of data protection: access (/mydata) and erasure (/delete)."""

from __future__ import annotations

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
    """What the person may see and erase (what ages out: :mod:`bot.services.retention`)."""

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
