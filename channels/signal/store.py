"""The files signal-cli keeps of what people sent, erased when nothing needs them any more.

signal-cli writes every attachment it receives to its ``attachments`` folder, named by the
attachment's id, and keeps it: the bot reads it from there (``getAttachment``) to pass it
on. The bot's database says which ids a request, a broadcast or an event not yet handled
still needs; every other file is erased once it is older than :data:`GRACE` (signal-cli
writes a file just before it hands the event over).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Collection
from pathlib import Path

__all__ = ["GRACE", "AttachmentStore"]

log = logging.getLogger(__name__)

#: A file this young may belong to an event on its way to the bot.
GRACE = 600.0


class AttachmentStore:
    """signal-cli's ``attachments`` folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def sweep(self, needed: Collection[str], now: float | None = None) -> int:
        """Erase every file no one needs (not in ``needed``, older than :data:`GRACE`);
        return how many."""
        now = time.time() if now is None else now
        erased = 0
        try:
            files = list(self.folder.iterdir())
        except FileNotFoundError:
            return 0  # nothing received yet
        except OSError as exc:
            log.warning("cannot read signal-cli's attachments folder: %s", type(exc).__name__)
            return 0
        for path in files:
            try:
                if path.name in needed or not path.is_file():
                    continue
                if now - path.stat().st_mtime < GRACE:
                    continue
                path.unlink()
                erased += 1
            except FileNotFoundError:
                continue
            except OSError as exc:
                log.warning("cannot erase a Signal attachment: %s", type(exc).__name__)
        if erased:
            log.info("erased %d Signal attachment(s) no request needs", erased)
        return erased
