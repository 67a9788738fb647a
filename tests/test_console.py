"""The office console: signing in from the chat (Telegram and Signal) and from the command
line, the overview and what it leaves out, languages, a public path behind a proxy, the
audit log, and the retention of links and sessions."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
import socket
import sqlite3
import types
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from bot.clock import ManualClock
from bot.config import CityConfig
from bot.domain.people import Contact
from bot.services.console import LONGEST
from channels.console import server
from channels.signal.fakedaemon import FakeSignalDaemon
from channels.telegram.fakeapi import FakeBotAPI
from handlers import console as console_views
from tests.conftest import COORDINATOR_ID, RunningBot, eventually
from tests.console import Browser, console_bot, free_port, link_in
from tests.process import BotProcess, bot_env
from tests.scenario import ask_for_lotse, become_lotse, has_data, invite_codes, label, onboard, t
from tests.test_broadcasts import compose, final_report
from tests.test_config import run_cli
from tests.test_signal import onboard_on_signal


def audit_rows(db_path: Path) -> list[tuple[str, str, int | None, int | None]]:
    with sqlite3.connect(db_path) as conn:
        return conn.execute(
            "SELECT via, action, actor_id, subject_id FROM audit ORDER BY id"
        ).fetchall()


def count(db_path: Path, table: str) -> int:
    with sqlite3.connect(db_path) as conn:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def text_of(html: str) -> str:
    """What a page says, without its markup and with single spaces."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


async def test_a_coordinator_signs_in_from_the_chat_and_the_overview_shows_what_waits(
    api: FakeBotAPI, city: CityConfig, tmp_path: Path
) -> None:
    async with console_bot(api, city, tmp_path) as desk:
        bot = desk.bot
        coordinator = api.user(COORDINATOR_ID, "Koordination", language_code="de")
        await onboard(coordinator, "de")
        codes = await invite_codes(api, 2)
        wiebke = await become_lotse(api, 5101, "Wiebke", ["ar", "de"], codes[0])
        # A case with an appointment tomorrow, accepted by Wiebke …
        samiha = api.user(5102, "Samiha", language_code="ar")
        await onboard(samiha, "ar")
        tomorrow = (bot.clock.now().astimezone(city.timezone) + timedelta(days=1)).date()
        await ask_for_lotse(
            samiha, "ar", name="Samiha", day=tomorrow.isoformat(), time="1000",
            text="Brief vom Jobcenter über Miete",
        )  # fmt: skip
        await wiebke.press(label("ar", "✅ Accept"))
        await samiha.wait_for_text("Wiebke")
        # … about which Samiha reports a concern that nobody has answered yet;
        await samiha.press(data="cn:ask:1")
        await samiha.press(data="cn:r:1:absent")
        await coordinator.wait_for_message(lambda m: has_data(m, "ofc:case:1"))
        # a second request nobody has taken;
        amal = api.user(5103, "Amal", language_code="ar")
        await onboard(amal, "ar")
        await ask_for_lotse(amal, "ar", name="Amal Haddad", text="Termin Ausländerbehörde")
        # Wiebke's Führungszeugnis runs out in three weeks.
        runs_out = (bot.clock.now().astimezone(city.timezone) + timedelta(days=21)).date()
        await coordinator.send("/lotsen")
        listing = await coordinator.wait_for_message(lambda m: "👥" in m.text)
        entry = next(b for b in listing.button_labels() if b.startswith("Wiebke ·"))
        await coordinator.press(entry, message=listing)
        card = await coordinator.wait_for_message(lambda m: m.text.startswith("Wiebke"))
        await coordinator.press(label("de", "✏️ Valid until"), message=card)
        await coordinator.send(f"{runs_out.day}.{runs_out.month}.{runs_out.year}")
        await coordinator.wait_for_message(lambda m: str(runs_out.year) in m.text and "🛡" in m.text)
        await bot.handled_all()

        # /console in the chat: a link to the console's address, in German.
        seen = len(coordinator.bot_messages())
        await coordinator.send("/console")
        message = await coordinator.wait_for_message(after=seen)
        link = link_in(message.text, desk.base)
        assert link is not None
        assert message.text == console_views.sign_in_link(t("de"), link)
        browser = desk.browser()
        form = await browser.get(link)
        assert form.status == 200 and t("de").gettext("Sign in") in form.html
        signed_in = await browser.sign_in(link)
        assert signed_in.status == 303 and signed_in.location == "/"

        page = await browser.get("/")
        assert page.status == 200
        de = t("de")
        shown = text_of(page.html)
        assert '<html lang="de" dir="ltr">' in page.html
        assert de.gettext("Overview") in shown
        assert de.gettext("Requests waiting for a Lotse") in shown and "#2" in shown
        assert de.gettext("Appointments tomorrow") in shown
        tomorrow_part = shown.split(de.gettext("Appointments tomorrow"), 1)[1]
        assert "#1" in tomorrow_part.split(de.gettext("Concerns and messages not answered"))[0]
        assert "Wiebke" in tomorrow_part
        unanswered = shown.split(de.gettext("Concerns and messages not answered"), 1)[1]
        assert de.gettext("Concern") in unanswered and "#1" in unanswered
        running_out = shown.split(de.gettext("Führungszeugnis running out"), 1)[1]
        assert "Wiebke" in running_out
        assert de.gettext("valid until {day}", day=de.day(runs_out, "medium")) in running_out
        # Case numbers and Lotsen only: nothing the people asking told about themselves.
        for personal in ("Samiha", "Amal", "Haddad", "Miete", "Ausländerbehörde", "5102"):
            assert personal not in page.html
        # Keyboard and screen readers: a skip link to <main>, labelled navigation.
        assert '<a class="skip" href="#main">' in page.html and '<main id="main"' in page.html
        assert "<nav aria-label=" in page.html

        # The audit log: the link asked for in the chat, the sign-in through the console.
        (coordinator_id,) = {
            actor
            for via, action, actor, _ in audit_rows(bot.settings.db_path)
            if action == "console.link"
        }
        assert ("console", "console.sign_in", coordinator_id, None) in audit_rows(
            bot.settings.db_path
        )
        await browser.post("/signout")
        assert audit_rows(bot.settings.db_path)[-1] == (
            "console",
            "console.sign_out",
            coordinator_id,
            None,
        )


