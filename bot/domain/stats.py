"""Figures for the city: requests per month by topic, language and Stadtteil, and more."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

__all__ = ["Figures", "RequestFacts", "figures", "month_of", "months_back"]


@dataclass(frozen=True, slots=True)
class RequestFacts:
    """What the statistics need of one confirmed request: no names, no text, no ids."""

    topic: str | None
    language: str | None
    district: str | None
    status: str
    confirmed_at: datetime
    accepted_at: datetime | None
    hours: float | None


@dataclass(frozen=True, slots=True)
class Figures:
    """The figures of the last months (oldest month first)."""

    months: list[str]
    by_topic: dict[str, list[int]]
    by_language: dict[str, list[int]]
    by_district: dict[str, list[int]]
    requests: int
    accepted: int
    median_to_accept: timedelta | None
    hours_by_month: list[float]
    open: int = 0
    stuck: int = 0
    active_lotsen: int = 0
    per_month: list[int] = field(default_factory=list)
    #: Requests their person cancelled before a Lotse took them: left out of the share.
    cancelled: int = 0

    @property
    def share_accepted(self) -> float:
        """Share of the period's requests that found a Lotse (0 to 1), of those not
        cancelled before one could."""
        counted = self.requests - self.cancelled
        return self.accepted / counted if counted else 0.0

    @staticmethod
    def totals(per_month: dict[str, list[int]]) -> dict[str, int]:
        """Totals over the months, the largest first."""
        return dict(sorted(((k, sum(v)) for k, v in per_month.items()), key=lambda i: -i[1]))

    @property
    def hours(self) -> float:
        """Volunteer hours recorded in the period."""
        return sum(self.hours_by_month)


def month_of(moment: datetime, timezone: ZoneInfo) -> str:
    """``YYYY-MM`` of a moment, in the city's time."""
    return moment.astimezone(timezone).strftime("%Y-%m")


def months_back(now: datetime, timezone: ZoneInfo, count: int) -> list[str]:
    """The last ``count`` months up to and including this one, oldest first."""
    local = now.astimezone(timezone)
    year, month = local.year, local.month
    result = []
    for _ in range(count):
        result.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return result[::-1]


def figures(
    facts: list[RequestFacts], now: datetime, timezone: ZoneInfo, months: int = 6
) -> Figures:
    """Count the requests confirmed in the last ``months`` months."""
    labels = months_back(now, timezone, months)
    index = {m: i for i, m in enumerate(labels)}
    by_topic: dict[str, list[int]] = {}
    by_language: dict[str, list[int]] = {}
    by_district: dict[str, list[int]] = {}
    hours = [0.0] * months
    per_month = [0] * months
    waits: list[float] = []
    accepted = cancelled = 0
    for fact in facts:
        slot = index.get(month_of(fact.confirmed_at, timezone))
        if slot is None:
            continue
        per_month[slot] += 1
        by_topic.setdefault(fact.topic or "other", [0] * months)[slot] += 1
        by_language.setdefault(fact.language or "?", [0] * months)[slot] += 1
        by_district.setdefault(fact.district or "–", [0] * months)[slot] += 1
        hours[slot] += fact.hours or 0.0
        if fact.accepted_at is None and fact.status == "cancelled":
            cancelled += 1
        if fact.accepted_at is not None:
            accepted += 1
            waits.append((fact.accepted_at - fact.confirmed_at).total_seconds())
    return Figures(
        months=labels,
        by_topic=by_topic,
        by_language=by_language,
        by_district=by_district,
        requests=sum(per_month),
        accepted=accepted,
        median_to_accept=timedelta(seconds=statistics.median(waits)) if waits else None,
        hours_by_month=hours,
        per_month=per_month,
        cancelled=cancelled,
    )
