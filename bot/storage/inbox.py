"""How incoming updates are kept until they are handled."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime

from bot.clock import to_db
from bot.storage.database import Database

__all__ = ["InboxRepository", "MenuRepository", "StampedInbox"]


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

    async def take_leftovers(
        self, max_attempts: int, now: datetime
    ) -> tuple[list[tuple[str, int]], int]:
        """Return the payloads left unhandled by an earlier run, in order, each with how
        often its handling began.

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
                "SELECT payload, attempts FROM inbox WHERE done_at IS NULL ORDER BY update_id"
            )
            payloads = [(str(row[0]), int(row[1])) for row in await cursor.fetchall()]
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


class StampedInbox:
    """All SQL about the inbox of a channel whose events are known by (sender, stamp)."""

    def __init__(self, db: Database, channel: str) -> None:
        self.db = db
        self.channel = channel

    async def store(
        self, events: Sequence[tuple[str, int, str]], now: datetime
    ) -> list[int | None]:
        """Keep raw events (sender, stamp, payload JSON) in one statement, one transaction;
        return each one's row id, or None if it was stored before (or earlier in ``events``)."""
        if not events:
            return []
        received_at = to_db(now)
        values = ", ".join("(?, ?, ?, ?, ?)" for _ in events)
        rows = await self.db.write_returning(
            "INSERT INTO stamped_inbox (channel, sender, stamp, payload, received_at) "
            f"VALUES {values} ON CONFLICT (channel, sender, stamp) DO NOTHING "
            "RETURNING id, sender, stamp",
            [
                value
                for sender, stamp, payload in events
                for value in (self.channel, sender, stamp, payload, received_at)
            ],
        )
        fresh = {(str(sender), int(stamp)): int(row_id) for row_id, sender, stamp in rows}
        return [fresh.pop((sender, stamp), None) for sender, stamp, _ in events]

    async def begin(self, event_id: int, reading: str | None = None) -> None:
        """Count one more attempt at handling the event: it is being handled now.

        ``reading`` (JSON), on the first attempt: how the event was read, kept in its payload
        under ``_read_as`` so that another attempt reads it the same way.
        """
        if reading is None:
            await self.db.write(
                "UPDATE stamped_inbox SET attempts = attempts + 1 WHERE id = ? AND done_at IS NULL",
                (event_id,),
            )
            return
        await self.db.write(
            "UPDATE stamped_inbox SET attempts = attempts + 1, "
            "payload = json_set(payload, '$._read_as', json(?)) WHERE id = ? AND done_at IS NULL",
            (reading, event_id),
        )

    async def mark_done(self, event_id: int, now: datetime) -> None:
        """Record that the event was handled and drop its payload."""
        await self.db.write(
            "UPDATE stamped_inbox SET done_at = ?, payload = NULL WHERE id = ? AND done_at IS NULL",
            (to_db(now), event_id),
        )

    async def take_leftovers(
        self, max_attempts: int, now: datetime
    ) -> tuple[list[tuple[int, str, int]], int]:
        """The events (id, payload, how often their handling began) an earlier run left
        unhandled, in the order they came; those whose handling began ``max_attempts``
        times are given up and counted instead."""
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE stamped_inbox SET done_at = ?, payload = NULL "
                "WHERE channel = ? AND done_at IS NULL AND attempts >= ?",
                (to_db(now), self.channel, max_attempts),
            )
            given_up = cursor.rowcount
            cursor = await conn.execute(
                "SELECT id, payload, attempts FROM stamped_inbox "
                "WHERE channel = ? AND done_at IS NULL ORDER BY id",
                (self.channel,),
            )
            rows = [(int(row[0]), str(row[1]), int(row[2])) for row in await cursor.fetchall()]
        return rows, given_up

    async def prune(self, before: datetime) -> int:
        """Forget handled events older than ``before``; return how many."""
        return await self.db.write(
            "DELETE FROM stamped_inbox WHERE channel = ? AND done_at IS NOT NULL AND done_at < ?",
            (self.channel, to_db(before)),
        )

    async def files_in_use(self) -> set[str]:
        """The references of this channel's files that something still needs: a request, a
        broadcast (sent or drafted), an expense's receipt, an event not yet handled."""
        rows = await self.db.fetch_all(
            "SELECT json_extract(f.value, '$.ref') FROM request r, json_each(r.files) f "
            "WHERE r.files IS NOT NULL AND json_extract(f.value, '$.channel') = ?1 "
            "UNION SELECT media_file_id FROM broadcast "
            "WHERE media_channel = ?1 AND media_file_id IS NOT NULL "
            "UNION SELECT receipt_ref FROM expense "
            "WHERE receipt_channel = ?1 AND receipt_ref IS NOT NULL "
            "UNION SELECT json_extract(data, '$.media_file_id') FROM dialog "
            "WHERE kind = 'broadcast' AND json_extract(data, '$.media_file_id') IS NOT NULL "
            "UNION SELECT json_extract(a.value, '$.id') FROM stamped_inbox s, "
            "json_each(coalesce(s.payload -> '$.dataMessage.attachments', "
            "s.payload -> '$.editMessage.dataMessage.attachments', '[]')) a "
            "WHERE s.channel = ?1 AND s.done_at IS NULL AND s.payload IS NOT NULL",
            (self.channel,),
        )
        return {str(row[0]) for row in rows if row[0] is not None}


