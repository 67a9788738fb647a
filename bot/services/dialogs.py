"""Which multi-step dialog a person is in, so typed input reaches the right one."""

from __future__ import annotations

from bot.domain.dialogs import Dialog
from bot.domain.people import Person
from bot.storage.dialogs import DialogsRepository

__all__ = ["DialogService"]


class DialogService:
    """Look up the open dialog; each feature's service moves its own dialogs along."""

    def __init__(self, repo: DialogsRepository) -> None:
        self.repo = repo

    async def current(self, person: Person) -> Dialog | None:
        """The person's open dialog, if any."""
        return await self.repo.get(person.id)
