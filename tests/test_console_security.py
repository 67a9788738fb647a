"""The office console's locks, tried on EVERY route it registers (a new page is covered
without a change here): no session, a signed-out, idle or too old session, a used or
expired link, a missing or wrong CSRF token, someone who is not (or no longer) a
coordinator — and the security headers on every response, errors and static files too."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest

from bot.config import CityConfig
from bot.services.console import IDLE, LINK_VALID, LINKS_PER_WINDOW, LONGEST
from channels.console.auth import COOKIE, PASSIVE, SIGNIN_COOKIE
from channels.console.server import HEADERS, HSTS
from channels.telegram.fakeapi import FakeBotAPI
from handlers import console as console_views
from handlers import coordination_views
from tests.conftest import COORDINATOR_ID, coordinated_by
from tests.console import Browser, ConsoleBot, Page, console_bot, link_in, registered_routes
from tests.process import bot_env
from tests.scenario import (
    ask_for_lotse,
    become_lotse,
    has_data,
    invite_codes,
    join_waitlist,
    onboard,
    t,
)
from tests.test_config import run_cli
from tests.test_privacy import raw_bytes

ROUTES = registered_routes()
GUARDED = [route for route in ROUTES if not route.public]
POSTS = [route for route in GUARDED if route.method == "POST"]
OTHER_COORDINATOR = 9001
HELPER = 9100


def assert_protected(page: Page) -> None:
    for name, value in HEADERS.items():
        assert page.headers.get(name) == value, (name, page.status)
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in page.headers["Content-Security-Policy"]


async def assert_all_refused(browser: Browser) -> None:
    """Every guarded route answers 401 with the sign-in help, and nothing else."""
    for route in GUARDED:
        page = await browser.request(route.method, route.path)
        assert page.status == 401, (route, page.status)
        assert "/console" in page.html
        assert_protected(page)


def audit(desk: ConsoleBot) -> list[tuple[str, str, int | None]]:
    with sqlite3.connect(desk.bot.settings.db_path) as conn:
        return conn.execute("SELECT via, action, actor_id FROM audit ORDER BY id").fetchall()


def stored(desk: ConsoleBot, table: str) -> int:
    with sqlite3.connect(desk.bot.settings.db_path) as conn:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def test_the_routes_are_found_and_the_pages_are_guarded() -> None:
    names = {route.name for route in ROUTES}
    assert {"overview", "signin", "signin_post", "signout", "static"} <= names
    # Only signing in and the style sheet are served without a session.
    assert {route.name for route in ROUTES if route.public} <= {
        "signin",
        "signin_help",
        "signin_post",
        "static",
        "root_redirect",
    }
    assert any(route.method == "POST" for route in GUARDED)


async def test_every_route_is_refused_without_a_session_and_after_signing_out(
    api: FakeBotAPI, city: CityConfig, tmp_path: Path
) -> None:
    async with console_bot(api, city, tmp_path) as desk:
        await assert_all_refused(desk.browser())
        # A made-up session cookie is no session either.
        forged = desk.browser()
        forged.http.cookie_jar.update_cookies({COOKIE: "made-up"})
        await assert_all_refused(forged)

        browser = await desk.signed_in()
        assert (await browser.get("/")).status == 200
        out = await browser.post("/signout")
        assert out.status == 303 and out.location == "/signin?out"
        assert_protected(out)
        assert browser.cookie(COOKIE) in (None, "")
        after = await browser.get(out.location)
        assert after.status == 200
        assert t("de").gettext("You are signed out.") in after.html
        await assert_all_refused(browser)
        # The old cookie, kept by someone, opens nothing any more.
        assert stored(desk, "console_session") == 0


async def test_a_session_ends_after_30_minutes_idle_and_after_8_hours_at_most(
    api: FakeBotAPI, city: CityConfig, tmp_path: Path
) -> None:
    async with console_bot(api, city, tmp_path) as desk:
        idle = await desk.signed_in()
        busy = await desk.signed_in()
        clock = desk.bot.clock
        # Left alone for 30 minutes, a session is over; used every 25, it lives on …
        clock.advance(IDLE - timedelta(minutes=1))
        assert (await busy.get("/")).status == 200
        clock.advance(timedelta(minutes=1))
        await assert_all_refused(idle)
        step = IDLE - timedelta(minutes=5)
        since_sign_in = IDLE
        while since_sign_in + step < LONGEST:
            clock.advance(step)
            since_sign_in += step
            assert (await busy.get("/")).status == 200
        # … until 8 hours after signing in.
        clock.advance(LONGEST - since_sign_in)
        await assert_all_refused(busy)
        assert stored(desk, "console_session") == 0


async def test_a_link_works_once_and_for_10_minutes(
    api: FakeBotAPI, city: CityConfig, tmp_path: Path
) -> None:
    async with console_bot(api, city, tmp_path) as desk:
        link = await desk.link()
        first = desk.browser()
        assert (await first.sign_in(link)).status == 303
        again = desk.browser()
        used = await again.sign_in(link)
        assert used.status == 403
        assert t("de").gettext("This sign-in link was used already or has expired.") in used.html
        assert_protected(used)
        await assert_all_refused(again)

        late = await desk.link()
        desk.bot.clock.advance(LINK_VALID)
        expired = desk.browser()
        assert (await expired.sign_in(late)).status == 403
        await assert_all_refused(expired)

        # A made-up token, and a sign-in form without its CSRF cookie, sign nobody in.
        assert (await desk.browser().sign_in(link.rsplit("/", 1)[0] + "/made-up")).status == 403
        bare = desk.browser()
        token = (await desk.link()).rsplit("/", 1)[1]
        refused = await bare.request("POST", "/signin", {"csrf": "x", "token": token})
        assert refused.status == 403
        await assert_all_refused(bare)

        # The links and sessions are kept only as hashes.
        with sqlite3.connect(desk.bot.settings.db_path) as conn:
            hashes = [row[0] for row in conn.execute("SELECT token_hash FROM console_link")]
        assert token not in hashes and all(len(h) == 64 for h in hashes)
        session = first.cookie(COOKIE)
        assert session
        with sqlite3.connect(desk.bot.settings.db_path) as conn:
            ids = [row[0] for row in conn.execute("SELECT id_hash FROM console_session")]
        assert ids and session not in ids
        raw = raw_bytes(desk.bot.settings.db_path)
        assert session.encode() not in raw and token.encode() not in raw


async def test_links_are_rate_limited(api: FakeBotAPI, city: CityConfig, tmp_path: Path) -> None:
    async with console_bot(api, city, tmp_path) as desk:
        links = [await desk.link() for _ in range(LINKS_PER_WINDOW)]
        assert len(set(links)) == LINKS_PER_WINDOW
        coordinator = api.user(COORDINATOR_ID, "Koordination", language_code="de")
        seen = len(coordinator.bot_messages())
        await coordinator.send("/console")
        refused = await coordinator.wait_for_message(after=seen)
        assert refused.text == console_views.too_many(t("de"))
        desk.bot.clock.advance(LINK_VALID)
        assert await desk.link()


async def test_every_form_needs_the_sessions_csrf_token(
    api: FakeBotAPI, city: CityConfig, tmp_path: Path
) -> None:
    city = coordinated_by(city, COORDINATOR_ID, OTHER_COORDINATOR)
    async with console_bot(api, city, tmp_path) as desk:
        browser = await desk.signed_in()
        other = await desk.signed_in(OTHER_COORDINATOR)
        foreign = await other.csrf("/")
        for route in POSTS:
            for data in ({}, {"csrf": ""}, {"csrf": "wrong"}, {"csrf": foreign}):
                page = await browser.request("POST", route.path, data)
                assert page.status == 403, (route, data, page.status)
                assert_protected(page)
        # Still signed in: the refusals changed nothing.
        assert (await browser.get("/")).status == 200
        assert stored(desk, "console_session") == 2


async def test_someone_who_is_not_a_coordinator_gets_no_link(
    api: FakeBotAPI, city: CityConfig, tmp_path: Path
) -> None:
    async with console_bot(api, city, tmp_path) as desk:
        member = api.user(555, "Mitglied", language_code="de")
        await onboard(member, "de")
        seen = len(member.bot_messages())
        await member.send("/console")
        refused = await member.wait_for_message(after=seen)
        assert refused.text == coordination_views.not_allowed(t("de"))
        await desk.bot.handled_all()
        assert all(link_in(m.text, desk.base) is None for m in member.bot_messages())
        assert stored(desk, "console_link") == 0


async def test_a_removed_coordinator_loses_every_session_at_once(
    api: FakeBotAPI, city: CityConfig, tmp_path: Path
) -> None:
    async with console_bot(api, city, tmp_path) as desk:
        staying = await desk.signed_in()
        env = bot_env(None, desk.bot.settings.db_path)
        assert run_cli("coordinator", "add", f"telegram:{HELPER}", env=env).returncode == 0
        await onboard(api.user(HELPER, "Helfer", language_code="de"), "de")
        leaving = [await desk.signed_in(HELPER) for _ in range(2)]
        for browser in leaving:
            assert (await browser.get("/")).status == 200
        helper_id = int(run_cli("coordinator", "list", env=env).stdout.split(":", 1)[0])
        assert run_cli("coordinator", "remove", str(helper_id), env=env).returncode == 0
        for browser in leaving:
            await assert_all_refused(browser)
        assert (await staying.get("/")).status == 200
        with sqlite3.connect(desk.bot.settings.db_path) as conn:
            rows = conn.execute(
                "SELECT count(*) FROM console_session WHERE person_id = ?", (helper_id,)
            ).fetchone()
        assert rows == (0,)
        # And no new link for them either.
        helper = api.user(HELPER, "Helfer", language_code="de")
        seen = len(helper.bot_messages())
        await helper.send("/console")
        refused = await helper.wait_for_message(after=seen)
        assert refused.text == coordination_views.not_allowed(t("de"))


async def test_headers_on_every_kind_of_response(
    api: FakeBotAPI, city: CityConfig, tmp_path: Path
) -> None:
    async with console_bot(api, city, tmp_path) as desk:
        anonymous = desk.browser()
        browser = await desk.signed_in()
        pages = [
            await anonymous.get("/static/console.css"),
            await anonymous.get("/nowhere"),
            await anonymous.get("/signin"),
            await anonymous.get("/signin/whatever"),
            await browser.get("/nowhere"),
            await browser.get("/static/console.css"),
            await browser.get("/static/missing.css"),
            await browser.request("PUT", "/"),
        ]
        for route in ROUTES:
            pages.append(await browser.request(route.method, route.path))
        for page in pages:
            assert_protected(page)
        assert pages[0].status == 200 and pages[0].headers["Content-Type"].startswith("text/css")
        assert pages[4].status == 404 and pages[6].status == 404
        assert pages[7].status == 403  # a method that changes things needs the CSRF token
        for page in pages[4:5]:
            assert t("de").gettext("There is no such page.") in page.html
        # Every session cookie is HttpOnly and SameSite=Strict; not Secure over plain HTTP.
        signin = desk.browser()
        link = await desk.link()
        form = await signin.get(link)
        assert_protected(form)
        token = link.rsplit("/", 1)[1]
        assert token not in str(form.headers)
        cookie = form.headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Secure" not in cookie


async def test_cookies_are_secure_behind_tls(
    api: FakeBotAPI, city: CityConfig, tmp_path: Path
) -> None:
    async with console_bot(api, city, tmp_path) as desk:
        behind_proxy = desk.browser({"X-Forwarded-Proto": "https"})
        link = await desk.link()
        form = await behind_proxy.get(link)
        assert "Secure" in form.headers["Set-Cookie"]
        assert form.headers["Set-Cookie"].startswith(f"__Host-{SIGNIN_COOKIE}=")
        csrf = form.html.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        token = link.rsplit("/", 1)[1]
        # The client keeps Secure cookies for https only: send the form's cookie by hand.
        # Under its plain name it is not the one the form set, and the sign-in is refused.
        plain_name = await behind_proxy.http.post(
            desk.base + "/signin",
            data={"csrf": csrf, "token": token},
            cookies={SIGNIN_COOKIE: csrf},
            allow_redirects=False,
        )
        async with plain_name:
            assert plain_name.status == 403
        signed = await behind_proxy.http.post(
            desk.base + "/signin",
            data={"csrf": csrf, "token": token},
            cookies={f"__Host-{SIGNIN_COOKIE}": csrf},
            allow_redirects=False,
        )
        async with signed:
            assert signed.status == 303
            cookie = signed.headers.getall("Set-Cookie")
        session = next(c for c in cookie if c.startswith(f"__Host-{COOKIE}="))
        assert "Secure" in session and "HttpOnly" in session and "SameSite=Strict" in session
        assert "Path=/" in session and "Domain" not in session


async def test_odd_tokens_and_numbers_are_refused_and_nothing_fails(
    api: FakeBotAPI, city: CityConfig, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Whatever is typed into a form or an address: a refusal or an empty page, never a
    failing page (nor an error in the log)."""
    caplog.set_level(logging.WARNING)
    async with console_bot(api, city, tmp_path) as desk:
        # A CSRF token that is not ASCII: before signing in, and in a session.
        anonymous = desk.browser()
        anonymous.http.cookie_jar.update_cookies({SIGNIN_COOKIE: "ü"})
        refused = await anonymous.request("POST", "/signin", {"csrf": "ü", "token": "x"})
        assert refused.status == 403
        browser = await desk.signed_in()
        for route in POSTS:
            page = await browser.request("POST", route.path, {"csrf": "ä" * 43})
            assert page.status == 403, (route, page.status)
        # An id longer than any the database holds names nothing.
        huge = "9" * 20
        for route in GUARDED:
            if "1" not in route.path.split("/"):
                continue
            path = "/".join(huge if part == "1" else part for part in route.path.split("/"))
            page = await browser.post(path) if route.method == "POST" else await browser.get(path)
            assert page.status == 404, (route, page.status)
            assert_protected(page)
        # Numbers in the query and in forms: too long, or digits that are not 0-9.
        for path in (
            f"/audit?who={huge}",
            "/audit?who=²",
            f"/dates?done=moved&event={huge}",
            "/dates?done=moved&event=" + "9" * 5000,
            "/requests?page=²",
            "/concerns?page=³",
            "/figures?months=²",
            "/figures/chart.png?months=" + "6" * 5000,
        ):
            assert (await browser.get(path)).status == 200, path
        for count in ("²", "9" * 5000):
            page = await browser.post("/lotsen/invitations", {"count": count})
            assert page.status == 400, count
        assert (await browser.get("/")).status == 200
    failed = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert failed == []


