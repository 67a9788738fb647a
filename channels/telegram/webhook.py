"""Webhook mode: Telegram posts updates to us; each is stored before we answer 200.

Telegram repeats a delivery until it gets 200, so storing first and answering after keeps
the same guarantee as polling. Requests without the right ``X-Telegram-Bot-Api-Secret-Token``
are refused with 403 and never touch the inbox.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import secrets
from dataclasses import dataclass

from aiohttp import web

from bot.storage.database import storage_fault
from channels.telegram.app import ALLOWED_UPDATES, LotsenApp
from channels.telegram.intake import Intake, NotAnUpdate

__all__ = ["Webhook", "parse_listen", "serve_webhook"]

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
#: Deeper than any update Telegram sends (a reply quoting a reply is about ten levels).
MAX_DEPTH = 64


def _too_deep(data: object) -> bool:
    """Whether JSON ``data`` nests lists and objects deeper than :data:`MAX_DEPTH`."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            return True
        if isinstance(value, dict):
            stack += [(child, depth + 1) for child in value.values()]
        elif isinstance(value, list):
            stack += [(child, depth + 1) for child in value]
    return False


@dataclass(frozen=True, slots=True)
class Webhook:
    """Where Telegram should post (public URL) and where we listen (behind a proxy)."""

    url: str
    host: str = "127.0.0.1"
    port: int = 8443
    secret: str | None = None  # a fresh random one per start if not given

    @property
    def path(self) -> str:
        """The path part of the public URL, which is also the local route."""
        rest = self.url.split("://", 1)[-1]
        return "/" + rest.split("/", 1)[1] if "/" in rest else "/"


async def serve_webhook(app: LotsenApp, intake: Intake, hook: Webhook, stop: asyncio.Event) -> None:
    """Receive updates until ``stop`` is set, then finish what is in hand."""
    secret = hook.secret or secrets.token_urlsafe(32)

    async def receive(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), secret.encode()):
            log.warning("webhook request without the right secret refused")
            return web.Response(status=403)
        # An update is read before it is stored: what is not one is refused, in one line
        # that names the problem, never the body.
        try:
            data = json.loads(await request.text())
            update = intake.read(data) if not _too_deep(data) else None
        except (ValueError, RecursionError) as exc:  # JSON errors are ValueErrors too
            problem = str(exc) if isinstance(exc, NotAnUpdate) else type(exc).__name__
        else:
            if update is not None:
                try:
                    await intake.accept([data], [update])
                except Exception as exc:
                    if storage_fault(exc) is None:
                        raise
                    # Not stored: Telegram sends it again later (the outage is logged once).
                    return web.Response(status=503)
                return web.Response(status=200)
            problem = "nested too deeply"
        log.warning("webhook request refused: the body is not an update (%s)", problem)
        return web.Response(status=400)

    server = web.Application(client_max_size=1024 * 1024)
    server.router.add_post(hook.path, receive)
    runner = web.AppRunner(server, access_log=None, handle_signals=False)
    await runner.setup()
    try:
        # Leftovers first: an update arriving meanwhile would otherwise be stored, handled,
        # and taken up once more as a leftover.
        intake.stops_with(stop)
        await intake.resume()
        await web.TCPSite(runner, hook.host, hook.port).start()
        await app.bot.set_webhook(hook.url, secret_token=secret, allowed_updates=ALLOWED_UPDATES)
        log.info("receiving updates by webhook")
        await stop.wait()
    finally:
        await runner.cleanup()
        await intake.drain()


def parse_listen(value: str) -> tuple[str, int]:
    """``host:port`` for ``--listen``."""
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(value)
    return host, int(port)
