"""What every page handler gets: the :class:`Desk` of the signed-in coordinator, and the
templates.

A page handler is ``async def page(request: web.Request) -> web.StreamResponse``; it calls
``desk = Desk.of(request)`` and answers with ``desk.render("page.html", ...)`` or, after a
form, ``raise desk.redirect("/path")``. The session check has run before, and for a POST
the CSRF check too.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web
from markupsafe import Markup, escape

from bot.domain.people import Person
from bot.i18n import Html, Texts, texts
from bot.services import Services
from handlers.port import Switchboard

__all__ = ["CONSOLE", "DESK", "DIGITS", "Console", "Desk", "templates", "whole"]

TEMPLATES = Path(__file__).resolve().parent / "templates"

#: The most digits of a number the console reads from an address or a form (SQLite's
#: integers end before 19).
DIGITS = 18
_WHOLE = re.compile(rf"[0-9]{{1,{DIGITS}}}")


def whole(value: str) -> int | None:
    """``value`` as a whole number if it is one of at most :data:`DIGITS` ASCII digits
    (``str.isdigit`` also takes ``²`` and other digits ``int`` refuses), else None."""
    return int(value) if _WHOLE.fullmatch(value) else None


def templates() -> jinja2.Environment:
    """The console's templates: autoescaped, undefined names are errors, with the i18n
    extension's parser (strings are written as ``_("…", name=value)`` and
    ``ngettext("…", "…", n)`` with ``{name}`` placeholders, like everywhere in the bot)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env


def _safe(value: object) -> object:
    """A value for a translated string: escaped for HTML text and attributes alike."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return Html(str(escape(value)))


def speech(t: Texts) -> dict[str, Callable[..., Any]]:
    """``_``, ``gettext`` and ``ngettext`` for templates, in ``t``'s language: the
    translation is trusted markup, the values are escaped."""

    def gettext(message: str, /, **values: object) -> Markup:
        return Markup(t.gettext(message, **{k: _safe(v) for k, v in values.items()}))

    def ngettext(singular: str, plural: str, n: int, /, **values: object) -> Markup:
        filled = {k: _safe(v) for k, v in values.items()}
        return Markup(t.ngettext(singular, plural, n, **filled))

    return {"_": gettext, "gettext": gettext, "ngettext": ngettext}


@dataclass(frozen=True, slots=True)
class Console:
    """What the application shares between requests."""

    services: Services
    switchboard: Switchboard
    env: jinja2.Environment
    #: The path the console is published under (``/desk``; ``""`` at the root).
    prefix: str
    #: Whether cookies are ``Secure`` even for a request that did not come over TLS (the
    #: public address is https).
    secure: bool
    #: Invitation codes a session just made, by its CSRF token, for the page the form's
    #: answer redirects to (once: a reload makes no more links and shows them no more).
    made: dict[str, list[str]] = field(default_factory=dict)

    def url(self, path: str) -> str:
        """The address of ``path`` (``/requests``) as the browser sees it."""
        return self.prefix + path

    def page(
        self,
        request: web.Request,
        t: Texts,
        template: str,
        status: int = 200,
        **context: object,
    ) -> web.Response:
        """Render ``template`` in ``t``'s language."""
        html = self.env.get_template(template).render(
            lang=t.language,
            dir="rtl" if t.rtl else "ltr",
            t=t,
            url=self.url,
            has_page=lambda name: name in request.app.router.named_resources(),
            url_of=lambda name: str(request.app.router[name].url_for()),
            here=request.match_info.route.name or "",
            **speech(t),
            **context,
        )
        return web.Response(text=html, status=status, content_type="text/html", charset="utf-8")

    def anonymous(self, request: web.Request) -> Texts:
        """The texts for someone not signed in: the city's default language."""
        city = self.services.city
        return texts(city.default_language, city.timezone)


CONSOLE = web.AppKey("console", Console)


@dataclass(frozen=True, slots=True)
class Desk:
    """The signed-in coordinator at the desk, for one request."""

    request: web.Request
    console: Console
    #: The coordinator (checked on this request).
    person: Person
    #: Their language (the one they chose in the bot; German by default).
    t: Texts
    #: The session's CSRF token, which every form carries as ``csrf``.
    csrf: str
    #: The name they go by in the office (what the audit log records), if given.
    name: str | None = None

    @staticmethod
    def of(request: web.Request) -> Desk:
        """The desk of a request that passed the session check."""
        return request[DESK]

    @property
    def services(self) -> Services:
        """The bot's services (the same the messengers use)."""
        return self.console.services

    @property
    def switchboard(self) -> Switchboard:
        """Every running messenger, to reach a person on their own channel."""
        return self.console.switchboard

    def gettext(self, message: str, /, **values: object) -> str:
        """Translate (values HTML-escaped), for text put together in Python."""
        return self.t.gettext(message, **values)

    def ngettext(self, singular: str, plural: str, n: int, /, **values: object) -> str:
        """Translate with the plural form for ``n``."""
        return self.t.ngettext(singular, plural, n, **values)

    def url(self, path: str) -> str:
        """The address of ``path`` as the browser sees it."""
        return self.console.url(path)

    async def form(self) -> dict[str, str]:
        """The posted form's text fields (the CSRF check has read it already)."""
        data = await self.request.post()
        return {k: v for k, v in data.items() if isinstance(v, str)}

    async def record(
        self, action: str, subject_person_id: int | None = None, request_id: int | None = None
    ) -> None:
        """Record in the audit log that this coordinator did ``action`` through the console."""
        await self.services.console.audit.record(
            self.person.id, action, subject_person_id, request_id
        )

    def render(self, template: str, status: int = 200, **context: object) -> web.Response:
        """A page: ``template`` (which extends ``base.html``) in the coordinator's language,
        with ``csrf`` and ``person`` besides ``context``."""
        return self.console.page(
            self.request,
            self.t,
            template,
            status,
            csrf=self.csrf,
            person=self.person,
            office_name=self.name,
            signed_in=True,
            **context,
        )

    def redirect(self, path: str) -> web.HTTPSeeOther:
        """After a form: see ``path`` (raise it)."""
        return web.HTTPSeeOther(self.url(path))


#: Where the session check leaves the desk on the request.
DESK = web.RequestKey("desk", Desk)
