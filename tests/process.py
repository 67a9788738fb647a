"""Run the installed ``lotsenbot`` command as a separate process against the fake Bot API."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from bot.fakeapi import FakeBotAPI
from tests.conftest import CITY_FILE

LOTSENBOT = Path(sys.executable).parent / "lotsenbot"


def bot_env(api: FakeBotAPI | None, db_path: Path, **extra: str) -> dict[str, str]:
    """The environment an operator would set, pointing at the fake server."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "LOTSENBOT_"))}
    env.update(LOTSENBOT_DB=str(db_path), LOTSENBOT_CONFIG=str(CITY_FILE))
    if api is not None:
        env.update(TELEGRAM_BOT_TOKEN=api.token, TELEGRAM_API_URL=api.url)
    env.update(extra)
    return env


class BotProcess:
    """``lotsenbot run`` in a child process, with its output kept in a file."""

    def __init__(self, api: FakeBotAPI, db_path: Path, log_path: Path) -> None:
        self.api = api
        self.db_path = db_path
        self.log_path = log_path
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        """Start the process and wait until it long-polls for updates."""
        polls = len(self.api.calls_of("getUpdates"))
        with self.log_path.open("ab") as log:
            self.proc = await asyncio.create_subprocess_exec(
                str(LOTSENBOT), "run", env=bot_env(self.api, self.db_path), stdout=log, stderr=log
            )
        await self.api.wait_until(
            lambda: (
                len(self.api.calls_of("getUpdates")) > polls or self.proc.returncode is not None
            ),
            timeout=30,
        )
        assert self.proc.returncode is None, self.log_path.read_text()

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
