"""Use cases. No Telegram import here: services take and return domain objects."""

from __future__ import annotations

from dataclasses import dataclass

from bot.clock import Clock
from bot.config import CityConfig
from bot.services.people import PeopleService
from bot.storage.database import Database
from bot.storage.people import PeopleRepository

__all__ = ["Services", "build_services"]


@dataclass(frozen=True, slots=True)
class Services:
    """Every use case the handlers may call, built once per process."""

    city: CityConfig
    clock: Clock
    people: PeopleService


def build_services(db: Database, city: CityConfig, clock: Clock) -> Services:
    """Wire the services to the storage."""
    return Services(city=city, clock=clock, people=PeopleService(PeopleRepository(db), city, clock))
