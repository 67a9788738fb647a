"""Use cases about Lotsen: invitations, approval, the profile, and who is offered a request."""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.config import CityConfig
from bot.domain.lotsen import Lotse, LotseStatus, for_assignment
from bot.domain.people import Person
from bot.domain.requests import Request
from bot.i18n import LANGUAGES
from bot.storage.lotsen import LotsenRepository

__all__ = ["FAIRNESS_WINDOW", "LotsenService"]

#: Offers within this window count for fairness: who got fewer recently comes first.
FAIRNESS_WINDOW = timedelta(days=30)
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: codes are read aloud too
#: An invitation code: ten of the alphabet, at least one a digit (so that a code typed as a
#: message is told apart from a word or a name).
CODE = re.compile(r"(?=.*[2-9])[A-HJ-NP-Z2-9]{10}")


def _new_code() -> str:
    while True:
        code = "".join(secrets.choice(_ALPHABET) for _ in range(10))
        if CODE.fullmatch(code):
            return code


class LotsenService:
    """Joining as a Lotse and keeping the profile."""

    def __init__(self, repo: LotsenRepository, city: CityConfig, clock: Clock) -> None:
        self.repo = repo
        self.city = city
        self.clock = clock

    def _since(self) -> datetime:
        return self.clock.now() - FAIRNESS_WINDOW

    async def get(self, person: Person | None) -> Lotse | None:
        """The person's Lotse profile, if they have one."""
        return None if person is None else await self.repo.get(person.id, self._since())

    async def by_person_id(self, person_id: int) -> Lotse | None:
        """The Lotse with this person id."""
        return await self.repo.get(person_id, self._since())

    async def active(self) -> list[Lotse]:
        """Every active Lotse."""
        return await self.repo.active(self._since())

    async def for_assignment(self, request: Request) -> list[Lotse]:
        """Every active Lotse, in the order a coordinator assigning ``request`` sees them."""
        return for_assignment(
            await self.active(), request.languages, request.district, self.clock.now()
        )

    async def to_offer(self, request: Request, limit: int | None) -> list[Lotse]:
        """The Lotsen to offer ``request`` to now, best first: the first ``limit`` (None:
        everyone who can help)."""
        now = self.clock.now()
        return await self.repo.best(
            request.languages,
            request.district,
            request.topic,
            since=now - FAIRNESS_WINDOW,
            now=now,
            hour=now.astimezone(self.city.timezone).hour,
            limit=limit,
        )

    async def create_invites(self, count: int) -> list[str]:
        """New one-time invitation codes (for ``/start <code>`` links)."""
        if not 1 <= count <= 500:
            raise ValueError("between 1 and 500 codes at a time")
        codes = [_new_code() for _ in range(count)]
        await self.repo.add_invites(codes, self.clock.now())
        return codes

    async def open_invites(self) -> list[str]:
        """The invitation codes nobody has used yet, oldest first."""
        return await self.repo.open_invites()

    async def join_with_code(self, person: Person, code: str, first_name: str) -> bool:
        """Spend an invitation and become an active Lotse; False if the code is not valid,
        or the office suspended or retired them (a new code does not undo that)."""
        former = await self.repo.get(person.id, self._since())
        if former is not None and former.status in (LotseStatus.SUSPENDED, LotseStatus.RETIRED):
            return False
        if not await self.repo.use_invite(code.strip().upper(), person.id, self.clock.now()):
            return False
        await self.repo.create(
            person.id, first_name, LotseStatus.ACTIVE, person.language, self.clock.now()
        )
        return True

    async def apply(self, person: Person, first_name: str) -> Lotse:
        """Ask the coordinators for approval (no code)."""
        await self.repo.create(
            person.id, first_name, LotseStatus.PENDING, person.language, self.clock.now()
        )
        lotse = await self.repo.get(person.id, self._since())
        assert lotse is not None
        return lotse

    async def decide(self, person_id: int, approve: bool) -> bool:
        """A coordinator approves or rejects an applicant; False if already decided."""
        status = LotseStatus.ACTIVE if approve else LotseStatus.REJECTED
        return await self.repo.set_status(person_id, status, LotseStatus.PENDING)

    async def toggle_language(self, lotse: Lotse, language: str) -> None:
        """Add or remove a language the Lotse speaks."""
        if language not in LANGUAGES:
            raise ValueError(language)
        await self.repo.toggle_language(lotse.person_id, language)

    async def toggle_district(self, lotse: Lotse, district: str) -> None:
        """Add or remove a Stadtteil (none chosen means all)."""
        if district not in self.city.districts:
            raise ValueError(district)
        await self.repo.update(lotse.person_id, districts=lotse.districts ^ {district})

    async def toggle_topic(self, lotse: Lotse, topic: str) -> None:
        """Add or remove a topic (none chosen means all)."""
        if topic not in self.city.topics:
            raise ValueError(topic)
        await self.repo.update(lotse.person_id, topics=lotse.topics ^ {topic})

    async def set_max_open(self, lotse: Lotse, value: int) -> None:
        """How many open cases at most."""
        if not 1 <= value <= 20:
            raise ValueError(value)
        await self.repo.update(lotse.person_id, max_open=value)

    async def pause(self, lotse: Lotse, days: int | None) -> None:
        """Pause offers for ``days`` days (None: resume now)."""
        until = None if days is None else self.clock.now() + timedelta(days=days)
        await self.repo.update(lotse.person_id, paused_until=until)

    async def set_quiet_hours(self, lotse: Lotse, hours: tuple[int, int] | None) -> None:
        """No offers between ``hours`` (local time, may span midnight); None: any time."""
        start, end = hours if hours else (None, None)
        await self.repo.update(lotse.person_id, quiet_from=start, quiet_to=end)
