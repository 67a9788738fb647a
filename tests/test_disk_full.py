"""The database cannot write — its disk is full, or writing fails with an I/O error — while
the real ``lotsenbot run`` is working, on Telegram and on Signal.

Nothing it could not store is confirmed to Telegram (so Telegram keeps it), no Signal event
is dropped (it waits in memory), nobody gets a wrong answer, the log has one clear line and
the coordinators one alert, and once the disk writes again everything that came meanwhile is
handled: nothing lost, nothing twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import resource
import sqlite3
import subprocess
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import closing
from pathlib import Path

import pytest

from bot.config import CityConfig
from bot.i18n import language_name
from bot.storage.database import Database, storage_fault
from channels.signal.fakedaemon import FakeSignalDaemon
from channels.telegram.fakeapi import FakeBotAPI, FakeUser
from handlers import views
from tests.conftest import COORDINATOR_ID, eventually
from tests.process import LOTSENBOT, BotProcess, bot_env, city_file
from tests.scenario import label, t
from tests.test_signal import answer, listed
from tests.test_webhook import webhook_bot

PICKER = t("de").gettext("Please choose your language:")
AGREE = label("de", "✅ I agree")
FAULTS = ["disk full", "I/O error"]


class PipedBotProcess(BotProcess):
    """``lotsenbot run`` whose output goes to a pipe: a file could not be written either."""

    output = b""

    async def spawn(self) -> None:
        extra = {}
        if self.signal is not None:
            extra = {
                "LOTSENBOT_SIGNAL_URL": self.signal.url,
                "LOTSENBOT_SIGNAL_ACCOUNT": self.signal.account,
            }
        self.proc = await asyncio.create_subprocess_exec(
            str(LOTSENBOT),
            "run",
            env=bot_env(self.api, self.db_path, self.config, **extra),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        self._reader = asyncio.get_running_loop().create_task(self._read(self.proc))

    async def _read(self, proc: asyncio.subprocess.Process) -> None:
        assert proc.stdout is not None
        while chunk := await proc.stdout.read(4096):
            self.output += chunk

    def log(self) -> str:
        return self.output.decode(errors="replace")


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 16 MiB filesystem of its own, for the database (needs root, as CI has)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small filesystem for the database needs root (CI runs as root)")
    folder = tmp_path / "disk"
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=16m,mode=0700", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small filesystem here: {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def fill(folder: Path) -> Path:
    """Write a file until the filesystem has no byte left; return it."""
    filler = folder / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for size in (1 << 20, 1 << 14, 1 << 10, 1):
            chunk = b"x" * size
            with contextlib.suppress(OSError):
                while os.write(fd, chunk):
                    pass
        with pytest.raises(OSError) as full:
            os.write(fd, b"x")
        assert full.value.errno == errno.ENOSPC
    finally:
        os.close(fd)
    return filler


def break_writing(process: BotProcess, fault: str) -> Callable[[], None]:
    """Make the database's writes fail; return what makes them work again."""
    if fault == "disk full":
        # The write-ahead log emptied first: SQLite reuses the space a log already has, so a
        # full disk shows only once the log must grow; from an empty one, at the next write.
        with closing(sqlite3.connect(process.db_path)) as conn:
            assert conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0] == 0
        filler = fill(process.db_path.parent)
        return filler.unlink
    # Any write to a file at offset 0 or later now fails with EFBIG: SQLite's I/O error.
    assert process.proc is not None
    pid = process.proc.pid
    before = resource.prlimit(pid, resource.RLIMIT_FSIZE)
    resource.prlimit(pid, resource.RLIMIT_FSIZE, (0, before[1]))
    return lambda: resource.prlimit(pid, resource.RLIMIT_FSIZE, before)


