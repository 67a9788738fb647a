"""The console's requests over HTTP on loopback, with the real bot and the fake Telegram API:
the table and its filters, a request's timeline, and assigning, cancelling and reopening —
the people involved hear of it on their (fake) phones."""

from __future__ import annotations

import re
import sqlite3
from html.parser import HTMLParser
from pathlib import Path

from bot.config import CityConfig
from bot.domain.requests import Request
from bot.storage.requests import RequestsRepository
from channels.telegram.fakeapi import FakeBotAPI, FakeUser
from handlers import asking_views, lotse_views
from tests.conftest import RunningBot, eventually, plain
from tests.console import ConsoleBot, console_bot
from tests.scenario import ask_for_lotse, become_lotse, has_data, invite_codes, onboard, t


def console_audit(bot: RunningBot) -> list[tuple[str, int | None]]:
    """(action, request) of every console action in the audit log, in order."""
    with sqlite3.connect(bot.settings.db_path) as conn:
        return conn.execute(
            "SELECT action, request_id FROM audit WHERE via = 'console' "
            "AND action NOT LIKE '%.view' AND action NOT LIKE 'console.%' "
            "AND action <> 'lotse.card' ORDER BY id"
        ).fetchall()


async def stored(desk: ConsoleBot, number: int) -> Request:
    db = await desk.bot.db()
    try:
        found = await RequestsRepository(db).get(number)
    finally:
        await db.close()
    assert found is not None
    return found


def numbers(html: str) -> list[int]:
    """The request numbers the table lists, in order."""
    return [int(n) for n in re.findall(r'<a href="/requests/(\d+)">#', html)]


async def world(desk: ConsoleBot) -> tuple[FakeUser, FakeUser, FakeUser, FakeUser]:
    """Ada (Arabic, German) took Amal's request #1; Bo (German) was offered Olena's #2."""
    api = desk.api
    codes = await invite_codes(api, 2)
    ada = await become_lotse(api, 701, "Ada", ["de", "ar"], codes[0])
    bo = await become_lotse(api, 702, "Bo", ["de"], codes[1])
    amal = api.user(801, "Amal", language_code="ar")
    await onboard(amal, "ar")
    await ask_for_lotse(amal, "ar", text="رسالة من Jobcenter", name="Amal", district=0)
    await ada.press(data="offer:accept:1")
    await amal.wait_for_text("Ada")
    olena = api.user(802, "Olena", language_code="uk")
    await onboard(olena, "uk")
    await ask_for_lotse(olena, "uk", topic="housing", text="Wohnung", name="Olena", district=3)
    await bo.wait_for_message(lambda m: has_data(m, "offer:accept:2"))
    return ada, bo, amal, olena


async def test_filters_narrow_the_table_and_the_timeline_shows_offer_acceptance_and_close(
    api: FakeBotAPI, city: CityConfig, tmp_path: Path
) -> None:
    async with console_bot(api, city, tmp_path) as desk:
        ada, _, amal, _ = await world(desk)
        browser = await desk.signed_in()

        everything = await browser.get("/requests")
        assert everything.status == 200
        assert numbers(everything.html) == [2, 1]
        by_language = await browser.get("/requests?language=ar")
        assert numbers(by_language.html) == [1]
        assert numbers((await browser.get("/requests?topic=housing")).html) == [2]
        assert numbers((await browser.get("/requests?state=accepted")).html) == [1]
        district = city.districts[3]
        assert numbers((await browser.get(f"/requests?district={district}")).html) == [2]
        month = desk.bot.clock.now().astimezone(city.timezone).strftime("%Y-%m")
        assert numbers((await browser.get(f"/requests?month={month}")).html) == [2, 1]
        assert numbers((await browser.get("/requests?language=ar&topic=housing")).html) == []
        assert "Amal" not in everything.html  # the table shows no names of the people helped

        page = await browser.get("/requests/1")
        assert page.status == 200
        de = t("de")
        assert plain(
            de.gettext(
                "Offered to {name}, round {round} ({answer})",
                name="Ada",
                round="1",
                answer=de.gettext("accepted"),
            )
        ) in plain(page.html)
        assert plain(de.gettext("Accepted by {name}", name="Ada")) in plain(page.html)
        assert plain(de.gettext("The person was told who helps")) in plain(page.html)
        assert "رسالة من Jobcenter" in page.html  # what it is about, as the chat desk shows it
        assert "Amal" not in page.html
        assert (await browser.get("/requests/99")).status == 404

        # Ada closes the case: Amal is asked how it went, and the timeline says so.
        await ada.press(data="case:done:1")
        hours = await ada.wait_for_message(lambda m: has_data(m, "case:hours:1:2"))
        await ada.press(data="case:hours:1:2", message=hours)
        await amal.wait_for_message(lambda m: has_data(m, "fb:1:good"))
        closed = await browser.get("/requests/1")
        assert plain(de.gettext("The person was asked how it went")) in plain(closed.html)


