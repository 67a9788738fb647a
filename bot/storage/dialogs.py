"""How open dialogs are stored."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import aiosqlite

from bot.clock import to_db
from bot.domain.dialogs import Dialog
from bot.storage.database import Database

__all__ = ["DialogsRepository", "end_dialog"]


class DialogsRepository:
    """All SQL about the ``dialog`` table."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, person_id: int) -> Dialog | None:
        """The person's open dialog."""
        row = await self.db.fetch_one(
            "SELECT person_id, kind, step, data, updated_by FROM dialog WHERE person_id = ?",
            (person_id,),
        )
        if row is None:
            return None
        return Dialog(row[0], row[1], row[2], json.loads(row[3]), row[4])

    async def save(
        self,
        person_id: int,
        kind: str,
        step: str,
        data: dict[str, Any],
        key: int | None,
        now: datetime,
    ) -> Dialog:
        """Start or continue the person's dialog (a new kind replaces an old dialog)."""
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO dialog (person_id, kind, step, data, updated_by, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (person_id) DO UPDATE SET "
                "kind = excluded.kind, step = excluded.step, data = excluded.data, "
                "updated_by = excluded.updated_by, updated_at = excluded.updated_at",
                (person_id, kind, step, json.dumps(data, ensure_ascii=False), key, to_db(now)),
            )
        return Dialog(person_id, kind, step, data, key)

    async def end(self, person_id: int, kind: str) -> None:
        """Close the person's dialog of ``kind``; what it held is gone."""
        async with self.db.transaction() as conn:
            await conn.execute(
                "DELETE FROM dialog WHERE person_id = ? AND kind = ?", (person_id, kind)
            )


async def end_dialog(conn: aiosqlite.Connection, person_id: int, kind: str) -> bool:
    """Close a dialog inside the caller's transaction; False if it was gone already."""
    cursor = await conn.execute(
        "DELETE FROM dialog WHERE person_id = ? AND kind = ?", (person_id, kind)
    )
    return cursor.rowcount == 1
