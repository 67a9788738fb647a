"""The offline demo running in this event loop, and a client for its page's JSON API."""

from __future__ import annotations

import asyncio
import atexit
import dataclasses
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from aiohttp import ClientSession

from bot.config import load_city
from demo.web import run_demo
from tests.conftest import CITY_FILE, eventually

JSON = dict[str, Any]


@dataclasses.dataclass
class DemoClient:
    """Talks to the demo page's API as the page's own script does."""

    url: str
    session: ClientSession
    version: int = -1

    async def state(self, *, wait: bool = False) -> JSON:
        """The page's state; with ``wait``, the next one after the last seen."""
        after = self.version if wait else -1
        async with self.session.get(f"{self.url}/api/state", params={"after": after}) as r:
            assert r.status == 200, await r.text()
            state: JSON = await r.json()
        self.version = state["version"]
        return state

    async def until(self, predicate: Callable[[JSON], object], timeout: float = 20.0) -> JSON:
        """Wait for a state for which ``predicate`` holds."""

        async def check() -> JSON:
            state = await self.state()
            while not predicate(state):
                state = await self.state(wait=True)
            return state

        return await asyncio.wait_for(check(), timeout)

    async def post(self, path: str, body: JSON, status: int = 200) -> JSON:
        """POST JSON to the API and check the status."""
        async with self.session.post(f"{self.url}{path}", json=body) as r:
            assert r.status == status, await r.text()
            return await r.json() if status == 200 else {}


def phone(state: JSON, name: str) -> JSON:
    """The phone of the person called ``name``."""
    return next(p for p in state["phones"] if p["name"] == name)


def ready(state: JSON) -> bool:
    """Whether the world is seeded and the bot runs."""
    return state["status"] == "ready"


@asynccontextmanager
async def running_demo(db_path: Path) -> AsyncIterator[DemoClient]:
    """``lotsenbot demo`` in process on a free port, with its database at ``db_path``."""
    stop = asyncio.Event()
    urls: list[str] = []
    task = asyncio.create_task(
        run_demo(db_path, CITY_FILE, load_city(CITY_FILE), port=0, stop=stop, ready=urls.append)
    )
    await eventually(lambda: urls or task.done())
    if task.done():
        task.result()
    try:
        async with ClientSession() as session:
            yield DemoClient(urls[0], session)
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


_template: list[Path] = []


async def seeded_copy(directory: Path) -> Path:
    """A copy of a demo world seeded once per test run; starting it is the restart path.

    Seeding takes a couple of seconds; tests that are not about seeding start from a copy.
    """
    if not _template:
        home = Path(tempfile.mkdtemp(prefix="lotsenbot-demo-"))
        atexit.register(shutil.rmtree, home, ignore_errors=True)
        async with running_demo(home / "demo.sqlite3") as demo:
            await demo.until(ready)
        _template.append(home)
    for source in _template[0].iterdir():
        shutil.copy(source, directory / source.name)
    return directory / "demo.sqlite3"
