"""The office console's web application: its pages, the security middlewares, and the
server the composition root starts beside the messengers (``LOTSENBOT_CONSOLE_LISTEN``).

Every response, error pages and static files included, carries a strict
Content-Security-Policy (no inline script or style), ``frame-ancestors 'none'``,
``X-Content-Type-Options: nosniff``, ``Referrer-Policy: no-referrer`` and
``Cache-Control: no-store`` (and over TLS ``Strict-Transport-Security``). Nothing is
logged per request; a failing page logs its route's name and the error's type and place,
never what it was about.
"""

from __future__ import annotations

import logging
from pathlib import Path
from types import ModuleType
from urllib.parse import urlsplit

from aiohttp import web

from bot.config import ConfigError
from bot.logs import describe
from bot.services import Services
from channels.console import auth
from channels.console.desk import CONSOLE, DESK, DIGITS, Console, templates
from channels.console.pages import (
    audit,
    broadcasts,
    concerns,
    dates,
    figures,
    lotsen,
    overview,
    requests,
    waitlist,
)
from handlers.port import Switchboard

__all__ = ["HEADERS", "HSTS", "PAGES", "ConsoleServer", "create_app"]

log = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent / "static"

#: The console's sections, each a module with ``routes = web.RouteTableDef()``; the name of
#: a section's main route is what ``base.html``'s navigation links to.
PAGES: tuple[ModuleType, ...] = (
    overview,
    requests,
    lotsen,
    concerns,
    broadcasts,
    waitlist,
    dates,
    figures,
    audit,
)

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
)
#: On every response.
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


#: Over TLS also this: browsers then refuse plain HTTP to the console's host for a year,
#: so nobody on the way can answer a first ``http://`` visit in its place.
HSTS = ("Strict-Transport-Security", "max-age=31536000")


def _protect(request: web.Request, headers: web.StreamResponse | web.HTTPException) -> None:
    for name, value in HEADERS.items():
        headers.headers[name] = value
    if auth.secure(request, request.app[CONSOLE]):
        headers.headers[HSTS[0]] = HSTS[1]


@web.middleware
async def security_headers(request: web.Request, handler: auth.Handler) -> web.StreamResponse:
    """The headers above on everything, including redirects and errors (even an error
    page that failed itself)."""
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        _protect(request, exc)
        raise
    except Exception as exc:
        log.error("console error page failed: %s", describe(exc))
        response = web.Response(status=500, text="500")
    _protect(request, response)
    return response


@web.middleware
async def error_pages(request: web.Request, handler: auth.Handler) -> web.StreamResponse:
    """Errors as pages in the console's look (redirects pass); a failure is logged without
    personal data."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return _error(request, exc.status, "http")
    except Exception as exc:
        log.error("console page %s failed: %s", request.match_info.route.name, describe(exc))
        return _error(request, 500, "failed")


@web.middleware
async def bounded_ids(request: web.Request, handler: auth.Handler) -> web.StreamResponse:
    """An id in an address (``/requests/{id}``) longer than :data:`DIGITS` names nothing:
    there is no such page (instead of an error from the database)."""
    if len(request.match_info.get("id", "")) > DIGITS:
        raise web.HTTPNotFound()
    return await handler(request)


def _error(request: web.Request, status: int, problem: str) -> web.Response:
    console = request.app[CONSOLE]
    if DESK in request:
        return request[DESK].render("error.html", status, problem=problem, code=status)
    t = console.anonymous(request)
    return console.page(
        request, t, "error.html", status, problem=problem, code=status, signed_in=False
    )


def create_app(services: Services, switchboard: Switchboard, base_url: str) -> web.Application:
    """The console's application, serving under ``base_url``'s path."""
    prefix = urlsplit(base_url).path.rstrip("/")
    app = web.Application(
        middlewares=[security_headers, error_pages, auth.session_check, bounded_ids]
    )
    app[CONSOLE] = Console(
        services, switchboard, templates(), prefix, secure=base_url.startswith("https://")
    )
    for module in (auth, *PAGES):
        table: web.RouteTableDef = module.routes
        for route in table:
            assert isinstance(route, web.RouteDef)
            app.router.add_route(route.method, prefix + route.path, route.handler, **route.kwargs)
    app.router.add_static(prefix + "/static", STATIC, name="static")
    if prefix:

        async def to_root(request: web.Request) -> web.StreamResponse:
            raise web.HTTPPermanentRedirect(prefix + "/")

        app.router.add_get(prefix, to_root, name="root_redirect")
    return app


class ConsoleServer:
    """The console on its local address, started and stopped with the bot."""

    def __init__(
        self, services: Services, switchboard: Switchboard, host: str, port: int, base_url: str
    ) -> None:
        self.app = create_app(services, switchboard, base_url)
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        """Listen (no access log: addresses can carry a sign-in token)."""
        self._runner = web.AppRunner(self.app, access_log=None, handle_signals=False)
        await self._runner.setup()
        try:
            await web.TCPSite(self._runner, self.host, self.port).start()
        except OSError as exc:
            await self.stop()
            raise ConfigError(
                f"the office console cannot listen on {self.host}:{self.port} ({exc.strerror})"
            ) from None
        log.info("office console listening on port %d", self.port)

    async def stop(self) -> None:
        """Stop listening (idempotent)."""
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()
