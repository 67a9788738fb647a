"""How Lotsen, their languages and invitations are stored."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from itertools import combinations

import aiosqlite

from bot.clock import from_db, to_db
from bot.domain.lotsen import RECORDS, Lotse, LotseStatus, Records, RosterEntry
from bot.storage.database import Database
from bot.storage.people import consented, contact_of, reach
from bot.storage.timers import insert_timer

__all__ = ["WORKING", "LotsenRepository"]

_SELECT = f"""
SELECT l.person_id, {reach()} AS contact, p.language, l.first_name,
       coalesce(l.stopped, l.status) AS status, l.districts, l.topics,
       l.max_open, l.paused_until, l.quiet_from, l.quiet_to,
       l.stopped_at, l.stop_reason, l.created_at, p.seen_at,
       l.certified_on, l.pledge_on, l.check_seen_on, l.check_valid_until,
       (SELECT group_concat(language, ' ') FROM lotse_language WHERE person_id = l.person_id)
           AS languages,
       (SELECT count(*) FROM request r WHERE r.lotse_id = l.person_id AND r.status = 'accepted')
           AS open_cases,
       (SELECT count(*) FROM offer o WHERE o.lotse_id = l.person_id AND o.created_at >= :since)
           AS recent_offers
FROM lotse l JOIN person p ON p.id = l.person_id
"""
#: Who may be offered anything: an active Lotse, reachable, who agreed to today's notice.
_AVAILABLE = (
    f"l.status = 'active' AND l.stopped IS NULL AND p.unreachable_at IS NULL AND {consented('p')}"
)
#: SQL: the Lotse row ``l`` may work: active and not stopped.
WORKING = "l.status = 'active' AND l.stopped IS NULL"


def _lines(value: str) -> frozenset[str]:
    return frozenset(v for v in value.split("\n") if v)


def _lotse(row: aiosqlite.Row) -> Lotse:
    return Lotse(
        person_id=row["person_id"],
        contact=contact_of(row["contact"]),
        language=row["language"],
        first_name=row["first_name"],
        status=LotseStatus(row["status"]),
        languages=frozenset((row["languages"] or "").split()),
        districts=_lines(row["districts"]),
        topics=_lines(row["topics"]),
        max_open=row["max_open"],
        paused_until=from_db(row["paused_until"]) if row["paused_until"] else None,
        quiet_from=row["quiet_from"],
        quiet_to=row["quiet_to"],
        open_cases=row["open_cases"],
        recent_offers=row["recent_offers"],
        stopped_at=_moment(row["stopped_at"]),
        stop_reason=row["stop_reason"],
        joined_at=_moment(row["created_at"]),
        seen_at=_moment(row["seen_at"]),
        records=Records(*(_day(row[name]) for name in RECORDS)),
    )


def _moment(value: str | None) -> datetime | None:
    return from_db(value) if value else None


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


#: How each stop may be reached: from which states of a Lotse row ``lotse``.
_STOP_FROM = {
    LotseStatus.SUSPENDED: "lotse.status = 'active' AND lotse.stopped IS NULL",
    LotseStatus.RETIRED: "(lotse.status = 'active' AND lotse.stopped IS NULL) "
    "OR lotse.stopped = 'suspended'",
    LotseStatus.LEFT: "lotse.status = 'active' AND lotse.stopped IS NULL",
}


#: Where the offer window starts, and whether an offer lies between it and a new start.
_WINDOW_START = (
    "SELECT w.since, EXISTS (SELECT 1 FROM offer o WHERE o.created_at >= min(w.since, :new)"
    " AND o.created_at < max(w.since, :new)) FROM offer_window w"
)


def _start_to_move(rows: Iterable[aiosqlite.Row], new: str) -> str | None:
    """The window's start when the counts must be moved to ``new``; None when they hold
    (no offer lies between the old and the new start)."""
    old, passed = next(iter(rows))
    return None if old == new or not passed else str(old)


def _window(language: str, marks: str) -> str:
    """The first ``:window`` available Lotsen speaking ``language`` (a parameter), least
    loaded first, each with how well they fit (``marks``: the requested languages)."""
    return f"""
        SELECT * FROM (
            SELECT s.language AS walked, s.person_id, s.open_cases, s.recent_offers,
                coalesce(:district IS NULL OR trim(l.districts, char(10)) = '' OR instr(
                    char(10) || l.districts || char(10), char(10) || :district || char(10)
                ) > 0, 0) AS district_fit,
                coalesce(trim(l.topics, char(10)) = '' OR instr(
                    char(10) || l.topics || char(10), char(10) || :topic || char(10)
                ) > 0, 0) AS topic_fit,
                (SELECT count(*) FROM lotse_language o
                 WHERE o.person_id = s.person_id AND o.language IN ({marks})) AS shared
            FROM lotse_language s INDEXED BY lotse_language_by_load
                CROSS JOIN lotse l ON l.person_id = s.person_id
                CROSS JOIN person p ON p.id = s.person_id
            WHERE s.language = {language}
              AND {_AVAILABLE} AND l.open_cases < l.max_open
              AND (l.paused_until IS NULL OR l.paused_until <= :now)
              AND NOT (
                  l.quiet_from IS NOT NULL AND l.quiet_to IS NOT NULL
                  AND l.quiet_from <> l.quiet_to
                  AND CASE WHEN l.quiet_from < l.quiet_to
                           THEN :hour >= l.quiet_from AND :hour < l.quiet_to
                           ELSE :hour >= l.quiet_from OR :hour < l.quiet_to END
              )
            ORDER BY s.open_cases, s.recent_offers, s.person_id
            LIMIT :window
        )
    """


def _best_unseen(
    frontier: dict[str, tuple[int, int, int] | None],
) -> tuple[int, ...] | None:
    """The best ranking key a Lotse not read yet could have; None if everyone was read.

    A Lotse who speaks the requested languages ``S`` and was not read in any of them carries
    at least the load where the furthest of those readings stopped, and shares at most
    ``len(S)`` languages - at best, with a fitting Stadtteil and topic.
    """
    open_ = [language for language, at in frontier.items() if at is not None]
    best: tuple[int, ...] | None = None
    for size in range(1, len(open_) + 1):
        for group in combinations(open_, size):
            load = max(at for language in group if (at := frontier[language]) is not None)
            key = (-1, -1, load[0], load[1], -size, load[2])
            best = key if best is None or key < best else best
    return best


class LotsenRepository:
    """All SQL about Lotsen and invitations."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, person_id: int, since: datetime) -> Lotse | None:
        """Return the Lotse with this person id (offer counts since ``since``)."""
        row = await self.db.fetch_one(
            _SELECT + " WHERE l.person_id = :id", {"id": person_id, "since": to_db(since)}
        )
        return _lotse(row) if row else None

    async def best(
        self,
        languages: Iterable[str],
        district: str | None,
        topic: str | None,
        *,
        since: datetime,
        now: datetime,
        hour: int,
        limit: int | None,
    ) -> list[Lotse]:
        """The Lotsen to offer a request to, best first: the first ``limit`` (None: all).

        Who: available (active, reachable, consenting, not paused, below their cap, not in
        quiet hours at the city's ``hour``) and sharing a language. Best: by Stadtteil (none
        known: all fit alike),
        topic, fewer open cases, fewer offers since ``since``, more shared languages, then
        the lower id.

        The Lotsen of each requested language are read from the least loaded on (an index
        on the stored load), a window of each, until the best ``limit`` are certain: nobody
        not yet read can beat them, since they all carry at least the load where their
        languages' windows ended. In a programme of any size the first window of a few dozen
        rows per language is usually enough; otherwise a four times larger one is read.
        Each reading is one statement: all the windows show the loads of one moment (read
        one after another, a Lotse whose load fell in between could be missed), and no
        write lock is held.
        """
        wanted = sorted(set(languages))
        if not wanted or (limit is not None and limit < 1):
            return []
        await self._age_offers(since)
        marks = ", ".join(f":l{i}" for i in range(len(wanted)))
        params: dict[str, object] = {f"l{i}": code for i, code in enumerate(wanted)}
        params.update(now=to_db(now), hour=hour, district=district, topic=topic)
        sql = " UNION ALL ".join(_window(f":l{i}", marks) for i in range(len(wanted)))
        ranked = await self._walk(sql, params, wanted, limit)
        if not ranked:
            return []
        picked = ", ".join(str(int(person_id)) for person_id in ranked)
        loaded = await self.db.fetch_all(
            _SELECT + f" WHERE l.person_id IN ({picked})", {"since": to_db(since)}
        )
        order = {person_id: index for index, person_id in enumerate(ranked)}
        return sorted((_lotse(row) for row in loaded), key=lambda lotse: order[lotse.person_id])

    async def _walk(
        self, sql: str, params: dict[str, object], wanted: list[str], limit: int | None
    ) -> list[int]:
        """Read a window of each language's Lotsen by load, larger each time, until the
        best ``limit`` are certain (None: read them all at once)."""
        window = -1 if limit is None else max(8 * limit, 32)  # LIMIT -1: no limit
        while True:
            rows = await self.db.fetch_all(sql, {**params, "window": window})
            seen: dict[int, tuple[int, ...]] = {}  # person id -> ranking key (lower is better)
            read = dict.fromkeys(wanted, 0)
            last: dict[str, tuple[int, int, int]] = {}  # the last Lotse read in each language
            for row in rows:
                seen[row["person_id"]] = (
                    -row["district_fit"], -row["topic_fit"], row["open_cases"],
                    row["recent_offers"], -row["shared"], row["person_id"],
                )  # fmt: skip
                language = row["walked"]
                read[language] += 1
                at = (row["open_cases"], row["recent_offers"], row["person_id"])
                last[language] = max(last.get(language, at), at)
            # Per language: where its window ended (open cases, offers, id); None when the
            # window held everyone left.
            frontier = {
                language: last[language] if read[language] == window else None
                for language in wanted
            }
            ranked = sorted(seen.items(), key=lambda item: item[1])[:limit]
            unseen = _best_unseen(frontier)
            if unseen is None or (len(ranked) == limit and ranked[-1][1] <= unseen):
                return [person_id for person_id, _ in ranked]
            window *= 4

    async def _age_offers(self, since: datetime) -> None:
        """Make the stored ``recent_offers`` count from ``since`` on (see migration 0005).

        Read first: the write lock is taken only when offers passed out of the window.
        """
        new = to_db(since)
        if _start_to_move(await self.db.fetch_all(_WINDOW_START, {"new": new}), new) is None:
            return
        async with self.db.transaction() as conn:
            old = _start_to_move(await conn.execute_fetchall(_WINDOW_START, {"new": new}), new)
            if old is None:
                return  # another chat moved it meanwhile
            sign, low, high = (-1, old, new) if old < new else (1, new, old)
            await conn.execute(
                "UPDATE lotse SET recent_offers = recent_offers + :sign * aged.n "
                "FROM (SELECT lotse_id, count(*) AS n FROM offer "
                "      WHERE created_at >= :low AND created_at < :high GROUP BY lotse_id) AS aged "
                "WHERE lotse.person_id = aged.lotse_id",
                {"sign": sign, "low": low, "high": high},
            )
            await conn.execute("UPDATE offer_window SET since = ?", (new,))

    async def active(self, since: datetime) -> list[Lotse]:
        """Every active, reachable Lotse who agreed to today's notice."""
        rows = await self.db.fetch_all(
            _SELECT + f" WHERE {_AVAILABLE} ORDER BY l.person_id",
            {"since": to_db(since)},
        )
        return [_lotse(row) for row in rows]

    async def create(
        self, person_id: int, first_name: str, status: LotseStatus, language: str, now: datetime
    ) -> None:
        """Make the person a Lotse (or a pending applicant) speaking their own language."""
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO lotse (person_id, first_name, status, created_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (person_id) DO UPDATE SET status = excluded.status, stopped = NULL, "
                "stopped_at = NULL, told = NULL "
                "WHERE lotse.status <> 'active' OR lotse.stopped = 'left'",
                (person_id, first_name, status.value, to_db(now)),
            )
            await conn.execute(
                "INSERT OR IGNORE INTO lotse_language (person_id, language) VALUES (?, ?)",
                (person_id, language),
            )
            if status is LotseStatus.ACTIVE:
                await conn.execute(
                    "UPDATE person SET role = 'lotse' WHERE id = ? AND role = 'member'",
                    (person_id,),
                )

    async def set_status(self, person_id: int, status: LotseStatus, expected: LotseStatus) -> bool:
        """Move an applicant from ``expected`` to ``status``; False if someone was faster."""
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE lotse SET status = ? WHERE person_id = ? AND status = ?",
                (status.value, person_id, expected.value),
            )
            if cursor.rowcount and status is LotseStatus.ACTIVE:
                await conn.execute(
                    "UPDATE person SET role = 'lotse' WHERE id = ? AND role = 'member'",
                    (person_id,),
                )
            return cursor.rowcount == 1

    async def toggle_language(self, person_id: int, language: str) -> None:
        """Add or remove a spoken language (at least one always stays)."""
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "DELETE FROM lotse_language WHERE person_id = ? AND language = ? "
                "AND (SELECT count(*) FROM lotse_language WHERE person_id = ?) > 1",
                (person_id, language, person_id),
            )
            if not cursor.rowcount:
                await conn.execute(
                    "INSERT OR IGNORE INTO lotse_language (person_id, language) VALUES (?, ?)",
                    (person_id, language),
                )

    async def update(self, person_id: int, **fields: object) -> None:
        """Change profile fields (districts, topics, max_open, paused_until, quiet hours)."""
        allowed = {"districts", "topics", "max_open", "paused_until", "quiet_from", "quiet_to"}
        if not fields or not set(fields) <= allowed:
            raise ValueError(f"cannot update {sorted(set(fields) - allowed)}")
        values = [
            "\n".join(sorted(v))
            if isinstance(v, frozenset)
            else to_db(v)
            if isinstance(v, datetime)
            else v
            for v in fields.values()
        ]
        assignments = ", ".join(f"{name} = ?" for name in fields)
        async with self.db.transaction() as conn:
            await conn.execute(
                f"UPDATE lotse SET {assignments} WHERE person_id = ?", (*values, person_id)
            )

    async def add_invites(self, codes: Iterable[str], now: datetime) -> None:
        """Store new one-time invitation codes."""
        async with self.db.transaction() as conn:
            await conn.executemany(
                "INSERT INTO invite (code, created_at) VALUES (?, ?)",
                [(code, to_db(now)) for code in codes],
            )

    async def open_invites(self) -> list[str]:
        """Codes not used yet, oldest first."""
        rows = await self.db.fetch_all(
            "SELECT code FROM invite WHERE used_at IS NULL ORDER BY created_at, code"
        )
        return [str(r[0]) for r in rows]

    async def use_invite(self, code: str, person_id: int, now: datetime) -> bool:
        """Spend ``code`` for ``person_id``; False if it is unknown or already used."""
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE invite SET used_by = ?, used_at = ? WHERE code = ? AND used_at IS NULL",
                (person_id, to_db(now), code),
            )
            return cursor.rowcount == 1

    # ----------------------------------------------------------- the office's roster

    async def roster(self, since: datetime, year_start: datetime) -> list[RosterEntry]:
        """Every Lotse and applicant but the rejected, with their cases and hours since
        ``year_start`` (cases accepted since then; hours of those done)."""
        mine = "FROM request r WHERE r.lotse_id = x.person_id AND r.accepted_at >= :year"
        rows = await self.db.fetch_all(
            f"SELECT x.*, (SELECT count(*) {mine}) AS cases, "
            f"(SELECT coalesce(sum(r.hours), 0) {mine}) AS hours FROM ({_SELECT}) AS x "
            "WHERE x.status <> 'rejected' ORDER BY x.first_name, x.person_id",
            {"since": to_db(since), "year": to_db(year_start)},
        )
        return [RosterEntry(_lotse(row), row["cases"], float(row["hours"])) for row in rows]

    async def stop(
        self, person_id: int, state: LotseStatus, reason: str | None, now: datetime
    ) -> bool:
        """Suspend, retire, or record that the Lotse left; False if their state does not
        allow it. The Lotse's handover (offers, cases, the message to them) is a timer set
        in the same transaction, so that it happens also when this runs on the command line
        or the process stops right after."""
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE lotse SET stopped = ?, stopped_at = ?, stop_reason = ? "
                f"WHERE person_id = ? AND ({_STOP_FROM[state]})",
                (state.value, to_db(now), reason, person_id),
            )
            if cursor.rowcount != 1:
                return False
            await insert_timer(conn, f"lotse:{state.value}", person_id, now)
            return True

    async def reinstate(self, person_id: int, now: datetime) -> bool:
        """Undo a suspension (the reason goes with it); False if not suspended."""
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE lotse SET stopped = NULL, stopped_at = NULL, stop_reason = NULL "
                "WHERE person_id = ? AND stopped = 'suspended'",
                (person_id,),
            )
            if cursor.rowcount != 1:
                return False
            await insert_timer(conn, "lotse:reinstated", person_id, now)
            return True

    async def claim_told(self, person_id: int, state: LotseStatus) -> bool:
        """Record that the Lotse is being told they are now in ``state``; False if they were
        told already, or their state is another by now."""
        return (
            await self.db.write(
                "UPDATE lotse SET told = :state WHERE person_id = :id "
                "AND told IS NOT :state AND coalesce(stopped, status) = :state",
                {"state": state.value, "id": person_id},
            )
            == 1
        )

    async def set_record(self, person_id: int, name: str, day: date | None) -> bool:
        """Set one of the programme's records (a date, or None to clear it)."""
        if name not in RECORDS:
            raise ValueError(name)
        return (
            await self.db.write(
                f"UPDATE lotse SET {name} = ? WHERE person_id = ?",
                (day.isoformat() if day else None, person_id),
            )
            == 1
        )
