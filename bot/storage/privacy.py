"""How a person's data is gathered for /mydata, and erased for /delete or after a withdrawal
of consent."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import aiosqlite

from bot.clock import to_db
from bot.domain.people import Contact
from bot.storage.database import Database, DatabaseError

__all__ = ["PERSONAL_COLUMNS", "PrivacyRepository"]

#: SQL: the person ``?``'s contacts as (channel, address), for ``(channel, chat) IN (…)``.
_CONTACTS = "SELECT channel, address FROM contact WHERE person_id = ?"

# Columns of a request that say something about the person; statistics keep the rest.
PERSONAL_COLUMNS = (
    "description = NULL, files = NULL, place = NULL, first_name = NULL, updated_by = NULL"
)


class PrivacyRepository:
    """All SQL about access and erasure (retention: :mod:`bot.storage.retention`)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def export(self, person_id: int) -> dict[str, Any]:
        """Everything stored about the person, as plain data.

        Every row that refers to the person (by their id or one of their contacts) is in it,
        with all its columns but the ids of other people; of a case they had as a Lotse,
        what the person asking told about themselves is left out.
        """
        one, rows = self._one, self._rows
        person = await one("SELECT * FROM person WHERE id = ?", person_id)
        data: dict[str, Any] = {"person": person}
        if person is None:
            return data
        data["contacts"] = await rows(
            "SELECT channel, address, last_used FROM contact WHERE person_id = ? "
            "ORDER BY channel, address",
            person_id,
        )
        lotse = await one("SELECT * FROM lotse WHERE person_id = ?", person_id)
        if lotse is not None:
            languages = await rows(
                "SELECT language FROM lotse_language WHERE person_id = ? ORDER BY language",
                person_id,
            )
            data["lotse"] = {**lotse, "languages": [r["language"] for r in languages]}
        data["invitation_used"] = await one(
            "SELECT code, created_at, used_at FROM invite WHERE used_by = ?", person_id
        )
        own = await rows("SELECT * FROM request WHERE person_id = ? ORDER BY id", person_id)
        data["requests"] = [_without(r, "lotse_id") for r in own]
        data["cases_as_lotse"] = await rows(
            "SELECT id, status, step, topic, languages, district, day, time, round, hours, "
            "lotse_feedback, created_at, confirmed_at, accepted_at, closed_at, active_at, "
            "calendar_sequence, idle_warned_at FROM request WHERE lotse_id = ? ORDER BY id",
            person_id,
        )
        data["offers_received"] = await rows(
            "SELECT request_id, round, status, channel, chat, message_id, created_at, "
            "handed_back_at FROM offer WHERE lotse_id = ? ORDER BY created_at, request_id",
            person_id,
        )
        data["case_news"] = await rows(
            "SELECT request_id, what, side, status, created_at, claimed_by FROM case_notice "
            "WHERE lotse_id = ? OR (side = 'person' AND request_id IN "
            "(SELECT id FROM request WHERE person_id = ?)) ORDER BY created_at, request_id",
            person_id,
            person_id,
        )
        data["relayed_messages"] = await rows(
            "SELECT id, request_id, channel, chat, message_id, kind, created_at FROM relay "
            f"WHERE (channel, chat) IN ({_CONTACTS}) ORDER BY id",
            person_id,
        )
        dialog = await one(
            "SELECT kind, step, data, updated_by, updated_at FROM dialog WHERE person_id = ?",
            person_id,
        )
        data["unfinished_dialog"] = (
            {**dialog, "data": json.loads(dialog["data"])} if dialog is not None else None
        )
        waitlist = await one("SELECT * FROM waitlist WHERE person_id = ?", person_id)
        data["waiting_list"] = _without(waitlist, "person_id") if waitlist else None
        data["training_answers"] = await rows(
            "SELECT s.id, s.training_id, s.entry_id, t.starts_at, t.place, s.answer, s.seat, "
            "s.answered_at FROM training_seat s JOIN training t ON t.id = s.training_id "
            "JOIN waitlist w ON w.id = s.entry_id WHERE w.person_id = ? ORDER BY t.starts_at",
            person_id,
        )
        data["stammtisch_answers"] = await rows(
            "SELECT r.event_id, e.title, e.starts_at, r.answer, r.answered_at FROM rsvp r "
            "JOIN event e ON e.id = r.event_id WHERE r.person_id = ? ORDER BY e.starts_at",
            person_id,
        )
        data["mailings_received"] = await rows(
            "SELECT d.mailing_id, m.kind, m.subject, m.variant, m.send_at, d.status, d.attempts, "
            "d.not_before, d.message_id, d.channel, d.chat FROM delivery d "
            "JOIN mailing m ON m.id = d.mailing_id "
            "WHERE d.person_id = ? ORDER BY d.mailing_id",
            person_id,
        )
        written = await rows(
            "SELECT id, text, media_kind, media_file_id, media_channel, language, audience, "
            "created_at "
            "FROM broadcast WHERE author_id = ? ORDER BY id",
            person_id,
        )
        for broadcast in written:
            broadcast["translations"] = await rows(
                "SELECT broadcast_id, language, text FROM broadcast_translation "
                "WHERE broadcast_id = ? ORDER BY language",
                broadcast["id"],
            )
        data["broadcasts_written"] = written
        threads = await rows(
            "SELECT id, kind, request_id, side, reason, language, created_at, last_at "
            "FROM office_thread WHERE person_id = ? ORDER BY id",
            person_id,
        )
        for thread in threads:
            thread["messages"] = await rows(
                "SELECT direction, text, created_at FROM office_message WHERE thread_id = ? "
                "ORDER BY id",
                thread["id"],
            )
        data["office_exchanges"] = threads
        data["expenses"] = await rows(
            "SELECT id, request_id, what, cents, receipt_kind, receipt_ref, receipt_channel, "
            "state, created_at, decided_at FROM expense WHERE lotse_id = ? ORDER BY id",
            person_id,
        )
        # What a coordinator did in the office's name: answers, decisions, confirmations.
        data["office_answers_written"] = await rows(
            "SELECT id, thread_id, direction, text, created_at FROM office_message "
            "WHERE author_id = ? ORDER BY id",
            person_id,
        )
        data["expenses_decided"] = await rows(
            "SELECT id, state, decided_at FROM expense WHERE decided_by = ? ORDER BY id",
            person_id,
        )
        data["confirmations_made"] = await rows(
            "SELECT id, year, state, created_at, confirmed_at FROM certificate "
            "WHERE confirmed_by = ? ORDER BY id",
            person_id,
        )
        data["confirmations_of_volunteering"] = await rows(
            "SELECT id, year, state, created_at, confirmed_at FROM certificate "
            "WHERE lotse_id = ? ORDER BY id",
            person_id,
        )
        data["office_messages_in_chat"] = await rows(
            "SELECT thread_id, channel, chat, message_id FROM office_copy "
            f"WHERE (channel, chat) IN ({_CONTACTS}) ORDER BY thread_id, message_id",
            person_id,
        )
        data["mailing_reports"] = await rows(
            "SELECT id, kind, subject, variant, status, send_at, report_channel, report_chat, "
            "report_message, created_at, started_at, finished_at FROM mailing "
            f"WHERE (report_channel, report_chat) IN ({_CONTACTS}) ORDER BY id",
            person_id,
        )
        data["office_actions_concerning_you"] = await rows(
            "SELECT id, at, via, action, request_id FROM audit WHERE subject_id = ? "
            "ORDER BY at, id",
            person_id,
        )
        data["office_actions_taken"] = await rows(
            "SELECT id, at, via, action, request_id FROM audit WHERE actor_id = ? ORDER BY at, id",
            person_id,
        )
        # The office console's sign-in links and sessions (their secrets are not stored).
        data["console_sign_in_links"] = await rows(
            "SELECT id, created_at, expires_at, used_at FROM console_link WHERE person_id = ? "
            "ORDER BY id",
            person_id,
        )
        data["console_sessions"] = await rows(
            "SELECT id, created_at, seen_at, ends_at FROM console_session WHERE person_id = ? "
            "ORDER BY id",
            person_id,
        )
        return data

    async def _one(self, sql: str, *params: object) -> dict[str, Any] | None:
        row = await self.db.fetch_one(sql, params)
        return dict(row) if row is not None else None

    async def _rows(self, sql: str, *params: object) -> list[dict[str, Any]]:
        return [dict(row) for row in await self.db.fetch_all(sql, params)]

    async def erase(self, person_id: int, now: datetime) -> None:
        """Erase the person; their requests stay only as anonymous rows for the statistics."""
        async with self.db.transaction() as conn:
            for contact in await _cut_off(conn, person_id, to_db(now)):
                # Channels without buttons: the screens shown in their chat, and their own
                # events still in that inbox, go too.
                await conn.execute(
                    "DELETE FROM menu WHERE channel = ? AND chat = ?",
                    (contact.channel, contact.address),
                )
                await conn.execute(
                    "DELETE FROM stamped_inbox WHERE channel = ? AND sender = ?",
                    (contact.channel, contact.address),
                )
                if contact.channel != "telegram":
                    continue
                # The person's own updates still in the inbox (the /delete press among them)
                # are settled now, so their raw payload is gone before the WAL is purged.
                await conn.execute(
                    "UPDATE inbox SET payload = NULL, done_at = ? WHERE done_at IS NULL AND ? IN "
                    "(json_extract(payload, '$.message.from.id'), "
                    "json_extract(payload, '$.callback_query.from.id'))",
                    (to_db(now), int(contact.address)),
                )
            await conn.execute("DELETE FROM person WHERE id = ?", (person_id,))
        await self.purge_old_pages()

    async def forget(self, person_id: int, now: datetime) -> None:
        """After a withdrawal of consent: erase what :meth:`erase` erases, but keep the
        person row with their language and the time they withdrew."""
        async with self.db.transaction() as conn:
            await _cut_off(conn, person_id, to_db(now))
            await _detach(conn, person_id)
            await conn.execute(
                "UPDATE person SET role = CASE role WHEN 'lotse' THEN 'member' ELSE role END, "
                "consent_at = NULL, consent_version = NULL, unreachable_at = NULL, news_off = 0 "
                "WHERE id = ?",
                (person_id,),
            )
        await self.purge_old_pages()

    async def purge_old_pages(self) -> None:
        """Move the WAL into the database and truncate it, so old page images are gone too."""
        await self.db.fetch_one("PRAGMA wal_checkpoint(TRUNCATE)")


