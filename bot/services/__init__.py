"""Use cases. No Telegram import here: services take and return domain objects."""

from __future__ import annotations

from dataclasses import dataclass

from bot.clock import Clock
from bot.config import CityConfig
from bot.services.lotsen import LotsenService
from bot.services.notifier import Notifier
from bot.services.people import PeopleService
from bot.services.privacy import PrivacyService
from bot.services.requests import RequestService
from bot.storage.database import Database
from bot.storage.lotsen import LotsenRepository
from bot.storage.people import PeopleRepository
from bot.storage.privacy import PrivacyRepository
from bot.storage.requests import RequestsRepository

__all__ = ["Repositories", "Services", "build_services"]


@dataclass(frozen=True, slots=True)
class Repositories:
    """The storage layer, one repository per table group."""

    people: PeopleRepository
    lotsen: LotsenRepository
    requests: RequestsRepository
    privacy: PrivacyRepository

    @classmethod
    def on(cls, db: Database) -> Repositories:
        """Repositories sharing the connection ``db``."""
        return cls(
            PeopleRepository(db),
            LotsenRepository(db),
            RequestsRepository(db),
            PrivacyRepository(db),
        )


@dataclass(frozen=True, slots=True)
class Services:
    """Every use case the handlers may call, built once per process."""

    city: CityConfig
    clock: Clock
    people: PeopleService
    lotsen: LotsenService
    requests: RequestService
    privacy: PrivacyService


def build_services(
    repos: Repositories, city: CityConfig, clock: Clock, notifier: Notifier
) -> Services:
    """Wire the services to the storage and the messenger."""
    lotsen = LotsenService(repos.lotsen, city, clock)
    requests = RequestService(repos.requests, lotsen, notifier, city, clock)
    return Services(
        city=city,
        clock=clock,
        people=PeopleService(repos.people, city, clock),
        lotsen=lotsen,
        requests=requests,
        privacy=PrivacyService(repos.privacy, lotsen, requests, city, clock),
    )
