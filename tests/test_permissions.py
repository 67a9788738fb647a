"""Files with personal data are the service user's alone (0600, new folders 0700), any umask."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import stat
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.domain.people import Contact
from bot.storage.database import Database
from bot.storage.office import OfficeRepository
from bot.storage.people import PeopleRepository
from tests.conftest import ROOT
from tests.process import LOTSENBOT, bot_env
from tests.scenario import telegram_id_of

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
UMASKS = [0o022, 0o000]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(params=UMASKS, ids=lambda u: f"umask{u:03o}")
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    """Run the test under the given umask (the usual 022, and the careless 000)."""
    previous = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(previous)


async def test_database_its_log_and_new_folders_are_private(tmp_path: Path, umask: int) -> None:
    path = tmp_path / "data" / "city" / "lotsenbot.sqlite3"
    db = Database(path)
    await db.open()
    try:
        await PeopleRepository(db).set_language(Contact("telegram", "4711"), "ar", NOW)
        wal, shm = (path.with_name(path.name + suffix) for suffix in ("-wal", "-shm"))
        assert wal.exists() and shm.exists()
        assert {p.name: oct(mode(p)) for p in (path, wal, shm)} == {
            p.name: "0o600" for p in (path, wal, shm)
        }
        assert oct(mode(tmp_path / "data")) == oct(mode(path.parent)) == "0o700"
    finally:
        await db.close()


async def test_an_older_readable_database_is_made_private_when_opened(
    tmp_path: Path, umask: int
) -> None:
    path = tmp_path / "lotsenbot.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE old (x)")
    path.chmod(0o644)
    folder_mode = mode(tmp_path)
    db = Database(path)
    await db.open()
    try:
        await PeopleRepository(db).set_language(Contact("telegram", "4711"), "ar", NOW)
        for file in (path, path.with_name(path.name + "-wal")):
            assert oct(mode(file)) == "0o600", file.name
        assert mode(tmp_path) == folder_mode  # a folder the bot did not create stays as it is
    finally:
        await db.close()


async def _one_person(path: Path) -> None:
    db = Database(path)
    await db.open()
    try:
        person = await PeopleRepository(db).set_language(Contact("telegram", "4711"), "ar", NOW)
        # A Lotse's expense, for the office's export.
        await db.write(
            "INSERT INTO lotse (person_id, first_name, created_at) VALUES (?, 'Wiebke', ?)",
            (person.id, NOW.isoformat()),
        )
        await OfficeRepository(db).add_expense(person.id, None, "Busticket", 1250, None, NOW)
    finally:
        await db.close()


def test_backups_and_exports_are_private(tmp_path: Path, umask: int) -> None:
    source = tmp_path / "lotsenbot.sqlite3"
    asyncio.run(_one_person(source))
    env = bot_env(None, source)
    backup = tmp_path / "backups" / "2026-11-24.sqlite3"
    export = tmp_path / "exports" / "hours.csv"
    expenses = tmp_path / "exports" / "expenses.xlsx"
    for command in (
        ["backup", str(backup)],
        ["export", "hours", "--format", "csv", "--out", str(export)],
        ["export", "expenses", "--format", "xlsx", "--out", str(expenses)],
    ):
        done = subprocess.run(
            [str(LOTSENBOT), *command],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            umask=umask,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
    for folder in (backup.parent, export.parent):
        assert oct(mode(folder)) == "0o700", folder.name
        assert {f.name: oct(mode(f)) for f in folder.iterdir()} == {
            f.name: "0o600" for f in folder.iterdir()
        }
    # The expenses for reimbursement: Lotse, month, case, what, amount, state.
    sheet = load_workbook(expenses, read_only=True).active
    assert sheet is not None
    assert [list(row) for row in sheet.iter_rows(values_only=True)] == [
        ["lotse", "month", "case", "what", "amount_eur", "state"],
        ["Wiebke", "2026-11", None, "Busticket", "12.50", "open"],
    ]
    with sqlite3.connect(backup) as conn:
        assert conn.execute(f"SELECT {telegram_id_of('person')} FROM person").fetchall() == [
            (4711,)
        ]
    # A second backup to the same file is refused and leaves the first one as it was.
    again = subprocess.run(
        [str(LOTSENBOT), "backup", str(backup)], env=env, capture_output=True, text=True
    )
    assert again.returncode == 2 and "already exists" in again.stderr
    assert oct(mode(backup)) == "0o600"
