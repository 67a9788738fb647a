"""The training waiting list: entries, trainings, seats."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

__all__ = ["Entry", "Seat", "SeatAnswer", "Training", "TrainingCounts", "TrainingNotice"]


@dataclass(frozen=True, slots=True)
class Entry:
    """Someone who wants to become a Lotse. ``contact`` None: Telegram is enough."""

    id: int
    person_id: int
    name: str
    contact: str | None
    languages: tuple[str, ...]
    district: str | None
    trained: bool
    joined_at: datetime
    called_at: datetime | None


@dataclass(frozen=True, slots=True)
class Training:
    """A training date announced to the waiting list."""

    id: int
    starts_at: datetime
    place: str
    capacity: int
    confirm_by: datetime
    held: bool


class Seat(StrEnum):
    """Where a confirmation stands: a place, or the reserve in the order of answers."""

    PLACE = "place"
    RESERVE = "reserve"


@dataclass(frozen=True, slots=True)
class SeatAnswer:
    """Someone's answer to a training: ``seat`` None means they said no."""

    seat: Seat | None
    reserve_number: int = 0


@dataclass(frozen=True, slots=True)
class TrainingCounts:
    """What came back from a training announcement."""

    places: int
    reserves: int
    declined: int
    told: int


@dataclass(frozen=True, slots=True)
class TrainingNotice:
    """The content of a training mailing: the announcement, or *you moved up*."""

    training: Training
    kind: str  # "announce" | "remind" | "moved_up"