async def test_the_first_sign_in_from_the_command_line(
    api: FakeBotAPI, city: CityConfig, tmp_path: Path
) -> None:
    # The command runs beside the bot on the real time: the bot's clock is the real time too.
    async with console_bot(api, city, tmp_path, clock=ManualClock()) as desk:
        db = desk.bot.settings.db_path
        env = bot_env(None, db, LOTSENBOT_CONSOLE_LISTEN=desk.base.removeprefix("http://"))
        missing = run_cli("console-link", "1", env=bot_env(None, db))
        assert missing.returncode == 2 and "LOTSENBOT_CONSOLE_LISTEN" in missing.stderr
        added = run_cli("coordinator", "add", "telegram:9100", "--name", "Anna Schmidt", env=env)
        assert added.returncode == 0, added.stderr
        (person_id,) = {subject for via, action, _, subject in audit_rows(db) if via == "cli"}
        assert person_id is not None
        nobody = run_cli("console-link", str(person_id + 1), env=env)
        assert nobody.returncode == 2 and "not a coordinator" in nobody.stderr
        made = run_cli("console-link", str(person_id), env=env)
        assert made.returncode == 0, made.stderr
        link = made.stdout.strip()
        assert link_in(link, desk.base) == link
        browser = desk.browser()
        assert (await browser.sign_in(link)).status == 303
        overview = await browser.get("/")
        assert overview.status == 200
        assert "Angemeldet als Anna Schmidt" in text_of(overview.html)
        # The second use of the same link signs nobody in.
        assert (await desk.browser().sign_in(link)).status == 403
        assert ("cli", "console.link", None, person_id) in audit_rows(db)
        assert ("console", "console.sign_in", person_id, None) in audit_rows(db)
        assert names_in_log(db)["console.sign_in"] == "Anna Schmidt"


def names_in_log(db_path: Path) -> dict[str, str | None]:
    """Each action's name of the coordinator, as recorded (the last entry of each)."""
    with sqlite3.connect(db_path) as conn:
        return dict(conn.execute("SELECT action, actor_name FROM audit ORDER BY id").fetchall())


async def test_the_log_names_each_action_under_the_name_given_at_the_desk(
    api: FakeBotAPI, city: CityConfig, tmp_path: Path
) -> None:
    async with console_bot(api, city, tmp_path) as desk:
        db = desk.bot.settings.db_path
        browser = await desk.signed_in()
        assert "Ihren Namen für das Protokoll angeben" in text_of((await browser.get("/")).html)
        form = await browser.get("/name")
        assert 'name="name"' in form.html and 'for="name"' in form.html
        saved = await browser.post(
            "/name", {"name": "  Anna   Schmidt "}, csrf=await browser.csrf("/name")
        )
        assert saved.status == 303
        assert "Angemeldet als Anna Schmidt" in text_of((await browser.get("/")).html)
        # Recorded under the name from then on, at the desk and in the chat alike.
        coordinator = api.user(COORDINATOR_ID, "Koordination", language_code="de")
        seen = len(coordinator.bot_messages())
        await coordinator.send("/console")
        await coordinator.wait_for_message(
            lambda m: link_in(m.text, desk.base) is not None, after=seen
        )
        names = names_in_log(db)
        assert names["console.sign_in"] is None  # before the name was given
        assert names["console.name"] == names["console.link"] == "Anna Schmidt"
        (actor,) = {row[2] for row in audit_rows(db) if row[2] is not None}
        log = text_of((await browser.get("/audit")).html)
        assert f"Anna Schmidt #{actor}" in log
        # A name with markup is shown as text.
        await browser.post("/name", {"name": "<b>Bea</b>"}, csrf=await browser.csrf("/name"))
        page = await browser.get("/")
        assert "<b>Bea</b>" not in page.html and "&lt;b&gt;Bea&lt;/b&gt;" in page.html


