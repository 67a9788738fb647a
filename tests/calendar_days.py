"""The days that are hard for calendars, as start moments for the suite's clock.

``python -m tests.calendar_days`` prints one ``label moment`` line per day, each the next
such day from today (the ``lotsenbot`` command a test runs keeps the real time, so every
moment lies ahead). ``make test-calendar`` runs the tests that plan dates from each.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Iterator
from datetime import date, datetime, time, timedelta

from tests.conftest import BERLIN


def first_wednesday(year: int, month: int) -> date:
    """The first Wednesday of a month: the Stammtisch day of the city file."""
    first = date(year, month, 1)
    return first + timedelta(days=(calendar.WEDNESDAY - first.weekday()) % 7)


def last_sunday(year: int, month: int) -> date:
    """The last Sunday of a month: the daylight-saving changes fall on it in March and October."""
    last = date(year, month, calendar.monthrange(year, month)[1])
    return last - timedelta(days=(last.weekday() - calendar.SUNDAY) % 7)


def months_from(today: date) -> Iterator[tuple[int, int]]:
    """This month and every one after it."""
    year, month = today.year, today.month
    while True:
        yield year, month
        year, month = (year, month + 1) if month < 12 else (year + 1, 1)


def hard_days(today: date) -> list[tuple[str, datetime]]:
    """Each hard day's start moment, the next one after ``today``."""

    def at(day: date, hour: int, minute: int = 0) -> datetime:
        return datetime.combine(day, time(hour, minute), BERLIN)

    def next_of(pick: Callable[[int, int], date | None]) -> date:
        return next(d for y, m in months_from(today) if (d := pick(y, m)) and d > today)

    def leap_day(year: int, month: int) -> date | None:
        return date(year, 2, 29) if month == 2 and calendar.isleap(year) else None

    def new_year_eve(year: int, month: int) -> date | None:
        return date(year, 12, 31) if month == 12 else None

    def month_end(year: int, month: int) -> date | None:  # New Year's Eve has a line of its own
        return date(year, month, calendar.monthrange(year, month)[1]) if month < 12 else None

    def spring(year: int, month: int) -> date | None:
        return last_sunday(year, 3) - timedelta(days=1) if month == 3 else None

    def autumn(year: int, month: int) -> date | None:
        return last_sunday(year, 10) - timedelta(days=1) if month == 10 else None

    stammtisch = next_of(lambda y, m: first_wednesday(y, m) - timedelta(days=1))
    return [
        ("evening-before-first-wednesday", at(stammtisch, 20)),
        ("last-day-of-month", at(next_of(month_end), 22, 30)),
        ("new-year-eve", at(next_of(new_year_eve), 22, 30)),
        ("29-february", at(next_of(leap_day), 10)),
        ("before-spring-clock-change", at(next_of(spring), 22)),
        ("before-autumn-clock-change", at(next_of(autumn), 22)),
    ]


if __name__ == "__main__":
    for label, moment in hard_days(datetime.now(BERLIN).date()):
        print(label, moment.isoformat())
