"""One SQLite connection: pragmas, write transactions and schema migrations."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any

import aiosqlite

from bot.files import make_private
from bot.storage.upgrades import STEPS

__all__ = ["Database", "DatabaseError", "backup_database", "returned_id", "storage_fault"]

log = logging.getLogger(__name__)

Params = Iterable[Any] | Mapping[str, Any]

_BUSY_TIMEOUT_MS = 5_000
_LOCKED_RETRIES = 5


class DatabaseError(Exception):
    """The database file cannot be used (corrupt, newer schema, not writable)."""


class Database:
    """The bot's single long-lived connection.

    Writes go through :meth:`transaction`, which serialises them inside the process (one
    connection is one transaction at a time) and uses ``BEGIN IMMEDIATE`` so that another
    process (the CLI, a backup) makes it wait rather than fail halfway.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn: aiosqlite.Connection | None = None
        self._write_lock = asyncio.Lock()

    @property
    def conn(self) -> aiosqlite.Connection:
        """The open connection."""
        if self._conn is None:
            raise RuntimeError("database is not open")
        return self._conn

    async def open(self) -> None:
        """Open the file, set the pragmas, check integrity and apply pending migrations.

        The file is created (or tightened) to mode 0600 before SQLite opens it, and a folder
        created for it gets 0700; SQLite gives the WAL and shared-memory files the database
        file's mode.
        """
        try:
            make_private(self.path)
            for companion in _companions(self.path):
                if companion.exists():
                    make_private(companion)
        except OSError as exc:
            raise DatabaseError(f"{self.path}: {exc.strerror or type(exc).__name__}") from None
        await self._check_before_writing()
        try:
            self._conn = await aiosqlite.connect(self.path, isolation_level=None)
            self._conn.row_factory = aiosqlite.Row
            await self._conn.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
            await self._conn.execute("PRAGMA journal_mode = WAL")
            await self._conn.execute("PRAGMA synchronous = NORMAL")
            await self._conn.execute("PRAGMA foreign_keys = ON")
            # Erased personal data is overwritten on disk, not just unlinked from the b-tree.
            await self._conn.execute("PRAGMA secure_delete = ON")
            await self._migrate()
        except sqlite3.DatabaseError as exc:
            await self.close()
            raise DatabaseError(f"{self.path}: {exc}") from None
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        """Close the connection (idempotent)."""
        if self._conn is not None:
            conn, self._conn = self._conn, None
            await conn.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """Run the block as one write transaction; roll back if it raises."""
        async with self._write_lock:
            conn = self.conn
            await self._begin_immediate(conn)
            try:
                yield conn
                await conn.execute("COMMIT")
            except BaseException:
                # A full disk or an I/O error may have ended the transaction already, or
                # left it open after a failed COMMIT: either way the next one starts clean.
                if conn.in_transaction:
                    try:
                        await conn.execute("ROLLBACK")
                    except sqlite3.Error as exc:
                        log.error("could not roll back (%s)", type(exc).__name__)
                raise

    async def write(self, sql: str, params: Params = ()) -> int:
        """Run one writing statement as a transaction of its own; return its row count.

        The same guarantees as :meth:`transaction` with a single statement - SQLite makes a
        statement outside ``BEGIN`` atomic and durable on its own - in one trip to the
        connection's thread instead of three. Every update passes through a few of these,
        and the write lock is held for as long as the trips take, so the difference shows
        as soon as many people write at once.
        """
        cursor = await self._write(sql, params)
        return int(cursor.rowcount)

    async def probe(self) -> None:
        """A write that changes nothing (the schema version set to itself); it raises what a
        real write would meet now, e.g. ``SQLITE_FULL`` on a full disk."""
        async with self._write_lock:
            rows = await self.conn.execute_fetchall("PRAGMA user_version")
            version = int(next(iter(rows))[0])
            await self.conn.execute(f"PRAGMA user_version = {version}")

    async def write_returning(self, sql: str, params: Params = ()) -> list[aiosqlite.Row]:
        """Like :meth:`write`, for a statement with ``RETURNING``: return its rows."""
        async with self._write_lock:
            return list(await self._locked(self.conn.execute_fetchall, sql, params))

    async def _write(self, sql: str, params: Params) -> aiosqlite.Cursor:
        async with self._write_lock:
            cursor: aiosqlite.Cursor = await self._locked(self.conn.execute, sql, params)
            return cursor

    async def _locked(self, run: Any, sql: str, params: Params) -> Any:
        """Run ``run(sql, params)``, retrying while another process holds the database."""
        for attempt in range(_LOCKED_RETRIES):
            try:
                return await run(sql, _bind(params))
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or attempt == _LOCKED_RETRIES - 1:
                    raise
                log.warning("database locked, retrying (attempt %d)", attempt + 1)
                await asyncio.sleep(0.2 * (attempt + 1))
        raise AssertionError("unreachable")  # pragma: no cover

    async def fetch_one(self, sql: str, params: Params = ()) -> aiosqlite.Row | None:
        """Run a read and return its first row."""
        rows = await self.fetch_all(sql, params)
        return rows[0] if rows else None

    async def fetch_all(self, sql: str, params: Params = ()) -> list[aiosqlite.Row]:
        """Run a read and return all rows, in one step on the connection's thread.

        Executing and fetching as two steps would let another task's write run on the same
        connection in between, while this statement is still open; SQLite's answer to a
        read is then undefined (seen: NULL in a NOT NULL column during a broadcast).
        """
        return list(await self.conn.execute_fetchall(sql, _bind(params)))

    async def _begin_immediate(self, conn: aiosqlite.Connection) -> None:
        # busy_timeout already waits; this only covers a lock held longer than that.
        for attempt in range(_LOCKED_RETRIES):
            try:
                await conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or attempt == _LOCKED_RETRIES - 1:
                    raise
                log.warning("database locked, retrying (attempt %d)", attempt + 1)
                await asyncio.sleep(0.2 * (attempt + 1))

    async def _check_before_writing(self) -> None:
        """Check the file's integrity on a read-only connection, before anything writes to it.

        A connection that may write could change a damaged file before the check refuses it:
        setting WAL mode rewrites the header, and closing the last connection copies the
        write-ahead log into the file. Read-only, a damaged file stays exactly as it is.
        """
        uri = f"{self.path.resolve().as_uri()}?mode=ro"
        try:
            conn = await aiosqlite.connect(uri, uri=True)
            try:
                rows = await conn.execute_fetchall("PRAGMA quick_check")
            finally:
                await conn.close()
        except sqlite3.DatabaseError as exc:
            if getattr(exc, "sqlite_errorcode", None) not in _DAMAGED:
                raise DatabaseError(f"{self.path}: {exc}") from None
            problem = str(exc)
        else:
            found = [line for row in rows for line in str(row[0]).splitlines()]
            found = [line for line in found if line != "ok" and not line.startswith("***")]
            if not found and rows:
                return
            problem = found[0] if found else "no answer to the integrity check"
        raise DatabaseError(damaged(self.path, problem))

    async def _migrate(self) -> None:
        migrations = _migrations()
        row = await self.fetch_one("PRAGMA user_version")
        current = int(row[0]) if row else 0
        if current > len(migrations):
            raise DatabaseError(
                f"{self.path}: schema version {current} is newer than this Lotsenbot "
                f"({len(migrations)}); upgrade the bot"
            )
        if current == len(migrations):
            return
        # Foreign keys are off while migrations run, as SQLite's procedure for changing a
        # table requires (rebuilding a table would otherwise cascade its deletion to every
        # row referring to it); each migration is checked before it commits.
        await self.conn.execute("PRAGMA foreign_keys = OFF")
        try:
            for version, (name, sql) in enumerate(migrations[current:], start=current + 1):
                log.info("applying migration %s", name)
                async with self.transaction() as conn:
                    # executescript would commit on its own; run statement by statement.
                    for statement in _statements(sql):
                        await conn.execute(statement)
                    if name in STEPS:
                        await STEPS[name](conn)
                    if await conn.execute_fetchall("PRAGMA foreign_key_check"):
                        raise DatabaseError(f"{self.path}: migration {name} broke a reference")
                    await conn.execute(f"PRAGMA user_version = {version}")
        finally:
            await self.conn.execute("PRAGMA foreign_keys = ON")


