"""How the training waiting list, trainings and their confirmations are stored."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import aiosqlite

from bot.clock import from_db, to_db
from bot.domain.mailings import Audience, MailingKind
from bot.domain.waitlist import Entry, Seat, SeatAnswer, Training, TrainingCounts
from bot.storage.database import Database, returned_id
from bot.storage.dialogs import end_dialog
from bot.storage.mailings import insert_mailing
from bot.storage.people import consented
from bot.storage.timers import insert_timer

__all__ = ["WaitlistRepository"]

_ENTRY = "id, person_id, name, contact, languages, district, status, joined_at, called_at"
_TRAINING = "id, starts_at, place, capacity, confirm_by, status"
# The order in which confirmations were given: reserves move up in this order.
_ANSWER_ORDER = "answered_at, id"
# An entry's number among the reserves of a training.
_RESERVE_NUMBER = (
    "SELECT count(*) FROM training_seat s, training_seat own "
    "WHERE own.training_id = ? AND own.entry_id = ? AND s.training_id = own.training_id "
    "AND s.seat = 'reserve' AND (s.answered_at, s.id) <= (own.answered_at, own.id)"
)


def _entry(row: aiosqlite.Row) -> Entry:
    return Entry(
        id=row["id"],
        person_id=row["person_id"],
        name=row["name"],
        contact=row["contact"],
        languages=tuple(c for c in row["languages"].split(",") if c),
        district=row["district"],
        trained=row["status"] == "trained",
        joined_at=from_db(row["joined_at"]),
        called_at=from_db(row["called_at"]) if row["called_at"] else None,
    )


def _training(row: aiosqlite.Row) -> Training:
    return Training(
        id=row["id"],
        starts_at=from_db(row["starts_at"]),
        place=row["place"],
        capacity=row["capacity"],
        confirm_by=from_db(row["confirm_by"]),
        held=row["status"] == "held",
    )


class WaitlistRepository:
    """All SQL about ``waitlist``, ``training`` and ``training_seat``."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # ---------------------------------------------------------------- entries

    async def join(
        self,
        person_id: int,
        name: str,
        contact: str | None,
        languages: Iterable[str],
        district: str | None,
        now: datetime,
    ) -> int | None:
        """Put the person on the list (or update their details) and end the join dialog.

        Someone already waiting keeps their place; someone trained before joins again at
        the end. None if the dialog was used already.
        """
        async with self.db.transaction() as conn:
            if not await end_dialog(conn, person_id, "join"):
                return None
            await conn.execute(
                "DELETE FROM waitlist WHERE person_id = ? AND status = 'trained'", (person_id,)
            )
            cursor = await conn.execute(
                "INSERT INTO waitlist (person_id, name, contact, languages, district, joined_at) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (person_id) DO UPDATE SET "
                "name = excluded.name, contact = excluded.contact, "
                "languages = excluded.languages, district = excluded.district RETURNING id",
                (person_id, name, contact, ",".join(languages), district, to_db(now)),
            )
            return await returned_id(cursor)

    async def entry_of(self, person_id: int) -> Entry | None:
        """The person's entry."""
        row = await self.db.fetch_one(
            f"SELECT {_ENTRY} FROM waitlist WHERE person_id = ?", (person_id,)
        )
        return _entry(row) if row else None

    async def place_of(self, entry: Entry) -> int:
        """The entry's place among those waiting (1 = next)."""
        row = await self.db.fetch_one(
            "SELECT count(*) FROM waitlist WHERE status = 'waiting' AND id <= ?", (entry.id,)
        )
        return int(row[0]) if row else 0

    async def leave(self, person_id: int) -> bool:
        """Take the person off the list."""
        async with self.db.transaction() as conn:
            cursor = await conn.execute("DELETE FROM waitlist WHERE person_id = ?", (person_id,))
            return cursor.rowcount == 1

    async def waiting(self, limit: int = -1, offset: int = 0) -> list[Entry]:
        """Those waiting, in the order they joined."""
        rows = await self.db.fetch_all(
            f"SELECT {_ENTRY} FROM waitlist WHERE status = 'waiting' ORDER BY id LIMIT ? OFFSET ?",
            (limit, offset),
        )
        return [_entry(r) for r in rows]

    async def count_waiting(self) -> int:
        """How many are waiting."""
        row = await self.db.fetch_one("SELECT count(*) FROM waitlist WHERE status = 'waiting'")
        return int(row[0]) if row else 0

    # -------------------------------------------------------------- trainings

    async def add_training(
        self,
        starts_at: datetime,
        place: str,
        capacity: int,
        confirm_by: datetime,
        remind_at: datetime,
        now: datetime,
        dialog_of: int,
    ) -> int | None:
        """Store a training and announce it to everyone waiting, in one transaction.

        The author's training dialog ends in the same transaction (None if it was used).
        """
        async with self.db.transaction() as conn:
            if not await end_dialog(conn, dialog_of, "training"):
                return None
            cursor = await conn.execute(
                "INSERT INTO training (starts_at, place, capacity, confirm_by, created_at) "
                "VALUES (?, ?, ?, ?, ?) RETURNING id",
                (to_db(starts_at), place, capacity, to_db(confirm_by), to_db(now)),
            )
            training_id = await returned_id(cursor)
            assert training_id is not None
            await insert_timer(conn, "training:held", training_id, starts_at)
            if remind_at > now:
                await insert_timer(conn, "training:remind", training_id, remind_at)
            await insert_mailing(
                conn,
                MailingKind.TRAINING,
                training_id,
                "announce",
                Audience("training_called"),
                now,
            )
            await conn.execute(
                "UPDATE waitlist SET called_at = ? WHERE status = 'waiting'", (to_db(now),)
            )
            return training_id

    async def change_training(
        self,
        training_id: int,
        starts_at: datetime,
        place: str,
        capacity: int,
        confirm_by: datetime,
        remind_at: datetime,
        now: datetime,
        dialog_of: int,
    ) -> int | None:
        """Change a training that was not held yet, move its timers and record the notice of
        the change (its mailing id), in one transaction with the end of the author's dialog;
        None if the dialog was used or the training is gone or held."""
        async with self.db.transaction() as conn:
            if not await end_dialog(conn, dialog_of, "training"):
                return None
            cursor = await conn.execute(
                "UPDATE training SET starts_at = ?, place = ?, capacity = ?, confirm_by = ? "
                "WHERE id = ? AND status = 'announced'",
                (to_db(starts_at), place, capacity, to_db(confirm_by), training_id),
            )
            if cursor.rowcount != 1:
                return None
            await insert_timer(conn, "training:held", training_id, starts_at)
            if remind_at > now:
                await insert_timer(conn, "training:remind", training_id, remind_at)
            else:
                await conn.execute(
                    "DELETE FROM timer WHERE kind = 'training:remind' AND subject = ? "
                    "AND done_at IS NULL",
                    (training_id,),
                )
            return await insert_mailing(
                conn,
                MailingKind.TRAINING,
                training_id,
                f"changed:{to_db(now)}",
                Audience("training_told", training_id),
                now,
            )

    async def training(self, training_id: int) -> Training | None:
        """One training."""
        row = await self.db.fetch_one(
            f"SELECT {_TRAINING} FROM training WHERE id = ?", (training_id,)
        )
        return _training(row) if row else None

    async def trainings(self, after: datetime) -> list[Training]:
        """Trainings still to come."""
        rows = await self.db.fetch_all(
            f"SELECT {_TRAINING} FROM training WHERE starts_at > ? ORDER BY starts_at",
            (to_db(after),),
        )
        return [_training(r) for r in rows]

    async def held(self, training_id: int, now: datetime) -> int:
        """The training took place: those with a place leave the list as trained."""
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE training SET status = 'held' WHERE id = ? AND status = 'announced'",
                (training_id,),
            )
            if cursor.rowcount != 1:
                return 0
            cursor = await conn.execute(
                "UPDATE waitlist SET status = 'trained' WHERE id IN (SELECT entry_id FROM "
                "training_seat WHERE training_id = ? AND seat = 'place')",
                (training_id,),
            )
            trained = cursor.rowcount
            # Seats they held in other trainings are given up; reserves move up.
            others = (
                "FROM training_seat WHERE training_id != ? AND seat IS NOT NULL "
                "AND entry_id IN (SELECT id FROM waitlist WHERE status = 'trained')"
            )
            cursor = await conn.execute(
                f"SELECT training_id {others} AND seat = 'place'", (training_id,)
            )
            freed = [row[0] for row in await cursor.fetchall()]
            await cursor.close()
            await conn.execute(
                "UPDATE training_seat SET answer = 'no', seat = NULL "
                f"WHERE id IN (SELECT id {others})",
                (training_id,),
            )
            for other in freed:
                await _move_up(conn, other, now)
            return trained

    # ------------------------------------------------------------------ seats

    async def answer(
        self, training: Training, entry: Entry, yes: bool, now: datetime
    ) -> tuple[SeatAnswer, int | None]:
        """Record *yes* or *no*; seats go in the order of confirmations.

        A *yes* again keeps the seat. A *no* from someone with a place gives it to the first
        reserve, who is told by a mailing recorded in the same transaction; its id is
        returned with the answer.
        """
        async with self.db.transaction() as conn:
            before = await _seat(conn, training.id, entry.id)
            if yes and before is not None:
                return await _answer(conn, training.id, entry.id, Seat(before)), None
            moved_up: int | None = None
            if yes:
                places = await _count(conn, training.id, "place")
                seat = Seat.PLACE if places < training.capacity else Seat.RESERVE
                await _upsert(conn, training.id, entry.id, "yes", seat, now)
                return await _answer(conn, training.id, entry.id, seat), None
            await _upsert(conn, training.id, entry.id, "no", None, now)
            if before == Seat.PLACE:
                moved_up = await _move_up(conn, training.id, now)
            return SeatAnswer(None), moved_up

    async def seat_of(self, training_id: int, entry_id: int) -> SeatAnswer | None:
        """The entry's answer to the training, None if they did not answer."""
        row = await self.db.fetch_one(
            "SELECT answer, seat FROM training_seat WHERE training_id = ? AND entry_id = ?",
            (training_id, entry_id),
        )
        if row is None:
            return None
        if row["seat"] is None:
            return SeatAnswer(None)
        if row["seat"] == Seat.PLACE:
            return SeatAnswer(Seat.PLACE)
        ahead = await self.db.fetch_one(_RESERVE_NUMBER, (training_id, entry_id))
        return SeatAnswer(Seat.RESERVE, int(ahead[0]) if ahead else 0)

    async def answered(self, training_id: int) -> list[tuple[str, str | None]]:
        """Who answered, in the order of their answers: (name, ``place``/``reserve``, or None
        for a no)."""
        rows = await self.db.fetch_all(
            "SELECT w.name, s.seat FROM training_seat s JOIN waitlist w ON w.id = s.entry_id "
            "WHERE s.training_id = ? ORDER BY s.id",
            (training_id,),
        )
        return [(str(r[0]), r[1]) for r in rows]

    async def counts(self, training_id: int) -> TrainingCounts:
        """Places taken, reserves, no's, and how many were told."""
        row = await self.db.fetch_one(
            "SELECT "
            "(SELECT count(*) FROM training_seat WHERE training_id = :t AND seat = 'place'), "
            "(SELECT count(*) FROM training_seat WHERE training_id = :t AND seat = 'reserve'), "
            "(SELECT count(*) FROM training_seat WHERE training_id = :t AND answer = 'no'), "
            "(SELECT count(*) FROM delivery d JOIN mailing m ON m.id = d.mailing_id "
            " WHERE m.kind = 'training' AND m.subject = :t AND m.variant = 'announce' "
            " AND d.status IN ('sent', 'unconfirmed'))",
            {"t": training_id},
        )
        assert row is not None
        return TrainingCounts(row[0], row[1], row[2], row[3])


