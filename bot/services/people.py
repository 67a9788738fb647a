"""Use cases about people: language, consent, roles."""

from __future__ import annotations

from datetime import timedelta

from bot.clock import Clock
from bot.config import CityConfig
from bot.domain.people import CONSENT_VERSION, Contact, Person, Role
from bot.i18n import LANGUAGES
from bot.storage.people import PeopleRepository

__all__ = ["CONSENT_VERSION", "MAX_OFFICE_NAME", "PeopleService"]

#: The longest name a coordinator can go by in the office.
MAX_OFFICE_NAME = 60

#: How precisely the last contact is kept: one write a day per person at most.
SEEN_PRECISION = timedelta(days=1)


class PeopleService:
    """Language choice, consent and who coordinates."""

    def __init__(self, repo: PeopleRepository, city: CityConfig, clock: Clock) -> None:
        self.repo = repo
        self.city = city
        self.clock = clock

    async def find(self, contact: Contact) -> Person | None:
        """Return the person, or ``None`` if they never chose a language."""
        return await self.repo.get(contact)

    async def choose_language(self, contact: Contact, language: str) -> Person:
        """Store the person's language; it wins over the messenger's guess from now on."""
        if language not in LANGUAGES:
            raise ValueError(f"unsupported language {language!r}")
        return await self.repo.set_language(contact, language, self.clock.now())

    async def give_consent(self, contact: Contact) -> Person:
        """Record agreement to the current privacy notice."""
        return await self.repo.record_consent(contact, CONSENT_VERSION, self.clock.now())

    async def unreachable(self, contact: Contact) -> None:
        """The messenger says the person blocked the bot: skip them until they write again."""
        await self.repo.set_unreachable(contact, self.clock.now())

    async def reachable_again(self, person: Person) -> None:
        """The person wrote to the bot, so they can be reached again."""
        if person.unreachable_at is not None:
            await self.repo.set_unreachable(person.contact, None)

    async def seen(self, person: Person, via: Contact | None = None) -> None:
        """The person wrote to the bot (from ``via``): remember the day (at most one write a
        day), and that ``via`` is where to reach them now."""
        now = self.clock.now()
        moved = via is not None and via != person.contact
        if moved or person.seen_at is None or now - person.seen_at >= SEEN_PRECISION:
            await self.repo.set_seen(person.id, via or person.contact, now)

    @staticmethod
    def has_current_consent(person: Person | None) -> bool:
        """Whether ``person`` agreed to the notice as it reads today."""
        return person is not None and person.has_consented

    async def add_coordinator(self, contact: Contact) -> None:
        """Make someone a coordinator (only the CLI and the city file do this)."""
        await self.repo.set_role(
            contact, Role.COORDINATOR, self.city.default_language, self.clock.now()
        )

    async def office_name(self, person_id: int) -> str | None:
        """The name a coordinator goes by in the office (the audit log records it)."""
        return await self.repo.office_name(person_id)

    async def name_in_office(self, person_id: int, name: str) -> str | None:
        """Set the name a coordinator goes by in the office (spaces tidied, at most
        :data:`MAX_OFFICE_NAME` characters; empty: none); return what was stored."""
        tidy = " ".join(name.split())[:MAX_OFFICE_NAME] or None
        await self.repo.set_office_name(person_id, tidy)
        return tidy

    async def stored_coordinators(self) -> list[Person]:
        """The coordinators given the role on the command line (not the city file's)."""
        return await self.repo.with_role(Role.COORDINATOR)

    async def remove_coordinator(self, person_id: int) -> bool:
        """Take the role away at once (only the command line does this); False if they
        were not a coordinator. The city file's coordinators are removed in the file."""
        return await self.repo.drop_coordinator(person_id)

    async def is_coordinator(self, contact: Contact) -> bool:
        """Whether the person coordinates (city file or CLI; never a chat command)."""
        if contact in self.city.coordinators:
            return True
        person = await self.repo.get(contact)
        return person is not None and person.role is Role.COORDINATOR

    async def coordinator(self, person_id: int) -> Person | None:
        """The person if they coordinate now (the city file names one of their contacts, or
        they have the role), else None."""
        person = await self.repo.by_id(person_id)
        if person is None:
            return None
        if person.role is Role.COORDINATOR:
            return person
        contacts = await self.repo.contacts_of(person_id)
        return person if self.city.coordinators.intersection(contacts) else None

    async def by_id(self, person_id: int) -> Person | None:
        """The person with this internal id."""
        return await self.repo.by_id(person_id)

    async def coordinators(self) -> list[Contact]:
        """The contacts of every coordinator, from the city file and the database."""
        stored = await self.repo.contacts_with_role(Role.COORDINATOR)
        return sorted(self.city.coordinators.union(stored))
