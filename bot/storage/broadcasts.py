"""How broadcasts are stored."""

from __future__ import annotations

from datetime import datetime

from bot.clock import to_db
from bot.domain.broadcasts import Broadcast, BroadcastDraft
from bot.domain.mailings import Audience, MailingKind
from bot.domain.people import Contact
from bot.storage.database import Database
from bot.storage.mailings import insert_mailing

__all__ = ["BroadcastsRepository"]


class BroadcastsRepository:
    """All SQL about broadcasts and their translations."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def publish(
        self,
        author_id: int,
        draft: BroadcastDraft,
        language: str,
        now: datetime,
        *,
        send_at: datetime | None,
        report_to: Contact,
    ) -> int | None:
        """Store the broadcast, its mailing and end the dialog, all in one transaction.

        Returns the mailing id, or None when the dialog was already gone (a press handled
        twice), so that one dialog never sends twice.
        """
        assert draft.audience is not None
        audience = Audience.parse(draft.audience)
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "DELETE FROM dialog WHERE person_id = ? AND kind = 'broadcast'", (author_id,)
            )
            if cursor.rowcount != 1:
                return None
            cursor = await conn.execute(
                "INSERT INTO broadcast (author_id, text, media_kind, media_file_id, "
                "media_channel, language, audience, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                "RETURNING id",
                (
                    author_id,
                    draft.text,
                    draft.media_kind,
                    draft.media_file_id,
                    # an attachment is the reference of the channel the author sent it on
                    report_to.channel if draft.media_file_id else None,
                    language,
                    audience.key,
                    to_db(now),
                ),
            )
            row = await cursor.fetchone()
            await cursor.close()
            assert row is not None
            broadcast_id = int(row[0])
            await conn.executemany(
                "INSERT INTO broadcast_translation (broadcast_id, language, text) VALUES (?, ?, ?)",
                [(broadcast_id, code, text) for code, text in draft.translations.items()],
            )
            return await insert_mailing(
                conn,
                MailingKind.BROADCAST,
                broadcast_id,
                "",
                audience,
                now,
                send_at=send_at,
                report_to=report_to,
            )

    async def get(self, broadcast_id: int) -> Broadcast | None:
        """One broadcast with its translations."""
        row = await self.db.fetch_one(
            "SELECT id, text, media_kind, media_file_id, language, audience, media_channel "
            "FROM broadcast "
            "WHERE id = ?",
            (broadcast_id,),
        )
        if row is None:
            return None
        translations = await self.db.fetch_all(
            "SELECT language, text FROM broadcast_translation WHERE broadcast_id = ?",
            (broadcast_id,),
        )
        return Broadcast(
            id=row[0],
            text=row[1],
            media_kind=row[2],
            media_file_id=row[3],
            language=row[4],
            audience=Audience.parse(row[5]),
            translations={r[0]: r[1] for r in translations},
            media_channel=row[6],
        )
