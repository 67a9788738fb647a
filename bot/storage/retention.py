"""How personal data ages out: every rule of retention as SQL (see PRIVACY.md, Retention)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

import aiosqlite

from bot.clock import from_db, to_db
from bot.domain.people import Contact
from bot.storage.database import Database
from bot.storage.privacy import PERSONAL_COLUMNS

__all__ = ["RetentionRepository"]

#: Closed requests (done, cancelled, expired) closed before the cut-off.
_CLOSED = (
    "SELECT id FROM request WHERE status IN ('done', 'cancelled', 'expired') AND closed_at < ?"
)
#: An accepted case quiet since before the cut-off whose current quiet spell was not yet
#: brought up with its Lotse and the coordinators. A question is always asked after the
#: last activity; activity in the same second as the question (stamps are in seconds) ends
#: the spell it was about.
_UNWARNED_IDLE = (
    "status = 'accepted' AND active_at < ? "
    "AND (idle_warned_at IS NULL OR idle_warned_at <= active_at)"
)
#: Mailings that are over: finished or cancelled before the cut-off, and the date they were
#: about (a Stammtisch, a training) is past the cut-off too, so nobody needs to be told of a
#: change any more.
_MAILINGS_OVER = (
    "SELECT m.id FROM mailing m WHERE m.status IN ('done', 'cancelled') "
    "AND coalesce(m.finished_at, m.send_at) < :cut "
    "AND NOT EXISTS (SELECT 1 FROM event e "
    "                WHERE m.kind = 'event' AND e.id = m.subject AND e.starts_at >= :cut) "
    "AND NOT EXISTS (SELECT 1 FROM training t "
    "                WHERE m.kind = 'training' AND t.id = m.subject AND t.starts_at >= :cut)"
)


class RetentionRepository:
    """All SQL of the retention sweep."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # ------------------------------------------------------------------ unfinished

    async def drop_unfinished(self, untouched_since: datetime) -> int:
        """Delete request drafts and dialogs not changed since the cut-off; return how many."""
        cut = to_db(untouched_since)
        async with self.db.transaction() as conn:
            drafts = await conn.execute(
                "DELETE FROM request WHERE status = 'draft' "
                "AND coalesce(active_at, created_at) < ?",
                (cut,),
            )
            dialogs = await conn.execute("DELETE FROM dialog WHERE updated_at < ?", (cut,))
            return int(drafts.rowcount) + int(dialogs.rowcount)

    # ----------------------------------------------------------------- idle cases

    async def unwarned_idle(self, quiet_since: datetime) -> list[int]:
        """Accepted cases without activity since the cut-off, not asked about yet."""
        rows = await self.db.fetch_all(
            f"SELECT id FROM request WHERE {_UNWARNED_IDLE} ORDER BY id", (to_db(quiet_since),)
        )
        return [int(r[0]) for r in rows]

    async def claim_warning(
        self, request_id: int, quiet_since: datetime, now: datetime
    ) -> datetime | None:
        """Record that the case is being asked about now; return its last activity, or None
        if it was asked about before (or moved meanwhile). Written before the messages go
        out: a crash in between never asks twice."""
        rows = await self.db.write_returning(
            f"UPDATE request SET idle_warned_at = ? WHERE id = ? AND {_UNWARNED_IDLE} "
            "RETURNING active_at",
            (to_db(now), request_id, to_db(quiet_since)),
        )
        return from_db(rows[0][0]) if rows else None

    async def past_deadline(self, quiet_since: datetime, warned_before: datetime) -> list[int]:
        """Accepted cases quiet since ``quiet_since`` whose Lotse and coordinators were asked
        about this quiet spell before ``warned_before`` and did not answer."""
        rows = await self.db.fetch_all(
            "SELECT id FROM request WHERE status = 'accepted' AND active_at <= ? "
            "AND idle_warned_at > active_at AND idle_warned_at <= ? ORDER BY id",
            (to_db(quiet_since), to_db(warned_before)),
        )
        return [int(r[0]) for r in rows]

    async def close_case(
        self,
        request_id: int,
        now: datetime,
        deadline: tuple[datetime, datetime] | None = None,
    ) -> bool:
        """Close an accepted case and erase its details at once; False if it moved on.

        ``deadline`` (quiet since, warned before): close only if the case is still past
        the deadline, so a "still running" that came in meanwhile wins.
        """
        guard = ""
        values: list[object] = [to_db(now), to_db(now), request_id]
        if deadline is not None:
            guard = " AND active_at <= ? AND idle_warned_at > active_at AND idle_warned_at <= ?"
            values += [to_db(deadline[0]), to_db(deadline[1])]
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE request SET status = 'done', closed_at = ?, active_at = ? "
                f"WHERE id = ? AND status = 'accepted'{guard}",
                values,
            )
            if cursor.rowcount != 1:
                return False
            await conn.execute(
                "DELETE FROM timer WHERE subject = ? AND kind GLOB 'request:*' AND done_at IS NULL",
                (request_id,),
            )
            await _erase_details(conn, "?", (request_id,))
            return True

    # ----------------------------------------------------------------- closed cases

    async def erase_closed(self, closed_before: datetime) -> int:
        """Erase the details of cases closed before the cut-off; return how many."""
        async with self.db.transaction() as conn:
            return await _erase_details(conn, _CLOSED, (to_db(closed_before),))

    # ---------------------------------------------------------------- the rest

    async def expire_waitlist(self, not_called_since: datetime) -> int:
        """Erase waiting-list entries that joined, or were last called, before the cut-off."""
        return await self.db.write(
            "DELETE FROM waitlist WHERE coalesce(called_at, joined_at) < ?",
            (to_db(not_called_since),),
        )

    async def expire_mailings(self, over_before: datetime) -> int:
        """For mailings over before the cut-off: forget who got a copy, which coordinator
        watched it, and the text and author of a broadcast."""
        cut = {"cut": to_db(over_before)}
        broadcasts = (
            f"SELECT subject FROM mailing WHERE kind = 'broadcast' AND id IN ({_MAILINGS_OVER})"
        )
        async with self.db.transaction() as conn:
            deliveries = await conn.execute(
                f"DELETE FROM delivery WHERE mailing_id IN ({_MAILINGS_OVER})", cut
            )
            reports = await conn.execute(
                "UPDATE mailing SET report_channel = NULL, report_chat = NULL, "
                "report_message = NULL "
                f"WHERE report_chat IS NOT NULL AND id IN ({_MAILINGS_OVER})",
                cut,
            )
            texts = await conn.execute(
                "UPDATE broadcast SET text = NULL, media_kind = NULL, media_file_id = NULL, "
                "media_channel = NULL, author_id = NULL WHERE (text IS NOT NULL "
                f"OR media_file_id IS NOT NULL OR author_id IS NOT NULL) AND id IN ({broadcasts})",
                cut,
            )
            translations = await conn.execute(
                f"DELETE FROM broadcast_translation WHERE broadcast_id IN ({broadcasts})", cut
            )
            return sum(int(c.rowcount) for c in (deliveries, reports, texts, translations))

    async def expire_answers(self, held_before: datetime) -> int:
        """Delete the answers to Stammtisch dates that took place before the cut-off."""
        return await self.db.write(
            "DELETE FROM rsvp WHERE event_id IN (SELECT id FROM event WHERE starts_at < ?)",
            (to_db(held_before),),
        )

    async def expire_rejections(self, applied_before: datetime) -> int:
        """Delete applications to become a Lotse that were turned down and made before the
        cut-off (the person may apply again)."""
        return await self.db.write(
            "DELETE FROM lotse WHERE status = 'rejected' AND created_at < ?",
            (to_db(applied_before),),
        )

    async def expire_office(self, before: datetime) -> int:
        """Erase what passed between people and the office before the cut-off: threads whose
        last message is older, decided expenses (with the receipt's reference), and
        confirmations of volunteering sent (or asked for and never sent) before it."""
        cut = (to_db(before),)
        async with self.db.transaction() as conn:
            threads = await conn.execute("DELETE FROM office_thread WHERE last_at < ?", cut)
            expenses = await conn.execute(
                "DELETE FROM expense WHERE state <> 'open' AND decided_at < ?", cut
            )
            certificates = await conn.execute(
                "DELETE FROM certificate WHERE coalesce(confirmed_at, created_at) < ?", cut
            )
            return sum(int(c.rowcount) for c in (threads, expenses, certificates))

    async def expire_former_lotsen(self, stopped_before: datetime) -> int:
        """Delete the profile and records of Lotsen who left or were retired before the
        cut-off; they are ordinary users from then on (a coordinator stays one)."""
        async with self.db.transaction() as conn:
            gone = await conn.execute_fetchall(
                "DELETE FROM lotse WHERE stopped IN ('left', 'retired') AND stopped_at < ? "
                "RETURNING person_id",
                (to_db(stopped_before),),
            )
            ids = [int(row[0]) for row in gone]
            await conn.executemany(
                "UPDATE person SET role = 'member' WHERE id = ? AND role = 'lotse'",
                [(i,) for i in ids],
            )
            await conn.executemany(
                "DELETE FROM timer WHERE kind GLOB 'lotse:*' AND subject = ?",
                [(i,) for i in ids],
            )
        return len(ids)

    async def without_consent(
        self, silent_since: datetime, spared: Collection[Contact]
    ) -> list[int]:
        """People who never agreed or withdrew their consent and have not written since the
        cut-off; coordinators (by role, or with a contact among the ``spared``) stay."""
        rows = await self.db.fetch_all(
            "SELECT p.id, c.channel, c.address FROM person p "
            "LEFT JOIN contact c ON c.person_id = p.id WHERE p.consent_version IS NULL "
            "AND p.role <> 'coordinator' AND coalesce(p.seen_at, p.created_at) < ? ORDER BY p.id",
            (to_db(silent_since),),
        )
        kept = {r[0] for r in rows if r[1] is not None and Contact(r[1], r[2]) in spared}
        return list(dict.fromkeys(int(r[0]) for r in rows if r[0] not in kept))

    async def purge_old_pages(self) -> None:
        """Move the WAL into the database and truncate it, so old page images are gone too."""
        await self.db.fetch_one("PRAGMA wal_checkpoint(TRUNCATE)")


async def _erase_details(conn: aiosqlite.Connection, ids: str, values: tuple[object, ...]) -> int:
    """Erase what the requests ``ids`` (SQL, a subquery or ``?``) say about people: free
    text, file ids, place, first name, the link to the person who asked, their relays,
    offers and case news. The anonymous row stays; so does the Lotse's link, for their record
    of hours. Returns how many requests still held something."""
    cursor = await conn.execute(
        f"UPDATE request SET {PERSONAL_COLUMNS}, person_id = NULL WHERE id IN ({ids}) "
        "AND (description IS NOT NULL OR files IS NOT NULL OR first_name IS NOT NULL "
        "OR place IS NOT NULL OR person_id IS NOT NULL)",
        values,
    )
    for table in ("relay", "offer", "case_notice"):
        await conn.execute(f"DELETE FROM {table} WHERE request_id IN ({ids})", values)
    return int(cursor.rowcount)
