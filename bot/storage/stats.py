"""The anonymous rows behind the city's figures and exports (SQL only)."""

from __future__ import annotations

from datetime import datetime

from bot.clock import from_db, to_db
from bot.domain.stats import RequestFacts
from bot.storage.database import Database

__all__ = ["StatsRepository"]


def _own(languages: str | None, own: str | None) -> str | None:
    """The language a request is counted under: the person's own, if they ticked it, else
    the first other than German (which many tick as well), else the first."""
    ticked = (languages or "").split()
    if own in ticked:
        return own
    others = [code for code in ticked if code != "de"] or ticked
    return others[0] if others else None


class StatsRepository:
    """Counts and anonymous rows; nothing here returns a name, a text or a Telegram id."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def facts(self, since: datetime | None = None) -> list[RequestFacts]:
        """Every request confirmed since ``since`` (all when None)."""
        rows = await self.db.fetch_all(
            "SELECT r.topic, r.languages, r.district, r.status, r.confirmed_at, "
            "r.accepted_at, r.hours, p.language AS own FROM request r "
            "LEFT JOIN person p ON p.id = r.person_id "
            "WHERE r.confirmed_at IS NOT NULL AND r.confirmed_at >= ? "
            "ORDER BY r.confirmed_at",
            (to_db(since) if since else "",),
        )
        return [
            RequestFacts(
                topic=r["topic"],
                language=_own(r["languages"], r["own"]),
                district=r["district"],
                status=r["status"],
                confirmed_at=from_db(r["confirmed_at"]),
                accepted_at=from_db(r["accepted_at"]) if r["accepted_at"] else None,
                hours=r["hours"],
            )
            for r in rows
        ]

    async def open_and_stuck(self, stuck_before: datetime) -> tuple[int, int]:
        """Requests waiting for a Lotse, and those among them waiting since before the cut-off."""
        row = await self.db.fetch_one(
            "SELECT count(*), coalesce(sum(confirmed_at < ?), 0) FROM request "
            "WHERE status IN ('open', 'offered')",
            (to_db(stuck_before),),
        )
        return (int(row[0]), int(row[1])) if row else (0, 0)

    async def active_lotsen(self) -> int:
        """Lotsen approved and not deleted."""
        row = await self.db.fetch_one(
            "SELECT count(*) FROM lotse WHERE status = 'active' AND stopped IS NULL"
        )
        return int(row[0]) if row else 0

    async def waitlist(self) -> list[tuple[str, str, str | None, str, str | None]]:
        """The waiting list without names, contacts or places (which the coordinators' named
        list shows): joined, languages, Stadtteil, status, last called; in an order of its own
        (by Stadtteil and month), so rows cannot be matched to the named list by position."""
        rows = await self.db.fetch_all(
            "SELECT joined_at, languages, district, status, called_at FROM waitlist "
            "ORDER BY status, district, substr(joined_at, 1, 7), languages"
        )
        return [
            (r["joined_at"], r["languages"], r["district"], r["status"], r["called_at"])
            for r in rows
        ]