def _without(row: dict[str, Any], *columns: str) -> dict[str, Any]:
    return {name: value for name, value in row.items() if name not in columns}


async def _cut_off(conn: aiosqlite.Connection, person_id: int, stamp: str) -> list[Contact]:
    """In a transaction: cut the person's requests down to anonymous rows (drafts go,
    running ones are cancelled), drop their relays, timers and offers, and take them off the
    cases they had as a Lotse. Returns their contacts."""
    rows = await conn.execute_fetchall(
        "SELECT channel, address FROM contact WHERE person_id = ?", (person_id,)
    )
    contacts = [Contact(str(r[0]), str(r[1])) for r in rows]
    await conn.execute("DELETE FROM request WHERE person_id = ? AND status = 'draft'", (person_id,))
    await conn.execute(
        "UPDATE request SET status = 'cancelled', closed_at = ? "
        "WHERE person_id = ? AND status IN ('open', 'offered', 'accepted')",
        (stamp, person_id),
    )
    own = "SELECT id FROM request WHERE person_id = ?"
    await conn.execute(f"DELETE FROM relay WHERE request_id IN ({own})", (person_id,))
    await conn.execute(
        f"DELETE FROM timer WHERE kind GLOB 'request:*' AND subject IN ({own})", (person_id,)
    )
    await conn.execute(
        f"UPDATE request SET {PERSONAL_COLUMNS}, person_id = NULL WHERE person_id = ?", (person_id,)
    )
    await conn.execute(f"DELETE FROM relay WHERE (channel, chat) IN ({_CONTACTS})", (person_id,))
    await conn.execute("UPDATE request SET lotse_id = NULL WHERE lotse_id = ?", (person_id,))
    await conn.execute("DELETE FROM offer WHERE lotse_id = ?", (person_id,))
    await conn.execute("DELETE FROM timer WHERE kind GLOB 'lotse:*' AND subject = ?", (person_id,))
    return contacts


async def _detach(conn: aiosqlite.Connection, person_id: int) -> None:
    """In a transaction: do to every row that refers to the person what deleting the person
    row would do (rows ``ON DELETE CASCADE`` go, ``SET NULL`` references are cleared),
    but keep the row, and the contacts it is recognised by. Read from the schema, so a new
    table is covered without a change."""
    references = await conn.execute_fetchall(
        'SELECT m.name, f."from", f.on_delete FROM sqlite_master m, '
        "pragma_foreign_key_list(m.name) f "
        "WHERE m.type = 'table' AND m.name <> 'contact' AND f.\"table\" = 'person' "
        'ORDER BY m.name, f."from"'
    )
    for table, column, on_delete in references:
        if on_delete == "CASCADE":
            await conn.execute(f'DELETE FROM "{table}" WHERE "{column}" = ?', (person_id,))
        elif on_delete == "SET NULL":
            await conn.execute(
                f'UPDATE "{table}" SET "{column}" = NULL WHERE "{column}" = ?', (person_id,)
            )
        else:
            raise DatabaseError(f"{table}.{column}: no ON DELETE rule for a person")
