"""The steps of migrations that SQL alone cannot take, by the migration's file name; each
runs in that migration's transaction, after its SQL."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

import aiosqlite

from bot.markup import clean

__all__ = ["STEPS"]


async def _texts_in_markup(conn: aiosqlite.Connection) -> None:
    """Broadcasts were stored as Telegram HTML: keep only what the markup has."""
    async with conn.execute("SELECT id, text FROM broadcast WHERE text IS NOT NULL") as rows:
        broadcasts = list(await rows.fetchall())
    for number, text in broadcasts:
        await conn.execute("UPDATE broadcast SET text = ? WHERE id = ?", (clean(text), number))
    async with conn.execute(
        "SELECT broadcast_id, language, text FROM broadcast_translation"
    ) as rows:
        translations = list(await rows.fetchall())
    for number, language, text in translations:
        await conn.execute(
            "UPDATE broadcast_translation SET text = ? WHERE broadcast_id = ? AND language = ?",
            (clean(text), number, language),
        )
    async with conn.execute("SELECT person_id, data FROM dialog WHERE kind = 'broadcast'") as rows:
        drafts = list(await rows.fetchall())
    for person_id, data in drafts:
        draft = json.loads(data)
        if draft.get("text"):
            draft["text"] = clean(draft["text"])
        draft["translations"] = {
            language: clean(text) for language, text in (draft.get("translations") or {}).items()
        }
        await conn.execute(
            "UPDATE dialog SET data = ? WHERE person_id = ?", (json.dumps(draft), person_id)
        )


#: What runs after a migration's SQL, by its file name.
STEPS: dict[str, Callable[[aiosqlite.Connection], Awaitable[None]]] = {
    "0010_markup.sql": _texts_in_markup,
}
