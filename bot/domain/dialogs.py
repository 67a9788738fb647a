"""A multi-step dialog in progress: which one, at which step, with the answers so far."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Dialog", "clip"]


@dataclass(frozen=True, slots=True)
class Dialog:
    """One person's open dialog (at most one at a time), kept in the database.

    ``updated_by`` is the update that made the last change, so an update handled again after
    a restart is recognised and only shows the step again.
    """

    person_id: int
    kind: str
    step: str
    data: dict[str, Any] = field(default_factory=dict)
    updated_by: int | None = None

    def replays(self, update_id: int | None) -> bool:
        """Whether ``update_id`` is the update that already made the last change."""
        return update_id is not None and update_id == self.updated_by


def clip(text: str, limit: int) -> str:
    """A typed answer on one line, spaces collapsed, at most ``limit`` characters."""
    return " ".join(text.split())[:limit]
