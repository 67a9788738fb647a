"""How incoming updates are kept until they are handled."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime

from bot.clock import to_db
from bot.storage.database import Database

__all__ = ["InboxRepository"]


class InboxRepository:
    """All SQL about the update inbox."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def store(
        self, updates: Iterable[tuple[int, str]], now: datetime, begun: Collection[int] = ()
    ) -> list[int]:
        """Keep raw updates (``update_id``, JSON); return the ids that were new.

        ``begun``: the updates whose handling starts right away, counted as one attempt in
        the same statement (see :meth:`begin`).
        """
        stamp = to_db(now)
        rows = [
            (update_id, payload, stamp, int(update_id in begun)) for update_id, payload in updates
        ]
        if not rows:
            return []
        # One statement for the whole batch: one transaction, one trip to the database.
        values = ", ".join("(?, ?, ?, ?)" for _ in rows)
        stored = await self.db.write_returning(
            f"INSERT INTO inbox (update_id, payload, received_at, attempts) VALUES {values} "
            "ON CONFLICT (update_id) DO NOTHING RETURNING update_id",
            [value for row in rows for value in row],
        )
        fresh = {row[0] for row in stored}
        return [update_id for update_id, _, _, _ in rows if update_id in fresh]

    async def mark_done(self, update_ids: Collection[int], now: datetime) -> None:
        """Record that the updates were handled and drop their payloads (one statement)."""
        await self._set_pending(update_ids, "done_at = ?, payload = NULL", to_db(now))

    async def begin(self, update_ids: Collection[int]) -> None:
        """Count one more attempt at handling the updates: they are being handled now."""
        await self._set_pending(update_ids, "attempts = attempts + 1")

    async def _set_pending(self, update_ids: Collection[int], sets: str, *values: object) -> None:
        """``UPDATE inbox SET <sets>`` for those of the updates not handled yet."""
        if not update_ids:
            return
        marks = ", ".join("?" for _ in update_ids)
        await self.db.write(
            f"UPDATE inbox SET {sets} WHERE update_id IN ({marks}) AND done_at IS NULL",
            (*values, *update_ids),
        )

    async def take_leftovers(self, max_attempts: int, now: datetime) -> tuple[list[str], int]:
        """Return the payloads left unhandled by an earlier run, in order.

        Updates whose handling already began ``max_attempts`` times without finishing (they
        took the process down every time) are given up and counted instead. Updates that
        merely waited while the process was stopped are not counted against this.
        """
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE inbox SET done_at = ?, payload = NULL "
                "WHERE done_at IS NULL AND attempts >= ?",
                (to_db(now), max_attempts),
            )
            given_up = cursor.rowcount
            cursor = await conn.execute(
                "SELECT payload FROM inbox WHERE done_at IS NULL ORDER BY update_id"
            )
            payloads = [row[0] for row in await cursor.fetchall()]
        return payloads, given_up

    async def prune(self, before: datetime) -> int:
        """Forget handled updates older than ``before``; return how many."""
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "DELETE FROM inbox WHERE done_at IS NOT NULL AND done_at < ?", (to_db(before),)
            )
            return cursor.rowcount

    async def last_update_id(self) -> int | None:
        """Return the highest update id ever stored."""
        row = await self.db.fetch_one("SELECT max(update_id) FROM inbox")
        return row[0] if row and row[0] is not None else None
