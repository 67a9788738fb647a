"""Run the installed ``lotsenbot`` command as a separate process against the fake Bot API
(and the local signal-cli daemon, if given)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from channels.signal.fakedaemon import FakeSignalDaemon
from channels.telegram.fakeapi import FakeBotAPI
from tests.conftest import CITY_FILE


def city_file(folder: Path, **settings: str) -> Path:
    """A copy of Dorsten's city file with some ``key = value`` lines changed.

    ``settings`` maps a key (as written in the file) to its new TOML value.
    """
    text = CITY_FILE.read_text(encoding="utf-8")
    for key, value in settings.items():
        lines = text.splitlines()
        matches = [i for i, line in enumerate(lines) if line.split("=")[0].strip() == key]
        assert matches, key
        lines[matches[0]] = f"{key} = {value}"
        text = "\n".join(lines) + "\n"
    path = folder / "city.toml"
    path.write_text(text, encoding="utf-8")
    return path


LOTSENBOT = Path(sys.executable).parent / "lotsenbot"


def bot_env(
    api: FakeBotAPI | None, db_path: Path, config: Path = CITY_FILE, **extra: str
) -> dict[str, str]:
    """The environment an operator would set, pointing at the fake server."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "LOTSENBOT_"))}
    env.update(LOTSENBOT_DB=str(db_path), LOTSENBOT_CONFIG=str(config))
    if api is not None:
        env.update(TELEGRAM_BOT_TOKEN=api.token, TELEGRAM_API_URL=api.url)
    env.update(extra)
    return env


class BotProcess:
    """``lotsenbot run`` in a child process, with its output kept in a file; on Telegram, and
    on Signal too when a ``signal`` daemon is given."""

    def __init__(
        self,
        api: FakeBotAPI,
        db_path: Path,
        log_path: Path,
        config: Path = CITY_FILE,
        signal: FakeSignalDaemon | None = None,
        args: tuple[str, ...] = (),
    ) -> None:
        self.api = api
        #: More arguments of ``lotsenbot run`` (e.g. ``--console 127.0.0.1:8090``).
        self.args = args
        self.db_path = db_path
        self.log_path = log_path
        self.config = config
        self.signal = signal
        self.proc: asyncio.subprocess.Process | None = None

    async def spawn(self) -> None:
        """Start the process without waiting for it (it may be killed while starting)."""
        # A second process on the same database and the same fake servers would hide bugs
        # (and outlive the test).
        assert self.proc is None or self.proc.returncode is not None, "the bot runs already"
        extra = {}
        if self.signal is not None:
            extra = {
                "LOTSENBOT_SIGNAL_URL": self.signal.url,
                "LOTSENBOT_SIGNAL_ACCOUNT": self.signal.account,
            }
        with self.log_path.open("ab") as log:
            self.proc = await asyncio.create_subprocess_exec(
                str(LOTSENBOT),
                "run",
                *self.args,
                env=bot_env(self.api, self.db_path, self.config, **extra),
                stdout=log,
                stderr=log,
            )

    async def start(self, timeout: float = 30) -> None:
        """Start the process and wait until it long-polls for updates (and has opened
        signal-cli's event stream)."""
        polls = self.api.polls
        streams = self.signal.connects if self.signal is not None else 0
        await self.spawn()
        proc = self.proc
        assert proc is not None
        await self.api.wait_until(
            lambda: self.api.polls > polls or proc.returncode is not None, timeout=timeout
        )
        if self.signal is not None:
            signal = self.signal
            await signal.wait_until(
                lambda: signal.connects > streams or proc.returncode is not None, timeout=timeout
            )
        assert proc.returncode is None, self.log_path.read_text()

    async def kill(self) -> None:
        """SIGKILL: no clean-up, no last words."""
        assert self.proc is not None
        self.proc.kill()
        await self.proc.wait()

    async def terminate(self, timeout: float = 30) -> int:
        """SIGTERM and wait for the exit status."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.proc.wait(), timeout)

    def log(self) -> str:
        """What the process wrote."""
        return self.log_path.read_text(errors="replace")
