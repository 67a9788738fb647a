"""How mailings and their per-recipient deliveries are stored."""

from __future__ import annotations

from datetime import datetime

import aiosqlite

from bot.clock import from_db, to_db
from bot.domain.mailings import (
    Audience,
    Delivered,
    DeliveryStatus,
    Mailing,
    MailingKind,
    MailingStatus,
    Progress,
    Recipient,
)
from bot.domain.people import Contact
from bot.storage.database import Database
from bot.storage.people import consented, contact_of, reach
from bot.storage.timers import insert_timer

__all__ = ["MailingsRepository", "insert_mailing"]

_COLUMNS = (
    "id, kind, subject, variant, status, send_at, report_channel, report_chat, report_message, "
    "started_at, finished_at"
)
# Every audience is people who agreed to today's notice and have not blocked the bot.
_RECIPIENT = f"p.unreachable_at IS NULL AND {consented('p')}"
_WANTS_NEWS = f"{_RECIPIENT} AND p.news_off = 0"
_ACTIVE_LOTSEN = (
    "SELECT p.id FROM person p JOIN lotse l ON l.person_id = p.id "
    "WHERE l.status = 'active' AND l.stopped IS NULL"
)
_WAITING = (
    "SELECT p.id FROM person p JOIN waitlist w ON w.person_id = p.id WHERE w.status = 'waiting'"
)
# Who an audience is, as SQL giving person ids; `?` is the audience's parameter.
_AUDIENCES: dict[str, tuple[str, int]] = {
    "lotsen": (f"{_ACTIVE_LOTSEN} AND {_WANTS_NEWS}", 0),
    "event_lotsen": (f"{_ACTIVE_LOTSEN} AND {_RECIPIENT}", 0),
    "everyone": (f"SELECT p.id FROM person p WHERE {_WANTS_NEWS}", 0),
    "language": (f"SELECT p.id FROM person p WHERE p.language = ? AND {_WANTS_NEWS}", 1),
    "waitlist": (f"{_WAITING} AND {_WANTS_NEWS}", 0),
    "training_called": (f"{_WAITING} AND {_RECIPIENT}", 0),
    "event_going": (
        "SELECT p.id FROM rsvp r JOIN person p ON p.id = r.person_id "
        f"WHERE r.event_id = ? AND r.answer IN ('yes', 'maybe') AND {_RECIPIENT}",
        1,
    ),
    "event_told": (
        "SELECT p.id FROM delivery d JOIN mailing m ON m.id = d.mailing_id "
        "JOIN person p ON p.id = d.person_id "
        "WHERE m.kind = 'event' AND m.subject = ? AND m.variant = 'announce' "
        f"AND d.status IN ('sent', 'unconfirmed') AND {_RECIPIENT} AND p.id NOT IN "
        "(SELECT person_id FROM rsvp WHERE event_id = ? AND answer = 'no')",
        2,
    ),
    "training_placed": (
        "SELECT p.id FROM training_seat s JOIN waitlist w ON w.id = s.entry_id "
        "JOIN person p ON p.id = w.person_id "
        f"WHERE s.training_id = ? AND s.seat = 'place' AND w.status = 'waiting' AND {_RECIPIENT}",
        1,
    ),
    "training_told": (
        "SELECT p.id FROM delivery d JOIN mailing m ON m.id = d.mailing_id "
        "JOIN person p ON p.id = d.person_id "
        "WHERE m.kind = 'training' AND m.subject = ? AND m.variant = 'announce' "
        f"AND d.status IN ('sent', 'unconfirmed') AND {_RECIPIENT} AND p.id NOT IN "
        "(SELECT w.person_id FROM training_seat s JOIN waitlist w ON w.id = s.entry_id "
        "WHERE s.training_id = ? AND s.answer = 'no')",
        2,
    ),
    "person": (f"SELECT p.id FROM person p WHERE p.id = ? AND {_RECIPIENT}", 1),
}


def _audience(audience: Audience) -> tuple[str, tuple[object, ...]]:
    sql, params = _AUDIENCES[audience.name]
    return sql, (audience.param,) * params


def _mailing(row: aiosqlite.Row) -> Mailing:
    return Mailing(
        id=row["id"],
        kind=MailingKind(row["kind"]),
        subject=row["subject"],
        variant=row["variant"],
        status=MailingStatus(row["status"]),
        send_at=from_db(row["send_at"]),
        report_to=(
            Contact(row["report_channel"], row["report_chat"])
            if row["report_chat"] is not None
            else None
        ),
        report_message=row["report_message"],
        started_at=from_db(row["started_at"]) if row["started_at"] else None,
        finished_at=from_db(row["finished_at"]) if row["finished_at"] else None,
    )


