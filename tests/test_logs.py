"""No log record holds personal data, at any level, from our code or from a library."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.clock import ManualClock
from bot.domain.broadcasts import Broadcast
from bot.domain.mailings import Mailing, Recipient
from bot.logs import LIBRARIES, WITHHELD
from bot.services.schedule import Schedule
from bot.storage.database import Database
from bot.storage.timers import TimersRepository
from channels.telegram.fakeapi import FakeBotAPI
from handlers.mailer import MessengerMailer
from handlers.port import Sent
from tests.conftest import COORDINATOR_ID, RunningBot, eventually
from tests.scenario import ask_for_lotse, become_lotse, invite_codes, label, onboard

MARKER = "Kx7Qz-unique-marker"
NAME = "Zuleika"
SURNAME = "Quennhoffer"
PHONE = "+49 170 5550123"
REFUGEE_ID = 731942586
LOTSE_ID = 684215379


def everything(records: list[logging.LogRecord], text: str) -> str:
    """All a handler could print of the records: messages, arguments, tracebacks, stacks."""
    parts = [text]
    for record in records:
        parts += [record.getMessage(), repr(record.args), record.exc_text or ""]
        parts.append(record.stack_info or "")
        if record.exc_info:
            parts.append(logging.Formatter().formatException(record.exc_info))
    return "\n".join(parts)


def assert_nothing_personal(caplog: pytest.LogCaptureFixture, *secrets: str) -> None:
    logged = everything(caplog.records, caplog.text)
    for secret in secrets:
        assert secret not in logged, secret
    tracebacks = [r.name for r in caplog.records if r.exc_info or r.exc_text or r.stack_info]
    assert not tracebacks, tracebacks


async def test_a_whole_case_and_a_failing_mailing_log_nothing_personal_even_at_debug(
    running: RunningBot, api: FakeBotAPI, caplog: pytest.LogCaptureFixture
) -> None:
    # An operator debugging the bot turns everything up, the libraries included.
    caplog.set_level(logging.DEBUG)
    for library in LIBRARIES:
        caplog.set_level(logging.DEBUG, logger=library)

    coordinator = api.user(COORDINATOR_ID, "Koordination", language_code="de")
    await onboard(coordinator, "de")
    code = (await invite_codes(api, 1))[0]
    lotse = await become_lotse(api, LOTSE_ID, "Yusuf", ["ar", "de"], code)
    refugee = api.user(REFUGEE_ID, f"{NAME} {SURNAME}", language_code="ar")
    await onboard(refugee, "ar")
    await ask_for_lotse(refugee, "ar", text=f"{MARKER}: ruft mich an {PHONE}", name=NAME)
    await lotse.wait_for_text(MARKER)
    await lotse.press(label("ar", "✅ Accept"))
    await refugee.wait_for_text("Yusuf")
    await refugee.send(f"{MARKER} second message, {SURNAME}")
    await lotse.wait_for_text(f"{MARKER} second message")

    # A copy of a broadcast cannot be rendered, and the error quotes its recipient.
    mailer = running.timers.mailings.mailer
    assert isinstance(mailer, MessengerMailer)

    async def broken(mailing: Mailing, content: object, recipient: Recipient) -> Sent:
        raise ValueError(f"cannot render {MARKER} for {recipient.contact} ({SURNAME})")

    mailer.register(Broadcast, broken)
    await coordinator.send("/broadcast")
    await coordinator.wait_for_text("📢")
    await coordinator.send(f"Stammtisch {MARKER}")
    await coordinator.press(data="bc:aud:lotsen")
    await coordinator.press(data="bc:send")
    failed = "could not be rendered or sent"
    await eventually(lambda: any(failed in r.getMessage() for r in caplog.records))

    assert_nothing_personal(
        caplog,
        MARKER,
        NAME,
        SURNAME,
        PHONE,
        PHONE.replace(" ", ""),
        "5550123",
        str(REFUGEE_ID),
        str(LOTSE_ID),
        api.token,
        api.token.split(":")[1],
    )
    failure = next(r for r in caplog.records if failed in r.getMessage())
    assert failure.name == "bot.services.mailings" and failure.levelno == logging.ERROR
    assert "ValueError at test_logs.py:" in failure.getMessage()  # type and place only
    # The libraries did speak at DEBUG, and were reduced to their name and level.
    spoke = {r.name.split(".")[0] for r in caplog.records if r.getMessage() == WITHHELD}
    assert {"telegram", "aiosqlite"} <= spoke, spoke


@pytest.fixture
def plain_records() -> Iterator[None]:
    """Records as the logging module makes them, without the bot's redaction (see test)."""
    factory = logging.getLogRecordFactory()
    logging.setLogRecordFactory(logging.LogRecord)
    try:
        yield
    finally:
        logging.setLogRecordFactory(factory)


async def test_a_failing_timer_is_logged_by_type_and_place_alone(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, plain_records: None
) -> None:
    """The schedule's own line carries no exception message, with or without redaction."""
    caplog.set_level(logging.DEBUG)
    db = Database(tmp_path / "bot.sqlite3")
    await db.open()
    clock = ManualClock()

    class Failing:
        async def on_timer(self, what: str, subject: int, due: object, now: object) -> None:
            raise KeyError(f"{NAME} {SURNAME} {PHONE} {REFUGEE_ID}")

    try:
        timers = TimersRepository(db)
        await timers.set("reminder:before", 42, clock.now() - timedelta(minutes=1))
        schedule = Schedule(timers, {"reminder": Failing()}, clock)
        assert await schedule.run_due() == 0
        assert await timers.pending("reminder:before", 42) is not None  # retried later
    finally:
        await db.close()
    assert_nothing_personal(caplog, NAME, SURNAME, PHONE, str(REFUGEE_ID))
    line = next(r for r in caplog.records if r.name == "bot.services.schedule")
    assert "KeyError at test_logs.py:" in line.getMessage()