def bot_process(
    api: FakeBotAPI,
    tmp_path: Path,
    fault: str,
    request: pytest.FixtureRequest,
    signal: FakeSignalDaemon | None = None,
) -> BotProcess:
    """The bot, its database on a small disk (to fill) or its output on a pipe (when every
    file write fails)."""
    config = city_file(tmp_path, telegram_ids=f"[{COORDINATOR_ID}]")
    if fault == "disk full":
        disk: Path = request.getfixturevalue("small_disk")
        db = disk / "lotsenbot.sqlite3"
        return BotProcess(api, db, tmp_path / "bot.log", config, signal=signal)
    db = tmp_path / "lotsenbot.sqlite3"
    return PipedBotProcess(api, db, tmp_path / "bot.log", config, signal=signal)


def rows(db_path: Path, sql: str) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(db_path)) as conn:
        return [tuple(row) for row in conn.execute(sql).fetchall()]


def inbox(db_path: Path) -> list[tuple[int, int, bool]]:
    found = rows(
        db_path, "SELECT update_id, attempts, done_at IS NOT NULL FROM inbox ORDER BY update_id"
    )
    return [(int(str(u)), int(str(a)), bool(d)) for u, a, d in found]


def consent_screens(user: FakeUser) -> int:
    return sum(1 for m in user.bot_messages() if m.button_labels()[:1] == [AGREE])


def assert_logged_once(log: str) -> None:
    """One clear line when the fault began, one when it ended, no apology or error besides."""
    cannot = [line for line in log.splitlines() if "the database cannot write (" in line]
    assert len(cannot) == 1, log
    assert "free space" in cannot[0] and "SQLITE_" in cannot[0]
    assert log.count("the database cannot write: over after") == 1, log
    assert "unexpected" not in log and "could not" not in log, log


def over(process: BotProcess) -> str:
    """What the log says at the end of the outage (for the README's figures)."""
    return next(line for line in process.log().splitlines() if "over after" in line)


@pytest.fixture
async def processes() -> AsyncIterator[list[BotProcess]]:
    started: list[BotProcess] = []
    yield started
    for process in started:
        if process.proc is not None and process.proc.returncode is None:
            await process.kill()


@pytest.fixture
async def daemon() -> AsyncIterator[FakeSignalDaemon]:
    server = FakeSignalDaemon()
    await server.start()
    yield server
    await server.stop()


@pytest.mark.parametrize("fault", FAULTS)
async def test_a_database_that_cannot_write_loses_nothing_and_carries_on_by_itself(
    api: FakeBotAPI,
    tmp_path: Path,
    processes: list[BotProcess],
    fault: str,
    request: pytest.FixtureRequest,
) -> None:
    process = bot_process(api, tmp_path, fault, request)
    processes.append(process)
    await process.start()
    coordinator = api.user(COORDINATOR_ID, "Koordination", language_code="de")
    samira, jonas, lena = (api.user(6001 + i, n) for i, n in enumerate(["Samira", "Jonas", "Lena"]))
    await samira.send("/start")
    await samira.wait_for_text(PICKER)

    # Jonas's /start is stored and being answered when the disk stops writing.
    api.hold("sendMessage")
    await jonas.send("/start")
    await api.wait_until(lambda: api.held)
    end_fault = break_writing(process, fault)
    api.release("sendMessage")
    await jonas.wait_for_text(PICKER)

    # Meanwhile: Samira picks German, Lena writes for the first time. Neither can be stored.
    await samira.press(data="lang:de")
    first_unstored = api.last_update_id
    await lena.send("/start")
    alert = await coordinator.wait_for_message(lambda m: "SQLITE_" in m.text)
    assert "⚠️" in alert.text
    polls = api.polls
    await api.wait_until(lambda: api.polls >= polls + 3, timeout=30)  # asked again, backing off
    assert api.confirmed <= first_unstored  # Telegram keeps them
    assert [m.edits for m in samira.bot_messages()] == [0]  # no answer, no apology
    assert lena.bot_messages() == []
    assert len(jonas.bot_messages()) == 1

    began = time.monotonic()
    end_fault()  # the disk writes again: everything is handled, in order, once
    await samira.wait_for_message(lambda m: m.button_labels()[:1] == [AGREE])
    await lena.wait_for_text(PICKER)
    caught_up = time.monotonic() - began
    await eventually(lambda: all(done for _, _, done in inbox(process.db_path)), timeout=30)
    assert [u for u, _, _ in inbox(process.db_path)] == list(range(1, api.last_update_id + 1))
    assert api.confirmed == api.last_update_id + 1
    assert consent_screens(samira) == 1 and len(jonas.bot_messages()) == 1
    assert len(lena.bot_messages()) == 1
    alerts = [m for m in coordinator.bot_messages() if "SQLITE_" in m.text]
    assert alerts == [alert]  # one alert

    assert await process.terminate() == 0
    assert_logged_once(process.log())
    print(
        f"\n{fault} on Telegram: caught up {caught_up:.1f} s after the disk wrote again;",
        over(process),
    )

    # After a restart nothing is handled again; the bot goes on as before.
    await process.start()
    await lena.press(data="lang:de")
    await lena.wait_for_message(lambda m: m.button_labels()[:1] == [AGREE])
    await eventually(lambda: all(done for _, _, done in inbox(process.db_path)))
    assert await process.terminate() == 0
    assert consent_screens(samira) == 1 and len(jonas.bot_messages()) == 1
    assert len(alerts) == 1 and len(samira.bot_messages()) == 2
    assert rows(process.db_path, "PRAGMA integrity_check") == [("ok",)]
    assert inbox(process.db_path)[-1][1] == 1  # handled at the first attempt


