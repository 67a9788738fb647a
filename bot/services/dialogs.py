"""Which multi-step dialog a person is in, so typed input reaches the right one."""

from __future__ import annotations

from typing import Any

from bot.clock import Clock
from bot.domain.dialogs import Dialog
from bot.domain.people import Person
from bot.storage.dialogs import DialogsRepository

__all__ = ["DialogService"]


class DialogService:
    """Look up the open dialog; each feature's service moves its own dialogs along."""

    def __init__(self, repo: DialogsRepository, clock: Clock) -> None:
        self.repo = repo
        self.clock = clock

    async def current(self, person: Person) -> Dialog | None:
        """The person's open dialog, if any."""
        return await self.repo.get(person.id)

    async def begin(
        self, person: Person, kind: str, data: dict[str, Any], key: int | None
    ) -> Dialog:
        """Start a one-step dialog that waits for typed input (it replaces an open one)."""
        return await self.repo.save(person.id, kind, "typed", data, key, self.clock.now())

    async def end(self, person: Person, kind: str) -> None:
        """Close the person's dialog of ``kind``, if open."""
        await self.repo.end(person.id, kind)
