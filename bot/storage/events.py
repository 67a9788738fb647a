"""How Stammtisch dates, repeating rules and answers are stored."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time

import aiosqlite

from bot.clock import from_db, to_db
from bot.domain.events import Event, EventRule, Rsvp, RsvpCounts
from bot.domain.mailings import Audience, MailingKind
from bot.storage.database import Database, returned_id
from bot.storage.dialogs import end_dialog
from bot.storage.mailings import insert_mailing
from bot.storage.timers import insert_timer

__all__ = ["EventsRepository"]

_EVENT = "id, rule_id, occurrence, title, starts_at, place, topics, status, sequence"
_RULE = "id, title, rrule, start_time, place, topics, announce_days, active, created_at"


def _topics(value: str) -> tuple[str, ...]:
    return tuple(t for t in value.split("\n") if t)


def _event(row: aiosqlite.Row) -> Event:
    return Event(
        id=row["id"],
        rule_id=row["rule_id"],
        occurrence=date.fromisoformat(row["occurrence"]) if row["occurrence"] else None,
        title=row["title"],
        starts_at=from_db(row["starts_at"]),
        place=row["place"],
        topics=_topics(row["topics"]),
        cancelled=row["status"] == "cancelled",
        sequence=row["sequence"],
    )


def _rule(row: aiosqlite.Row) -> EventRule:
    return EventRule(
        id=row["id"],
        title=row["title"],
        rrule=row["rrule"],
        start_time=time.fromisoformat(row["start_time"]),
        place=row["place"],
        topics=_topics(row["topics"]),
        announce_days=row["announce_days"],
        active=bool(row["active"]),
        created_at=from_db(row["created_at"]),
    )


class EventsRepository:
    """All SQL about events, rules and RSVPs."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # ------------------------------------------------------------------- rules

    async def add_rule(
        self,
        title: str,
        rrule: str,
        start_time: time,
        place: str,
        topics: Iterable[str],
        announce_days: int,
        now: datetime,
        *,
        dialog_of: int | None = None,
    ) -> int | None:
        """Store a repeating rule (ending the author's dialog in the same transaction).

        None if ``dialog_of`` names a person whose rule dialog is already gone.
        """
        async with self.db.transaction() as conn:
            if dialog_of is not None and not await end_dialog(conn, dialog_of, "rule"):
                return None
            cursor = await conn.execute(
                "INSERT INTO event_rule (title, rrule, start_time, place, topics, announce_days, "
                "created_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (
                    title,
                    rrule,
                    start_time.strftime("%H:%M"),
                    place,
                    "\n".join(topics),
                    announce_days,
                    to_db(now),
                ),
            )
            return await returned_id(cursor)

    async def rules(self) -> list[EventRule]:
        """Active rules, oldest first."""
        rows = await self.db.fetch_all(
            f"SELECT {_RULE} FROM event_rule WHERE active = 1 ORDER BY id"
        )
        return [_rule(r) for r in rows]

    async def rule(self, rule_id: int) -> EventRule | None:
        """One rule."""
        row = await self.db.fetch_one(f"SELECT {_RULE} FROM event_rule WHERE id = ?", (rule_id,))
        return _rule(row) if row else None

    async def last_occurrence(self, rule_id: int) -> date | None:
        """The latest date a rule has given so far."""
        row = await self.db.fetch_one(
            "SELECT max(occurrence) FROM event WHERE rule_id = ?", (rule_id,)
        )
        return date.fromisoformat(row[0]) if row and row[0] else None

    async def stop_rule(self, rule_id: int, now: datetime) -> bool:
        """No more dates from this rule; its future dates that were not announced go too."""
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE event_rule SET active = 0 WHERE id = ? AND active = 1", (rule_id,)
            )
            if cursor.rowcount != 1:
                return False
            future = (
                "SELECT e.id FROM event e WHERE e.rule_id = ? AND e.starts_at > ? AND NOT EXISTS "
                "(SELECT 1 FROM mailing m WHERE m.kind = 'event' AND m.subject = e.id)"
            )
            await conn.execute(
                f"DELETE FROM timer WHERE kind GLOB 'event:*' AND subject IN ({future})",
                (rule_id, to_db(now)),
            )
            await conn.execute(f"DELETE FROM event WHERE id IN ({future})", (rule_id, to_db(now)))
            return True

    # ------------------------------------------------------------------ events

    async def add_event(
        self,
        title: str,
        starts_at: datetime,
        place: str,
        topics: Iterable[str],
        now: datetime,
        *,
        announce_at: datetime | None,
        remind_at: datetime,
        rule_id: int | None = None,
        occurrence: date | None = None,
        dialog_of: int | None = None,
    ) -> int | None:
        """Store a date with its announcement and reminder timers, in one transaction.

        A rule's date that exists already is not added again (None). ``dialog_of`` ends the
        author's event dialog in the same transaction (None if it was gone already).
        """
        async with self.db.transaction() as conn:
            if dialog_of is not None and not await end_dialog(conn, dialog_of, "event"):
                return None
            cursor = await conn.execute(
                "INSERT INTO event (rule_id, occurrence, title, starts_at, place, topics, "
                "created_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (rule_id, occurrence) DO NOTHING RETURNING id",
                (
                    rule_id,
                    occurrence.isoformat() if occurrence else None,
                    title,
                    to_db(starts_at),
                    place,
                    "\n".join(topics),
                    to_db(now),
                ),
            )
            event_id = await returned_id(cursor)
            if event_id is None:
                return None
            if announce_at is not None:
                await insert_timer(conn, "event:announce", event_id, announce_at)
            await insert_timer(conn, "event:remind", event_id, remind_at)
            return event_id

    async def get(self, event_id: int) -> Event | None:
        """One event."""
        row = await self.db.fetch_one(f"SELECT {_EVENT} FROM event WHERE id = ?", (event_id,))
        return _event(row) if row else None

    async def upcoming(self, after: datetime, limit: int) -> list[Event]:
        """Planned dates starting after ``after``, soonest first."""
        rows = await self.db.fetch_all(
            f"SELECT {_EVENT} FROM event WHERE status = 'planned' AND starts_at > ? "
            "ORDER BY starts_at LIMIT ?",
            (to_db(after), limit),
        )
        return [_event(r) for r in rows]

    async def move(
        self, event_id: int, starts_at: datetime, remind_at: datetime, now: datetime
    ) -> tuple[int, int] | None:
        """Move a planned date; tell those who were told (except who said no).

        Returns (new sequence, mailing id of the notice), or None if it cannot be moved.
        The notice is only recorded when the date had been announced.
        """
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE event SET starts_at = ?, sequence = sequence + 1 "
                "WHERE id = ? AND status = 'planned' RETURNING sequence",
                (to_db(starts_at), event_id),
            )
            sequence = await returned_id(cursor)
            if sequence is None:
                return None
            await insert_timer(conn, "event:remind", event_id, remind_at)
            mailing_id = 0
            if await _announced(conn, event_id):
                mailing_id = (
                    await insert_mailing(
                        conn,
                        MailingKind.EVENT,
                        event_id,
                        f"moved:{sequence}",
                        Audience("event_told", event_id),
                        now,
                    )
                    or 0
                )
            return sequence, mailing_id

    async def cancel(self, event_id: int, now: datetime) -> int | None:
        """Cancel a planned date and its timers; tell those who were told (except who said no).

        Returns the mailing id of the notice (0 if it had not been announced), or None.
        """
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE event SET status = 'cancelled', sequence = sequence + 1 "
                "WHERE id = ? AND status = 'planned'",
                (event_id,),
            )
            if cursor.rowcount != 1:
                return None
            await conn.execute(
                "DELETE FROM timer WHERE kind GLOB 'event:*' AND subject = ? AND done_at IS NULL",
                (event_id,),
            )
            if not await _announced(conn, event_id):
                return 0
            mailing_id = await insert_mailing(
                conn,
                MailingKind.EVENT,
                event_id,
                "cancelled",
                Audience("event_told", event_id),
                now,
            )
            return mailing_id or 0

    # ------------------------------------------------------------------- RSVPs

    async def answer(self, event_id: int, person_id: int, answer: Rsvp, now: datetime) -> None:
        """Store (or change) a person's answer."""
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO rsvp (event_id, person_id, answer, answered_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (event_id, person_id) DO UPDATE SET answer = excluded.answer, "
                "answered_at = excluded.answered_at",
                (event_id, person_id, answer.value, to_db(now)),
            )

    async def answers_of(self, person_id: int, event_ids: Iterable[int]) -> dict[int, Rsvp]:
        """The person's answers to several events."""
        ids = list(event_ids)
        if not ids:
            return {}
        marks = ", ".join("?" for _ in ids)
        rows = await self.db.fetch_all(
            f"SELECT event_id, answer FROM rsvp WHERE person_id = ? AND event_id IN ({marks})",
            (person_id, *ids),
        )
        return {r[0]: Rsvp(r[1]) for r in rows}

    async def answered(self, event_id: int) -> list[tuple[int, str | None, Rsvp]]:
        """Everyone who answered, as (person id, first name as a Lotse if any, answer), by
        answer and name."""
        rows = await self.db.fetch_all(
            "SELECT r.person_id, l.first_name, r.answer FROM rsvp r "
            "LEFT JOIN lotse l ON l.person_id = r.person_id WHERE r.event_id = ? "
            "ORDER BY r.answer DESC, l.first_name, r.person_id",
            (event_id,),
        )
        return [(int(r[0]), r[1], Rsvp(r[2])) for r in rows]

    async def counts(self, event_id: int) -> RsvpCounts:
        """Answers so far, and how many got the announcement."""
        rows = await self.db.fetch_all(
            "SELECT answer, count(*) FROM rsvp WHERE event_id = ? GROUP BY answer", (event_id,)
        )
        told = await self.db.fetch_one(
            "SELECT count(*) FROM delivery d JOIN mailing m ON m.id = d.mailing_id "
            "WHERE m.kind = 'event' AND m.subject = ? AND m.variant = 'announce' "
            "AND d.status IN ('sent', 'unconfirmed')",
            (event_id,),
        )
        return RsvpCounts(**{r[0]: r[1] for r in rows}, told=int(told[0]) if told else 0)


async def _announced(conn: aiosqlite.Connection, event_id: int) -> bool:
    cursor = await conn.execute(
        "SELECT 1 FROM mailing WHERE kind = 'event' AND subject = ? AND variant = 'announce'",
        (event_id,),
    )
    row = await cursor.fetchone()
    await cursor.close()
    return row is not None