#: A shown screen's choices in the order they were numbered: (label, action).
Numbered = tuple[tuple[str, str], ...]


class MenuRepository:
    """All SQL about the screens a channel without buttons showed and their numbered choices.

    Kept: the last :attr:`keep` screens of each chat; :meth:`prune` drops older ones too.
    """

    def __init__(self, db: Database, channel: str, keep: int = 20) -> None:
        self.db = db
        self.channel = channel
        self.keep = keep

    async def shown(
        self,
        chat: str,
        message_id: int,
        choices: Sequence[tuple[str, str]],
        digest: str,
        now: datetime,
        *,
        instead_of: int | None = None,
    ) -> None:
        """Record a screen (or its new state) and forget the chat's oldest beyond the last few.

        ``instead_of``: the screen it is the new state of, which answers alike from now on
        (both in one transaction: a crash never leaves one changed and the other unknown).
        """
        async with self.db.transaction() as conn:
            if instead_of is not None:
                await conn.execute(
                    "UPDATE menu SET choices = ?, digest = ? "
                    "WHERE channel = ? AND chat = ? AND message_id = ?",
                    (json.dumps(list(choices)), digest, self.channel, chat, instead_of),
                )
            await conn.execute(
                "INSERT INTO menu (channel, chat, message_id, choices, digest, shown_at) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (channel, chat, message_id) DO UPDATE "
                "SET choices = excluded.choices, digest = excluded.digest",
                (self.channel, chat, message_id, json.dumps(list(choices)), digest, to_db(now)),
            )
            await conn.execute(
                "DELETE FROM menu WHERE channel = ? AND chat = ? AND message_id NOT IN "
                "(SELECT message_id FROM menu WHERE channel = ? AND chat = ? "
                "ORDER BY message_id DESC LIMIT ?)",
                (self.channel, chat, self.channel, chat, self.keep),
            )

    async def forget(self, chat: str) -> None:
        """Forget every screen shown in ``chat``."""
        await self.db.write("DELETE FROM menu WHERE channel = ? AND chat = ?", (self.channel, chat))

    async def change(
        self, chat: str, message_id: int, choices: Sequence[tuple[str, str]], digest: str | None
    ) -> None:
        """Give a recorded screen new choices (and a new digest); unknown ones stay unknown."""
        await self.db.write(
            "UPDATE menu SET choices = ?, digest = coalesce(?, digest) "
            "WHERE channel = ? AND chat = ? AND message_id = ?",
            (json.dumps(list(choices)), digest, self.channel, chat, message_id),
        )

    async def get(self, chat: str, message_id: int) -> tuple[Numbered, str] | None:
        """A recorded screen's choices and digest; None if it is not (or no longer) known."""
        row = await self.db.fetch_one(
            "SELECT choices, digest FROM menu WHERE channel = ? AND chat = ? AND message_id = ?",
            (self.channel, chat, message_id),
        )
        return (_numbered(row[0]), str(row[1])) if row is not None else None

    async def latest(self, chat: str, until: int | None = None) -> tuple[int, Numbered] | None:
        """The chat's latest screen (``until``: the latest with a message id, a timestamp, no
        later than that): its message id and choices (None: none recorded)."""
        row = await self.db.fetch_one(
            "SELECT message_id, choices FROM menu WHERE channel = ? AND chat = ? "
            "AND message_id <= ? ORDER BY message_id DESC LIMIT 1",
            (self.channel, chat, until if until is not None else 2**63 - 1),
        )
        return (int(row[0]), _numbered(row[1])) if row is not None else None

    async def prune(self, before: datetime) -> int:
        """Forget screens shown before ``before``; return how many."""
        return await self.db.write(
            "DELETE FROM menu WHERE channel = ? AND shown_at < ?", (self.channel, to_db(before))
        )


def _numbered(stored: str) -> Numbered:
    return tuple((str(label), str(action)) for label, action in json.loads(stored))
