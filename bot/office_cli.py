"""The office's commands on the command line: ``lotsenbot lotsen …`` and ``lotsenbot
coordinator list|remove``.

They change the database the running bot uses, as the other commands do; what must reach
people (a suspended Lotse is told, their cases go to others) is recorded with a timer, which
the running bot picks up within a minute (:mod:`bot.services.roster`). Each action is
recorded in the audit log as done on the command line.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bot.clock import SystemClock
from bot.config import CityConfig, ConfigError
from bot.domain.lotsen import RosterEntry
from bot.files import write_private
from bot.services.audit import AuditService
from bot.services.people import PeopleService
from bot.services.roster import RosterService
from bot.storage.audit import AuditRepository
from bot.storage.database import Database
from bot.storage.lotsen import LotsenRepository
from bot.storage.people import PeopleRepository
from bot.storage.timers import TimersRepository

__all__ = ["add_lotsen_parser", "coordinators", "lotsen"]

_LATER = "the running bot hands over their cases and tells them within a minute"


def add_lotsen_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``lotsenbot lotsen list|show|suspend|reinstate|retire``."""
    lotsen = commands.add_parser("lotsen", help="the roster of Lotsen; suspend, reinstate, retire")
    actions = lotsen.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="one row per Lotse (no contacts, no cases)")
    listing.add_argument("--format", choices=("text", "csv", "xlsx"), default="text", dest="fmt")
    listing.add_argument("--out", type=Path, help="the file to write (needed for xlsx)")
    show = actions.add_parser("show", help="one Lotse's card")
    show.add_argument("id", type=int)
    suspend = actions.add_parser("suspend", help="stop a Lotse at once (" + _LATER + ")")
    suspend.add_argument("id", type=int)
    suspend.add_argument("--reason", required=True, help="kept for the office")
    reinstate = actions.add_parser("reinstate", help="undo a suspension")
    reinstate.add_argument("id", type=int)
    retire = actions.add_parser("retire", help="end a Lotse's role for good")
    retire.add_argument("id", type=int)


def _roster(db: Database, city: CityConfig) -> RosterService:
    clock = SystemClock()
    audit = AuditService(AuditRepository(db), city, clock, via="cli")
    return RosterService(LotsenRepository(db), TimersRepository(db), audit, None, None, city, clock)


async def lotsen(db: Database, city: CityConfig, args: argparse.Namespace) -> list[str]:
    """Run ``lotsenbot lotsen …``; the lines to print."""
    roster = _roster(db, city)
    if args.action == "list":
        if args.fmt == "text":
            entries = await roster.entries()
            await roster.audit.record(None, "export.lotsen")
            return [_row(roster, e) for e in entries] or ["no Lotsen"]
        if args.out is None:
            raise ConfigError("--out FILE is needed for csv and xlsx")
        export = await roster.export(args.fmt, None)
        write_private(args.out, export.content)
        return [f"wrote {export.rows} rows to {args.out}"]
    if args.action == "show":
        entry = await roster.card(args.id, None)
        if entry is None:
            raise ConfigError(f"no Lotse {args.id}")
        return _card(roster, entry)
    if args.action == "suspend":
        if not args.reason.strip():
            raise ConfigError("--reason must not be empty")
        if not await roster.suspend(args.id, args.reason, None):
            raise ConfigError(f"Lotse {args.id} is not an active Lotse")
        return [f"Lotse {args.id} suspended; {_LATER}"]
    if args.action == "reinstate":
        if not await roster.reinstate(args.id, None):
            raise ConfigError(f"Lotse {args.id} is not suspended")
        return [f"Lotse {args.id} reinstated; the running bot tells them within a minute"]
    if not await roster.retire(args.id, None):
        raise ConfigError(f"Lotse {args.id} is neither active nor suspended")
    return [f"Lotse {args.id} retired; {_LATER}"]


def _row(roster: RosterService, entry: RosterEntry) -> str:
    lotse, records = entry.lotse, entry.lotse.records
    return "\t".join(
        [
            str(lotse.person_id),
            lotse.first_name,
            roster.state(lotse),
            " ".join(sorted(lotse.languages)),
            "; ".join(sorted(lotse.districts)) or "all",
            f"open={lotse.open_cases}",
            f"cases={entry.cases_this_year}",
            f"hours={entry.hours_this_year:g}",
            f"certified={records.certified_on or '-'}",
            f"pledge={records.pledge_on or '-'}",
            f"check={records.check_seen_on or '-'}..{records.check_valid_until or '-'}",
        ]
    )


def _card(roster: RosterService, entry: RosterEntry) -> list[str]:
    lotse, records = entry.lotse, entry.lotse.records
    tz = roster.city.timezone

    def day(value: object) -> str:
        return "-" if value is None else str(value)

    lines = [
        f"Lotse {lotse.person_id}: {lotse.first_name} ({roster.state(lotse)})",
        f"languages: {' '.join(sorted(lotse.languages))}",
        f"Stadtteile: {'; '.join(sorted(lotse.districts)) or 'all'}",
        f"topics: {', '.join(sorted(lotse.topics)) or 'all'}",
        f"open cases: {lotse.open_cases} (at most {lotse.max_open})",
        f"this year: {entry.cases_this_year} cases, {entry.hours_this_year:g} hours",
        f"last active: {day(lotse.seen_at and lotse.seen_at.astimezone(tz).date())}",
        f"joined: {day(lotse.joined_at and lotse.joined_at.astimezone(tz).date())}",
        f"certified on: {day(records.certified_on)}",
        f"pledge signed on: {day(records.pledge_on)}",
        f"Führungszeugnis seen on: {day(records.check_seen_on)}, "
        f"valid until: {day(records.check_valid_until)}",
    ]
    if lotse.stopped_at is not None:
        lines.append(f"stopped on: {lotse.stopped_at.astimezone(tz).date()}")
    if lotse.stop_reason:
        lines.append(f"reason: {lotse.stop_reason}")
    return lines


async def coordinators(db: Database, city: CityConfig, args: argparse.Namespace) -> list[str]:
    """``lotsenbot coordinator list|remove``; the lines to print."""
    people = PeopleService(PeopleRepository(db), city, SystemClock())
    audit = AuditService(AuditRepository(db), city, SystemClock(), via="cli")
    if args.action == "list":
        lines = [f"{contact} (city file)" for contact in sorted(city.coordinators)]
        lines += [f"{p.id}: {p.contact} ({p.language})" for p in await people.stored_coordinators()]
        return lines or ["no coordinators"]
    if not await people.remove_coordinator(args.id):
        raise ConfigError(
            f"{args.id} is not a coordinator given the role here "
            "(the city file's are removed in the file)"
        )
    await audit.record(None, "coordinator.remove", args.id)
    return [f"{args.id} is no longer a coordinator"]