async def returned_id(cursor: aiosqlite.Cursor) -> int | None:
    """The id an ``INSERT … RETURNING id`` gave, or None when nothing was inserted."""
    row = await cursor.fetchone()
    await cursor.close()
    return int(row[0]) if row else None


#: SQLITE_CORRUPT and SQLITE_NOTADB: what a damaged (or foreign) file answers.
_DAMAGED = (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB)


#: SQLITE_FULL and SQLITE_IOERR (with its extended codes): the database could not write.
_STORAGE_FAULTS = (sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR)


def storage_fault(error: BaseException) -> str | None:
    """``SQLITE_FULL``, ``SQLITE_IOERR_WRITE``…: what kept the database from writing, if that
    is what ``error`` is (a full disk or an I/O error), else None."""
    code = getattr(error, "sqlite_errorcode", None)
    if isinstance(error, sqlite3.Error) and code is not None and code & 0xFF in _STORAGE_FAULTS:
        return str(getattr(error, "sqlite_errorname", "SQLITE_IOERR"))
    return None


def damaged(path: Path, problem: str) -> str:
    """The one line that refuses a damaged database and says how to restore a backup."""
    return (
        f"{path}: the database file is damaged ({problem}); the bot did not start and "
        f"changed nothing. Restore the latest copy made with 'lotsenbot backup': stop the bot, "
        f"move {path.name} and any {path.name}-wal and {path.name}-shm aside, copy the backup "
        f"to {path}, start the bot (README: Operating Lotsenbot, Backups)"
    )


