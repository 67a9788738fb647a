"""How people are stored."""

from __future__ import annotations

import re
from datetime import datetime

import aiosqlite

from bot.clock import from_db, to_db
from bot.domain.people import CONSENT_VERSION, Contact, Person, Role
from bot.storage.database import Database, returned_id

__all__ = ["PeopleRepository", "consented", "contact_of", "reach"]


def reach(person: str = "p") -> str:
    """SQL: the contact to reach the person row ``person`` on (the one used last), as text
    ``channel:address`` (read it with :func:`contact_of`)."""
    return (
        f"(SELECT c.channel || ':' || c.address FROM contact c WHERE c.person_id = {person}.id "
        "ORDER BY c.last_used DESC, c.rowid DESC LIMIT 1)"
    )


def contact_of(value: str) -> Contact:
    """A contact as :func:`reach` gives it."""
    channel, _, address = value.partition(":")
    return Contact(channel, address)


_COLUMNS = (
    f"p.id, {reach()} AS contact, p.role, p.language, p.consent_at, p.consent_version, "
    "p.created_at, p.unreachable_at, p.news_off, p.withdrawn_at, p.seen_at"
)
if not re.fullmatch(r"[0-9A-Za-z.]+", CONSENT_VERSION):  # it is written into SQL below
    raise ValueError("CONSENT_VERSION: letters, digits and dots only")


def consented(person: str = "p") -> str:
    """SQL condition: the person row ``person`` agreed to the privacy notice as it reads today.

    Every query that chooses people to process (matching, offers, mailings) includes it.
    """
    return f"{person}.consent_version = '{CONSENT_VERSION}'"


def _person(row: aiosqlite.Row) -> Person:
    return Person(
        id=row["id"],
        contact=contact_of(row["contact"]),
        role=Role(row["role"]),
        language=row["language"],
        consent_at=from_db(row["consent_at"]) if row["consent_at"] else None,
        consent_version=row["consent_version"],
        created_at=from_db(row["created_at"]),
        unreachable_at=from_db(row["unreachable_at"]) if row["unreachable_at"] else None,
        news_off=bool(row["news_off"]),
        withdrawn_at=from_db(row["withdrawn_at"]) if row["withdrawn_at"] else None,
        seen_at=from_db(row["seen_at"]) if row["seen_at"] else None,
    )


