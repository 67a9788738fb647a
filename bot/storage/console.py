"""How the office console's sign-in links and sessions are stored (only hashes of their
secrets; see ``0017_console.sql``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from bot.clock import from_db, to_db
from bot.domain.console import Appointment, RunningOut, Unanswered
from bot.storage.database import Database

__all__ = ["ConsoleRepository", "StoredSession"]


@dataclass(frozen=True, slots=True)
class StoredSession:
    """A session as stored: whose, its CSRF token, when it was last used and must end."""

    person_id: int
    csrf: str
    created_at: datetime
    seen_at: datetime
    ends_at: datetime


class ConsoleRepository:
    """All SQL about ``console_link`` and ``console_session``."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def add_link(
        self, token_hash: str, person_id: int, now: datetime, expires: datetime
    ) -> None:
        """Store a new sign-in link's hash."""
        await self.db.write(
            "INSERT INTO console_link (token_hash, person_id, created_at, expires_at) "
            "VALUES (?, ?, ?, ?)",
            (token_hash, person_id, to_db(now), to_db(expires)),
        )

    async def links_since(self, person_id: int, since: datetime) -> int:
        """How many links the person was given after ``since``."""
        row = await self.db.fetch_one(
            "SELECT count(*) FROM console_link WHERE person_id = ? AND created_at > ?",
            (person_id, to_db(since)),
        )
        return int(row[0]) if row else 0

    async def usable_link(self, token_hash: str, now: datetime) -> bool:
        """Whether there is a link with this hash, not used and not expired (a read: the
        write lock is taken only for a link that can be used)."""
        row = await self.db.fetch_one(
            "SELECT 1 FROM console_link WHERE token_hash = ? AND used_at IS NULL "
            "AND expires_at > ?",
            (token_hash, to_db(now)),
        )
        return row is not None

    async def use_link(self, token_hash: str, now: datetime) -> int | None:
        """Mark the link used, once, if it has not expired; whose it was (None: unknown,
        used or expired)."""
        rows = await self.db.write_returning(
            "UPDATE console_link SET used_at = ? "
            "WHERE token_hash = ? AND used_at IS NULL AND expires_at > ? RETURNING person_id",
            (to_db(now), token_hash, to_db(now)),
        )
        return int(rows[0][0]) if rows else None

    async def add_session(
        self, id_hash: str, person_id: int, csrf: str, now: datetime, ends: datetime
    ) -> None:
        """Store a new session."""
        await self.db.write(
            "INSERT INTO console_session (id_hash, person_id, csrf, created_at, seen_at, ends_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (id_hash, person_id, csrf, to_db(now), to_db(now), to_db(ends)),
        )

    async def session(self, id_hash: str) -> StoredSession | None:
        """The session with this hash."""
        row = await self.db.fetch_one(
            "SELECT person_id, csrf, created_at, seen_at, ends_at FROM console_session "
            "WHERE id_hash = ?",
            (id_hash,),
        )
        if row is None:
            return None
        return StoredSession(
            row["person_id"],
            row["csrf"],
            from_db(row["created_at"]),
            from_db(row["seen_at"]),
            from_db(row["ends_at"]),
        )

    async def touch(self, id_hash: str, now: datetime) -> None:
        """The session was used now."""
        await self.db.write(
            "UPDATE console_session SET seen_at = ? WHERE id_hash = ?", (to_db(now), id_hash)
        )

    async def end(self, id_hash: str) -> None:
        """End one session."""
        await self.db.write("DELETE FROM console_session WHERE id_hash = ?", (id_hash,))

    async def end_all(self, person_id: int) -> int:
        """End every session of a person; how many there were."""
        return await self.db.write("DELETE FROM console_session WHERE person_id = ?", (person_id,))

    async def sessions_of(self, person_id: int) -> list[StoredSession]:
        """The person's sessions (for /mydata)."""
        rows = await self.db.fetch_all(
            "SELECT person_id, csrf, created_at, seen_at, ends_at FROM console_session "
            "WHERE person_id = ? ORDER BY created_at",
            (person_id,),
        )
        return [
            StoredSession(
                r["person_id"],
                r["csrf"],
                from_db(r["created_at"]),
                from_db(r["seen_at"]),
                from_db(r["ends_at"]),
            )
            for r in rows
        ]

    async def expire(self, now: datetime, idle_before: datetime) -> int:
        """Delete links that are used or expired and sessions that ended (at their latest
        end, or idle since before ``idle_before``); how many rows went."""
        async with self.db.transaction() as conn:
            links = await conn.execute(
                "DELETE FROM console_link WHERE used_at IS NOT NULL OR expires_at <= ?",
                (to_db(now),),
            )
            sessions = await conn.execute(
                "DELETE FROM console_session WHERE ends_at <= ? OR seen_at < ?",
                (to_db(now), to_db(idle_before)),
            )
            return int(links.rowcount) + int(sessions.rowcount)

    # ------------------------------------------------------------------ the overview

    async def appointments(self, first: date, last: date) -> list[Appointment]:
        """Running cases with an appointment from ``first`` to ``last``, by time."""
        rows = await self.db.fetch_all(
            "SELECT r.id, r.day, r.time, r.lotse_id, l.first_name FROM request r "
            "LEFT JOIN lotse l ON l.person_id = r.lotse_id "
            "WHERE r.status = 'accepted' AND r.day BETWEEN ? AND ? "
            "ORDER BY r.day, r.time IS NULL, r.time, r.id",
            (first.isoformat(), last.isoformat()),
        )
        return [
            Appointment(
                r[0],
                date.fromisoformat(r[1]),
                time.fromisoformat(r[2]) if r[2] else None,
                r[3],
                r[4],
            )
            for r in rows
        ]

    async def unanswered(self) -> list[Unanswered]:
        """Concerns and messages to the office whose last message is the person's, oldest
        first."""
        rows = await self.db.fetch_all(
            "SELECT t.id, t.kind, t.request_id, t.last_at FROM office_thread t "
            "WHERE (SELECT m.direction FROM office_message m WHERE m.thread_id = t.id "
            "       ORDER BY m.id DESC LIMIT 1) = 'in' "
            "ORDER BY t.last_at, t.id"
        )
        return [Unanswered(r[0], r[1], r[2], from_db(r[3])) for r in rows]

    async def running_out(self, until: date) -> list[RunningOut]:
        """Lotsen still in the programme whose Führungszeugnis is valid only until ``until``
        or earlier, soonest first."""
        rows = await self.db.fetch_all(
            "SELECT person_id, first_name, check_valid_until FROM lotse "
            "WHERE status = 'active' AND coalesce(stopped, '') NOT IN ('retired', 'left') "
            "AND check_valid_until IS NOT NULL AND check_valid_until <= ? "
            "ORDER BY check_valid_until, person_id",
            (until.isoformat(),),
        )
        return [RunningOut(r[0], r[1], date.fromisoformat(r[2])) for r in rows]

    async def sending_broadcasts(self) -> list[tuple[int, datetime | None]]:
        """Broadcasts being sent now: their mailing and when sending began."""
        rows = await self.db.fetch_all(
            "SELECT id, started_at FROM mailing WHERE kind = 'broadcast' AND status = 'sending' "
            "ORDER BY id"
        )
        return [(r[0], from_db(r[1]) if r[1] else None) for r in rows]
