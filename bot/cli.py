"""The ``lotsenbot`` command."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from bot.clock import SystemClock
from bot.config import CityConfig, ConfigError, Settings, load_city
from bot.services.lotsen import LotsenService
from bot.services.people import PeopleService
from bot.storage.database import Database, DatabaseError, backup_database
from bot.storage.lotsen import LotsenRepository
from bot.storage.people import PeopleRepository

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lotsenbot",
        description="Telegram bot for Integrationslotsen programmes.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = commands.add_parser("run", help="run the bot (needs TELEGRAM_BOT_TOKEN)")
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
    demo = commands.add_parser(
        "demo", help="try the bot in a browser: offline, with a simulated Telegram"
    )
    demo.add_argument("--port", type=int, default=8080, help="page port (default %(default)s)")
    demo.add_argument(
        "--db", type=Path, default=Path("data/demo.sqlite3"), help="its database (%(default)s)"
    )
    coordinator = commands.add_parser("coordinator", help="manage coordinators")
    coordinator_commands = coordinator.add_subparsers(dest="action", required=True)
    add = coordinator_commands.add_parser("add", help="make a Telegram user a coordinator")
    add.add_argument("telegram_id", type=int)
    backup = commands.add_parser("backup", help="copy the database safely, also while it runs")
    backup.add_argument("file", type=Path, help="where to write the copy")
    invite = commands.add_parser("invite", help="print one-time invitation codes for new Lotsen")
    invite.add_argument("--count", type=int, default=1, help="how many codes (default 1)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the chosen command; return the exit status."""
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # httpx logs every request URL, and the URL contains the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        settings = Settings.from_env()
        if args.command == "run":
            settings.require_token()
            city = load_city(settings.config_path)
            from handlers.runner import serve
            from handlers.webhook import Webhook, parse_listen

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
        elif args.command == "coordinator":
            city = load_city(settings.config_path)
            asyncio.run(_add_coordinator(settings, city, args.telegram_id))
            print(f"{args.telegram_id} is now a coordinator")
        elif args.command == "backup":
            pages = backup_database(settings.db_path, args.file)
            print(f"backed up {pages} pages to {args.file}")
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


async def _add_coordinator(settings: Settings, city: CityConfig, telegram_id: int) -> None:
    db = Database(settings.db_path)
    await db.open()
    try:
        await PeopleService(PeopleRepository(db), city, SystemClock()).add_coordinator(telegram_id)
    finally:
        await db.close()


async def _invite(settings: Settings, city: CityConfig, count: int) -> list[str]:
    db = Database(settings.db_path)
    await db.open()
    try:
        return await LotsenService(LotsenRepository(db), city, SystemClock()).create_invites(count)
    finally:
        await db.close()


if __name__ == "__main__":
    sys.exit(main())