async def test_signing_in_again_in_a_browser_ends_its_earlier_session(
    api: FakeBotAPI, city: CityConfig, tmp_path: Path
) -> None:
    city = coordinated_by(city, COORDINATOR_ID, OTHER_COORDINATOR)
    async with console_bot(api, city, tmp_path) as desk:
        browser = await desk.signed_in()
        earlier = browser.cookie(COOKIE)
        assert earlier
        # Someone else signs in on the same computer: the first session is over, not just
        # its cookie replaced.
        assert (await browser.sign_in(await desk.link(OTHER_COORDINATOR))).status == 303
        assert browser.cookie(COOKIE) not in (None, "", earlier)
        kept = desk.browser()
        kept.http.cookie_jar.update_cookies({COOKIE: earlier})
        await assert_all_refused(kept)
        assert (await browser.get("/")).status == 200
        assert stored(desk, "console_session") == 1
        assert [action for via, action, _ in audit(desk) if via == "console"] == [
            "console.sign_in",
            "console.sign_in",
            "console.sign_out",
        ]


async def test_a_page_polling_its_progress_does_not_keep_an_idle_session_alive(
    api: FakeBotAPI, city: CityConfig, tmp_path: Path
) -> None:
    [progress] = [route for route in GUARDED if route.name in PASSIVE]
    async with console_bot(api, city, tmp_path) as desk:
        browser = await desk.signed_in()
        clock = desk.bot.clock
        # The page's script asks every second; the person at the desk has gone.
        for _ in range(3):
            clock.advance(IDLE / 3 - timedelta(seconds=1))
            assert (await browser.get(progress.path)).status != 401
        clock.advance(timedelta(seconds=3))
        await assert_all_refused(browser)