def _companions(path: Path) -> tuple[Path, Path]:
    """The write-ahead log and the shared-memory index SQLite keeps beside ``path``."""
    return (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm"))


def _bind(params: Params) -> tuple[Any, ...] | Mapping[str, Any]:
    return params if isinstance(params, Mapping) else tuple(params)


def _migrations() -> list[tuple[str, str]]:
    folder = resources.files("bot.storage") / "migrations"
    files = sorted((f for f in folder.iterdir() if f.name.endswith(".sql")), key=lambda f: f.name)
    return [(f.name, f.read_text(encoding="utf-8")) for f in files]


def _statements(script: str) -> list[str]:
    statements: list[str] = []
    pending = ""
    for line in script.splitlines(keepends=True):
        if line.lstrip().startswith("--"):
            continue
        pending += line
        if sqlite3.complete_statement(pending):
            statements.append(pending.strip())
            pending = ""
    if pending.strip():
        raise DatabaseError(f"incomplete SQL statement in migration: {pending.strip()[:60]}")
    return statements


def backup_database(source: Path, target: Path) -> int:
    """Copy the database with SQLite's online backup API; safe while the bot writes.

    Returns the number of pages copied.
    """
    if not source.exists():
        raise DatabaseError(f"{source}: no database to back up")
    try:
        make_private(target, exclusive=True)  # 0600 before SQLite writes a byte to it
    except FileExistsError:
        raise DatabaseError(f"{target}: already exists; choose a new file") from None
    except OSError as exc:
        raise DatabaseError(f"{target}: {exc.strerror or type(exc).__name__}") from None
    src = sqlite3.connect(source, timeout=_BUSY_TIMEOUT_MS / 1000)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst, pages=256)
        return int(dst.execute("PRAGMA page_count").fetchone()[0])
    finally:
        dst.close()
        src.close()