class PeopleRepository:
    """All SQL about people."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, contact: Contact) -> Person | None:
        """Return the person with this contact, if they ever chose a language."""
        row = await self.db.fetch_one(
            f"SELECT {_COLUMNS} FROM contact k JOIN person p ON p.id = k.person_id "
            "WHERE k.channel = ? AND k.address = ?",
            (contact.channel, contact.address),
        )
        return _person(row) if row else None

    async def by_id(self, person_id: int) -> Person | None:
        """Return the person with this internal id."""
        row = await self.db.fetch_one(
            f"SELECT {_COLUMNS} FROM person p WHERE p.id = ?", (person_id,)
        )
        return _person(row) if row else None

    async def _create_or_update(
        self,
        contact: Contact,
        insert: str,
        insert_params: tuple[object, ...],
        update: str,
        update_params: tuple[object, ...],
        now: datetime,
    ) -> None:
        """Create the person with ``contact`` (``insert``) or change them (``update``, whose
        last parameter is their id), in one transaction."""
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "SELECT person_id FROM contact WHERE channel = ? AND address = ?",
                (contact.channel, contact.address),
            )
            row = await cursor.fetchone()
            await cursor.close()
            if row is not None:
                await conn.execute(update, (*update_params, row[0]))
                return
            cursor = await conn.execute(insert + " RETURNING id", insert_params)
            person_id = await returned_id(cursor)
            await conn.execute(
                "INSERT INTO contact (channel, address, person_id, last_used) VALUES (?, ?, ?, ?)",
                (contact.channel, contact.address, person_id, to_db(now)),
            )

    async def set_language(self, contact: Contact, language: str, now: datetime) -> Person:
        """Create the person or change their language; return the stored person."""
        await self._create_or_update(
            contact,
            "INSERT INTO person (language, created_at, seen_at) VALUES (?, ?, ?)",
            (language, to_db(now), to_db(now)),
            "UPDATE person SET language = ?, seen_at = ? WHERE id = ?",
            (language, to_db(now)),
            now,
        )
        return await self._must_get(contact)

    async def record_consent(self, contact: Contact, version: str, now: datetime) -> Person:
        """Record that the person agreed to notice ``version`` at ``now``."""
        await self.db.write(
            "UPDATE person SET consent_at = ?, consent_version = ? WHERE id = "
            "(SELECT person_id FROM contact WHERE channel = ? AND address = ?)",
            (to_db(now), version, contact.channel, contact.address),
        )
        return await self._must_get(contact)

    async def withdraw_consent(self, person_id: int, now: datetime) -> None:
        """Record the withdrawal: from now on no query that chooses people finds them."""
        await self.db.write(
            "UPDATE person SET consent_at = NULL, consent_version = NULL, withdrawn_at = ? "
            "WHERE id = ?",
            (to_db(now), person_id),
        )

    async def set_role(self, contact: Contact, role: Role, language: str, now: datetime) -> None:
        """Give the person ``role``, creating them with ``language`` if they are new."""
        await self._create_or_update(
            contact,
            "INSERT INTO person (role, language, created_at) VALUES (?, ?, ?)",
            (role.value, language, to_db(now)),
            "UPDATE person SET role = ? WHERE id = ?",
            (role.value,),
            now,
        )

    async def set_unreachable(self, contact: Contact, when: datetime | None) -> None:
        """Record that the person blocked the bot (``when``), or that they are back (None)."""
        await self.db.write(
            "UPDATE person SET unreachable_at = ? WHERE id = "
            "(SELECT person_id FROM contact WHERE channel = ? AND address = ?)",
            (to_db(when) if when else None, contact.channel, contact.address),
        )

    async def set_seen(self, person_id: int, contact: Contact, now: datetime) -> None:
        """Record that the person wrote to the bot ``now`` from ``contact``."""
        async with self.db.transaction() as conn:
            await conn.execute(
                "UPDATE person SET seen_at = ? WHERE id = ?", (to_db(now), person_id)
            )
            await conn.execute(
                "UPDATE contact SET last_used = ? WHERE channel = ? AND address = ? "
                "AND person_id = ?",
                (to_db(now), contact.channel, contact.address, person_id),
            )

    async def set_news(self, person_id: int, wanted: bool) -> None:
        """Record whether the person wants broadcasts."""
        await self.db.write(
            "UPDATE person SET news_off = ? WHERE id = ?", (0 if wanted else 1, person_id)
        )

    async def contacts_with_role(self, role: Role) -> list[Contact]:
        """Return the contacts to reach everyone with ``role`` on."""
        rows = await self.db.fetch_all(
            f"SELECT {reach()} FROM person p WHERE p.role = ? ORDER BY p.id", (role.value,)
        )
        return [contact_of(row[0]) for row in rows if row[0] is not None]

    async def with_role(self, role: Role) -> list[Person]:
        """Everyone with ``role``, by id."""
        rows = await self.db.fetch_all(
            f"SELECT {_COLUMNS} FROM person p WHERE p.role = ? ORDER BY p.id", (role.value,)
        )
        return [_person(row) for row in rows]

    async def office_name(self, person_id: int) -> str | None:
        """The name the person goes by in the office, if given."""
        row = await self.db.fetch_one("SELECT office_name FROM person WHERE id = ?", (person_id,))
        return None if row is None else row[0]

    async def set_office_name(self, person_id: int, name: str | None) -> None:
        """Give (or, with None, drop) the name the person goes by in the office."""
        await self.db.write("UPDATE person SET office_name = ? WHERE id = ?", (name, person_id))

    async def drop_coordinator(self, person_id: int) -> bool:
        """Take the coordinator role away (a Lotse stays a Lotse) and end their open dialog;
        False if they were not a coordinator."""
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE person SET role = CASE WHEN EXISTS (SELECT 1 FROM lotse l "
                "WHERE l.person_id = person.id AND l.status = 'active') THEN 'lotse' "
                "ELSE 'member' END WHERE id = ? AND role = 'coordinator'",
                (person_id,),
            )
            if cursor.rowcount != 1:
                return False
            await conn.execute("DELETE FROM dialog WHERE person_id = ?", (person_id,))
            # Signed out of the office console at once, on every device.
            await conn.execute("DELETE FROM console_session WHERE person_id = ?", (person_id,))
            return True

    async def contacts_of(self, person_id: int) -> list[Contact]:
        """Every contact of the person, on any channel."""
        rows = await self.db.fetch_all(
            "SELECT channel, address FROM contact WHERE person_id = ? ORDER BY channel, address",
            (person_id,),
        )
        return [Contact(str(r[0]), str(r[1])) for r in rows]

    async def _must_get(self, contact: Contact) -> Person:
        person = await self.get(contact)
        if person is None:
            raise LookupError("person vanished during the update")
        return person
