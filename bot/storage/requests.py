"""How help requests, their offers and relayed messages are stored."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time

import aiosqlite

from bot.clock import from_db, to_db
from bot.domain.people import MessageRef
from bot.domain.requests import (
    MAX_FILES,
    FileRef,
    Moment,
    Request,
    RequestFilter,
    Status,
    Step,
)
from bot.storage.database import Database
from bot.storage.lotsen import WORKING
from bot.storage.people import consented
from bot.storage.timers import insert_timer

__all__ = ["RequestsRepository"]

_FIELDS = (
    "id, person_id, status, step, topic, description, languages, "
    "district, day, time, place, first_name, round, lotse_id, created_at, confirmed_at, "
    "accepted_at, updated_by, files, calendar_sequence, closed_at, hours"
)
#: Activity in a request restarts the clock of retention (never moves it back).
_TOUCH = "UPDATE request SET active_at = max(coalesce(active_at, ''), ?) WHERE id = ?"
#: Offers written by one INSERT (four values each, well below SQLite's variable limit).
_ROWS_PER_INSERT = 200

_EDITABLE = frozenset(
    {
        "step",
        "topic",
        "description",
        "files",
        "languages",
        "district",
        "day",
        "time",
        "place",
        "first_name",
        "updated_by",
        "active_at",
    }
)


def _ref(channel: str | None, chat: str | None, message_id: int | None) -> MessageRef | None:
    """A stored message reference (None where no message was sent)."""
    if channel is None or chat is None or message_id is None:
        return None
    return MessageRef(channel, chat, int(message_id))


def _request(row: aiosqlite.Row) -> Request:
    return Request(
        id=row["id"],
        person_id=row["person_id"],
        status=Status(row["status"]),
        step=Step(row["step"]) if row["step"] else None,
        topic=row["topic"],
        description=row["description"],
        languages=tuple(row["languages"].split()) if row["languages"] else (),
        district=row["district"],
        day=date.fromisoformat(row["day"]) if row["day"] else None,
        time=time.fromisoformat(row["time"]) if row["time"] else None,
        place=row["place"],
        first_name=row["first_name"],
        round=row["round"],
        lotse_id=row["lotse_id"],
        created_at=from_db(row["created_at"]),
        confirmed_at=from_db(row["confirmed_at"]) if row["confirmed_at"] else None,
        accepted_at=from_db(row["accepted_at"]) if row["accepted_at"] else None,
        updated_by=row["updated_by"],
        files=_files(row["files"]),
        calendar_sequence=row["calendar_sequence"],
        closed_at=from_db(row["closed_at"]) if row["closed_at"] else None,
        hours=row["hours"],
    )


def _files(stored: str | None) -> tuple[FileRef, ...]:
    if not stored:
        return ()
    return tuple(
        FileRef(item["kind"], item["ref"], item["channel"], item.get("mime"))
        for item in json.loads(stored)
    )


def files_json(files: Sequence[FileRef]) -> str | None:
    """Files as the ``files`` column stores them (None: none)."""
    if not files:
        return None
    return json.dumps(
        [{"kind": f.kind, "ref": f.ref, "channel": f.channel, "mime": f.mime} for f in files]
    )


def _column(name: str, value: object) -> object:
    """A draft's answer as its column stores it."""
    if name == "files":
        assert isinstance(value, tuple)
        return files_json(value)
    return _encode(value)


def _encode(value: object) -> object:
    if isinstance(value, tuple):
        return " ".join(value)
    if isinstance(value, datetime):
        return to_db(value)
    if isinstance(value, date | time):
        return value.isoformat(timespec="minutes") if isinstance(value, time) else value.isoformat()
    return value


