"""Signing in and out, the session check and the CSRF check (the rules are in
:mod:`bot.services.console`).

The link a coordinator gets opens a page with a *Sign in* button: only that form's POST
uses the link, so a messenger's link preview, which fetches the page, cannot spend it. The
session's id travels in a cookie (``HttpOnly; SameSite=Strict``; behind TLS ``Secure`` and
named ``__Host-…``, see :func:`cookie_name`);
every POST carries the session's CSRF token as ``csrf`` (before signing in: a random value
also set as a cookie, compared with the form's).
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.i18n import texts
from channels.console.desk import CONSOLE, DESK, Console, Desk

__all__ = [
    "COOKIE",
    "PASSIVE",
    "PUBLIC",
    "SIGNIN_COOKIE",
    "cookie_name",
    "routes",
    "secure",
    "session_check",
]

#: The session cookie.
COOKIE = "lotsen_session"
#: The CSRF cookie of the sign-in form (before there is a session).
SIGNIN_COOKIE = "lotsen_signin"
#: Routes served without a session (by name).
PUBLIC = frozenset({"signin", "signin_help", "signin_post", "static", "root_redirect"})
#: Routes a page's script calls by itself (live progress): they need a session but are no
#: use of it, so a page left open does not keep its session from ending when idle.
PASSIVE = frozenset({"broadcasts_progress"})
#: Methods that change nothing, and so need no CSRF token.
SAFE = frozenset({"GET", "HEAD", "OPTIONS"})

routes = web.RouteTableDef()


def same(given: object, expected: str) -> bool:
    """Whether a posted token is the expected one, in constant time (as bytes: comparing
    ``str`` refuses anything but ASCII, and a posted token can be anything)."""
    if not isinstance(given, str) or not expected:
        return False
    return hmac.compare_digest(
        given.encode(errors="surrogatepass"), expected.encode(errors="surrogatepass")
    )


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def secure(request: web.Request, console: Console) -> bool:
    """Whether the browser reached us over TLS (directly or through the proxy)."""
    forwarded = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
    return console.secure or request.secure or forwarded == "https"


def cookie_name(request: web.Request, name: str) -> str:
    """The cookie's name on this request: behind TLS with a prefix the browser enforces
    (``__Host-``: set by this host only, over TLS, for the whole site; ``__Secure-`` when the
    console is under a path), so that no other site under the city's domain and no plain
    HTTP page can set or replace it."""
    console = request.app[CONSOLE]
    if not secure(request, console):
        return name
    return ("__Secure-" if console.prefix else "__Host-") + name


def cookie(request: web.Request, name: str) -> str | None:
    """The value of the cookie ``name`` (see :func:`cookie_name`), if the browser sent it."""
    return request.cookies.get(cookie_name(request, name))


def _set_cookie(
    response: web.StreamResponse, request: web.Request, name: str, value: str, max_age: int
) -> None:
    console = request.app[CONSOLE]
    response.set_cookie(
        cookie_name(request, name),
        value,
        max_age=max_age,
        path=console.prefix or "/",
        httponly=True,
        samesite="Strict",
        secure=secure(request, console),
    )


def _forget_cookie(response: web.StreamResponse, request: web.Request, name: str) -> None:
    console = request.app[CONSOLE]
    response.del_cookie(
        cookie_name(request, name),
        path=console.prefix or "/",
        httponly=True,
        samesite="Strict",
        secure=secure(request, console),
    )


def signin_page(
    request: web.Request, state: str, status: int = 200, **context: object
) -> web.Response:
    """The page for someone not signed in: ``needed`` (how to get a link), ``link`` (the
    *Sign in* button), ``invalid`` (a used or expired link), ``out`` (signed out)."""
    console = request.app[CONSOLE]
    return console.page(
        request,
        console.anonymous(request),
        "signin.html",
        status,
        state=state,
        signed_in=False,
        **context,
    )


@routes.get("/signin", name="signin_help")
async def signin_help(request: web.Request) -> web.StreamResponse:
    """How to sign in (and, after signing out, that one is out)."""
    return signin_page(request, "out" if "out" in request.query else "needed")


@routes.get("/signin/{token}", name="signin")
async def signin_form(request: web.Request) -> web.StreamResponse:
    """The page a sign-in link opens: a button that uses the link."""
    check = secrets.token_urlsafe(32)
    response = signin_page(request, "link", token=request.match_info["token"], csrf=check)
    _set_cookie(response, request, SIGNIN_COOKIE, check, 15 * 60)
    return response


@routes.post("/signin", name="signin_post")
async def signin(request: web.Request) -> web.StreamResponse:
    """Use the link (once) and open a session."""
    form = await request.post()
    check, expected = form.get("csrf"), cookie(request, SIGNIN_COOKIE) or ""
    if not same(check, expected):
        return signin_page(request, "stale", 403)
    token = form.get("token")
    console = request.app[CONSOLE]
    signed_in = await console.services.console.sign_in(token) if isinstance(token, str) else None
    if signed_in is None:
        return signin_page(request, "invalid", 403)
    previous = cookie(request, COOKIE)
    if previous:  # this browser's earlier session ends: its cookie is replaced now
        await console.services.console.sign_out(previous)
    response = web.HTTPSeeOther(console.url("/"))
    _set_cookie(response, request, COOKIE, signed_in.session_id, 8 * 3600)
    _forget_cookie(response, request, SIGNIN_COOKIE)
    raise response


@routes.post("/signout", name="signout")
async def signout(request: web.Request) -> web.StreamResponse:
    """End the session (the CSRF check has run)."""
    desk = Desk.of(request)
    await desk.services.console.sign_out(cookie(request, COOKIE) or "")
    response = desk.redirect("/signin?out")
    _forget_cookie(response, request, COOKIE)
    raise response


@web.middleware
async def session_check(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every route but the public ones needs a live session of a coordinator, and every
    POST its CSRF token; the handler then finds the :class:`Desk` on the request."""
    route = request.match_info.route
    if route.name in PUBLIC:
        return await handler(request)
    console = request.app[CONSOLE]
    session_id = cookie(request, COOKIE)
    session = (
        await console.services.console.session(session_id, use=route.name not in PASSIVE)
        if session_id
        else None
    )
    if session is None:
        response = signin_page(request, "needed", 401)
        if session_id:
            _forget_cookie(response, request, COOKIE)
        return response
    city = console.services.city
    t = texts(session.person.language, city.timezone)
    if request.method not in SAFE:
        form = await request.post()
        token = form.get("csrf")
        if not same(token, session.csrf):
            return console.page(request, t, "error.html", 403, problem="csrf", signed_in=False)
    name = await console.services.people.office_name(session.person.id)
    request[DESK] = Desk(request, console, session.person, t, session.csrf, name)
    return await handler(request)
