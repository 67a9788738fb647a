"""How the office's side is stored: threads with the office, expenses, confirmations."""

from __future__ import annotations

from datetime import datetime

import aiosqlite

from bot.clock import from_db, to_db
from bot.domain.office import (
    Certificate,
    Expense,
    ExpenseState,
    OfficeMessage,
    Thread,
    ThreadItem,
)
from bot.domain.people import MessageRef
from bot.storage.database import Database, returned_id

__all__ = ["OfficeRepository"]

_THREAD = "id, person_id, kind, request_id, side, reason, language, created_at"
_EXPENSE = (
    "e.id, e.lotse_id, e.request_id, e.what, e.cents, e.receipt_kind, e.receipt_ref, "
    "e.receipt_channel, e.state, e.created_at, coalesce(l.first_name, '') AS lotse_name"
)
_EXPENSES = f"SELECT {_EXPENSE} FROM expense e LEFT JOIN lotse l ON l.person_id = e.lotse_id"


def _thread(row: aiosqlite.Row) -> Thread:
    return Thread(
        id=row["id"],
        person_id=row["person_id"],
        kind=row["kind"],
        request_id=row["request_id"],
        side=row["side"],
        reason=row["reason"],
        language=row["language"],
        created_at=from_db(row["created_at"]),
    )


def _expense(row: aiosqlite.Row) -> Expense:
    return Expense(
        id=row["id"],
        lotse_id=row["lotse_id"],
        request_id=row["request_id"],
        what=row["what"],
        cents=row["cents"],
        receipt_kind=row["receipt_kind"],
        receipt_ref=row["receipt_ref"],
        receipt_channel=row["receipt_channel"],
        state=ExpenseState(row["state"]),
        created_at=from_db(row["created_at"]),
        lotse_name=row["lotse_name"],
    )


def _certificate(row: aiosqlite.Row) -> Certificate:
    return Certificate(
        id=row["id"],
        lotse_id=row["lotse_id"],
        year=row["year"],
        sent=row["state"] == "sent",
        created_at=from_db(row["created_at"]),
    )