async def _seat(conn: aiosqlite.Connection, training_id: int, entry_id: int) -> str | None:
    cursor = await conn.execute(
        "SELECT seat FROM training_seat WHERE training_id = ? AND entry_id = ?",
        (training_id, entry_id),
    )
    row = await cursor.fetchone()
    await cursor.close()
    return row[0] if row else None


async def _count(conn: aiosqlite.Connection, training_id: int, seat: str) -> int:
    cursor = await conn.execute(
        "SELECT count(*) FROM training_seat WHERE training_id = ? AND seat = ?",
        (training_id, seat),
    )
    row = await cursor.fetchone()
    await cursor.close()
    return int(row[0]) if row else 0


async def _upsert(
    conn: aiosqlite.Connection,
    training_id: int,
    entry_id: int,
    answer: str,
    seat: Seat | None,
    now: datetime,
) -> None:
    await conn.execute(
        "INSERT INTO training_seat (training_id, entry_id, answer, seat, answered_at) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (training_id, entry_id) DO UPDATE SET "
        "answer = excluded.answer, seat = excluded.seat, answered_at = excluded.answered_at",
        (training_id, entry_id, answer, seat.value if seat else None, to_db(now)),
    )


async def _answer(
    conn: aiosqlite.Connection, training_id: int, entry_id: int, seat: Seat
) -> SeatAnswer:
    if seat is Seat.PLACE:
        return SeatAnswer(seat)
    cursor = await conn.execute(_RESERVE_NUMBER, (training_id, entry_id))
    row = await cursor.fetchone()
    await cursor.close()
    return SeatAnswer(seat, int(row[0]) if row else 0)