class MailingsRepository:
    """All SQL about mailings and deliveries."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def count(self, audience: Audience) -> int:
        """How many people the audience reaches today."""
        sql, params = _audience(audience)
        row = await self.db.fetch_one(f"SELECT count(*) FROM ({sql})", params)
        return int(row[0]) if row else 0

    async def create(
        self,
        kind: MailingKind,
        subject: int,
        variant: str,
        audience: Audience | None,
        now: datetime,
        *,
        send_at: datetime | None = None,
        report_to: Contact | None = None,
    ) -> Mailing | None:
        """Record a mailing; None if this (kind, subject, variant) exists already.

        Without ``send_at`` (or with one that has come) it starts at once, and its
        recipients are fixed in the same transaction; a scheduled one gets them when it
        begins (:meth:`begin`).
        """
        async with self.db.transaction() as conn:
            mailing_id = await insert_mailing(
                conn,
                kind,
                subject,
                variant,
                audience,
                now,
                send_at=send_at,
                report_to=report_to,
            )
        return None if mailing_id is None else await self.get(mailing_id)

    async def begin(self, mailing_id: int, audience: Audience, now: datetime) -> bool:
        """Start a scheduled mailing: fix its recipients now; False if it is not scheduled."""
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE mailing SET status = 'sending', started_at = ? "
                "WHERE id = ? AND status = 'scheduled'",
                (to_db(now), mailing_id),
            )
            if cursor.rowcount != 1:
                return False
            await _add_recipients(conn, mailing_id, audience)
        return True

    async def get(self, mailing_id: int) -> Mailing | None:
        """One mailing."""
        row = await self.db.fetch_one(f"SELECT {_COLUMNS} FROM mailing WHERE id = ?", (mailing_id,))
        return _mailing(row) if row else None

    async def find(self, kind: MailingKind, subject: int, variant: str) -> Mailing | None:
        """The mailing of ``subject`` with this variant, if there is one."""
        row = await self.db.fetch_one(
            f"SELECT {_COLUMNS} FROM mailing WHERE kind = ? AND subject = ? AND variant = ?",
            (kind.value, subject, variant),
        )
        return _mailing(row) if row else None

    async def with_status(
        self, status: MailingStatus, kind: MailingKind | None = None
    ) -> list[Mailing]:
        """Mailings in ``status`` (of ``kind``), oldest first."""
        sql = f"SELECT {_COLUMNS} FROM mailing WHERE status = ?"
        params: tuple[object, ...] = (status.value,)
        if kind is not None:
            sql += " AND kind = ?"
            params += (kind.value,)
        rows = await self.db.fetch_all(sql + " ORDER BY send_at, id", params)
        return [_mailing(r) for r in rows]

    async def recent(self, kind: MailingKind, limit: int) -> list[Mailing]:
        """The newest ``limit`` mailings of ``kind`` (by the time they go out), newest first."""
        rows = await self.db.fetch_all(
            f"SELECT {_COLUMNS} FROM mailing WHERE kind = ? ORDER BY send_at DESC, id DESC LIMIT ?",
            (kind.value, limit),
        )
        return [_mailing(r) for r in rows]

    async def cancel(self, mailing_id: int) -> bool:
        """Cancel a mailing that has not started."""
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE mailing SET status = 'cancelled' WHERE id = ? AND status = 'scheduled'",
                (mailing_id,),
            )
            return cursor.rowcount == 1

    async def pending(self, mailing_id: int, now: datetime, limit: int) -> list[Recipient]:
        """Recipients still to be sent to, whose retry time (if any) has come."""
        rows = await self.db.fetch_all(
            f"SELECT d.person_id, {reach()}, p.language FROM delivery d "
            "JOIN person p ON p.id = d.person_id "
            "WHERE d.mailing_id = ? AND d.status = 'pending' "
            "AND (d.not_before IS NULL OR d.not_before <= ?) ORDER BY d.person_id LIMIT ?",
            (mailing_id, to_db(now), limit),
        )
        return [Recipient(r[0], contact_of(r[1]), r[2]) for r in rows if r[1] is not None]

    async def waiting(self, mailing_id: int) -> tuple[int, datetime | None]:
        """How many copies are still pending, and the earliest retry time among them."""
        row = await self.db.fetch_one(
            "SELECT count(*), min(not_before) FROM delivery "
            "WHERE mailing_id = ? AND status = 'pending'",
            (mailing_id,),
        )
        if row is None:
            return 0, None
        return int(row[0]), from_db(row[1]) if row[1] else None

    async def claim(self, mailing_id: int, person_id: int) -> bool:
        """Mark a copy as going out now; False if another sender has it or it is settled."""
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE delivery SET status = 'sending', attempts = attempts + 1 "
                "WHERE mailing_id = ? AND person_id = ? AND status = 'pending'",
                (mailing_id, person_id),
            )
            return cursor.rowcount == 1

    async def record(
        self,
        mailing_id: int,
        person_id: int,
        result: Delivered,
        now: datetime,
        *,
        retry_at: datetime | None = None,
        max_attempts: int = 5,
        to: Contact | None = None,
    ) -> None:
        """Store what happened to a claimed copy (sent ``to``); a blocked person is marked
        unreachable.

        A copy to try again waits until ``retry_at``; after ``max_attempts`` it has failed.
        """
        async with self.db.transaction() as conn:
            if result.status is DeliveryStatus.PENDING:
                await conn.execute(
                    "UPDATE delivery SET status = CASE WHEN attempts >= ? THEN 'failed' "
                    "ELSE 'pending' END, not_before = ? "
                    "WHERE mailing_id = ? AND person_id = ? AND status = 'sending'",
                    (max_attempts, to_db(retry_at or now), mailing_id, person_id),
                )
                return
            await conn.execute(
                "UPDATE delivery SET status = ?, message_id = ?, channel = ?, chat = ?, "
                "not_before = NULL WHERE mailing_id = ? AND person_id = ? AND status = 'sending'",
                (
                    result.status.value,
                    result.message_id,
                    to.channel if to and result.message_id is not None else None,
                    to.address if to and result.message_id is not None else None,
                    mailing_id,
                    person_id,
                ),
            )
            if result.status is DeliveryStatus.BLOCKED:
                await conn.execute(
                    "UPDATE person SET unreachable_at = ? WHERE id = ?", (to_db(now), person_id)
                )

    async def progress(self, mailing_id: int) -> Progress:
        """Counts of the mailing's copies by status."""
        rows = await self.db.fetch_all(
            "SELECT status, count(*) FROM delivery WHERE mailing_id = ? GROUP BY status",
            (mailing_id,),
        )
        return Progress(**{r[0]: r[1] for r in rows})

    async def message_of(self, mailing_id: int, person_id: int) -> int | None:
        """The message id of the copy a person received."""
        row = await self.db.fetch_one(
            "SELECT message_id FROM delivery WHERE mailing_id = ? AND person_id = ?",
            (mailing_id, person_id),
        )
        return int(row[0]) if row and row[0] is not None else None

    async def set_report_message(self, mailing_id: int, message_id: int) -> None:
        """Remember the coordinator's progress message, so a restart edits the same one."""
        async with self.db.transaction() as conn:
            await conn.execute(
                "UPDATE mailing SET report_message = ? WHERE id = ?", (message_id, mailing_id)
            )

    async def finish(self, mailing_id: int, now: datetime) -> bool:
        """Mark a mailing done once no copy is pending; False if some still are."""
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE mailing SET status = 'done', finished_at = ? WHERE id = ? "
                "AND status = 'sending' AND NOT EXISTS (SELECT 1 FROM delivery "
                "WHERE mailing_id = ? AND status IN ('pending', 'sending'))",
                (to_db(now), mailing_id, mailing_id),
            )
            return cursor.rowcount == 1

    async def unconfirm_interrupted(self) -> int:
        """At start: copies the last process was sending when it died become unconfirmed."""
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE delivery SET status = 'unconfirmed' WHERE status = 'sending'"
            )
            return cursor.rowcount

    async def resend_unconfirmed(self, mailing_id: int) -> int:
        """A coordinator chose to send the unconfirmed copies again (risking a double)."""
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE delivery SET status = 'pending' "
                "WHERE mailing_id = ? AND status = 'unconfirmed'",
                (mailing_id,),
            )
            if cursor.rowcount:
                await conn.execute(
                    "UPDATE mailing SET status = 'sending', finished_at = NULL WHERE id = ?",
                    (mailing_id,),
                )
            return cursor.rowcount


