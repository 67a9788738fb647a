"""The office's roster of Lotsen: the list and the card, the programme's records and their
reminder, and stopping a Lotse — suspending, reinstating, retiring — or their leaving.

Stopping is recorded with a timer in one transaction (:meth:`LotsenRepository.stop`); the
handover (open offers withdrawn, open cases offered to others, the Lotse told) is the timer's
work, done at once in the running bot and, for the command line, by the running bot within a
minute (the same way the command line's Stammtisch dates are announced). Each step of the
handover is guarded, so doing it twice changes nothing and tells nobody twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from bot.clock import Clock
from bot.config import CityConfig
from bot.domain.lotsen import STOPPED, Lotse, LotseStatus, RosterEntry, state_of
from bot.services.audit import AuditService
from bot.services.lotsen import FAIRNESS_WINDOW
from bot.services.notifier import Notifier
from bot.services.requests import RequestService
from bot.services.stats import Export, csv_bytes, xlsx_bytes
from bot.storage.lotsen import LotsenRepository
from bot.storage.timers import TimersRepository

__all__ = ["CHECK_NOTICE", "MAX_REASON", "Filter", "RosterService"]

log = logging.getLogger(__name__)

#: The office and the Lotse are reminded this long before the Führungszeugnis runs out.
CHECK_NOTICE = timedelta(days=30)
#: At this time of day (city time).
_REMIND_AT = time(9, 0)
MAX_REASON = 300
_HEADER = [
    "id",
    "first_name",
    "state",
    "languages",
    "districts",
    "open_cases",
    "cases_this_year",
    "hours_this_year",
    "certified_on",
    "pledge_on",
    "check_seen_on",
    "check_valid_until",
]


@dataclass(frozen=True, slots=True)
class Filter:
    """What the roster is narrowed to (None: any)."""

    language: str | None = None
    district: str | None = None
    state: str | None = None
    name: str | None = None

    def admits(self, entry: RosterEntry, now: datetime) -> bool:
        """Whether ``entry`` passes every part of the filter."""
        lotse = entry.lotse
        return (
            (self.language is None or self.language in lotse.languages)
            and (self.district is None or not lotse.districts or self.district in lotse.districts)
            and (self.state is None or state_of(lotse, now) == self.state)
            and (self.name is None or self.name.casefold() in lotse.first_name.casefold())
        )


class RosterService:
    """The office's view of its Lotsen, and what it does to them.

    ``requests`` and ``notifier`` are None on the command line: it records, and the running
    bot does the handover.
    """

    def __init__(
        self,
        repo: LotsenRepository,
        timers: TimersRepository,
        audit: AuditService,
        requests: RequestService | None,
        notifier: Notifier | None,
        city: CityConfig,
        clock: Clock,
    ) -> None:
        self.repo = repo
        self.timers = timers
        self.audit = audit
        self.requests = requests
        self.notify = notifier
        self.city = city
        self.clock = clock

    # ------------------------------------------------------------- list and card

    async def entries(self, chosen: Filter = Filter()) -> list[RosterEntry]:
        """The Lotsen ``chosen`` admits, by first name."""
        now = self.clock.now()
        year = datetime(now.astimezone(self.city.timezone).year, 1, 1, tzinfo=self.city.timezone)
        everyone = await self.repo.roster(now - FAIRNESS_WINDOW, year)
        return [entry for entry in everyone if chosen.admits(entry, now)]

    async def card(self, person_id: int, by: int | None) -> RosterEntry | None:
        """One Lotse's card; reading it is recorded."""
        entry = next((e for e in await self.entries() if e.lotse.person_id == person_id), None)
        if entry is not None:
            await self.audit.record(by, "lotse.card", person_id)
        return entry

    def state(self, lotse: Lotse) -> str:
        """The roster's state of the Lotse now."""
        return state_of(lotse, self.clock.now())

    async def export(self, fmt: str, by: int | None) -> Export:
        """The roster as a spreadsheet for the office (no contacts, no cases' content)."""
        rows: list[list[object]] = [
            [
                e.lotse.person_id,
                e.lotse.first_name,
                self.state(e.lotse),
                " ".join(sorted(e.lotse.languages)),
                "; ".join(sorted(e.lotse.districts)),
                e.lotse.open_cases,
                e.cases_this_year,
                e.hours_this_year,
                *(_iso(getattr(e.lotse.records, name)) for name in _HEADER[8:]),
            ]
            for e in await self.entries()
        ]
        await self.audit.record(by, "export.lotsen")
        stamp = self.clock.now().astimezone(self.city.timezone).strftime("%Y-%m-%d")
        name = f"lotsenbot-lotsen-{stamp}.{fmt}"
        if fmt == "xlsx":
            return Export(name, xlsx_bytes("lotsen", _HEADER, rows), len(rows))
        return Export(name, csv_bytes(_HEADER, rows), len(rows))

    # --------------------------------------------------------------- the records

    async def set_record(self, person_id: int, name: str, day: date | None, by: int | None) -> bool:
        """Set one of the programme's dates (None: clear it); the Führungszeugnis's date of
        validity sets the reminder 30 days before it."""
        if not await self.repo.set_record(person_id, name, day):
            return False
        await self.audit.record(by, "lotse.records", person_id)
        if name == "check_valid_until":
            if day is None:
                await self.timers.cancel("lotse:check", person_id)
            else:
                remind = datetime.combine(day - CHECK_NOTICE, _REMIND_AT, self.city.timezone)
                await self.timers.set("lotse:check", person_id, max(remind, self.clock.now()))
        return True

    # ---------------------------------------------------------------- stopping

    async def suspend(self, person_id: int, reason: str, by: int | None) -> bool:
        """Stop a Lotse at once, with the office's reason; False if not active."""
        reason = " ".join(reason.split())[:MAX_REASON]
        if not reason:
            raise ValueError("a suspension needs a reason")
        return await self._stop(person_id, LotseStatus.SUSPENDED, reason, by, "lotse.suspend")

    async def retire(self, person_id: int, by: int | None) -> bool:
        """End the role for good; False if already ended."""
        return await self._stop(person_id, LotseStatus.RETIRED, None, by, "lotse.retire")

    async def leave(self, lotse: Lotse) -> bool:
        """The Lotse leaves the programme themselves."""
        return await self._stop(lotse.person_id, LotseStatus.LEFT, None, None, None)

    async def reinstate(self, person_id: int, by: int | None) -> bool:
        """Undo a suspension (the cases stay where they went); False if not suspended."""
        if not await self.repo.reinstate(person_id, self.clock.now()):
            return False
        await self.audit.record(by, "lotse.reinstate", person_id)
        await self._settle(person_id, LotseStatus.ACTIVE)
        return True

    async def _stop(
        self,
        person_id: int,
        state: LotseStatus,
        reason: str | None,
        by: int | None,
        action: str | None,
    ) -> bool:
        if not await self.repo.stop(person_id, state, reason, self.clock.now()):
            return False
        if action is not None:
            await self.audit.record(by, action, person_id)
        await self._settle(person_id, state)
        return True

    async def _settle(self, person_id: int, state: LotseStatus) -> None:
        """The handover after a change of state, unless this is the command line (the
        running bot then does it from the timer)."""
        if self.requests is None or self.notify is None:
            return
        lotse = await self.repo.get(person_id, self.clock.now() - FAIRNESS_WINDOW)
        if lotse is None or lotse.status is not state:
            return  # changed again meanwhile: that change's timer settles it
        if state in STOPPED:
            await self.requests.drop_offers(lotse)
            for case in await self.requests.cases(lotse):
                await self.requests.hand_back(case, lotse)
        if await self.repo.claim_told(person_id, state):
            await self.notify.lotse_state(lotse, state)

    # -------------------------------------------------------------------- timers

    async def on_timer(self, what: str, subject: int, due: datetime, now: datetime) -> None:
        """``lotse:<state>`` settles a change of state; ``lotse:check`` reminds the office
        and the Lotse that the Führungszeugnis runs out."""
        if what == "check":
            await self._remind_check(subject, now)
        elif what == "reinstated":
            await self._settle(subject, LotseStatus.ACTIVE)
        elif what in {state.value for state in STOPPED}:
            await self._settle(subject, LotseStatus(what))
        else:
            log.error("unknown Lotse timer %s", what)

    async def _remind_check(self, person_id: int, now: datetime) -> None:
        if self.notify is None:
            return
        lotse = await self.repo.get(person_id, now - FAIRNESS_WINDOW)
        if lotse is None or lotse.records.check_valid_until is None:
            return
        if lotse.status in (LotseStatus.RETIRED, LotseStatus.LEFT):
            return
        await self.notify.check_runs_out(lotse, lotse.records.check_valid_until)


def _iso(day: date | None) -> str:
    return day.isoformat() if day else ""