@pytest.mark.parametrize("fault", FAULTS)
async def test_a_signal_event_that_cannot_be_stored_waits_in_memory_and_is_handled_once(
    api: FakeBotAPI,
    daemon: FakeSignalDaemon,
    tmp_path: Path,
    processes: list[BotProcess],
    fault: str,
    request: pytest.FixtureRequest,
) -> None:
    process = bot_process(api, tmp_path, fault, request, signal=daemon)
    processes.append(process)
    await process.start()
    coordinator = api.user(COORDINATOR_ID, "Koordination", language_code="de")
    olena, amal = daemon.user("+4917011112222", "Olena"), daemon.user("+4917033334444", "Amal")
    await olena.send("Привіт")
    picker = await olena.wait_for_message(lambda m: language_name("uk") in listed(m))
    await eventually(lambda: done_events(process.db_path) == [True])

    # Amal's first message is stored and being answered when the disk stops writing: the
    # picker goes out, but the screen's numbers cannot be recorded.
    daemon.hold("send")
    await amal.send("Hallo")
    await daemon.wait_until(lambda: daemon.held.get("send"))
    end_fault = break_writing(process, fault)
    daemon.release("send")
    await amal.wait_for_message(lambda m: language_name("de") in listed(m))
    # Olena picks Ukrainian: signal-cli hands it over (and Signal's servers forget it); it
    # cannot be stored.
    delivered = daemon.delivered
    await answer(olena, language_name("uk"), "uk")
    await daemon.wait_until(lambda: daemon.delivered > delivered)
    alert = await coordinator.wait_for_message(lambda m: "SQLITE_" in m.text)
    assert "⚠️" in alert.text
    assert olena.bot_messages() == [picker]  # no answer

    began = time.monotonic()
    end_fault()  # the disk writes again: Olena's choice is stored, Amal's answered again
    consent = label("uk", "✅ I agree")
    await olena.wait_for_message(lambda m: consent in listed(m), timeout=60)
    caught_up = time.monotonic() - began
    await eventually(lambda: all(done_events(process.db_path)), timeout=30)
    # Amal answers the screen she has: her number means German.
    await answer(amal, language_name("de"), "de")
    await amal.wait_for_message(lambda m: label("de", "✅ I agree") in listed(m))
    await eventually(lambda: all(done_events(process.db_path)), timeout=30)
    assert len(done_events(process.db_path)) == 4  # each event once
    sorry = views.apology(t("uk")), views.apology(t("de"))
    for person in (olena, amal):  # nobody was answered with an apology or half a step
        texts = [m.text for m in person.bot_messages()]
        assert not any(apology in text for text in texts for apology in sorry), texts
    texts = [m.text for m in olena.bot_messages()]
    assert len(texts) == len(set(texts)), texts  # nothing twice
    # Amal's picker went out, then its numbers could not be recorded: handled again once the
    # disk wrote, it came once more (the one she answers), not at every try meanwhile.
    pickers = [
        call
        for call in daemon.calls_of("send")
        if call.params.get("recipient") == [amal.uuid]
        and "editTimestamp" not in call.params
        and language_name("de") in str(call.params.get("message"))
    ]
    assert len(pickers) == 2, [m.text[:60] for m in amal.bot_messages()]
    assert sum(1 for m in olena.bot_messages() if consent in listed(m)) == 1
    assert [m for m in coordinator.bot_messages() if "SQLITE_" in m.text] == [alert]

    assert await process.terminate() == 0
    assert_logged_once(process.log())
    assert rows(process.db_path, "PRAGMA integrity_check") == [("ok",)]
    assert not daemon.violations
    print(
        f"\n{fault} on Signal: caught up {caught_up:.1f} s after the disk wrote again;",
        over(process),
    )