class OfficeRepository:
    """All SQL about threads with the office, expenses and confirmations."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # ------------------------------------------------------------------ threads

    async def open_thread(
        self,
        person_id: int,
        kind: str,
        language: str,
        text: str,
        now: datetime,
        request_id: int | None = None,
        side: str | None = None,
        reason: str | None = None,
    ) -> Thread:
        """A new thread with its first message, from the person."""
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "INSERT INTO office_thread (person_id, kind, request_id, side, reason, "
                "language, created_at, last_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (person_id, kind, request_id, side, reason, language, to_db(now), to_db(now)),
            )
            thread_id = await returned_id(cursor)
            assert thread_id is not None
            await _add_message(conn, thread_id, "in", text, None, now)
        return Thread(thread_id, person_id, kind, request_id, side, reason, language, now)

    async def add_message(
        self, thread_id: int, direction: str, text: str, author_id: int | None, now: datetime
    ) -> None:
        """Another message in the thread (``in`` from the person, ``out`` from the office)."""
        async with self.db.transaction() as conn:
            await _add_message(conn, thread_id, direction, text, author_id, now)

    async def thread(self, thread_id: int) -> Thread | None:
        row = await self.db.fetch_one(
            f"SELECT {_THREAD} FROM office_thread WHERE id = ?", (thread_id,)
        )
        return _thread(row) if row is not None else None

    async def add_copies(self, thread_id: int, messages: list[MessageRef]) -> None:
        """The bot's messages of the thread: a reply to one continues it."""
        async with self.db.transaction() as conn:
            await conn.executemany(
                "INSERT OR IGNORE INTO office_copy (channel, chat, message_id, thread_id) "
                "VALUES (?, ?, ?, ?)",
                [(m.channel, m.chat, m.id, thread_id) for m in messages],
            )

    async def thread_of(self, message: MessageRef) -> Thread | None:
        """The thread a message of the bot belongs to."""
        row = await self.db.fetch_one(
            f"SELECT {_THREAD} FROM office_thread WHERE id = (SELECT thread_id FROM office_copy "
            "WHERE channel = ? AND chat = ? AND message_id = ?)",
            (message.channel, message.chat, message.id),
        )
        return _thread(row) if row is not None else None

    async def threads(
        self, kind: str | None, answered: bool | None, limit: int, offset: int
    ) -> tuple[list[ThreadItem], int]:
        """Threads of ``kind`` (None: both) that the office answered last (``answered``),
        or not (False), or all (None); the latest first; and how many there are."""
        last = (
            "(SELECT direction FROM office_message m WHERE m.thread_id = office_thread.id "
            "ORDER BY m.id DESC LIMIT 1)"
        )
        where = (
            "(:kind IS NULL OR kind = :kind) AND (:answered IS NULL "
            f"OR ({last} = 'out') = :answered)"
        )
        params: dict[str, object] = {
            "kind": kind,
            "answered": None if answered is None else int(answered),
        }
        counted = await self.db.fetch_one(
            f"SELECT count(*) FROM office_thread WHERE {where}", params
        )
        rows = await self.db.fetch_all(
            f"SELECT {_THREAD}, last_at, {last} = 'out' AS answered, "
            "(SELECT count(*) FROM office_message m WHERE m.thread_id = office_thread.id) "
            "AS messages, (SELECT text FROM office_message m WHERE m.thread_id = "
            "office_thread.id AND m.direction = 'in' ORDER BY m.id DESC LIMIT 1) AS latest "
            f"FROM office_thread WHERE {where} ORDER BY last_at DESC, id DESC "
            "LIMIT :limit OFFSET :offset",
            {**params, "limit": limit, "offset": offset},
        )
        items = [
            ThreadItem(
                _thread(row),
                from_db(row["last_at"]),
                bool(row["answered"]),
                int(row["messages"]),
                row["latest"] or "",
            )
            for row in rows
        ]
        return items, int(counted[0]) if counted else 0

    async def messages(self, thread_id: int) -> list[OfficeMessage]:
        """What was said in the thread, oldest first."""
        rows = await self.db.fetch_all(
            "SELECT direction, text, author_id, created_at FROM office_message "
            "WHERE thread_id = ? ORDER BY id",
            (thread_id,),
        )
        return [OfficeMessage(r[0], r[1], r[2], from_db(r[3])) for r in rows]

    # ----------------------------------------------------------------- expenses

    async def add_expense(
        self,
        lotse_id: int,
        request_id: int | None,
        what: str,
        cents: int,
        receipt: tuple[str, str, str] | None,
        now: datetime,
    ) -> int:
        """A new open expense; ``receipt`` is (kind, reference, channel)."""
        kind, ref, channel = receipt or (None, None, None)
        row = await self.db.write_returning(
            "INSERT INTO expense (lotse_id, request_id, what, cents, receipt_kind, receipt_ref, "
            "receipt_channel, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (lotse_id, request_id, what, cents, kind, ref, channel, to_db(now)),
        )
        return int(row[0][0])

    async def expense(self, expense_id: int) -> Expense | None:
        row = await self.db.fetch_one(f"{_EXPENSES} WHERE e.id = ?", (expense_id,))
        return _expense(row) if row is not None else None

    async def expenses(self, start: datetime, end: datetime, state: str | None) -> list[Expense]:
        """Expenses recorded in [start, end) (all states when ``state`` is None)."""
        rows = await self.db.fetch_all(
            f"{_EXPENSES} WHERE e.created_at >= ? AND e.created_at < ? "
            "AND (? IS NULL OR e.state = ?) ORDER BY e.created_at, e.id",
            (to_db(start), to_db(end), state, state),
        )
        return [_expense(row) for row in rows]

    async def expenses_of(self, lotse_id: int) -> list[Expense]:
        """The Lotse's expenses, newest first."""
        rows = await self.db.fetch_all(
            f"{_EXPENSES} WHERE e.lotse_id = ? ORDER BY e.created_at DESC, e.id DESC", (lotse_id,)
        )
        return [_expense(row) for row in rows]

    async def all_expenses(self) -> list[Expense]:
        rows = await self.db.fetch_all(f"{_EXPENSES} ORDER BY e.created_at, e.id")
        return [_expense(row) for row in rows]

    async def decide_expense(
        self, expense_id: int, state: ExpenseState, by: int, now: datetime
    ) -> bool:
        """Approve or reject an open expense, once; False if it is no longer open."""
        changed = await self.db.write(
            "UPDATE expense SET state = ?, decided_at = ?, decided_by = ? "
            "WHERE id = ? AND state = 'open'",
            (state.value, to_db(now), by, expense_id),
        )
        return changed == 1

    # ------------------------------------------------------------- certificates

    async def ask_certificate(self, lotse_id: int, year: int, now: datetime) -> Certificate:
        """The Lotse's request for a year (asked again: the open request stands)."""
        async with self.db.transaction() as conn:
            rows = await conn.execute_fetchall(
                "SELECT id, lotse_id, year, state, created_at FROM certificate "
                "WHERE lotse_id = ? AND year = ? AND state = 'asked'",
                (lotse_id, year),
            )
            if rows:
                return _certificate(next(iter(rows)))
            cursor = await conn.execute(
                "INSERT INTO certificate (lotse_id, year, created_at) VALUES (?, ?, ?) "
                "RETURNING id",
                (lotse_id, year, to_db(now)),
            )
            certificate_id = await returned_id(cursor)
        assert certificate_id is not None
        return Certificate(certificate_id, lotse_id, year, False, now)

    async def certificate(self, certificate_id: int) -> Certificate | None:
        row = await self.db.fetch_one(
            "SELECT id, lotse_id, year, state, created_at FROM certificate WHERE id = ?",
            (certificate_id,),
        )
        return _certificate(row) if row is not None else None

    async def confirm_certificate(self, certificate_id: int, by: int, now: datetime) -> bool:
        """Mark it sent, once; False if it was confirmed already (or is gone)."""
        changed = await self.db.write(
            "UPDATE certificate SET state = 'sent', confirmed_at = ?, confirmed_by = ? "
            "WHERE id = ? AND state = 'asked'",
            (to_db(now), by, certificate_id),
        )
        return changed == 1

    async def volunteering(
        self, lotse_id: int, start: datetime, end: datetime
    ) -> dict[str, tuple[int, float]]:
        """The Lotse's cases closed as done in [start, end): per topic, count and hours."""
        rows = await self.db.fetch_all(
            "SELECT coalesce(topic, ''), count(*), coalesce(sum(hours), 0) FROM request "
            "WHERE lotse_id = ? AND status = 'done' AND closed_at >= ? AND closed_at < ? "
            "GROUP BY topic ORDER BY topic",
            (lotse_id, to_db(start), to_db(end)),
        )
        return {str(r[0]): (int(r[1]), float(r[2])) for r in rows}


async def _add_message(
    conn: aiosqlite.Connection,
    thread_id: int,
    direction: str,
    text: str,
    author_id: int | None,
    now: datetime,
) -> None:
    await conn.execute(
        "INSERT INTO office_message (thread_id, direction, text, author_id, created_at) "
        "VALUES (?, ?, ?, ?, ?)",
        (thread_id, direction, text, author_id, to_db(now)),
    )
    await conn.execute("UPDATE office_thread SET last_at = ? WHERE id = ?", (to_db(now), thread_id))