async def _move_up(conn: aiosqlite.Connection, training_id: int, now: datetime) -> int | None:
    """Give the freed place to the first reserve and record the mailing that tells them."""
    cursor = await conn.execute(
        "UPDATE training_seat SET seat = 'place' WHERE id = (SELECT s.id FROM training_seat s "
        "JOIN waitlist w ON w.id = s.entry_id JOIN person p ON p.id = w.person_id "
        "WHERE s.training_id = ? AND s.seat = 'reserve' AND w.status = 'waiting' "
        # Someone who blocked the bot (or withdrew consent) could not be told, and the place
        # would stay empty.
        f"AND p.unreachable_at IS NULL AND {consented('p')} "
        f"ORDER BY s.{_ANSWER_ORDER.replace(', ', ', s.')} LIMIT 1) "
        "RETURNING entry_id, (SELECT person_id FROM waitlist w WHERE w.id = entry_id)",
        (training_id,),
    )
    row = await cursor.fetchone()
    await cursor.close()
    if row is None:
        return None
    entry_id, person_id = row
    cursor = await conn.execute(
        "SELECT count(*) FROM mailing WHERE kind = 'training' AND subject = ? AND variant GLOB ?",
        (training_id, f"moved_up:{entry_id}:*"),
    )
    told = await cursor.fetchone()
    await cursor.close()
    return await insert_mailing(
        conn,
        MailingKind.TRAINING,
        training_id,
        f"moved_up:{entry_id}:{(told[0] if told else 0) + 1}",
        Audience("person", person_id),
        now,
    )
