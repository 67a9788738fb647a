"""How the audit log is stored: one row per coordinator action, never its content."""

from __future__ import annotations

from datetime import datetime

import aiosqlite

from bot.clock import from_db, to_db
from bot.domain.audit import Entry
from bot.storage.database import Database

__all__ = ["AuditRepository"]

_SELECT = "SELECT id, at, via, actor_id, action, subject_id, request_id FROM audit"


def _entry(row: aiosqlite.Row) -> Entry:
    return Entry(
        id=row["id"],
        at=from_db(row["at"]),
        via=row["via"],
        actor_id=row["actor_id"],
        action=row["action"],
        subject_id=row["subject_id"],
        request_id=row["request_id"],
    )


class AuditRepository:
    """All SQL about the ``audit`` table."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(
        self,
        at: datetime,
        via: str,
        actor_id: int | None,
        action: str,
        subject_id: int | None,
        request_id: int | None,
    ) -> None:
        """Record one action (a person or request erased meanwhile is recorded as nobody)."""
        await self.db.write(
            "INSERT INTO audit (at, via, actor_id, action, subject_id, request_id) "
            "VALUES (?, ?, (SELECT id FROM person WHERE id = ?), ?, "
            "(SELECT id FROM person WHERE id = ?), (SELECT id FROM request WHERE id = ?))",
            (to_db(at), via, actor_id, action, subject_id, request_id),
        )

    async def since(self, since: datetime | None) -> list[Entry]:
        """Every entry from ``since`` on (all when None), oldest first."""
        rows = await self.db.fetch_all(
            _SELECT + " WHERE at >= ? ORDER BY at, id", (to_db(since) if since else "",)
        )
        return [_entry(row) for row in rows]

    async def about(self, person_id: int) -> list[Entry]:
        """The entries whose subject is the person."""
        rows = await self.db.fetch_all(
            _SELECT + " WHERE subject_id = ? ORDER BY at, id", (person_id,)
        )
        return [_entry(row) for row in rows]

    async def expire(self, before: datetime) -> int:
        """Delete the entries older than ``before``; return how many."""
        return await self.db.write("DELETE FROM audit WHERE at < ?", (to_db(before),))
