"""The audit log: who did what to whom, and when — never the content (PRIVACY.md)."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.clock import Clock
from bot.config import CityConfig
from bot.domain.audit import ACTION, Entry
from bot.services.stats import csv_bytes
from bot.storage.audit import AuditRepository

__all__ = ["AuditService"]

_HEADER = [
    "id",
    "at",
    "via",
    "coordinator_id",
    "coordinator_name",
    "action",
    "subject_id",
    "request_id",
]


class AuditService:
    """Record coordinators' actions; read them back for the office and for the person."""

    def __init__(
        self, repo: AuditRepository, city: CityConfig, clock: Clock, via: str = "bot"
    ) -> None:
        self.repo = repo
        self.city = city
        self.clock = clock
        #: ``bot`` in the running bot, ``cli`` for the ``lotsenbot`` command.
        self.via = via

    async def record(
        self,
        coordinator_person_id: int | None,
        action: str,
        subject_person_id: int | None = None,
        request_id: int | None = None,
    ) -> None:
        """Record that a coordinator (None: the command line) did ``action``, on a person
        and/or a request."""
        if not ACTION.fullmatch(action):
            raise ValueError(action)
        await self.repo.add(
            self.clock.now(),
            self.via,
            coordinator_person_id,
            action,
            subject_person_id,
            request_id,
        )

    async def since(self, since: datetime | None = None) -> list[Entry]:
        """The log from ``since`` on, oldest first."""
        return await self.repo.since(since)

    async def search(
        self,
        since: datetime | None = None,
        actor_id: int | None = None,
        action: str | None = None,
        limit: int = 200,
    ) -> list[Entry]:
        """The newest entries matching the filters (see the office's audit page)."""
        return await self.repo.search(since, actor_id, action, limit)

    async def choices(self) -> tuple[list[tuple[int, str | None]], list[str]]:
        """The coordinators and the actions the log holds, for the filters."""
        return await self.repo.actors(), await self.repo.actions()

    async def about(self, person_id: int) -> list[Entry]:
        """What was done that concerned the person (for /mydata)."""
        return await self.repo.about(person_id)

    async def expire(self) -> int:
        """Delete what is older than the city's ``audit_days``."""
        return await self.repo.expire(self.clock.now() - timedelta(days=self.city.audit_days))

    def lines(self, entries: list[Entry]) -> list[str]:
        """The log as text lines, in the city's time."""
        return [
            f"{e.at.astimezone(self.city.timezone):%Y-%m-%d %H:%M} {e.via} "
            f"coordinator={_or_dash(e.actor_id)}{f' ({e.actor_name})' if e.actor_name else ''} "
            f"{e.action} "
            f"person={_or_dash(e.subject_id)} request={_or_dash(e.request_id)}"
            for e in entries
        ]

    def csv(self, entries: list[Entry]) -> bytes:
        """The log as CSV (UTF-8 with a byte-order mark, for spreadsheets)."""
        return csv_bytes(
            _HEADER,
            [
                [
                    e.id,
                    e.at.astimezone(self.city.timezone).isoformat(timespec="seconds"),
                    e.via,
                    e.actor_id or "",
                    e.actor_name or "",
                    e.action,
                    e.subject_id or "",
                    e.request_id or "",
                ]
                for e in entries
            ],
        )


def _or_dash(value: int | None) -> str:
    return "-" if value is None else str(value)