async def insert_mailing(
    conn: aiosqlite.Connection,
    kind: MailingKind,
    subject: int,
    variant: str,
    audience: Audience | None,
    now: datetime,
    *,
    send_at: datetime | None = None,
    report_to: Contact | None = None,
) -> int | None:
    """Insert a mailing inside the caller's transaction (see :meth:`MailingsRepository.create`).

    A scheduled mailing gets its ``mailing:send`` timer in the same transaction.

    Other repositories use this to record a mailing in the same transaction as what it
    announces, so a crash cannot leave one without the other.
    """
    sending = send_at is None or send_at <= now
    cursor = await conn.execute(
        "INSERT INTO mailing (kind, subject, variant, status, send_at, report_channel, "
        "report_chat, created_at, started_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (kind, subject, variant) DO NOTHING RETURNING id",
        (
            kind.value,
            subject,
            variant,
            (MailingStatus.SENDING if sending else MailingStatus.SCHEDULED).value,
            to_db(send_at or now),
            report_to.channel if report_to else None,
            report_to.address if report_to else None,
            to_db(now),
            to_db(now) if sending else None,
        ),
    )
    row = await cursor.fetchone()
    await cursor.close()
    if row is None:
        return None
    if not sending:
        await insert_timer(conn, "mailing:send", row[0], send_at or now)
    elif audience is not None:
        await _add_recipients(conn, row[0], audience)
    return int(row[0])


async def _add_recipients(conn: aiosqlite.Connection, mailing_id: int, audience: Audience) -> None:
    sql, params = _audience(audience)
    await conn.execute(
        f"INSERT OR IGNORE INTO delivery (mailing_id, person_id) SELECT ?, id FROM ({sql})",
        (mailing_id, *params),
    )