async def test_behind_a_proxy_under_a_path_and_in_the_coordinators_language(
    api: FakeBotAPI, city: CityConfig, tmp_path: Path
) -> None:
    async with console_bot(api, city, tmp_path, prefix="/desk") as desk:
        coordinator = api.user(COORDINATOR_ID, "Koordination", language_code="ar")
        await onboard(coordinator, "ar")
        link = await desk.link()
        assert link.startswith(desk.base + "/signin/")
        browser = desk.browser()
        signed_in = await browser.sign_in(link)
        assert signed_in.status == 303 and signed_in.location == "/desk/"
        page = await browser.get("/")
        assert page.status == 200
        assert '<html lang="ar" dir="rtl">' in page.html
        ar = t("ar")
        assert ar.gettext("Overview") in page.html and ar.gettext("Sign out") in page.html
        assert 'href="/desk/static/console.css"' in page.html
        assert 'action="/desk/signout"' in page.html
        # The bare path leads to the overview; nothing is served outside the path.
        bare = await browser.request("GET", desk.base)
        assert bare.status == 308 and bare.location == "/desk/"
        outside = await browser.request("GET", desk.base.removesuffix("/desk") + "/")
        assert outside.status in (401, 404)
        assert browser.cookie("lotsen_session")
        cookie = signed_in.headers["Set-Cookie"]
        assert "Path=/desk" in cookie


async def test_a_coordinator_on_signal_gets_the_link_there(
    api: FakeBotAPI, city: CityConfig, tmp_path: Path
) -> None:
    daemon = FakeSignalDaemon()
    await daemon.start()
    try:
        office = daemon.user("+4917011110015", "Büro Integration")
        city = dataclasses.replace(city, coordinators=frozenset({Contact("signal", office.uuid)}))
        async with console_bot(api, city, tmp_path, signal=daemon) as desk:
            await onboard_on_signal(office, "de")
            seen = len(office.bot_messages())
            await office.send("/console")
            message = await office.wait_for_message(
                lambda m: link_in(m.text, desk.base) is not None, after=seen
            )
            link = link_in(message.text, desk.base)
            assert link is not None
            browser = desk.browser()
            assert (await browser.sign_in(link)).status == 303
            page = await browser.get("/")
            assert page.status == 200 and t("de").gettext("Overview") in page.html
            # A member on Signal is refused as on Telegram.
            member = daemon.user("+4917011110016", "Hadi")
            await onboard_on_signal(member, "fa")
            seen = len(member.bot_messages())
            await member.send("/console")
            refused = await member.wait_for_message(after=seen)
            assert link_in(refused.text, desk.base) is None
            assert count(desk.bot.settings.db_path, "console_link") == 1
        assert not daemon.violations
    finally:
        await daemon.stop()


async def test_without_a_console_the_command_says_so(running: RunningBot, api: FakeBotAPI) -> None:
    coordinator = api.user(COORDINATOR_ID, "Koordination", language_code="de")
    await onboard(coordinator, "de")
    seen = len(coordinator.bot_messages())
    await coordinator.send("/console")
    answer = await coordinator.wait_for_message(after=seen)
    assert answer.text == console_views.not_set_up(t("de"))
    assert count(running.settings.db_path, "console_link") == 0


async def test_links_and_sessions_are_deleted_once_over(
    api: FakeBotAPI, city: CityConfig, tmp_path: Path
) -> None:
    async with console_bot(api, city, tmp_path) as desk:
        db = desk.bot.settings.db_path
        browser: Browser = await desk.signed_in()
        await desk.link()  # never used
        assert (count(db, "console_link"), count(db, "console_session")) == (2, 1)
        # The retention sweep keeps what still counts …
        await desk.bot.timers.retention()
        assert (count(db, "console_link"), count(db, "console_session")) == (1, 1)
        # … and, once the links ran out and the session ended, nothing.
        desk.bot.clock.advance(LONGEST)
        await desk.bot.timers.retention()
        assert (count(db, "console_link"), count(db, "console_session")) == (0, 0)
        assert (await browser.get("/")).status == 401


failing = types.ModuleType("failing")
failing.routes = web.RouteTableDef()  # type: ignore[attr-defined]


