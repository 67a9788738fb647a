"""How a person's data is gathered for /mydata and erased for /delete."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.clock import to_db
from bot.storage.database import Database

__all__ = ["PERSONAL_COLUMNS", "PrivacyRepository"]

# Columns of a request that say something about the person; statistics keep the rest.
PERSONAL_COLUMNS = (
    "description = NULL, media_kind = NULL, media_file_id = NULL, place = NULL, "
    "first_name = NULL, updated_by = NULL"
)


class PrivacyRepository:
    """All SQL about access and erasure (retention: :mod:`bot.storage.retention`)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def export(self, person_id: int) -> dict[str, Any]:
        """Everything stored about the person, as plain data."""
        person = await self.db.fetch_one(
            "SELECT telegram_id, role, language, consent_at, consent_version, created_at, "
            "seen_at FROM person WHERE id = ?",
            (person_id,),
        )
        lotse = await self.db.fetch_one(
            "SELECT first_name, status, districts, topics, max_open, paused_until, quiet_from, "
            "quiet_to, created_at FROM lotse WHERE person_id = ?",
            (person_id,),
        )
        languages = await self.db.fetch_all(
            "SELECT language FROM lotse_language WHERE person_id = ? ORDER BY language",
            (person_id,),
        )
        requests = await self.db.fetch_all(
            "SELECT id, status, topic, description, media_kind, media_file_id, languages, "
            "district, day, time, place, first_name, feedback, created_at, confirmed_at, "
            "accepted_at, closed_at, active_at FROM request WHERE person_id = ? ORDER BY id",
            (person_id,),
        )
        cases = await self.db.fetch_all(
            "SELECT id, status, topic, district, hours, lotse_feedback, accepted_at, closed_at, "
            "active_at, idle_warned_at FROM request WHERE lotse_id = ? ORDER BY id",
            (person_id,),
        )
        data: dict[str, Any] = {"person": dict(person) if person else None}
        if lotse is not None:
            data["lotse"] = {**dict(lotse), "languages": [r[0] for r in languages]}
        data["requests"] = [dict(r) for r in requests]
        data["cases_as_lotse"] = [dict(r) for r in cases]
        waitlist = await self.db.fetch_one(
            "SELECT name, contact, languages, district, status, joined_at, called_at "
            "FROM waitlist WHERE person_id = ?",
            (person_id,),
        )
        data["waiting_list"] = dict(waitlist) if waitlist else None
        seats = await self.db.fetch_all(
            "SELECT t.starts_at, t.place, s.answer, s.seat, s.answered_at FROM training_seat s "
            "JOIN training t ON t.id = s.training_id JOIN waitlist w ON w.id = s.entry_id "
            "WHERE w.person_id = ? ORDER BY t.starts_at",
            (person_id,),
        )
        data["training_answers"] = [dict(r) for r in seats]
        answers = await self.db.fetch_all(
            "SELECT e.title, e.starts_at, r.answer FROM rsvp r JOIN event e ON e.id = r.event_id "
            "WHERE r.person_id = ? ORDER BY e.starts_at",
            (person_id,),
        )
        data["stammtisch_answers"] = [dict(r) for r in answers]
        return data

    async def erase(self, person_id: int, now: datetime) -> None:
        """Erase the person; their requests stay only as anonymous rows for the statistics."""
        stamp = to_db(now)
        async with self.db.transaction() as conn:
            telegram = await conn.execute(
                "SELECT telegram_id FROM person WHERE id = ?", (person_id,)
            )
            row = await telegram.fetchone()
            telegram_id = row[0] if row else None
            await conn.execute(
                "DELETE FROM request WHERE person_id = ? AND status = 'draft'", (person_id,)
            )
            await conn.execute(
                "UPDATE request SET status = 'cancelled', closed_at = ? "
                "WHERE person_id = ? AND status IN ('open', 'offered', 'accepted')",
                (stamp, person_id),
            )
            own = "SELECT id FROM request WHERE person_id = ?"
            await conn.execute(f"DELETE FROM relay WHERE request_id IN ({own})", (person_id,))
            await conn.execute(
                f"DELETE FROM timer WHERE kind GLOB 'request:*' AND subject IN ({own})",
                (person_id,),
            )
            await conn.execute(
                f"UPDATE request SET {PERSONAL_COLUMNS}, person_id = NULL WHERE person_id = ?",
                (person_id,),
            )
            if telegram_id is not None:
                await conn.execute("DELETE FROM relay WHERE receiver_chat = ?", (telegram_id,))
                # The person's own updates still in the inbox (the /delete press among them)
                # are settled now, so their raw payload is gone before the WAL is purged.
                await conn.execute(
                    "UPDATE inbox SET payload = NULL, done_at = ? WHERE done_at IS NULL AND ? IN "
                    "(json_extract(payload, '$.message.from.id'), "
                    "json_extract(payload, '$.callback_query.from.id'))",
                    (stamp, telegram_id),
                )
            await conn.execute(
                "UPDATE request SET lotse_id = NULL WHERE lotse_id = ?", (person_id,)
            )
            await conn.execute("DELETE FROM offer WHERE lotse_id = ?", (person_id,))
            await conn.execute("DELETE FROM person WHERE id = ?", (person_id,))
        await self.purge_old_pages()

    async def purge_old_pages(self) -> None:
        """Move the WAL into the database and truncate it, so old page images are gone too."""
        await self.db.fetch_one("PRAGMA wal_checkpoint(TRUNCATE)")