class RequestsRepository:
    """All SQL about requests, offers and relays."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # ----------------------------------------------------------------- requests

    async def get(self, request_id: int) -> Request | None:
        """Return one request."""
        row = await self.db.fetch_one(f"SELECT {_FIELDS} FROM request WHERE id = ?", (request_id,))
        return _request(row) if row else None

    async def draft_of(self, person_id: int) -> Request | None:
        """The person's unfinished request, if any."""
        row = await self.db.fetch_one(
            f"SELECT {_FIELDS} FROM request WHERE person_id = ? AND status = 'draft'", (person_id,)
        )
        return _request(row) if row else None

    async def start_draft(
        self, person_id: int, languages: tuple[str, ...], now: datetime, key: int | None = None
    ) -> Request:
        """Begin a new draft (replacing an unfinished one)."""
        async with self.db.transaction() as conn:
            await conn.execute(
                "DELETE FROM request WHERE person_id = ? AND status = 'draft'", (person_id,)
            )
            cursor = await conn.execute(
                "INSERT INTO request (person_id, step, languages, created_at, active_at, "
                "updated_by) VALUES (?, ?, ?, ?, ?, ?)",
                (person_id, Step.TOPIC.value, " ".join(languages), to_db(now), to_db(now), key),
            )
            request_id = cursor.lastrowid
        assert request_id is not None
        request = await self.get(request_id)
        assert request is not None
        return request

    async def delete_draft(self, request_id: int) -> None:
        """Delete an unsent draft."""
        await self.db.write("DELETE FROM request WHERE id = ? AND status = 'draft'", (request_id,))

    async def update_draft(
        self, request_id: int, expected: Step, **fields: object
    ) -> Request | None:
        """Store answers of a draft, guarded by its step; None if the draft moved on."""
        if not set(fields) <= _EDITABLE:
            raise ValueError(f"cannot edit {sorted(set(fields) - _EDITABLE)}")
        assignments = ", ".join(f"{name} = ?" for name in fields)
        rows = await self.db.write_returning(
            f"UPDATE request SET {assignments} WHERE id = ? AND status = 'draft' AND step = ? "
            f"RETURNING {_FIELDS}",
            (
                *(_column(name, value) for name, value in fields.items()),
                request_id,
                expected.value,
            ),
        )
        return _request(rows[0]) if rows else None

    async def add_file(self, request_id: int, file: FileRef, key: int | None) -> Request | None:
        """Add a file to a draft (at any step); None if the draft has :data:`MAX_FILES`, is
        gone, or ``key`` added it already."""
        rows = await self.db.write_returning(
            "UPDATE request SET files = json_insert(coalesce(files, '[]'), '$[#]', json(?)), "
            "updated_by = ? WHERE id = ? AND status = 'draft' "
            "AND json_array_length(coalesce(files, '[]')) < ? "
            "AND (? IS NULL OR updated_by IS NOT ?) "
            f"RETURNING {_FIELDS}",
            (
                json.dumps(
                    {"kind": file.kind, "ref": file.ref, "channel": file.channel, "mime": file.mime}
                ),
                key,
                request_id,
                MAX_FILES,
                key,
                key,
            ),
        )
        return _request(rows[0]) if rows else None

    async def move(
        self,
        request_id: int,
        expected: Iterable[Status],
        status: Status,
        now: datetime,
        **fields: object,
    ) -> bool:
        """Change the status if it is one of ``expected``; True if this call did it.

        A change of state is activity: it restarts the clock of retention.
        """
        allowed = tuple(s.value for s in expected)
        stamp = {
            Status.OPEN: "confirmed_at",
            Status.ACCEPTED: "accepted_at",
            Status.DONE: "closed_at",
            Status.CANCELLED: "closed_at",
            Status.EXPIRED: "closed_at",
        }.get(status)
        sets = {
            "status": status.value,
            "active_at": to_db(now),
            **({stamp: to_db(now)} if stamp else {}),
            **{k: _encode(v) for k, v in fields.items()},
        }
        assignments = ", ".join(f"{name} = ?" for name in sets)
        marks = ", ".join("?" for _ in allowed)
        changed = await self.db.write(
            f"UPDATE request SET {assignments} WHERE id = ? AND status IN ({marks})",
            (*sets.values(), request_id, *allowed),
        )
        return changed == 1

    async def latest_of(self, person_id: int) -> Request | None:
        """The person's newest request in any state (drafts included)."""
        row = await self.db.fetch_one(
            f"SELECT {_FIELDS} FROM request WHERE person_id = ? ORDER BY id DESC LIMIT 1",
            (person_id,),
        )
        return _request(row) if row else None

    async def of_person(self, person_id: int, limit: int = 10) -> list[Request]:
        """The person's confirmed requests, newest first."""
        rows = await self.db.fetch_all(
            f"SELECT {_FIELDS} FROM request WHERE person_id = ? AND status <> 'draft' "
            "ORDER BY id DESC LIMIT ?",
            (person_id, limit),
        )
        return [_request(row) for row in rows]

    async def running_of(self, person_id: int) -> list[Request]:
        """Every request of the person that has not ended (drafts included), oldest first."""
        rows = await self.db.fetch_all(
            f"SELECT {_FIELDS} FROM request WHERE person_id = ? "
            "AND status IN ('draft', 'open', 'offered', 'accepted') ORDER BY id",
            (person_id,),
        )
        return [_request(row) for row in rows]

    async def cases_of(self, lotse_id: int) -> list[Request]:
        """The Lotse's accepted (open) cases, oldest first."""
        rows = await self.db.fetch_all(
            f"SELECT {_FIELDS} FROM request WHERE lotse_id = ? AND status = 'accepted' ORDER BY id",
            (lotse_id,),
        )
        return [_request(row) for row in rows]

    async def open_cases_involving(self, person_id: int) -> list[Request]:
        """Accepted cases the person is a side of (as the Lotse or as the one helped)."""
        rows = await self.db.fetch_all(
            f"SELECT {_FIELDS} FROM request WHERE status = 'accepted' "
            "AND (lotse_id = ? OR person_id = ?) ORDER BY id",
            (person_id, person_id),
        )
        return [_request(row) for row in rows]

    async def with_status(self, statuses: Iterable[Status], limit: int = 50) -> list[Request]:
        """Requests in any of ``statuses``, oldest first (for coordinators)."""
        wanted = tuple(s.value for s in statuses)
        marks = ", ".join("?" for _ in wanted)
        rows = await self.db.fetch_all(
            f"SELECT {_FIELDS} FROM request WHERE status IN ({marks}) ORDER BY id LIMIT ?",
            (*wanted, limit),
        )
        return [_request(row) for row in rows]

    # ------------------------------------------------------- the office's table

    async def search(
        self,
        chosen: RequestFilter,
        span: tuple[datetime, datetime] | None,
        limit: int,
        offset: int,
    ) -> tuple[list[tuple[Request, str | None]], int]:
        """One page of the requests ``chosen`` admits (sent within ``span``, the month's
        bounds), newest first, each with its Lotse's first name; and how many there are."""
        where = (
            "status <> 'draft' AND (:status IS NULL OR status = :status) "
            "AND (:topic IS NULL OR topic = :topic) "
            "AND (:language IS NULL OR instr(' ' || languages || ' ', ' ' || :language || ' ')) "
            "AND (:district IS NULL OR district = :district) "
            "AND (:start IS NULL OR (coalesce(confirmed_at, created_at) >= :start "
            "AND coalesce(confirmed_at, created_at) < :end))"
        )
        params: dict[str, object] = {
            "status": chosen.status.value if chosen.status else None,
            "topic": chosen.topic,
            "language": chosen.language,
            "district": chosen.district,
            "start": to_db(span[0]) if span else None,
            "end": to_db(span[1]) if span else None,
        }
        counted = await self.db.fetch_one(f"SELECT count(*) FROM request WHERE {where}", params)
        rows = await self.db.fetch_all(
            f"SELECT {_FIELDS}, (SELECT first_name FROM lotse WHERE person_id = request.lotse_id) "
            f"AS lotse_name FROM request WHERE {where} ORDER BY id DESC LIMIT :limit "
            "OFFSET :offset",
            {**params, "limit": limit, "offset": offset},
        )
        total = int(counted[0]) if counted else 0
        return [(_request(row), row["lotse_name"]) for row in rows], total

    async def of_lotse(self, lotse_id: int, limit: int = 100) -> list[Request]:
        """The Lotse's cases in any state (the running ones and those they closed), newest
        first."""
        rows = await self.db.fetch_all(
            f"SELECT {_FIELDS} FROM request WHERE lotse_id = ? ORDER BY id DESC LIMIT ?",
            (lotse_id, limit),
        )
        return [_request(row) for row in rows]

    async def history(self, request_id: int) -> list[Moment]:
        """What the database records of the request's life, in order: its times, the offers
        and their answers, the news sent to either side, concerns about it and what the
        office did to it — never a relayed message."""
        request = await self.get(request_id)
        if request is None:
            return []
        moments = [Moment(request.created_at, "created")]
        if request.confirmed_at is not None:
            moments.append(Moment(request.confirmed_at, "sent"))
        name = "(SELECT first_name FROM lotse WHERE person_id = {0}) AS name"
        for row in await self.db.fetch_all(
            f"SELECT created_at, round, status, {name.format('offer.lotse_id')}, "
            "handed_back_at FROM offer WHERE request_id = ? ORDER BY created_at, lotse_id",
            (request_id,),
        ):
            back = row["handed_back_at"]
            state = "handed_back" if back is not None else row[2]
            offered = Moment(from_db(row[0]), "offered", row["name"], str(row[1]), state=state)
            moments.append(offered)
            if back is not None:
                moments.append(Moment(from_db(back), "handed_back", row["name"]))
        if request.accepted_at is not None and request.lotse_id is not None:
            found = await self.db.fetch_one(f"SELECT {name.format('?')}", (request.lotse_id,))
            moments.append(Moment(request.accepted_at, "accepted", found[0] if found else None))
        for row in await self.db.fetch_all(
            f"SELECT created_at, what, side, status, {name.format('case_notice.lotse_id')} "
            "FROM case_notice WHERE request_id = ? ORDER BY created_at",
            (request_id,),
        ):
            moments.append(Moment(from_db(row[0]), "notice", row["name"], row[1], row[2], row[3]))
        for row in await self.db.fetch_all(
            "SELECT created_at, side, id FROM office_thread WHERE request_id = ? "
            "AND kind = 'concern' ORDER BY created_at",
            (request_id,),
        ):
            moments.append(Moment(from_db(row[0]), "concern", side=row[1], subject=row[2]))
        for row in await self.db.fetch_all(
            "SELECT at, action FROM audit WHERE request_id = ? ORDER BY at, id", (request_id,)
        ):
            moments.append(Moment(from_db(row[0]), "audit", detail=row[1]))
        if request.closed_at is not None and request.status in (
            Status.DONE,
            Status.CANCELLED,
            Status.EXPIRED,
        ):
            moments.append(Moment(request.closed_at, "closed", state=request.status.value))
        order = {"created": 0, "sent": 1, "offered": 2, "accepted": 3, "notice": 4}
        return sorted(moments, key=lambda m: (m.at, order.get(m.what, 5)))

    async def reopen_ended(self, request_id: int, now: datetime, undated: bool) -> bool:
        """The office opens a cancelled or expired request again: it waits for a Lotse anew
        (``undated``: its appointment passed, so it is flexible now). Those who declined
        it are not asked again; everyone else may be."""
        dated = "" if not undated else "day = NULL, time = NULL, "
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                f"UPDATE request SET status = 'open', {dated}lotse_id = NULL, "
                "accepted_at = NULL, closed_at = NULL, round = 0, active_at = ? "
                "WHERE id = ? AND status IN ('cancelled', 'expired')",
                (to_db(now), request_id),
            )
            if cursor.rowcount != 1:
                return False
            await conn.execute(
                "DELETE FROM offer WHERE request_id = ? AND status = 'closed'", (request_id,)
            )
            await conn.execute(
                "DELETE FROM timer WHERE subject = ? AND kind GLOB 'request:*' AND done_at IS NULL",
                (request_id,),
            )
        return True

    # ------------------------------------------------------------------- offers

    async def add_offers(
        self, request_id: int, lotse_ids: Iterable[int], round: int, now: datetime
    ) -> list[int] | None:
        """Record offers to Lotsen not offered this request before; return those ids.

        None if the request no longer waits or its person withdrew consent: it is offered
        to nobody.
        """
        rows = [(request_id, lotse_id, round, to_db(now)) for lotse_id in dict.fromkeys(lotse_ids)]
        async with self.db.transaction() as conn:
            waiting = await conn.execute_fetchall(
                "SELECT 1 FROM request r JOIN person p ON p.id = r.person_id "
                f"WHERE r.id = ? AND r.status IN ('open', 'offered') AND {consented('p')}",
                (request_id,),
            )
            if not list(waiting):
                return None
            inserted: set[int] = set()
            for start in range(0, len(rows), _ROWS_PER_INSERT):  # one statement per chunk
                chunk = rows[start : start + _ROWS_PER_INSERT]
                returned = await conn.execute_fetchall(
                    "INSERT OR IGNORE INTO offer (request_id, lotse_id, round, created_at) "
                    f"VALUES {', '.join('(?, ?, ?, ?)' for _ in chunk)} RETURNING lotse_id",
                    [value for row in chunk for value in row],
                )
                inserted.update(row[0] for row in returned)
            await conn.execute(
                "UPDATE request SET round = ?, status = 'offered' "
                "WHERE id = ? AND status IN ('open', 'offered')",
                (round, request_id),
            )
        return [row[1] for row in rows if row[1] in inserted]

    async def set_offer_message(self, request_id: int, lotse_id: int, message: MessageRef) -> None:
        """Remember which message carries the offer, to edit it later."""
        await self.db.write(
            "UPDATE offer SET channel = ?, chat = ?, message_id = ? "
            "WHERE request_id = ? AND lotse_id = ?",
            (message.channel, message.chat, message.id, request_id, lotse_id),
        )

    async def undelivered_offers(self, request_id: int) -> list[int]:
        """Lotsen (person ids, consenting) with an open offer of the request never sent."""
        rows = await self.db.fetch_all(
            "SELECT o.lotse_id FROM offer o JOIN person p ON p.id = o.lotse_id "
            "WHERE o.request_id = ? AND o.status = 'open' AND o.message_id IS NULL "
            f"AND {consented('p')} ORDER BY o.created_at, o.lotse_id",
            (request_id,),
        )
        return [int(r[0]) for r in rows]

    async def give_feedback(self, request_id: int, field: str, answer: str) -> bool:
        """Store one side's feedback on a done case unless that side gave another already."""
        if field not in ("feedback", "lotse_feedback"):
            raise ValueError(field)
        changed = await self.db.write(
            f"UPDATE request SET {field} = ? WHERE id = ? AND status = 'done' "
            f"AND coalesce({field}, ?) = ?",
            (answer, request_id, answer, answer),
        )
        return changed == 1

    async def never_offered(self) -> list[Request]:
        """Requests waiting with no round of offers yet: opened or handed back, and the
        process stopped before it recorded their offers (offering records a round, also
        when nobody fits)."""
        rows = await self.db.fetch_all(
            f"SELECT {_FIELDS} FROM request WHERE status = 'open' AND round = 0 ORDER BY id"
        )
        return [_request(row) for row in rows]

    async def requests_with_undelivered_offers(self) -> list[int]:
        """Waiting requests that still have unsent offers."""
        rows = await self.db.fetch_all(
            "SELECT DISTINCT o.request_id FROM offer o JOIN request r ON r.id = o.request_id "
            "WHERE o.status = 'open' AND o.message_id IS NULL "
            "AND r.status IN ('open', 'offered') ORDER BY o.request_id"
        )
        return [int(r[0]) for r in rows]

    async def open_offers_to(self, lotse_id: int) -> list[tuple[int, MessageRef | None]]:
        """(request id, its message) of every offer still waiting for the Lotse's answer."""
        rows = await self.db.fetch_all(
            "SELECT request_id, channel, chat, message_id FROM offer "
            "WHERE lotse_id = ? AND status = 'open' ORDER BY request_id",
            (lotse_id,),
        )
        return [(int(r[0]), _ref(r[1], r[2], r[3])) for r in rows]

    async def offer_message(self, request_id: int, lotse_id: int) -> MessageRef | None:
        """The message that offered ``request_id`` to ``lotse_id``, if it was sent."""
        row = await self.db.fetch_one(
            "SELECT channel, chat, message_id FROM offer WHERE request_id = ? AND lotse_id = ?",
            (request_id, lotse_id),
        )
        return _ref(row[0], row[1], row[2]) if row else None

    async def offer_status(self, request_id: int, lotse_id: int) -> str | None:
        """The state of the offer of ``request_id`` to ``lotse_id``; None if never offered."""
        row = await self.db.fetch_one(
            "SELECT status FROM offer WHERE request_id = ? AND lotse_id = ?", (request_id, lotse_id)
        )
        return str(row[0]) if row else None

    async def accept(
        self,
        request_id: int,
        lotse_id: int,
        now: datetime,
        timers: Sequence[tuple[str, datetime]] = (),
    ) -> bool:
        """First accept wins: take the request if it is still waiting and was offered (to a
        Lotse who agrees to today's notice and is not suspended, retired or gone).

        ``timers`` (the appointment reminders) are set in the same transaction, so a crash
        right after the acceptance cannot leave the case without them.
        """
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE request SET status = 'accepted', lotse_id = ?, accepted_at = ?, "
                "active_at = ? WHERE id = ? AND status IN ('open', 'offered') AND EXISTS "
                "(SELECT 1 FROM offer o JOIN person p ON p.id = o.lotse_id "
                "JOIN lotse l ON l.person_id = o.lotse_id WHERE o.request_id = ? "
                f"AND o.lotse_id = ? AND o.status = 'open' AND {consented('p')} AND {WORKING})",
                (lotse_id, to_db(now), to_db(now), request_id, request_id, lotse_id),
            )
            if cursor.rowcount != 1:
                return False
            await conn.execute(
                "DELETE FROM timer WHERE subject = ? "
                "AND kind IN ('request:escalate', 'request:expire') AND done_at IS NULL",
                (request_id,),
            )
            # The other open offers are closed by close_offers, which also edits their messages.
            await conn.execute(
                "UPDATE offer SET status = 'accepted' WHERE request_id = ? AND lotse_id = ?",
                (request_id, lotse_id),
            )
            for kind, due in timers:
                await insert_timer(conn, kind, request_id, due)
            return True

    async def move_appointment(
        self,
        request_id: int,
        lotse_id: int,
        day: date,
        at: time,
        timers: Sequence[tuple[str, datetime]],
    ) -> bool:
        """The case's Lotse moves its appointment: new day and time, the calendar entry's
        sequence raised, and the reminders set anew (those of the old date are forgotten, so
        the new date is reminded of too) in one transaction; False unless the case is
        accepted and the Lotse's."""
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE request SET day = ?, time = ?, calendar_sequence = calendar_sequence + 1 "
                "WHERE id = ? AND status = 'accepted' AND lotse_id = ?",
                (day.isoformat(), at.strftime("%H:%M"), request_id, lotse_id),
            )
            if cursor.rowcount != 1:
                return False
            await conn.execute(
                "DELETE FROM timer WHERE subject = ? AND kind GLOB 'request:remind:*' "
                "AND done_at IS NULL",
                (request_id,),
            )
            await conn.execute(
                "DELETE FROM case_notice WHERE request_id = ? AND what GLOB 'remind:*'",
                (request_id,),
            )
            for kind, due in timers:
                await insert_timer(conn, kind, request_id, due)
            return True

    async def assign(
        self,
        request_id: int,
        lotse_id: int,
        now: datetime,
        timers: Sequence[tuple[str, datetime]] = (),
    ) -> bool:
        """A coordinator gives a waiting request to a Lotse directly (one who consents)."""
        async with self.db.transaction() as conn:
            agreed = await conn.execute_fetchall(
                f"SELECT 1 FROM person p WHERE p.id = ? AND {consented('p')}", (lotse_id,)
            )
            if not list(agreed):
                return False
            await conn.execute(
                "INSERT OR IGNORE INTO offer (request_id, lotse_id, round, created_at) "
                "VALUES (?, ?, 99, ?)",
                (request_id, lotse_id, to_db(now)),
            )
            await conn.execute(
                "UPDATE offer SET status = 'open' WHERE request_id = ? AND lotse_id = ?",
                (request_id, lotse_id),
            )
        return await self.accept(request_id, lotse_id, now, timers)

    async def claim_notice(
        self,
        request_id: int,
        what: str,
        lotse_id: int,
        side: str,
        now: datetime,
        key: int | None = None,
    ) -> bool:
        """Record that ``what`` is going out to ``side`` now; False if it went out before.

        ``key``: the input whose handling sends it. The same input handled again (after a
        crash) claims it again while it is still ``sending``; without a key, never again.
        News of a case (a reminder) is activity of the case.
        """
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "INSERT INTO case_notice (request_id, what, lotse_id, side, created_at, "
                "claimed_by) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO UPDATE "
                "SET created_at = excluded.created_at WHERE case_notice.status = 'sending' "
                "AND case_notice.claimed_by = excluded.claimed_by",
                (request_id, what, lotse_id, side, to_db(now), key),
            )
            if cursor.rowcount != 1:
                return False
            await conn.execute(_TOUCH, (to_db(now), request_id))
            return True

    async def settle_notice(
        self, request_id: int, what: str, lotse_id: int, side: str, sent: bool
    ) -> None:
        """Record whether a claimed notice arrived."""
        async with self.db.transaction() as conn:
            await conn.execute(
                "UPDATE case_notice SET status = ? "
                "WHERE request_id = ? AND what = ? AND lotse_id = ? AND side = ?",
                ("sent" if sent else "failed", request_id, what, lotse_id, side),
            )

    async def decline(self, request_id: int, lotse_id: int) -> bool:
        """The Lotse said *not this time*; True if the offer was still open."""
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE offer SET status = 'declined' "
                "WHERE request_id = ? AND lotse_id = ? AND status = 'open'",
                (request_id, lotse_id),
            )
            return cursor.rowcount == 1

    async def open_offers(self, request_id: int) -> int:
        """How many offers of the request still wait for an answer."""
        row = await self.db.fetch_one(
            "SELECT count(*) FROM offer WHERE request_id = ? AND status = 'open'", (request_id,)
        )
        return int(row[0]) if row else 0

    async def close_offers(self, request_id: int) -> list[MessageRef]:
        """Close every open offer; return the messages of offers to edit."""
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "SELECT channel, chat, message_id FROM offer "
                "WHERE request_id = ? AND status = 'open' AND message_id IS NOT NULL",
                (request_id,),
            )
            found = [_ref(r[0], r[1], r[2]) for r in await cursor.fetchall()]
            rows = [ref for ref in found if ref is not None]
            await conn.execute(
                "UPDATE offer SET status = 'closed' WHERE request_id = ? AND status = 'open'",
                (request_id,),
            )
        return rows

    async def reopen(self, request_id: int, lotse_id: int, now: datetime) -> bool:
        """The Lotse hands the case back: it waits again, and they are not offered it again."""
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE request SET status = 'open', lotse_id = NULL, accepted_at = NULL, "
                "round = 0, active_at = ? WHERE id = ? AND status = 'accepted' AND lotse_id = ?",
                (to_db(now), request_id, lotse_id),
            )
            if cursor.rowcount != 1:
                return False
            await conn.execute(
                "UPDATE offer SET status = 'declined', handed_back_at = ? "
                "WHERE request_id = ? AND lotse_id = ?",
                (to_db(now), request_id, lotse_id),
            )
            # Everyone else may be asked again; the one who handed it back is not.
            await conn.execute(
                "DELETE FROM offer WHERE request_id = ? AND status = 'closed'", (request_id,)
            )
            await conn.execute(
                "DELETE FROM timer WHERE subject = ? AND kind GLOB 'request:*' AND done_at IS NULL",
                (request_id,),
            )
        return True

    # ------------------------------------------------------------------- relays

    async def add_relays(
        self,
        request_id: int,
        messages: Iterable[tuple[MessageRef, str]],
        now: datetime,
        activity: bool = False,
    ) -> None:
        """Link messages of the case to it, each as (message, kind): ``text`` or
        ``media`` for the bot's, ``own`` for what the sender wrote. A reply to any of them
        finds the case.

        ``activity``: the messages were relayed between the two sides, which keeps the case
        alive (a list of cases shown to the Lotse does not).
        """
        rows = [
            (request_id, ref.channel, ref.chat, ref.id, kind, to_db(now)) for ref, kind in messages
        ]
        insert = (
            "INSERT INTO relay (request_id, channel, chat, message_id, kind, created_at) "
            f"VALUES {', '.join('(?, ?, ?, ?, ?, ?)' for _ in rows)}"
        )
        values = [value for row in rows for value in row]
        if not activity:
            await self.db.write(insert, values)
            return
        async with self.db.transaction() as conn:
            await conn.execute(insert, values)
            await conn.execute(_TOUCH, (to_db(now), request_id))

    async def touch(self, request_id: int, now: datetime) -> bool:
        """Something happened in an accepted case; False if it is no longer accepted."""
        changed = await self.db.write(_TOUCH + " AND status = 'accepted'", (to_db(now), request_id))
        return changed == 1

    async def relay_target(self, message: MessageRef) -> int | None:
        """The case a message belongs to."""
        row = await self.db.fetch_one(
            "SELECT request_id FROM relay WHERE channel = ? AND chat = ? AND message_id = ?",
            (message.channel, message.chat, message.id),
        )
        return int(row[0]) if row else None

    async def bot_messages_of(
        self, request_id: int, person_id: int
    ) -> list[tuple[MessageRef, str]]:
        """The bot's messages of the case in the person's chats as (message,
        ``text``/``media``), the offer among them: what a Lotse who hands the case back has
        in their chats."""
        rows = await self.db.fetch_all(
            "SELECT channel, chat, message_id, kind FROM relay "
            "WHERE request_id = ? AND kind <> 'own' AND (channel, chat) IN "
            "(SELECT channel, address FROM contact WHERE person_id = ?) "
            "UNION SELECT channel, chat, message_id, 'text' FROM offer "
            "WHERE request_id = ? AND lotse_id = ? AND message_id IS NOT NULL "
            "ORDER BY 3",
            (request_id, person_id, request_id, person_id),
        )
        return [(MessageRef(r[0], r[1], int(r[2])), str(r[3])) for r in rows]