async def test_the_timeline_shows_a_case_handed_back(
    api: FakeBotAPI, city: CityConfig, tmp_path: Path
) -> None:
    async with console_bot(api, city, tmp_path) as desk:
        ada, _, _, _ = await world(desk)
        browser = await desk.signed_in()
        await ada.press(data="case:back:1")
        question = await ada.wait_for_message(lambda m: has_data(m, "case:back_yes:1"))
        await ada.press(data="case:back_yes:1", message=question)
        de = t("de")
        await ada.wait_for_text(de.gettext("Case #{number} has been handed back.", number="1"))
        page = plain((await browser.get("/requests/1")).html)
        answer = de.gettext("accepted, then handed back")
        offered = de.gettext(
            "Offered to {name}, round {round} ({answer})", name="Ada", round="1", answer=answer
        )
        assert plain(offered) in page
        assert plain(de.gettext("{name} handed the case back", name="Ada")) in page
        assert plain(de.gettext("Accepted by {name}", name="Ada")) not in page


async def test_assign_cancel_and_reopen_reach_the_people_and_are_audited(
    api: FakeBotAPI, city: CityConfig, tmp_path: Path
) -> None:
    async with console_bot(api, city, tmp_path) as desk:
        ada, bo, _, olena = await world(desk)
        browser = await desk.signed_in()

        # Assign #2 to Ada, who was not among those it was offered to: the form lists her.
        page = await browser.get("/requests/2")
        assert re.search(r'<option value="\d+">[^<]*Ada', page.html)
        ada_id = int(re.findall(r'<option value="(\d+)">[^<]*Ada', page.html)[0])
        token = await browser.csrf("/requests/2")
        seen = len(ada.bot_messages())
        done = await browser.post("/requests/2/assign", {"lotse": str(ada_id)}, csrf=token)
        assert done.status == 303 and done.location == "/requests/2?done=assigned"
        await ada.wait_for_message(
            lambda m: has_data(m, "case:done:2") and "Wohnung" in m.text, after=seen
        )
        await olena.wait_for_text("Ada")
        # Bo's offer of it is withdrawn, as when a Lotse accepts.
        await eventually(lambda: not any(has_data(m, "offer:accept:2") for m in bo.bot_messages()))
        assert plain(lotse_views.offer_gone(t("de"))) in [m.text for m in bo.bot_messages()]
        assert (await stored(desk, 2)).lotse_id == ada_id

        # Cancel it: Olena and Ada are told, as the chat tells them.
        done = await browser.post("/requests/2/cancel", {}, csrf=token)
        assert done.location == "/requests/2?done=cancelled"
        cancelled = await stored(desk, 2)
        await olena.wait_for_text(plain(asking_views.cancelled_by_office(t("uk"), cancelled, city)))
        await ada.wait_for_text(
            plain(lotse_views.cancelled_by_office_for_lotse(t("de"), cancelled))
        )
        assert (await browser.post("/requests/2/cancel", {}, csrf=token)).location == (
            "/requests/2?done=refused"
        )

        # Open it again: Olena hears it, and Lotsen are asked anew (Bo, who never answered).
        seen = len(bo.bot_messages())
        done = await browser.post("/requests/2/reopen", {}, csrf=token)
        assert done.location == "/requests/2?done=reopened"
        await olena.wait_for_text(plain(asking_views.reopened(t("uk"), cancelled)))
        await bo.wait_for_message(lambda m: has_data(m, "offer:accept:2"), after=seen)
        assert (await stored(desk, 2)).status.value == "offered"
        timeline = plain((await browser.get("/requests/2")).html)
        de = t("de")
        for line in (
            "The office assigned it",
            "The office cancelled it",
            "The office opened it again",
        ):
            assert plain(de.gettext(line)) in timeline

        # Every action is in the audit log, through the console.
        assert console_audit(desk.bot) == [
            ("request.assign", 2),
            ("request.cancel", 2),
            ("request.reopen", 2),
        ]


class _Controls(HTMLParser):
    """The form controls of a page, the ids its labels name, and every id."""

    def __init__(self) -> None:
        super().__init__()
        self.controls: list[dict[str, str | None]] = []
        self.labelled: set[str] = set()
        self.ids: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if found.get("id"):
            self.ids.append(str(found["id"]))
        if tag == "label" and found.get("for"):
            self.labelled.add(str(found["for"]))
        if tag in ("select", "textarea") or (tag == "input" and found.get("type") != "hidden"):
            self.controls.append(found)


async def test_every_control_of_the_pages_is_labelled(
    api: FakeBotAPI, city: CityConfig, tmp_path: Path
) -> None:
    """Keyboard and screen-reader use: each field has its label, each id is unique, and each
    button says what it does."""
    async with console_bot(api, city, tmp_path) as desk:
        await world(desk)
        browser = await desk.signed_in()
        paths = [
            "/requests",
            "/requests/1",
            "/requests/2",
            "/lotsen",
            "/lotsen/1",
            "/lotsen/invitations",
            "/concerns",
        ]
        checked = 0
        for path in paths:
            page = await browser.get(path)
            assert page.status == 200, path
            parsed = _Controls()
            parsed.feed(page.html)
            checked += len(parsed.controls)
            for control in parsed.controls:
                named = control.get("aria-label") or control.get("id") in parsed.labelled
                assert named, (path, control)
            assert len(parsed.ids) == len(set(parsed.ids)), path
            buttons = re.findall(r"<button[^>]*>([^<]*)</button>", page.html)
            assert buttons and all(label.strip() for label in buttons), path
        assert checked >= 17  # the filters, the assignment, the card's dates and reason
