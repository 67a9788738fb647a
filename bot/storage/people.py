"""How people are stored."""

from __future__ import annotations

import re
from datetime import datetime

import aiosqlite

from bot.clock import from_db, to_db
from bot.domain.people import CONSENT_VERSION, Person, Role
from bot.storage.database import Database

__all__ = ["PeopleRepository", "consented"]

_COLUMNS = (
    "id, telegram_id, role, language, consent_at, consent_version, created_at, unreachable_at, "
    "news_off, withdrawn_at, seen_at"
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
        telegram_id=row["telegram_id"],
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

    async def get(self, telegram_id: int) -> Person | None:
        """Return the person with this Telegram id, if they ever chose a language."""
        row = await self.db.fetch_one(
            f"SELECT {_COLUMNS} FROM person WHERE telegram_id = ?", (telegram_id,)
        )
        return _person(row) if row else None

    async def by_id(self, person_id: int) -> Person | None:
        """Return the person with this internal id."""
        row = await self.db.fetch_one(f"SELECT {_COLUMNS} FROM person WHERE id = ?", (person_id,))
        return _person(row) if row else None

    async def set_language(self, telegram_id: int, language: str, now: datetime) -> Person:
        """Create the person or change their language; return the stored person."""
        await self.db.write(
            "INSERT INTO person (telegram_id, language, created_at, seen_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (telegram_id) DO UPDATE SET language = excluded.language, "
            "seen_at = excluded.seen_at",
            (telegram_id, language, to_db(now), to_db(now)),
        )
        return await self._must_get(telegram_id)

    async def record_consent(self, telegram_id: int, version: str, now: datetime) -> Person:
        """Record that the person agreed to notice ``version`` at ``now``."""
        await self.db.write(
            "UPDATE person SET consent_at = ?, consent_version = ? WHERE telegram_id = ?",
            (to_db(now), version, telegram_id),
        )
        return await self._must_get(telegram_id)

    async def withdraw_consent(self, person_id: int, now: datetime) -> None:
        """Record the withdrawal: from now on no query that chooses people finds them."""
        await self.db.write(
            "UPDATE person SET consent_at = NULL, consent_version = NULL, withdrawn_at = ? "
            "WHERE id = ?",
            (to_db(now), person_id),
        )

    async def set_role(self, telegram_id: int, role: Role, language: str, now: datetime) -> None:
        """Give the person ``role``, creating them with ``language`` if they are new."""
        await self.db.write(
            "INSERT INTO person (telegram_id, role, language, created_at) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (telegram_id) DO UPDATE SET role = excluded.role",
            (telegram_id, role.value, language, to_db(now)),
        )

    async def set_unreachable(self, telegram_id: int, when: datetime | None) -> None:
        """Record that the person blocked the bot (``when``), or that they are back (None)."""
        await self.db.write(
            "UPDATE person SET unreachable_at = ? WHERE telegram_id = ?",
            (to_db(when) if when else None, telegram_id),
        )

    async def set_seen(self, person_id: int, now: datetime) -> None:
        """Record that the person wrote to the bot ``now``."""
        await self.db.write("UPDATE person SET seen_at = ? WHERE id = ?", (to_db(now), person_id))

    async def set_news(self, person_id: int, wanted: bool) -> None:
        """Record whether the person wants broadcasts."""
        await self.db.write(
            "UPDATE person SET news_off = ? WHERE id = ?", (0 if wanted else 1, person_id)
        )

    async def telegram_ids_with_role(self, role: Role) -> list[int]:
        """Return the Telegram ids of everyone with ``role``."""
        rows = await self.db.fetch_all(
            "SELECT telegram_id FROM person WHERE role = ? ORDER BY id", (role.value,)
        )
        return [row[0] for row in rows]

    async def _must_get(self, telegram_id: int) -> Person:
        person = await self.get(telegram_id)
        if person is None:
            raise LookupError("person vanished during the update")
        return person
