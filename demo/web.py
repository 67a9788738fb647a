"""The demo page and its small JSON API, served by aiohttp in the bot's own process.

The page (``static/``) asks ``GET /api/state?after=N``, which answers at once when the
world changed since version ``N`` and otherwise waits for the next change (long polling).
Everything a person does on a phone is a ``POST`` with a JSON body; only JSON is accepted,
so another web page cannot drive the demo with a plain form. Only requests addressed to this
machine's loopback names with the demo's port are answered, so a page on another site cannot
reach it by pointing its own name at 127.0.0.1 (DNS rebinding).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.config import CityConfig, ConfigError, Settings, load_city
from bot.i18n import LANGUAGES, language_name
from bot.logs import describe
from demo.samples import media_type
from demo.seed import seed_world
from demo.world import DemoWorld

__all__ = ["DemoSite", "main", "run_demo"]

log = logging.getLogger(__name__)

JSON = dict[str, Any]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

STATIC = Path(__file__).resolve().parent / "static"
#: The clock buttons: how far each moves the bot's time.
STEPS = {"1h": timedelta(hours=1), "1d": timedelta(days=1), "1w": timedelta(weeks=1)}
_POLL_SECONDS = 25.0
_MAX_TEXT = 4096
#: The names under which a browser on this machine reaches the page.
LOCAL_HOSTS = ("localhost", "127.0.0.1", "[::1]")


class DemoSite:
    """The demo world behind the page, replaced as a whole on reset."""

    def __init__(self, db_path: Path, config_path: Path, city: CityConfig) -> None:
        self.db_path = db_path
        self.config_path = config_path
        self.city = city
        self.world: DemoWorld | None = None
        self.status = "starting"
        self.error: str | None = None
        self.version = 0
        self._event = asyncio.Event()
        self._lock = asyncio.Lock()
        self._closing = False
        #: The port the page listens on, once it does; until then every request is refused.
        self.port: int | None = None

    # ------------------------------------------------------------------ the world

    def changed(self) -> None:
        """Wake every page waiting for news."""
        self.version += 1
        self._event.set()
        self._event = asyncio.Event()

    async def start_world(self) -> None:
        """Start the bot on the demo database, seeding it if it is new."""
        async with self._lock:
            await self._start()

    async def _start(self) -> None:
        world = DemoWorld(self.db_path, self.config_path, self.city, self.changed)
        self.world, self.status, self.error = world, "starting", None
        self.changed()
        try:
            if await world.start():
                self.status = "seeding"
                self.changed()
                await seed_world(world)
                world.seeded = True
                world.save()
        except Exception as exc:
            log.error("the demo world could not start: %s", describe(exc))
            self.status, self.error = "failed", f"{type(exc).__name__}: {exc}"
        else:
            self.status = "ready"
        self.changed()

    async def stop_world(self) -> None:
        """Stop the bot and save the chats."""
        async with self._lock:
            self.status = "stopped"
            self.changed()
            if self.world is not None:
                await self.world.stop()

    async def reset(self) -> None:
        """Stop the bot, delete the database and the chats, seed a new world, start again."""
        async with self._lock:
            self.status = "resetting"
            self.changed()
            if self.world is not None:
                await self.world.stop()
                self.world.erase()
            await self._start()

    def close(self) -> None:
        """Let waiting pages go (the process is stopping)."""
        self._closing = True
        self.changed()

    # ------------------------------------------------------------------ HTTP

    def app(self) -> web.Application:
        """The aiohttp application: the page, its files and the JSON API."""
        app = web.Application(client_max_size=64 * 1024, middlewares=[self._local_only, _json_only])
        app.router.add_get("/", self._index)
        app.router.add_get("/static/{name}", self._static)
        app.router.add_get("/api/state", self._state)
        app.router.add_get("/api/file/{file_id}", self._file)
        app.router.add_post("/api/people", self._add_person)
        app.router.add_post("/api/people/{id}/shown", self._shown)
        app.router.add_post("/api/people/{id}/send", self._send)
        app.router.add_post("/api/people/{id}/attach", self._attach)
        app.router.add_post("/api/people/{id}/press", self._press)
        app.router.add_post("/api/people/{id}/console", self._console)
        app.router.add_post("/api/clock", self._clock)
        app.router.add_post("/api/reset", self._reset)
        return app

    def allowed_hosts(self) -> frozenset[str]:
        """The ``Host`` headers the page answers: a loopback name with the demo's port."""
        if self.port is None:
            return frozenset()
        hosts = {f"{name}:{self.port}" for name in LOCAL_HOSTS}
        if self.port == 80:  # browsers leave out the default port
            hosts.update(LOCAL_HOSTS)
        return frozenset(hosts)

    @web.middleware
    async def _local_only(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.headers.get("Host", "").lower() not in self.allowed_hosts():
            raise web.HTTPMisdirectedRequest(text="open the demo at 127.0.0.1 or localhost")
        return await handler(request)

    async def _index(self, request: web.Request) -> web.StreamResponse:
        return _file_response(STATIC / "index.html")

    async def _static(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        if name not in {"demo.css", "demo.js"}:
            raise web.HTTPNotFound()
        return _file_response(STATIC / name)

    async def _state(self, request: web.Request) -> web.StreamResponse:
        try:
            after = int(request.query.get("after", "-1"))
        except ValueError:
            raise web.HTTPBadRequest(text="after must be a number") from None
        # Wait only when the page is up to date; a higher number is from before a restart.
        if after == self.version and not self._closing:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._event.wait(), _POLL_SECONDS)
            await asyncio.sleep(0.02)  # one answer for a burst of changes
        return web.json_response(await self._view())

    async def _view(self) -> JSON:
        version = self.version
        world = self.world
        status, error = self.status, self.error
        if world is not None and status == "ready":
            bot_error = world.bot_error()
            if bot_error:
                status, error = "failed", bot_error
        view: JSON = {
            "version": version,
            "status": status,
            "error": error,
            "languages": [{"code": c, "name": language_name(c)} for c in LANGUAGES],
            "phones": [],
        }
        if world is not None and status in ("ready", "seeding"):
            view.update(await world.view())
        return view

    async def _file(self, request: web.Request) -> web.StreamResponse:
        data = self._world().file(request.match_info["file_id"])
        if data is None:
            raise web.HTTPNotFound()
        return web.Response(body=data, content_type=media_type(data))

    async def _add_person(self, request: web.Request) -> web.StreamResponse:
        body = await _body(request)
        try:
            phone = self._world().add_person(
                str(body.get("name", "")),
                str(body.get("language")),
                str(body.get("messenger") or "telegram"),
            )
        except ValueError as exc:
            raise web.HTTPBadRequest(text=str(exc)) from None
        return web.json_response({"id": phone.id})

    async def _shown(self, request: web.Request) -> web.StreamResponse:
        body = await _body(request)
        self._world().show(_person(request, self._world()), bool(body.get("shown")))
        return web.json_response({"ok": True})

    async def _send(self, request: web.Request) -> web.StreamResponse:
        world = self._ready()
        body = await _body(request)
        text = str(body.get("text", "")).strip()
        if not text or len(text) > _MAX_TEXT:
            raise web.HTTPBadRequest(text=f"text must be 1 to {_MAX_TEXT} characters")
        reply_to = body.get("reply_to")
        try:
            await world.send_text(
                _person(request, world), text, int(reply_to) if reply_to else None
            )
        except (LookupError, ValueError):
            raise web.HTTPBadRequest(text="no such message to reply to") from None
        return web.json_response({"ok": True})

    async def _attach(self, request: web.Request) -> web.StreamResponse:
        world = self._ready()
        body = await _body(request)
        try:
            await world.send_attachment(_person(request, world), str(body.get("kind")))
        except ValueError:
            raise web.HTTPBadRequest(text="kind must be voice, photo or document") from None
        return web.json_response({"ok": True})

    async def _press(self, request: web.Request) -> web.StreamResponse:
        world = self._ready()
        body = await _body(request)
        try:
            query_id = await world.press(
                _person(request, world), int(body.get("message_id", 0)), str(body.get("data"))
            )
        except (LookupError, ValueError):
            raise web.HTTPBadRequest(text="no such button") from None
        return web.json_response({"query_id": query_id})

    async def _console(self, request: web.Request) -> web.StreamResponse:
        """*Open the office console*: the coordinator asks for a sign-in link in the chat."""
        world = self._ready()
        await _body(request)
        try:
            url = await world.console_link(_person(request, world))
        except LookupError:
            raise web.HTTPConflict(text="only a coordinator on Telegram signs in") from None
        return web.json_response({"url": url})

    async def _clock(self, request: web.Request) -> web.StreamResponse:
        world = self._ready()
        step = STEPS.get(str((await _body(request)).get("step")))
        if step is None:
            raise web.HTTPBadRequest(text=f"step must be one of {', '.join(STEPS)}")
        ran = await world.advance(step)
        return web.json_response({"timers": ran})

    async def _reset(self, request: web.Request) -> web.StreamResponse:
        await _body(request)
        await self.reset()
        return web.json_response({"status": self.status})

    def _world(self) -> DemoWorld:
        if self.world is None:
            raise web.HTTPConflict(text="the demo is starting")
        return self.world

    def _ready(self) -> DemoWorld:
        world = self._world()
        if self.status != "ready" or world.bot_error():
            raise web.HTTPConflict(text=f"the demo is {self.status}")
        return world


@web.middleware
async def _json_only(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.method == "POST" and request.content_type != "application/json":
        raise web.HTTPUnsupportedMediaType(text="send JSON")
    return await handler(request)


async def _body(request: web.Request) -> JSON:
    try:
        body = await request.json()
    except ValueError:
        raise web.HTTPBadRequest(text="the body must be JSON") from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text="the body must be a JSON object")
    return body


def _person(request: web.Request, world: DemoWorld) -> int:
    try:
        user_id = int(request.match_info["id"])
        world.phone(user_id)
    except (KeyError, ValueError):
        raise web.HTTPNotFound(text="no such person") from None
    return user_id


def _file_response(path: Path) -> web.StreamResponse:
    return web.FileResponse(path, headers={"Cache-Control": "no-cache"})


async def run_demo(
    db_path: Path,
    config_path: Path,
    city: CityConfig,
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    stop: asyncio.Event | None = None,
    ready: Callable[[str], None] | None = None,
) -> None:
    """Serve the page at once, then start (and if new, seed) the world; run until stopped."""
    if stop is None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
    site = DemoSite(db_path, config_path, city)
    runner = web.AppRunner(site.app(), access_log=None, handle_signals=False, shutdown_timeout=2)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError as exc:
        await runner.cleanup()
        reason = (exc.strerror or "").rsplit(": ", 1)[-1]
        raise OSError(f"cannot listen on {host}:{port} ({reason}); try another --port") from None
    site.port = runner.addresses[0][1]
    url = f"http://{host}:{site.port}"
    if ready is not None:
        ready(url)
    starting = asyncio.create_task(site.start_world())
    try:
        await stop.wait()
    finally:
        site.close()
        await starting
        await site.stop_world()
        await runner.cleanup()


def main(settings: Settings, db_path: Path, port: int) -> None:
    """``lotsenbot demo``: run until Ctrl-C or SIGTERM."""
    city = load_city(settings.config_path)

    def announce(url: str) -> None:
        print(f"Lotsenbot demo: open {url} (offline, simulated Telegram; Ctrl-C stops it)")
        sys.stdout.flush()

    try:
        asyncio.run(run_demo(db_path, settings.config_path, city, port=port, ready=announce))
    except OSError as exc:
        raise ConfigError(str(exc)) from None
