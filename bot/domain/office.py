"""The office's side: concerns and messages to the office, expenses, confirmations of
volunteering."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum

__all__ = [
    "CONCERN_REASONS",
    "MAX_AMOUNT_CENTS",
    "Certificate",
    "Expense",
    "ExpenseState",
    "OfficeMessage",
    "Thread",
    "ThreadItem",
    "Volunteering",
    "euros",
    "parse_euros",
]

#: The reasons a concern can be tapped with (the view labels them); anything else is typed.
CONCERN_REASONS = ("absent", "behaviour", "unsafe", "money")

#: The most one expense may be (a typo of a few zeros is refused, not paid).
MAX_AMOUNT_CENTS = 100_000

_AMOUNT = re.compile(r"^\s*(?:€\s*)?(\d{1,6}(?:[.,]\d{1,2})?)\s*(?:€|eur|euro)?\s*$", re.I)


def parse_euros(text: str) -> int | None:
    """An amount as people type it (``12,50``, ``12.50 €``, ``€ 7``) in cents; None if it is
    none, zero, or over :data:`MAX_AMOUNT_CENTS`."""
    match = _AMOUNT.match(text)
    if match is None:
        return None
    try:
        cents = int(Decimal(match[1].replace(",", ".")) * 100)
    except InvalidOperation:
        return None
    return cents if 0 < cents <= MAX_AMOUNT_CENTS else None


def euros(cents: int) -> str:
    """Cents as a plain amount with two decimals (``12.50``), for files."""
    return f"{cents // 100}.{cents % 100:02d}"


@dataclass(frozen=True, slots=True)
class Thread:
    """An exchange between a person and the office: a concern about a case, or a message."""

    id: int
    person_id: int
    kind: str  #: ``concern`` or ``message``
    request_id: int | None
    side: str | None  #: who reported a concern: ``person`` or ``lotse``
    reason: str | None
    language: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class OfficeMessage:
    """One message of a thread: ``in`` from the person, ``out`` the office's answer (by
    ``author_id``)."""

    direction: str
    text: str
    author_id: int | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ThreadItem:
    """A thread as the office's list shows it: when it last moved, whether the office had
    the last word, how many messages, and the newest message from the person."""

    thread: Thread
    last_at: datetime
    answered: bool
    messages: int
    latest: str


class ExpenseState(StrEnum):
    """Where an expense stands."""

    OPEN = "open"
    APPROVED = "approved"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class Expense:
    """A Lotse's expense for a case."""

    id: int
    lotse_id: int
    request_id: int | None
    what: str
    cents: int
    receipt_kind: str | None
    receipt_ref: str | None
    receipt_channel: str | None
    state: ExpenseState
    created_at: datetime
    #: The Lotse's first name, for the office's lists.
    lotse_name: str = ""


@dataclass(frozen=True, slots=True)
class Certificate:
    """A Lotse's request for a confirmation of their volunteering in a year."""

    id: int
    lotse_id: int
    year: int
    sent: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Volunteering:
    """What a confirmation says: the cases closed in the year, per topic (no one else's
    data)."""

    name: str
    year: int
    #: topic key -> (cases, hours)
    topics: dict[str, tuple[int, float]]

    @property
    def cases(self) -> int:
        return sum(cases for cases, _ in self.topics.values())

    @property
    def hours(self) -> float:
        return sum(hours for _, hours in self.topics.values())
