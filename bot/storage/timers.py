"""How timers are stored: everything that must happen at a time, one row each."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from bot.clock import from_db, to_db
from bot.storage.database import Database

__all__ = ["DueTimer", "TimersRepository", "insert_timer"]


@dataclass(frozen=True, slots=True)
class DueTimer:
    """A timer whose time has come: ``kind`` is ``<owner>:<what>``, e.g. ``event:remind``."""

    id: int
    kind: str
    subject: int
    due: datetime


_INSERT_TIMERS = (
    "INSERT INTO timer (kind, subject, due_at) VALUES {values} "
    "ON CONFLICT (kind, subject) DO UPDATE SET due_at = excluded.due_at, done_at = NULL"
)
_INSERT_TIMER = _INSERT_TIMERS.format(values="(?, ?, ?)")


async def insert_timer(conn: aiosqlite.Connection, kind: str, subject: int, due: datetime) -> None:
    """Schedule (or move) a timer inside the caller's transaction, with what it is about."""
    await conn.execute(_INSERT_TIMER, (kind, subject, to_db(due)))


class TimersRepository:
    """All SQL about the ``timer`` table."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def set(self, kind: str, subject: int, due: datetime) -> None:
        """Schedule (or move) the ``kind`` timer of ``subject``; a done one is armed again."""
        await self.set_many([(kind, subject, due)])

    async def set_many(self, timers: Sequence[tuple[str, int, datetime]]) -> None:
        """:meth:`set` for several timers, in one statement."""
        if not timers:
            return
        values = ", ".join("(?, ?, ?)" for _ in timers)
        await self.db.write(
            _INSERT_TIMERS.format(values=values),
            [value for kind, subject, due in timers for value in (kind, subject, to_db(due))],
        )

    async def cancel(self, kind_glob: str, subject: int) -> None:
        """Drop the pending timers of ``subject`` whose kind matches ``kind_glob``."""
        await self.db.write(
            "DELETE FROM timer WHERE subject = ? AND kind GLOB ? AND done_at IS NULL",
            (subject, kind_glob),
        )

    async def due(self, now: datetime) -> list[DueTimer]:
        """Timers due by ``now`` and not done, oldest first."""
        rows = await self.db.fetch_all(
            "SELECT id, kind, subject, due_at FROM timer "
            "WHERE done_at IS NULL AND due_at <= ? ORDER BY due_at, id",
            (to_db(now),),
        )
        return [DueTimer(r[0], r[1], r[2], from_db(r[3])) for r in rows]

    async def finish(self, timer: DueTimer, now: datetime) -> None:
        """Mark a timer done once its work is done (a crash before this repeats it).

        If the work set the same timer again (a new due time), the new one stays pending.
        """
        await self.db.write(
            "UPDATE timer SET done_at = ? WHERE id = ? AND due_at = ?",
            (to_db(now), timer.id, to_db(timer.due)),
        )

    async def next_due(self) -> datetime | None:
        """When the next timer falls due."""
        row = await self.db.fetch_one("SELECT min(due_at) FROM timer WHERE done_at IS NULL")
        return from_db(row[0]) if row and row[0] else None

    async def pending(self, kind: str, subject: int) -> datetime | None:
        """When the ``kind`` timer of ``subject`` falls due, if it is pending."""
        row = await self.db.fetch_one(
            "SELECT due_at FROM timer WHERE kind = ? AND subject = ? AND done_at IS NULL",
            (kind, subject),
        )
        return from_db(row[0]) if row else None
