"""The office console in tests: the real bot with its console on a free loopback port, a
coordinator who asks for a sign-in link in the (fake) Telegram chat, and a browser-like
HTTP client with a cookie jar.

    async with console_bot(api, city, tmp_path) as desk:
        browser = await desk.signed_in()           # /console in the chat, link, Sign in
        page = await browser.get("/")               # status and HTML of a page
        token = await browser.csrf("/")             # the CSRF token of a page's forms
        done = await browser.post("/somewhere", {"field": "value"})  # csrf added

``desk.bot`` is the :class:`tests.conftest.RunningBot` (its clock, ``advance``, ``db``).
"""

from __future__ import annotations

import re
import socket
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import aiohttp
from aiohttp import web

from bot.clock import ManualClock
from bot.config import CityConfig
from bot.services import Services
from channels.console.server import create_app
from channels.signal.fakedaemon import FakeSignalDaemon
from channels.telegram.fakeapi import FakeBotAPI
from handlers.port import Switchboard
from tests.conftest import COORDINATOR_ID, RunningBot, start_bot

__all__ = [
    "Browser",
    "ConsoleBot",
    "Page",
    "Route",
    "console_bot",
    "free_port",
    "link_in",
    "registered_routes",
]

_CSRF = re.compile(r'<input type="hidden" name="csrf" value="([^"]+)">')


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def link_in(text: str, base: str) -> str | None:
    """The sign-in link in a bot message's text."""
    found = re.search(re.escape(base) + r"/signin/[A-Za-z0-9_-]+", text)
    return found.group(0) if found else None


@dataclass(frozen=True, slots=True)
class Route:
    """A route of the console as registered, with an address to try it at."""

    method: str
    name: str | None
    #: The path with every parameter filled in with ``1``.
    path: str
    public: bool


_PARAMETER = re.compile(r"\{[A-Za-z_]+(?::[^}]*)?\}")


def registered_routes() -> list[Route]:
    """Every route the console's application registers (its pages included), the static
    files as one route to ``console.css``."""
    from channels.console.auth import PUBLIC

    # The routes are registered without touching the services: none are needed to list them.
    app = create_app(cast(Services, None), Switchboard({}), "http://127.0.0.1")
    found = []
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource is not None else {}
        if isinstance(route.resource, web.StaticResource):
            path = str(info["prefix"]) + "/console.css"
        else:
            template = str(info.get("formatter") or info.get("path"))
            path = _PARAMETER.sub("1", template)
        name = route.resource.name if route.resource is not None else None
        found.append(Route(route.method, name, path, name in PUBLIC))
    return found


@dataclass(frozen=True, slots=True)
class Page:
    """A response as a test reads it."""

    status: int
    html: str
    headers: Mapping[str, str]
    #: Where a redirect pointed (the response was not followed).
    location: str | None
    #: The body as it came (an image, a spreadsheet); ``html`` is it decoded.
    body: bytes = b""


class Browser:
    """One browser: its own cookie jar; redirects are not followed (read ``location``)."""

    def __init__(self, base: str, headers: Mapping[str, str] | None = None) -> None:
        self.base = base
        self.http = aiohttp.ClientSession(
            cookie_jar=aiohttp.CookieJar(unsafe=True), headers=dict(headers or {})
        )

    def url(self, path: str) -> str:
        """``path`` (``/requests``) or a full address."""
        return path if path.startswith("http") else self.base + path

    async def request(self, method: str, path: str, data: Mapping[str, str] | None = None) -> Page:
        """Any request, as it comes back."""
        async with self.http.request(
            method, self.url(path), data=data, allow_redirects=False
        ) as response:
            body = await response.read()
            return Page(
                response.status,
                body.decode(response.get_encoding(), "replace"),
                dict(response.headers),
                response.headers.get("Location"),
                body,
            )

    async def get(self, path: str) -> Page:
        """GET a page."""
        return await self.request("GET", path)

    async def csrf(self, path: str = "/") -> str:
        """The CSRF token in the forms of the page at ``path``."""
        page = await self.get(path)
        found = _CSRF.search(page.html)
        assert found is not None, f"no form with a CSRF token on {path} ({page.status})"
        return found.group(1)

    async def post(
        self, path: str, data: Mapping[str, str] | None = None, *, csrf: str | None = None
    ) -> Page:
        """POST a form with the CSRF token of the overview (or ``csrf``)."""
        token = csrf if csrf is not None else await self.csrf("/")
        return await self.request("POST", path, {**(data or {}), "csrf": token})

    async def sign_in(self, link: str) -> Page:
        """Open a sign-in link and press *Sign in*, as a person would."""
        page = await self.get(link)
        assert page.status == 200, page.status
        token = link.rsplit("/", 1)[1]
        found = _CSRF.search(page.html)
        assert found is not None
        return await self.request("POST", "/signin", {"csrf": found.group(1), "token": token})

    def cookie(self, name: str) -> str | None:
        """A cookie's value in the jar."""
        for cookie in self.http.cookie_jar:
            if cookie.key == name:
                return cookie.value
        return None

    async def close(self) -> None:
        """Close the connection pool."""
        await self.http.close()


@dataclass
class ConsoleBot:
    """The running bot with its console, and the browsers opened on it."""

    bot: RunningBot
    api: FakeBotAPI
    #: The console's address (``http://127.0.0.1:PORT``).
    base: str
    browsers: list[Browser]

    def browser(self, headers: Mapping[str, str] | None = None) -> Browser:
        """A new browser without a session (closed with the bot)."""
        browser = Browser(self.base, headers)
        self.browsers.append(browser)
        return browser

    async def link(self, user_id: int = COORDINATOR_ID) -> str:
        """Send /console as Telegram user ``user_id`` and return the link the bot sends."""
        user = self.api.user(user_id, "Koordination", language_code="de")
        seen = len(user.bot_messages())
        await user.send("/console")
        message = await user.wait_for_message(
            lambda m: link_in(m.text, self.base) is not None, after=seen
        )
        found = link_in(message.text, self.base)
        assert found is not None
        return found

    async def signed_in(self, user_id: int = COORDINATOR_ID) -> Browser:
        """A browser signed in as the coordinator with this Telegram id."""
        browser = self.browser()
        page = await browser.sign_in(await self.link(user_id))
        assert page.status == 303, (page.status, page.html)
        return browser


@asynccontextmanager
async def console_bot(
    api: FakeBotAPI,
    city: CityConfig,
    tmp_path: Path,
    *,
    clock: ManualClock | None = None,
    prefix: str = "",
    signal: FakeSignalDaemon | None = None,
) -> AsyncIterator[ConsoleBot]:
    """The bot with its console on a free loopback port (under ``prefix``, e.g. ``/desk``,
    as behind a proxy that publishes it there), on Signal too with ``signal``."""
    port = free_port()
    base = f"http://127.0.0.1:{port}{prefix}"
    bot = await start_bot(
        api,
        city,
        tmp_path / "lotsenbot.sqlite3",
        clock,
        signal,
        console=("127.0.0.1", port),
        console_url=base if prefix else None,
    )
    desk = ConsoleBot(bot, api, base, [])
    try:
        yield desk
    finally:
        for browser in desk.browsers:
            await browser.close()
        await bot.shutdown()
