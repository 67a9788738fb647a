"""Files that may hold personal data: readable by the service user only, whatever the umask.

The database, its write-ahead log, backups, exports and the demo's chats are created with
mode 0600 and the folders the bot creates for them with 0700. SQLite gives the ``-wal`` and
``-shm`` files the permissions of the database file, so a private database has a private log.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

__all__ = ["PRIVATE_DIR", "PRIVATE_FILE", "make_private", "private_dir", "write_private"]

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700


def private_dir(path: Path) -> None:
    """Create the folder and its missing parents with mode 0700; existing ones stay as they are."""
    missing: list[Path] = []
    while not path.exists():
        missing.append(path)
        if path.parent == path:
            break
        path = path.parent
    for folder in reversed(missing):
        folder.mkdir(mode=PRIVATE_DIR, exist_ok=True)
        os.chmod(folder, PRIVATE_DIR)  # mkdir's mode passes through the umask


def make_private(path: Path, *, exclusive: bool = False) -> None:
    """Create ``path`` as an empty file with mode 0600, or make an existing one 0600.

    With ``exclusive``, an existing file is an error (FileExistsError). Missing folders are
    created with :func:`private_dir`.
    """
    os.close(_open_private(path, os.O_WRONLY | (os.O_EXCL if exclusive else 0)))


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` (replacing what it held) as a file with mode 0600."""
    with os.fdopen(_open_private(path, os.O_WRONLY | os.O_TRUNC), "wb") as out:
        out.write(data)


def _open_private(path: Path, flags: int) -> int:
    private_dir(path.parent)
    fd = os.open(path, flags | os.O_CREAT, PRIVATE_FILE)
    try:
        if stat.S_IMODE(os.fstat(fd).st_mode) != PRIVATE_FILE:
            os.fchmod(fd, PRIVATE_FILE)  # created through an unusual umask, or an older file
    except BaseException:
        os.close(fd)
        raise
    return fd
