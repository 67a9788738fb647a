"""The ``lotsenbot`` command."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import sys
from collections.abc import Awaitable, Callable
from datetime import date, datetime, time
from pathlib import Path

from bot import logs
from bot.clock import SystemClock
from bot.config import CityConfig, ConfigError, Settings, console_listen, load_city
from bot.domain.events import Pattern
from bot.domain.people import Contact
from bot.files import write_private
from bot.office_cli import add_lotsen_parser, coordinators, lotsen
from bot.services import Repositories
from bot.services.audit import AuditService
from bot.services.console import ConsoleService
from bot.services.events import EventService
from bot.services.lotsen import LotsenService
from bot.services.mailings import MailingService
from bot.services.office import OfficeService
from bot.services.people import PeopleService
from bot.services.stats import EXPORTS, FORMATS, Export, StatsService
from bot.storage.audit import AuditRepository
from bot.storage.console import ConsoleRepository
from bot.storage.database import Database, DatabaseError, backup_database
from bot.storage.dialogs import DialogsRepository
from bot.storage.lotsen import LotsenRepository
from bot.storage.office import OfficeRepository
from bot.storage.people import PeopleRepository
from bot.storage.stats import StatsRepository

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lotsenbot",
        description="Telegram bot for Integrationslotsen programmes.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = commands.add_parser(
        "run", help="run the bot (needs TELEGRAM_BOT_TOKEN, or LOTSENBOT_SIGNAL_URL and _ACCOUNT)"
    )
    run.add_argument(
        "--webhook",
        metavar="URL",
        help="receive updates at this public https URL instead of polling",
    )
    run.add_argument(
        "--listen",
        metavar="HOST:PORT",
        default="127.0.0.1:8443",
        help="where the webhook server listens, behind a reverse proxy (default %(default)s)",
    )
    run.add_argument(
        "--console",
        metavar="HOST:PORT",
        help="serve the office console here, behind a reverse proxy "
        "(default: LOTSENBOT_CONSOLE_LISTEN; none without either)",
    )
    demo = commands.add_parser(
        "demo", help="try the bot in a browser: offline, with a simulated Telegram"
    )
    demo.add_argument("--port", type=int, default=8080, help="page port (default %(default)s)")
    demo.add_argument(
        "--db", type=Path, default=Path("data/demo.sqlite3"), help="its database (%(default)s)"
    )
    coordinator = commands.add_parser("coordinator", help="manage coordinators")
    coordinator_commands = coordinator.add_subparsers(dest="action", required=True)
    add = coordinator_commands.add_parser("add", help="make someone a coordinator")
    add.add_argument(
        "contact", type=_contact, help="channel:address (telegram:123), or a Telegram user id"
    )
    add.add_argument("--name", help="the name they go by in the office, as the audit log shows it")
    captcha = commands.add_parser(
        "signal-captcha", help="lift Signal's rate limit with a captcha solved for its challenge"
    )
    captcha.add_argument("challenge", help="the challenge the coordinators were sent")
    captcha.add_argument("captcha", help="the signalcaptcha://… link the captcha page gave")
    coordinator_commands.add_parser("list", help="who coordinates (city file and added here)")
    remove = coordinator_commands.add_parser(
        "remove", help="take the role away at once (an id from 'coordinator list')"
    )
    remove.add_argument("id", type=int)
    add_lotsen_parser(commands)
    console_link = commands.add_parser(
        "console-link",
        help="a one-time sign-in link to the office console (10 minutes) for a coordinator",
    )
    console_link.add_argument("id", type=int, help="the coordinator's id ('coordinator list')")
    backup = commands.add_parser("backup", help="copy the database safely, also while it runs")
    backup.add_argument("file", type=Path, help="where to write the copy")
    invite = commands.add_parser("invite", help="print one-time invitation codes for new Lotsen")
    invite.add_argument("--count", type=int, default=1, help="how many codes (default 1)")
    export = commands.add_parser(
        "export",
        help="anonymous figures for the city as a spreadsheet (no names, no texts); "
        "expenses: the Lotsen's expenses for reimbursement (no data of the people helped)",
    )
    export.add_argument("kind", choices=(*EXPORTS, "expenses"))
    export.add_argument("--format", choices=FORMATS, default="csv", dest="fmt")
    export.add_argument("--out", type=Path, required=True, help="the file to write")
    audit = commands.add_parser(
        "audit", help="what coordinators did to whom and when (never what was said)"
    )
    audit.add_argument("--since", type=_day, metavar="YYYY-MM-DD", help="from this day on")
    audit.add_argument("--format", choices=("text", "csv"), default="text", dest="fmt")
    _event_parser(commands)
    return parser


def _event_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    event = commands.add_parser(
        "event",
        help="plan Stammtisch dates (the running bot announces them within a minute)",
    )
    actions = event.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="one date, announced to all Lotsen")
    add.add_argument("--at", required=True, metavar="'YYYY-MM-DD HH:MM'", help="city time")
    add.add_argument("--title", help="default: the city file's stammtisch.title")
    add.add_argument("--place", help="default: the city file's stammtisch.venue")
    add.add_argument("--topics", default="", help="comma-separated, e.g. 'Bürgergeld,ZUE'")
    add.add_argument("--quiet", action="store_true", help="save without announcing")
    rule = actions.add_parser("rule", help="a repeating date, e.g. the first Wednesday")
    rule.add_argument(
        "--every",
        required=True,
        metavar="PHRASE",
        help="'first|second|third|fourth|last <weekday>', 'every <weekday>' "
        "or 'every other <weekday>' (weekday in English)",
    )
    rule.add_argument("--time", help="HH:MM, default: the city file's stammtisch.time")
    rule.add_argument("--title", help="default: the city file's stammtisch.title")
    rule.add_argument("--place", help="default: the city file's stammtisch.venue")
    rule.add_argument("--topics", default="", help="comma-separated")
    actions.add_parser("list", help="the next dates and the repeating rules")
    cancel = actions.add_parser("cancel", help="cancel one date (those told hear of it)")
    cancel.add_argument("id", type=int)
    move = actions.add_parser("move", help="move one date (those told hear of it)")
    move.add_argument("id", type=int)
    move.add_argument("--at", required=True, metavar="'YYYY-MM-DD HH:MM'", help="city time")


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the chosen command; return the exit status."""
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logs.install()  # no personal data, no token, at any level
    try:
        settings = Settings.from_env()
        if args.command == "run":
            if args.console:
                listen = console_listen(args.console, "--console")
                settings = dataclasses.replace(settings, console_listen=listen)
            settings.require_channel()
            city = load_city(settings.config_path)
            from channels.runner import serve
            from channels.telegram.webhook import Webhook, parse_listen

            webhook = None
            if args.webhook:
                try:
                    host, port = parse_listen(args.listen)
                except ValueError:
                    raise ConfigError(f"--listen must be HOST:PORT (got {args.listen!r})") from None
                webhook = Webhook(args.webhook, host, port, settings.webhook_secret)
            asyncio.run(serve(settings, city, webhook=webhook))
        elif args.command == "demo":
            from demo.web import main as run_demo

            run_demo(settings, args.db, args.port)
        elif args.command == "coordinator" and args.action == "add":
            city = load_city(settings.config_path)
            asyncio.run(_add_coordinator(settings, city, args.contact, args.name))
            print(f"{args.contact} is now a coordinator")
        elif args.command == "signal-captcha":
            from channels.signal.rpc import SignalError, submit_captcha

            url, account = settings.require_signal()
            try:
                asyncio.run(submit_captcha(url, account, args.challenge, args.captcha))
            except SignalError as exc:
                raise ConfigError(f"signal-cli did not take the captcha ({exc})") from None
            print("Signal took the captcha; messages go out again")
        elif args.command in ("coordinator", "lotsen"):
            city = load_city(settings.config_path)
            run = coordinators if args.command == "coordinator" else lotsen
            for line in asyncio.run(_office(settings, city, run, args)):
                print(line)
        elif args.command == "console-link":
            city = load_city(settings.config_path)
            print(asyncio.run(_console_link(settings, city, args.id)))
        elif args.command == "backup":
            pages = backup_database(settings.db_path, args.file)
            print(f"backed up {pages} pages to {args.file}")
        elif args.command == "event":
            city = load_city(settings.config_path)
            for line in asyncio.run(_event(settings, city, args)):
                print(line)
        elif args.command == "export":
            city = load_city(settings.config_path)
            export = asyncio.run(_export(settings, city, args.kind, args.fmt))
            write_private(args.out, export.content)
            print(f"wrote {export.rows} rows to {args.out}")
        elif args.command == "audit":
            city = load_city(settings.config_path)
            out = asyncio.run(_audit(settings, city, args.since, args.fmt))
            sys.stdout.buffer.write(out)
            sys.stdout.flush()
        elif args.command == "invite":
            if not 1 <= args.count <= 500:
                raise ConfigError("--count must be between 1 and 500")
            city = load_city(settings.config_path)
            for code in asyncio.run(_invite(settings, city, args.count)):
                print(code)
    except (ConfigError, DatabaseError) as exc:
        print(f"lotsenbot: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


def _contact(text: str) -> Contact:
    """``channel:address``; a bare number is a Telegram user id."""
    if text.isdigit():
        return Contact("telegram", text)
    try:
        return Contact.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


async def _add_coordinator(
    settings: Settings, city: CityConfig, contact: Contact, name: str | None
) -> None:
    db = Database(settings.db_path)
    await db.open()
    try:
        people = PeopleService(PeopleRepository(db), city, SystemClock())
        await people.add_coordinator(contact)
        person = await people.find(contact)
        if person is not None and name is not None:
            await people.name_in_office(person.id, name)
        await _audit_log(db, city).record(None, "coordinator.add", person.id if person else None)
    finally:
        await db.close()


async def _console_link(settings: Settings, city: CityConfig, person_id: int) -> str:
    base = settings.console_base
    if base is None:
        raise ConfigError(
            "LOTSENBOT_CONSOLE_LISTEN is not set: the bot runs without the office console"
        )
    db = Database(settings.db_path)
    await db.open()
    try:
        clock = SystemClock()
        people = PeopleService(PeopleRepository(db), city, clock)
        if await people.coordinator(person_id) is None:
            raise ConfigError(f"{person_id} is not a coordinator (see 'coordinator list')")
        audit = _audit_log(db, city)
        console = ConsoleService(ConsoleRepository(db), people, audit, clock, base)
        link = await console.link(person_id)
        if link is None:
            raise ConfigError("too many links for this coordinator just now; wait 10 minutes")
        await audit.record(None, "console.link", person_id)
        return link
    finally:
        await db.close()


async def _invite(settings: Settings, city: CityConfig, count: int) -> list[str]:
    db = Database(settings.db_path)
    await db.open()
    try:
        return await LotsenService(LotsenRepository(db), city, SystemClock()).create_invites(count)
    finally:
        await db.close()


async def _export(settings: Settings, city: CityConfig, kind: str, fmt: str) -> Export:
    db = Database(settings.db_path)
    await db.open()
    try:
        clock = SystemClock()
        if kind == "expenses":
            office = OfficeService(OfficeRepository(db), DialogsRepository(db), city, clock)
            export = await office.export_expenses(fmt)
        else:
            export = await StatsService(StatsRepository(db), city, clock).export(kind, fmt)
        await _audit_log(db, city).record(None, f"export.{kind}")
        return export
    finally:
        await db.close()


async def _office(
    settings: Settings,
    city: CityConfig,
    run: Callable[[Database, CityConfig, argparse.Namespace], Awaitable[list[str]]],
    args: argparse.Namespace,
) -> list[str]:
    db = Database(settings.db_path)
    await db.open()
    try:
        return await run(db, city, args)
    finally:
        await db.close()


def _audit_log(db: Database, city: CityConfig) -> AuditService:
    """The audit log as the command line writes it (``via`` ``cli``, no coordinator)."""
    return AuditService(AuditRepository(db), city, SystemClock(), via="cli")


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a day (YYYY-MM-DD): {text!r}") from None


async def _audit(settings: Settings, city: CityConfig, since: date | None, fmt: str) -> bytes:
    db = Database(settings.db_path)
    await db.open()
    try:
        audit = _audit_log(db, city)
        start = datetime.combine(since, time(0), city.timezone) if since else None
        entries = await audit.since(start)
        if fmt == "csv":
            return audit.csv(entries)
        return "".join(f"{line}\n" for line in audit.lines(entries)).encode()
    finally:
        await db.close()


def _moment(text: str) -> datetime:
    try:
        return datetime.strptime(text.strip(), "%Y-%m-%d %H:%M")
    except ValueError:
        raise ConfigError(f"--at must look like '2026-12-02 18:00' (got {text!r})") from None


def _topics(text: str) -> tuple[str, ...]:
    return tuple(t.strip() for t in text.split(",") if t.strip())


async def _event(settings: Settings, city: CityConfig, args: argparse.Namespace) -> list[str]:
    db = Database(settings.db_path)
    await db.open()
    try:
        repos = Repositories.on(db)
        clock = SystemClock()
        # This process only records; the running bot sends what it announces.
        mailings = MailingService(repos.mailings, repos.timers, None, city.mailings, clock)
        events = EventService(repos.events, repos.dialogs, mailings, city, clock)
        stammtisch = city.stammtisch
        if args.action == "add":
            at = _moment(args.at)
            event = await events.plan(
                args.title or stammtisch.title,
                at.date(),
                at.time(),
                args.place or stammtisch.venue,
                _topics(args.topics),
                announce=not args.quiet,
            )
            if event is None:
                raise ConfigError("--at must be in the future")
            return [f"event {event.id}: {event.title}, {_local(event.starts_at, city)}"]
        if args.action == "rule":
            try:
                pattern = Pattern.parse(args.every)
                start = time.fromisoformat(args.time) if args.time else stammtisch.time
            except ValueError:
                raise ConfigError(f"cannot read --every {args.every!r} / --time") from None
            rule = await events.add_rule(
                args.title or stammtisch.title,
                pattern,
                start,
                args.place or stammtisch.venue,
                _topics(args.topics),
            )
            assert rule is not None
            dates = ", ".join(_local(d, city) for d in events.next_dates(rule))
            return [f"rule {rule.id}: {rule.title}, {rule.rrule}; next: {dates}"]
        if args.action == "cancel":
            if not await events.cancel(args.id):
                raise ConfigError(f"event {args.id} is not a planned date")
            return [f"event {args.id} cancelled"]
        if args.action == "move":
            at = _moment(args.at)
            moved = await events.move(args.id, at.date(), at.time())
            if moved is None:
                raise ConfigError(f"event {args.id} cannot be moved there")
            return [f"event {moved.id} moved to {_local(moved.starts_at, city)}"]
        lines = [
            f"event {e.id}: {e.title}, {_local(e.starts_at, city)}, {e.place}"
            for e in await events.upcoming(20)
        ]
        lines += [
            f"rule {r.id}: {r.title}, {r.rrule}, {r.start_time:%H:%M}, {r.place}"
            for r in await events.rules()
        ]
        return lines or ["no dates planned"]
    finally:
        await db.close()


def _local(moment: datetime, city: CityConfig) -> str:
    return moment.astimezone(city.timezone).strftime("%Y-%m-%d %H:%M")


if __name__ == "__main__":
    sys.exit(main())
