"""Figures for the city and anonymous exports (CSV and XLSX)."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import timedelta

from bot.clock import Clock, from_db
from bot.config import CityConfig
from bot.domain.stats import Figures, figures, month_of
from bot.storage.stats import StatsRepository

__all__ = ["EXPORTS", "FORMATS", "Export", "StatsService", "csv_bytes", "spreadsheet", "xlsx_bytes"]

EXPORTS = ("requests", "hours", "waitlist")
FORMATS = ("csv", "xlsx")


@dataclass(frozen=True, slots=True)
class Export:
    """An export as a file: name, content, and how many data rows it holds."""

    filename: str
    content: bytes
    rows: int


class StatsService:
    """The monthly figures, and the same data as anonymous rows for spreadsheets."""

    def __init__(self, repo: StatsRepository, city: CityConfig, clock: Clock) -> None:
        self.repo = repo
        self.city = city
        self.clock = clock

    async def figures(self, months: int = 6) -> Figures:
        """The last ``months`` months: requests by topic, language, Stadtteil, and more."""
        now = self.clock.now()
        since = now - timedelta(days=31 * months)
        counted = figures(await self.repo.facts(since), now, self.city.timezone, months)
        # Waiting twice as long as the first escalation counts as stuck.
        open_, stuck = await self.repo.open_and_stuck(now - 2 * self.city.requests.escalate_after)
        return replace(
            counted, open=open_, stuck=stuck, active_lotsen=await self.repo.active_lotsen()
        )

    async def table(self, kind: str) -> tuple[list[str], list[list[object]]]:
        """The header and rows of an export; no names, free text or Telegram ids."""
        tz = self.city.timezone
        if kind == "requests":
            header = [
                "month",
                "topic",
                "language",
                "district",
                "status",
                "hours_to_acceptance",
                "volunteer_hours",
            ]
            rows: list[list[object]] = [
                [
                    month_of(f.confirmed_at, tz),
                    f.topic or "",
                    f.language or "",
                    f.district or "",
                    f.status,
                    _hours(f.accepted_at - f.confirmed_at) if f.accepted_at else "",
                    f.hours if f.hours is not None else "",
                ]
                for f in await self.repo.facts()
            ]
            return header, rows
        if kind == "hours":
            totals: dict[tuple[str, str, str], list[float]] = defaultdict(lambda: [0, 0.0])
            for f in await self.repo.facts():
                if f.status == "done":
                    cell = totals[(month_of(f.confirmed_at, tz), f.topic or "", f.district or "")]
                    cell[0] += 1
                    cell[1] += f.hours or 0.0
            header = ["month", "topic", "district", "cases_done", "volunteer_hours"]
            return header, [[*key, int(v[0]), round(v[1], 2)] for key, v in sorted(totals.items())]
        if kind == "waitlist":
            header = [
                "joined_month",
                "languages",
                "district",
                "status",
                "last_called_month",
            ]
            return header, [
                [
                    month_of(from_db(joined), tz),
                    languages.replace(",", " "),
                    district or "",
                    status,
                    month_of(from_db(called), tz) if called else "",
                ]
                for joined, languages, district, status, called in await self.repo.waitlist()
            ]
        raise ValueError(kind)

    async def export(self, kind: str, fmt: str) -> Export:
        """One export as a CSV or XLSX file."""
        header, rows = await self.table(kind)
        return spreadsheet(self.clock, self.city, kind, fmt, header, rows)


def spreadsheet(
    clock: Clock,
    city: CityConfig,
    kind: str,
    fmt: str,
    header: list[str],
    rows: list[list[object]],
) -> Export:
    """Rows as a CSV or XLSX file named after ``kind`` and today's date."""
    stamp = clock.now().astimezone(city.timezone).strftime("%Y-%m-%d")
    name = f"lotsenbot-{kind}-{stamp}.{fmt}"
    if fmt == "csv":
        return Export(name, csv_bytes(header, rows), len(rows))
    if fmt == "xlsx":
        return Export(name, xlsx_bytes(kind, header, rows), len(rows))
    raise ValueError(fmt)


def _hours(span: timedelta) -> float:
    # Rounded to a tenth of an hour: exact durations could single out one request.
    return round(span.total_seconds() / 3600, 1)


def csv_bytes(header: list[str], rows: list[list[object]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    # With a byte-order mark, spreadsheet programs read the umlauts right.
    return out.getvalue().encode("utf-8-sig")


def xlsx_bytes(title: str, header: list[str], rows: list[list[object]]) -> bytes:
    from openpyxl import Workbook  # imported when needed: the bot starts faster without it

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title)
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
