"""Logging without personal data, at every level.

Our own messages are written to name only ids and counts; an error in them is shown as its
type and code location, never its message or traceback (either can quote what a person
wrote). The libraries' messages cannot be vetted: at DEBUG python-telegram-bot logs every
request with its text and chat id, aiosqlite every statement with its parameters, httpx
every URL with the bot token. So every record a library makes is reduced to its logger
name, its level and a fixed text (plus the type and location of an error).

:func:`install` does both in one place, for every record the process creates, so it holds
for any handler, level or configuration added later.
"""

from __future__ import annotations

import logging
import traceback
from typing import Any

__all__ = ["LIBRARIES", "WITHHELD", "describe", "install", "redact", "where"]

#: Loggers whose messages we write ourselves (and keep).
OURS = ("bot", "handlers", "channels", "demo", "bench")
#: Libraries we use that log; kept at WARNING unless someone sets a level on purpose.
LIBRARIES = ("telegram", "httpx", "httpcore", "aiohttp", "aiosqlite", "apscheduler", "asyncio")
WITHHELD = "message withheld (may contain personal data)"


def where(error: BaseException) -> str:
    """The traceback's frames, innermost first, without the exception message."""
    frames = traceback.extract_tb(error.__traceback__)
    return " <- ".join(f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno} {f.name}" for f in frames[::-1])


def describe(error: BaseException) -> str:
    """``TypeName at file:line function <- …``: what a log line may say about an error."""
    location = where(error)
    return f"{type(error).__name__} at {location}" if location else type(error).__name__


def _ours(name: str) -> bool:
    return any(name == own or name.startswith(own + ".") for own in OURS)


def _no_exceptions(value: Any) -> Any:
    return type(value).__name__ if isinstance(value, BaseException) else value


def redact(record: logging.LogRecord) -> None:
    """Strip from ``record`` what may be personal data (see the module's description)."""
    error = record.exc_info[1] if record.exc_info else None
    if _ours(record.name):
        if isinstance(record.args, tuple):
            record.args = tuple(_no_exceptions(a) for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: _no_exceptions(v) for k, v in record.args.items()}
        if error is not None:
            note = f" [{describe(error)}]"
            record.msg = f"{record.msg}{note.replace('%', '%%') if record.args else note}"
    else:
        record.msg = f"{WITHHELD} [{describe(error)}]" if error is not None else WITHHELD
        record.args = ()
    record.exc_info = None
    record.exc_text = None
    record.stack_info = None


def install() -> None:
    """Redact every record from now on; quiet the libraries' chatter (idempotent)."""
    current = logging.getLogRecordFactory()
    if not getattr(current, "redacts", False):

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = current(*args, **kwargs)
            redact(record)
            return record

        factory.redacts = True  # type: ignore[attr-defined]
        logging.setLogRecordFactory(factory)
    for name in LIBRARIES:
        library = logging.getLogger(name)
        if library.level == logging.NOTSET:
            # INFO would be a withheld line per request (httpx) or per minute (apscheduler).
            library.setLevel(logging.WARNING)
