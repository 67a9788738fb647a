"""Use cases about people: language, consent, roles."""

from __future__ import annotations

from datetime import timedelta

from bot.clock import Clock
from bot.config import CityConfig
from bot.domain.people import CONSENT_VERSION, Person, Role
from bot.i18n import LANGUAGES
from bot.storage.people import PeopleRepository

__all__ = ["CONSENT_VERSION", "PeopleService"]

#: How precisely the last contact is kept: one write a day per person at most.
SEEN_PRECISION = timedelta(days=1)


class PeopleService:
    """Language choice, consent and who coordinates."""

    def __init__(self, repo: PeopleRepository, city: CityConfig, clock: Clock) -> None:
        self.repo = repo
        self.city = city
        self.clock = clock

    async def find(self, telegram_id: int) -> Person | None:
        """Return the person, or ``None`` if they never chose a language."""
        return await self.repo.get(telegram_id)

    async def choose_language(self, telegram_id: int, language: str) -> Person:
        """Store the person's language; it wins over Telegram's guess from now on."""
        if language not in LANGUAGES:
            raise ValueError(f"unsupported language {language!r}")
        return await self.repo.set_language(telegram_id, language, self.clock.now())

    async def give_consent(self, telegram_id: int) -> Person:
        """Record agreement to the current privacy notice."""
        return await self.repo.record_consent(telegram_id, CONSENT_VERSION, self.clock.now())

    async def unreachable(self, telegram_id: int) -> None:
        """Telegram says the person blocked the bot: skip them until they write again."""
        await self.repo.set_unreachable(telegram_id, self.clock.now())

    async def reachable_again(self, person: Person) -> None:
        """The person wrote to the bot, so they can be reached again."""
        if person.unreachable_at is not None:
            await self.repo.set_unreachable(person.telegram_id, None)

    async def seen(self, person: Person) -> None:
        """The person wrote to the bot: remember the day (at most one write a day)."""
        now = self.clock.now()
        if person.seen_at is None or now - person.seen_at >= SEEN_PRECISION:
            await self.repo.set_seen(person.id, now)

    @staticmethod
    def has_current_consent(person: Person | None) -> bool:
        """Whether ``person`` agreed to the notice as it reads today."""
        return person is not None and person.has_consented

    async def add_coordinator(self, telegram_id: int) -> None:
        """Make someone a coordinator (only the CLI and the city file do this)."""
        await self.repo.set_role(
            telegram_id, Role.COORDINATOR, self.city.default_language, self.clock.now()
        )

    async def is_coordinator(self, telegram_id: int) -> bool:
        """Whether the person coordinates (city file or CLI; never a chat command)."""
        if telegram_id in self.city.coordinator_ids:
            return True
        person = await self.repo.get(telegram_id)
        return person is not None and person.role is Role.COORDINATOR

    async def by_id(self, person_id: int) -> Person | None:
        """The person with this internal id."""
        return await self.repo.by_id(person_id)

    async def coordinator_ids(self) -> list[int]:
        """Telegram ids of every coordinator, from the city file and the database."""
        stored = await self.repo.telegram_ids_with_role(Role.COORDINATOR)
        return sorted(self.city.coordinator_ids.union(stored))