async def test_a_made_up_link_is_refused_without_writing_to_the_database(
    api: FakeBotAPI, city: CityConfig, tmp_path: Path
) -> None:
    """Anyone can post tokens to the sign-in form: they must not queue for the write lock
    the bot's own work needs (here another connection holds it all along)."""
    async with console_bot(api, city, tmp_path) as desk:
        link = await desk.link()
        made_up = link.rsplit("/", 1)[0] + "/" + "A" * 43
        db = await desk.bot.db()
        try:
            async with db.transaction():
                for _ in range(3):
                    refused = await asyncio.wait_for(desk.browser().sign_in(made_up), 10)
                    assert refused.status == 403
        finally:
            await db.close()
        # The real link still works, once.
        assert (await desk.browser().sign_in(link)).status == 303
        assert (await desk.browser().sign_in(link)).status == 403


#: Typed by people (a Lotse's name, a refugee's name and words, a concern, a waiting-list
#: name, a coordinator's broadcast and date): each would run script if it reached a page as
#: markup, in an element or in an attribute.
INJECTIONS = (
    '<img src=x onerror="alert(1)">',
    "<script>alert(2)</script>",
    "<svg onload=alert(3)>",
    '" autofocus onfocus="alert(4)',
)


class _Markup(HTMLParser):
    """What in a page could run script: tags and attributes none of our pages has."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("svg", "iframe", "object") or (tag == "script" and not dict(attrs).get("src")):
            self.found.append(tag)
        if tag == "img" and dict(attrs).get("class") != "chart":
            self.found.append(tag)
        self.found += [f"{tag} {name}" for name, _ in attrs if name.startswith("on")]
        self.found += [f"{tag} {name}" for name, _ in attrs if name == "autofocus"]


def injected(html: str) -> list[str]:
    parser = _Markup()
    parser.feed(html)
    return parser.found


async def test_what_people_type_reaches_every_page_as_text(
    api: FakeBotAPI, city: CityConfig, tmp_path: Path
) -> None:
    evil = "".join(INJECTIONS)
    async with console_bot(api, city, tmp_path) as desk:
        coordinator = api.user(COORDINATOR_ID, "Koordination", language_code="de")
        await onboard(coordinator, "de")
        [code] = await invite_codes(api, 1)
        lotse = await become_lotse(api, HELPER + 1, evil, ["de", "ar"], code)
        refugee = api.user(HELPER + 2, evil, language_code="de")
        await onboard(refugee, "de")
        await ask_for_lotse(refugee, "de", text=evil, name=evil, day="tomorrow")
        await lotse.press(data="offer:accept:1")
        await refugee.wait_for_message(lambda m: has_data(m, "cn:ask:1"))
        await refugee.press(data="cn:ask:1")
        seen = len(coordinator.bot_messages())
        await refugee.send(evil)
        await coordinator.wait_for_message(lambda m: "#1" in m.text, after=seen)
        waiting = api.user(HELPER + 3, "Wartend", language_code="de")
        await onboard(waiting, "de")
        await join_waitlist(waiting, "de", typed_name=evil, phone=None, district=0)
        browser = await desk.signed_in()
        draft = {"text": evil, "audience": "lotsen", "tr_ar": evil}
        assert (await browser.post("/broadcasts/draft", draft)).status == 303
        preview = await browser.get("/broadcasts/draft")
        assert "&lt;script&gt;" in preview.html and injected(preview.html) == []
        sent = await browser.post("/broadcasts/send", {"when": "now"})
        assert sent.status == 303 and sent.location == "/broadcasts/1"
        planned = {"title": evil[:60], "place": evil, "day": "2099-01-05", "time": "18:00"}
        assert (await browser.post("/dates", planned)).status == 303

        with sqlite3.connect(desk.bot.settings.db_path) as conn:
            ids = {
                "lotsen": conn.execute("SELECT person_id FROM lotse").fetchone()[0],
                "requests": 1,
                "concerns": conn.execute("SELECT id FROM office_thread").fetchone()[0],
                "dates": conn.execute("SELECT id FROM event").fetchone()[0],
                "broadcasts": 1,
            }
        pages = 0
        for route in GUARDED:
            if route.method != "GET":
                continue
            section = route.path.split("/")[1]
            path = route.path.replace("/1", f"/{ids.get(section, 1)}", 1)
            page = await browser.get(path)
            assert injected(page.html) == [], (path, injected(page.html))
            pages += "&lt;script&gt;" in page.html
        # The typed text was there to be seen, as text, on many of them.
        assert pages >= 8, pages


async def test_over_tls_browsers_are_told_to_keep_to_it(
    api: FakeBotAPI, city: CityConfig, tmp_path: Path
) -> None:
    name, value = HSTS
    async with console_bot(api, city, tmp_path) as desk:
        behind_proxy = desk.browser({"X-Forwarded-Proto": "https"})
        for path in ("/signin", "/", "/nowhere", "/static/console.css", await desk.link()):
            page = await behind_proxy.get(path)
            assert page.headers.get(name) == value, path
            assert_protected(page)
        # Over plain HTTP (a test, the demo) the header means nothing and is left out.
        assert name not in (await desk.browser().get("/signin")).headers
