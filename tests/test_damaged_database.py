"""A damaged database file: ``lotsenbot run`` refuses to start, says how to restore a backup,
and leaves the file (and its write-ahead log) exactly as it found it."""

from __future__ import annotations

import asyncio
import hashlib
import random
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.storage.database import Database
from channels.telegram.fakeapi import FakeBotAPI
from tests.process import LOTSENBOT, bot_env


async def crashed_database(folder: Path) -> Path:
    """A database as a killed bot leaves it: schema, some rows, and an unmerged WAL.

    The files are copied while the connection is open, so the copy has a write-ahead log
    whose transactions are not yet in the main file (a checkpoint would write them there).
    """
    live = folder / "live.sqlite3"
    db = Database(live)
    await db.open()
    try:
        for update_id in range(400):
            await db.write(
                "INSERT INTO inbox (update_id, payload, received_at) VALUES (?, ?, ?)",
                (update_id, f'{{"update_id": {update_id}}}' + " " * 300, "2030-01-15T08:30:00"),
            )
        await db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        await db.write("UPDATE inbox SET attempts = 1 WHERE update_id < 10")  # only in the WAL
        copy = folder / "lotsenbot.sqlite3"
        for suffix in ("", "-wal"):
            shutil.copyfile(f"{live}{suffix}", f"{copy}{suffix}")
    finally:
        await db.close()
    assert fingerprint(copy).keys() == {copy.name, f"{copy.name}-wal"}
    return copy


def truncated(data: bytes) -> bytes:
    return data[: len(data) // 2 + 1000]


def garbage_page(data: bytes) -> bytes:
    page = 4096
    middle = len(data) // page // 2
    noise = random.Random(17).randbytes(page)
    return data[: middle * page] + noise + data[(middle + 1) * page :]


def garbage_header(data: bytes) -> bytes:
    return random.Random(17).randbytes(100) + data[100:]


def fingerprint(db_path: Path) -> dict[str, str]:
    """A hash of the database file and of each of its companions that holds data."""
    files = [db_path, Path(f"{db_path}-wal")]
    return {f.name: hashlib.sha256(f.read_bytes()).hexdigest() for f in files if f.exists()}


@pytest.mark.parametrize("damage", [truncated, garbage_page, garbage_header])
async def test_a_damaged_database_is_refused_untouched_with_how_to_restore(
    api: FakeBotAPI, tmp_path: Path, damage: Callable[[bytes], bytes]
) -> None:
    db_path = await crashed_database(tmp_path)
    db_path.write_bytes(damage(db_path.read_bytes()))
    before = fingerprint(db_path)

    proc = await asyncio.create_subprocess_exec(
        str(LOTSENBOT),
        "run",
        env=bot_env(api, db_path),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 30)

    assert proc.returncode == 2
    lines = err.decode().splitlines()
    assert len(lines) == 1, lines  # one line, no traceback
    line = lines[0]
    assert line.startswith(f"lotsenbot: {db_path}: the database file is damaged ("), line
    assert "lotsenbot backup" in line and "copy the backup to" in line
    assert out == b""
    assert fingerprint(db_path) == before  # not a byte written, the WAL kept as it was
    assert api.calls == []  # it never went online


async def test_a_sound_database_from_a_crash_is_opened_and_its_log_kept(tmp_path: Path) -> None:
    """The check before writing refuses only damage: a crash's WAL is taken in as usual."""
    db_path = await crashed_database(tmp_path)
    db = Database(db_path)
    await db.open()
    try:
        row = await db.fetch_one("SELECT count(*) FROM inbox WHERE attempts = 1")
    finally:
        await db.close()
    assert row is not None and row[0] == 10
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