@failing.routes.get("/failing/{id}", name="failing")  # type: ignore[attr-defined]
async def _failing_page(request: web.Request) -> web.StreamResponse:
    raise ValueError("Samiha Nasser, 0157 31415926")


async def test_a_failing_page_logs_its_route_and_the_errors_type_only(
    api: FakeBotAPI,
    city: CityConfig,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A section whose page fails, added the way every section is.
    monkeypatch.setattr(server, "PAGES", (*server.PAGES, failing))
    caplog.set_level(logging.DEBUG)
    async with console_bot(api, city, tmp_path) as desk:
        browser = await desk.signed_in()
        token = browser.cookie("lotsen_session")
        assert token
        page = await browser.get("/failing/7")
        assert page.status == 500
        assert (
            t("de").gettext(
                "Something went wrong; please try again. The log names only the place in the "
                "program, no personal data."
            )
            in page.html
        )
        assert "Samiha" not in page.html
        for name, value in server.HEADERS.items():
            assert page.headers[name] == value
        # Without a session it is refused like every page.
        assert (await desk.browser().get("/failing/7")).status == 401
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "console page failing failed: ValueError at" in logged
    assert "Samiha" not in logged and "31415926" not in logged
    assert token not in logged and "/signin/" not in logged


async def test_lotsenbot_run_serves_the_console_and_stops_it_with_the_bot(
    api: FakeBotAPI, tmp_path: Path
) -> None:
    db = tmp_path / "lotsenbot.sqlite3"
    assert run_cli("coordinator", "add", "telegram:9100", env=bot_env(None, db)).returncode == 0
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    bot = BotProcess(api, db, tmp_path / "bot.log", args=("--console", f"127.0.0.1:{port}"))
    await bot.start()
    browser = Browser(base)
    try:
        coordinator = api.user(9100, "Koordination", language_code="de")
        await coordinator.send("/console")
        message = await coordinator.wait_for_message(lambda m: link_in(m.text, base) is not None)
        link = link_in(message.text, base)
        assert link is not None
        assert (await browser.sign_in(link)).status == 303
        assert (await browser.get("/")).status == 200
        assert await bot.terminate() == 0
        with pytest.raises(aiohttp.ClientConnectionError):
            await browser.get("/")
    finally:
        await browser.close()
        if bot.proc is not None and bot.proc.returncode is None:
            await bot.kill()
    log = bot.log()
    assert "office console listening" in log
    assert link.rsplit("/", 1)[1] not in log and "/signin" not in log


async def test_a_console_port_in_use_stops_the_bot_with_one_line(
    api: FakeBotAPI, tmp_path: Path
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        bot = BotProcess(
            api,
            tmp_path / "db.sqlite3",
            tmp_path / "bot.log",
            args=("--console", f"127.0.0.1:{port}"),
        )
        await bot.spawn()
        assert bot.proc is not None
        assert await asyncio.wait_for(bot.proc.wait(), 60) == 2
    last = bot.log().strip().splitlines()[-1]
    assert last.startswith(f"lotsenbot: the office console cannot listen on 127.0.0.1:{port} (")
    assert "Traceback" not in bot.log()


async def test_the_overview_shows_a_broadcast_being_sent_and_its_progress(
    api: FakeBotAPI, city: CityConfig, tmp_path: Path
) -> None:
    async with console_bot(api, city, tmp_path) as desk:
        coordinator = api.user(COORDINATOR_ID, "Koordination", language_code="de")
        await onboard(coordinator, "de")
        for number in (5201, 5202):
            await onboard(api.user(number, "Mitglied", language_code="de"), "de")
        browser = await desk.signed_in()
        de = t("de")
        idle = text_of((await browser.get("/")).html)
        assert de.gettext("Broadcasts being sent") in idle
        assert de.gettext("Broadcast {number}", number=1) not in idle
        await compose(coordinator, "Neue Sprachkurse ab Januar", "everyone")
        # The copies wait at Telegram's door: the broadcast is being sent.
        api.hold("sendMessage")
        await coordinator.press(data="bc:send")
        sending_sql = "SELECT count(*) FROM mailing WHERE kind = 'broadcast' AND status = 'sending'"
        with sqlite3.connect(desk.bot.settings.db_path) as conn:
            await eventually(lambda: conn.execute(sending_sql).fetchone() == (1,))
        sending = text_of((await browser.get("/")).html)
        listed = sending.split(de.gettext("Broadcasts being sent"), 1)[1]
        assert de.gettext("Broadcast {number}", number=1) in listed
        assert "Neue Sprachkurse" not in sending
        total = count(desk.bot.settings.db_path, "delivery")
        assert total >= 2
        assert de.gettext("{done} of {total} done", done=0, total=total) in listed
        api.release("sendMessage")
        await api.wait_until(lambda: final_report(coordinator))
        done = text_of((await browser.get("/")).html)
        assert de.gettext("Broadcast {number}", number=1) not in done
