"""Use cases of data protection: access (/mydata), erasure (/delete) and withdrawing
consent."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.clock import Clock
from bot.config import CityConfig
from bot.domain.people import Person
from bot.domain.requests import Request, Status
from bot.services.lotsen import LotsenService
from bot.services.requests import RequestService
from bot.services.waitlist import WaitlistService
from bot.storage.people import PeopleRepository
from bot.storage.privacy import PrivacyRepository

__all__ = ["PrivacyService", "Running"]


@dataclass(frozen=True, slots=True)
class Running:
    """What would end if the person withdrew consent: their requests, their cases."""

    requests: list[Request]
    cases: list[Request]

    def __bool__(self) -> bool:
        return bool(self.requests or self.cases)


class PrivacyService:
    """What the person may see and erase (what ages out: :mod:`bot.services.retention`)."""

    def __init__(
        self,
        repo: PrivacyRepository,
        people: PeopleRepository,
        lotsen: LotsenService,
        requests: RequestService,
        waitlist: WaitlistService,
        city: CityConfig,
        clock: Clock,
    ) -> None:
        self.repo = repo
        self.people = people
        self.lotsen = lotsen
        self.requests = requests
        self.waitlist = waitlist
        self.city = city
        self.clock = clock

    async def export(self, person: Person) -> dict[str, Any]:
        """Everything stored about the person (GDPR Art. 15)."""
        return await self.repo.export(person.id)

    async def erase(self, person: Person) -> None:
        """Erase the person (GDPR Art. 17), after ending what runs for them (:meth:`_stop`)."""
        await self._stop(person)
        await self.repo.erase(person.id, self.clock.now())

    async def purge(self) -> None:
        """Drop the old page images of the write-ahead log (after a channel forgot a chat
        whose person was erased)."""
        await self.repo.purge_old_pages()

    async def running(self, person: Person) -> Running:
        """The person's requests that have not ended, and their open cases as a Lotse."""
        lotse = await self.lotsen.get(person)
        cases = await self.requests.cases(lotse) if lotse is not None else []
        return Running(await self.requests.running(person), cases)

    async def withdraw(self, person: Person) -> None:
        """Withdraw consent (GDPR Art. 7(3)): processing stops as with an erasure, but the
        person row stays with the language and when they withdrew.

        The withdrawal is recorded first, so that from that moment no offer, round or
        mailing chooses them; then what runs is ended and the rest forgotten. Each step
        can run again (after a crash the button press is handled again).
        """
        await self.people.withdraw_consent(person.id, self.clock.now())
        await self._stop(person)
        await self.repo.forget(person.id, self.clock.now())

    async def _stop(self, person: Person) -> None:
        """End what runs for the person: a training place goes to a reserve; a Lotse's open
        cases are handed back and offered to others, and their open offers move on; the
        person's own requests are cancelled (a Lotse who had one is told), a draft dropped.
        """
        await self.waitlist.leave(person)
        lotse = await self.lotsen.get(person)
        if lotse is not None:
            for case in await self.requests.cases(lotse):
                await self.requests.hand_back(case, lotse)
            await self.requests.drop_offers(lotse)
        for request in await self.requests.running(person):
            if request.status is Status.DRAFT:
                await self.requests.discard(request)
            else:
                await self.requests.cancel(request, person)
