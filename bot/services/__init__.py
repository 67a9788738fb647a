"""Use cases. No Telegram import here: services take and return domain objects."""

from __future__ import annotations

from dataclasses import dataclass

from bot.clock import Clock
from bot.config import CityConfig
from bot.services.audit import AuditService
from bot.services.broadcasts import BroadcastService
from bot.services.console import ConsoleService
from bot.services.dialogs import DialogService
from bot.services.events import EventService
from bot.services.lotsen import LotsenService
from bot.services.mailings import MailingService
from bot.services.notifier import Mailer, Notifier
from bot.services.office import OfficeService
from bot.services.people import PeopleService
from bot.services.privacy import PrivacyService
from bot.services.requests import RequestService
from bot.services.retention import RetentionService
from bot.services.roster import RosterService
from bot.services.schedule import Schedule, TimerOwner
from bot.services.stats import StatsService
from bot.services.waitlist import WaitlistService
from bot.storage.audit import AuditRepository
from bot.storage.broadcasts import BroadcastsRepository
from bot.storage.console import ConsoleRepository
from bot.storage.database import Database
from bot.storage.dialogs import DialogsRepository
from bot.storage.events import EventsRepository
from bot.storage.lotsen import LotsenRepository
from bot.storage.mailings import MailingsRepository
from bot.storage.office import OfficeRepository
from bot.storage.people import PeopleRepository
from bot.storage.privacy import PrivacyRepository
from bot.storage.requests import RequestsRepository
from bot.storage.retention import RetentionRepository
from bot.storage.stats import StatsRepository
from bot.storage.timers import TimersRepository
from bot.storage.waitlist import WaitlistRepository

__all__ = ["Repositories", "Services", "build_services"]


@dataclass(frozen=True, slots=True)
class Repositories:
    """The storage layer, one repository per table group."""

    people: PeopleRepository
    lotsen: LotsenRepository
    requests: RequestsRepository
    privacy: PrivacyRepository
    timers: TimersRepository
    dialogs: DialogsRepository
    mailings: MailingsRepository
    broadcasts: BroadcastsRepository
    events: EventsRepository
    waitlist: WaitlistRepository
    stats: StatsRepository
    retention: RetentionRepository
    office: OfficeRepository
    audit: AuditRepository
    console: ConsoleRepository

    @classmethod
    def on(cls, db: Database) -> Repositories:
        """Repositories sharing the connection ``db``."""
        return cls(
            PeopleRepository(db),
            LotsenRepository(db),
            RequestsRepository(db),
            PrivacyRepository(db),
            TimersRepository(db),
            DialogsRepository(db),
            MailingsRepository(db),
            BroadcastsRepository(db),
            EventsRepository(db),
            WaitlistRepository(db),
            StatsRepository(db),
            RetentionRepository(db),
            OfficeRepository(db),
            AuditRepository(db),
            ConsoleRepository(db),
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
    mailings: MailingService
    broadcasts: BroadcastService
    events: EventService
    waitlist: WaitlistService
    stats: StatsService
    dialogs: DialogService
    schedule: Schedule
    retention: RetentionService
    office: OfficeService
    audit: AuditService
    roster: RosterService
    console: ConsoleService


def build_services(
    repos: Repositories,
    city: CityConfig,
    clock: Clock,
    notifier: Notifier,
    mailer: Mailer,
    console_url: str | None = None,
) -> Services:
    """Wire the services to the storage and the messenger (``console_url``: where the
    office console is published, None without one)."""
    lotsen = LotsenService(repos.lotsen, city, clock)
    requests = RequestService(repos.requests, repos.timers, lotsen, notifier, city, clock)
    mailings = MailingService(repos.mailings, repos.timers, mailer, city.mailings, clock)
    broadcasts = BroadcastService(
        repos.broadcasts, repos.dialogs, repos.people, mailings, city, clock
    )
    events = EventService(repos.events, repos.dialogs, mailings, city, clock)
    waitlist = WaitlistService(repos.waitlist, repos.dialogs, mailings, city, clock)
    audit = AuditService(repos.audit, city, clock)
    roster = RosterService(repos.lotsen, repos.timers, audit, requests, notifier, city, clock)
    owners: dict[str, TimerOwner] = {
        "lotse": roster,
        "request": requests,
        "mailing": mailings,
        "event": events,
        "training": waitlist,
    }
    schedule = Schedule(repos.timers, owners, clock)
    people = PeopleService(repos.people, city, clock)
    console = ConsoleService(
        repos.console,
        people,
        AuditService(repos.audit, city, clock, via="console"),
        clock,
        console_url,
    )
    privacy = PrivacyService(repos.privacy, repos.people, lotsen, requests, waitlist, city, clock)
    return Services(
        city=city,
        clock=clock,
        people=people,
        lotsen=lotsen,
        requests=requests,
        privacy=privacy,
        mailings=mailings,
        broadcasts=broadcasts,
        events=events,
        waitlist=waitlist,
        stats=StatsService(repos.stats, city, clock),
        dialogs=DialogService(repos.dialogs, clock),
        schedule=schedule,
        retention=RetentionService(
            repos.retention,
            requests,
            lotsen,
            people,
            privacy,
            audit,
            notifier,
            city,
            clock,
            console,
        ),
        office=OfficeService(repos.office, repos.dialogs, city, clock),
        audit=audit,
        roster=roster,
        console=console,
    )