def done_events(db_path: Path) -> list[bool]:
    """For each Signal event stored, in order, whether it was handled."""
    return [
        bool(done)
        for (done,) in rows(db_path, "SELECT done_at IS NOT NULL FROM stamped_inbox ORDER BY id")
    ]


async def test_a_transaction_that_meets_a_full_disk_says_so_and_leaves_none_open(
    small_disk: Path,
) -> None:
    db = Database(small_disk / "lotsenbot.sqlite3")
    await db.open()
    try:
        with closing(sqlite3.connect(db.path)) as conn:
            assert conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0] == 0
        filler = fill(small_disk)
        # More than the page cache holds: SQLite writes to the log before the COMMIT, fails
        # there, and ends the transaction itself.
        ballast = "x" * (4 << 20)
        with pytest.raises(sqlite3.OperationalError) as failed:
            async with db.transaction() as conn:
                await conn.execute(
                    "INSERT INTO inbox (update_id, payload, received_at) VALUES (1, ?, '')",
                    (ballast,),
                )
        assert storage_fault(failed.value) == "SQLITE_FULL"  # not "cannot rollback"
        assert not db.conn.in_transaction
        filler.unlink()
        async with db.transaction() as conn:  # the next one starts clean
            await conn.execute(
                "INSERT INTO inbox (update_id, payload, received_at) VALUES (2, '{}', '')"
            )
        assert [tuple(row) for row in await db.fetch_all("SELECT update_id FROM inbox")] == [(2,)]
    finally:
        await db.close()


async def test_a_webhook_update_that_cannot_be_stored_is_refused_and_taken_when_sent_again(
    api: FakeBotAPI, city: CityConfig, small_disk: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with webhook_bot(api, city, small_disk) as _:
        coordinator = api.user(COORDINATOR_ID, "Koordination", language_code="de")
        samira, jonas = api.user(6101, "Samira"), api.user(6102, "Jonas")
        await samira.send("/start")
        await samira.wait_for_text(PICKER)
        db_path = small_disk / "bot.sqlite3"
        with closing(sqlite3.connect(db_path)) as conn:
            assert conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0] == 0
        filler = fill(small_disk)
        caplog.clear()
        await jonas.send("/start")
        await eventually(lambda: api.webhook_answers.count(503) >= 3)  # sent again
        await coordinator.wait_for_message(lambda m: "SQLITE_" in m.text)
        assert jonas.bot_messages() == []
        filler.unlink()
        await jonas.wait_for_text(PICKER)
        await eventually(lambda: all(done for _, _, done in inbox(db_path)))
        assert len(jonas.bot_messages()) == 1
        assert set(api.webhook_answers) == {200, 503}  # refused, never failed with a 500
        errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
        assert len(errors) == 1 and "the database cannot write (" in errors[0], errors
