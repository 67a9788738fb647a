"""How the audit log is stored: one row per coordinator action, never its content."""

from __future__ import annotations

from datetime import datetime

import aiosqlite

from bot.clock import from_db, to_db
from bot.domain.audit import Entry
from bot.storage.database import Database

__all__ = ["AuditRepository"]

_SELECT = "SELECT id, at, via, actor_id, actor_name, action, subject_id, request_id FROM audit"


def _entry(row: aiosqlite.Row) -> Entry:
    return Entry(
        id=row["id"],
        at=from_db(row["at"]),
        via=row["via"],
        actor_id=row["actor_id"],
        actor_name=row["actor_name"],
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
        """Record one action, under the name the coordinator goes by in the office (a
        person or request erased meanwhile is recorded as nobody)."""
        await self.db.write(
            "INSERT INTO audit (at, via, actor_id, actor_name, action, subject_id, request_id) "
            "VALUES (?, ?, (SELECT id FROM person WHERE id = ?), "
            "(SELECT office_name FROM person WHERE id = ?), ?, "
            "(SELECT id FROM person WHERE id = ?), (SELECT id FROM request WHERE id = ?))",
            (to_db(at), via, actor_id, actor_id, action, subject_id, request_id),
        )

    async def since(self, since: datetime | None) -> list[Entry]:
        """Every entry from ``since`` on (all when None), oldest first."""
        rows = await self.db.fetch_all(
            _SELECT + " WHERE at >= ? ORDER BY at, id", (to_db(since) if since else "",)
        )
        return [_entry(row) for row in rows]

    async def search(
        self,
        since: datetime | None = None,
        actor_id: int | None = None,
        action: str | None = None,
        limit: int = 200,
    ) -> list[Entry]:
        """The newest ``limit`` entries from ``since`` on, by one coordinator and of one
        action or family of actions (``lotse`` matches ``lotse.suspend``), newest first."""
        where = ["at >= ?"]
        params: list[object] = [to_db(since) if since else ""]
        if actor_id is not None:
            where.append("actor_id = ?")
            params.append(actor_id)
        if action:
            where.append("(action = ? OR substr(action, 1, ?) = ?)")
            params += [action, len(action) + 1, action + "."]
        rows = await self.db.fetch_all(
            f"{_SELECT} WHERE {' AND '.join(where)} ORDER BY at DESC, id DESC LIMIT ?",
            (*params, limit),
        )
        return [_entry(row) for row in rows]

    async def actors(self) -> list[tuple[int, str | None]]:
        """The coordinators the log names, each with the name they go by in the office now
        (else the first name of one who is a Lotse too), for showing and choosing them."""
        rows = await self.db.fetch_all(
            "SELECT a.actor_id, coalesce(p.office_name, l.first_name) FROM audit a "
            "LEFT JOIN person p ON p.id = a.actor_id "
            "LEFT JOIN lotse l ON l.person_id = a.actor_id "
            "WHERE a.actor_id IS NOT NULL GROUP BY a.actor_id ORDER BY a.actor_id"
        )
        return [(int(row[0]), row[1]) for row in rows]

    async def actions(self) -> list[str]:
        """The actions the log holds, for choosing which to see."""
        rows = await self.db.fetch_all("SELECT DISTINCT action FROM audit ORDER BY action")
        return [str(row[0]) for row in rows]

    async def about(self, person_id: int) -> list[Entry]:
        """The entries whose subject is the person."""
        rows = await self.db.fetch_all(
            _SELECT + " WHERE subject_id = ? ORDER BY at, id", (person_id,)
        )
        return [_entry(row) for row in rows]

    async def expire(self, before: datetime) -> int:
        """Delete the entries older than ``before``; return how many."""
        return await self.db.write("DELETE FROM audit WHERE at < ?", (to_db(before),))
