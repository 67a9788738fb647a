"""Dates planned at the office console, over HTTP against the real bot: announced to the
Lotsen, their answers on the desk, a move and a cancellation that reach those who answered."""

from __future__ import annotations

import asyncio
import re
import sqlite3
import subprocess
from datetime import datetime, time, timedelta
from html import unescape
from pathlib import Path

from bot.config import CityConfig
from bot.domain.events import Pattern
from channels.telegram.fakeapi import BotMessage, FakeBotAPI, FakeUser
from handlers import event_views as ev
from tests.conftest import COORDINATOR_ID
from tests.console import console_bot
from tests.process import LOTSENBOT, bot_env
from tests.scenario import become_lotse, invite_codes, onboard, t
from tests.test_console_requests import _Controls

TITLE = "Sommerfest der Lotsen"


def visible(text: str) -> str:
    """Text without tags and the invisible direction marks around values."""
    return re.sub("[\u2067\u2068\u2069]", "", unescape(re.sub(r"<[^>]+>", "", text)))


def invitations(user: FakeUser) -> list[BotMessage]:
    return [m for m in user.bot_messages() if m.kind == "document" and m.text.startswith("📣")]


def rsvp(message: BotMessage, answer: str) -> str:
    for data in (b["callback_data"] for row in message.buttons for b in row):
        if data.startswith("ev:rsvp:") and data.endswith(f":{answer}"):
            return str(data)
    raise LookupError(answer)


async def test_a_date_planned_at_the_desk_is_announced_moved_and_cancelled(
    api: FakeBotAPI, city: CityConfig, tmp_path: Path
) -> None:
    async with console_bot(api, city, tmp_path) as desk:
        coordinator = api.user(COORDINATOR_ID, "Koordination", language_code="de")
        await onboard(coordinator, "de")
        codes = await invite_codes(api, 2)
        mina = await become_lotse(api, 601, "Mina", ["fa"], codes[0])
        jonas = await become_lotse(api, 602, "Jonas", ["de"], codes[1])
        browser = await desk.signed_in()

        page = await browser.get("/dates")
        assert page.status == 200
        assert f'value="{city.stammtisch.venue}"' in page.html  # the usual place, prefilled
        day = (desk.bot.clock.now().astimezone(city.timezone) + timedelta(days=10)).date()
        planned = await browser.post(
            "/dates",
            {
                "title": TITLE,
                "day": day.isoformat(),
                "time": "17:45",
                "place": city.stammtisch.venue,
                "topic": city.stammtisch.topics[0],
                "announce": "now",
            },
            csrf=await browser.csrf("/dates"),
        )
        assert planned.status == 303 and planned.location is not None
        event_id = int(re.findall(r"event=(\d+)", planned.location)[0])
        shown = visible((await browser.get(planned.location)).html)
        assert visible(
            t("de").gettext("✅ Saved. The invitation is on its way to all Lotsen.")
        ) in (shown)

        invitation = await mina.wait_for_message(lambda m: m in invitations(mina))
        assert TITLE in invitation.text and city.stammtisch.topics[0] in invitation.text
        assert t("fa").clock(time(17, 45)) in visible(invitation.text)
        other = await jonas.wait_for_message(lambda m: m in invitations(jonas))
        await mina.press(data=rsvp(invitation, "yes"), message=invitation)
        await jonas.press(data=rsvp(other, "no"), message=other)
        await desk.bot.handled_all()

        # The desk shows the answers and who gave them.
        card = visible((await browser.get("/dates")).html)
        assert "✅ Mina" in card and "❌ Jonas" in card

        # A time in the past is refused; a move reaches Mina, not Jonas who said no.
        past = await browser.post(
            f"/dates/{event_id}/move",
            {"day": (day - timedelta(days=30)).isoformat(), "time": "18:00"},
        )
        assert past.status == 400
        new_day = day + timedelta(days=2)
        moved = await browser.post(
            f"/dates/{event_id}/move", {"day": new_day.isoformat(), "time": "18:00"}
        )
        assert moved.status == 303
        notice = await mina.wait_for_message(lambda m: m.text.startswith("🔁"))
        assert t("fa").day(new_day) in visible(notice.text)
        assert "SEQUENCE:1" in api.files[notice.file_id or ""].decode()

        # Cancelled after asking once more: Mina hears of it.
        asked = visible((await browser.get(f"/dates/{event_id}/cancel")).html)
        assert TITLE in asked and visible(t("de").gettext("Yes, cancel it")) in asked
        cancelled = await browser.post(f"/dates/{event_id}/cancel", {})
        assert cancelled.status == 303
        await mina.wait_for_message(lambda m: m.text.startswith("❌"))
        await desk.bot.handled_all()
        assert not any(m.text.startswith(("🔁", "❌")) for m in jonas.bot_messages())
        with sqlite3.connect(desk.bot.settings.db_path) as conn:
            actions = [
                row[0]
                for row in conn.execute(
                    "SELECT action FROM audit WHERE via = 'console' AND action LIKE 'event.%' "
                    "ORDER BY id"
                )
            ]
        assert actions == ["event.plan", "event.move", "event.cancel"]


async def test_a_quiet_date_is_announced_later_and_a_rule_stopped_at_the_desk(
    api: FakeBotAPI, city: CityConfig, tmp_path: Path
) -> None:
    async with console_bot(api, city, tmp_path) as desk:
        (code,) = await invite_codes(api, 1)
        mina = await become_lotse(api, 601, "Mina", ["fa"], code)
        browser = await desk.signed_in()
        day = (desk.bot.clock.now().astimezone(city.timezone) + timedelta(days=5)).date()
        token = await browser.csrf("/dates")
        quiet = await browser.post(
            "/dates",
            {"title": TITLE, "day": day.isoformat(), "time": "18:00", "place": "Rathaus"},
            csrf=token,
        )
        assert quiet.status == 303 and quiet.location is not None
        assert "done=saved" in quiet.location
        event_id = int(re.findall(r"event=(\d+)", quiet.location)[0])
        await desk.bot.handled_all()
        assert invitations(mina) == []  # saved, not announced
        page = (await browser.get("/dates")).html
        assert f'action="/dates/{event_id}/announce"' in page
        told = await browser.post(f"/dates/{event_id}/announce", {}, csrf=token)
        assert told.status == 303
        invitation = await mina.wait_for_message(lambda m: m in invitations(mina))
        assert "Rathaus" in invitation.text
        assert f'action="/dates/{event_id}/announce"' not in (await browser.get("/dates")).html
        # Nothing planned without a title or with a day gone by.
        empty = await browser.post(
            "/dates", {"title": " ", "day": day.isoformat(), "time": "18:00", "place": "x"}
        )
        assert empty.status == 400

        # A repeating rule, made on the command line, stopped at the desk.
        made = await asyncio.to_thread(
            subprocess.run,
            [str(LOTSENBOT), "event", "rule", "--every", "last friday", "--time", "19:00"],
            env=bot_env(None, desk.bot.settings.db_path),
            capture_output=True,
            text=True,
            check=False,
        )
        assert made.returncode == 0, made.stderr
        with sqlite3.connect(desk.bot.settings.db_path) as conn:
            (rule_id,) = conn.execute("SELECT id FROM event_rule").fetchone()
        listed = visible((await browser.get("/dates")).html)
        assert visible(t("de").gettext("There is no repeating date yet.")) not in listed
        stopped = await browser.post(f"/dates/rules/{rule_id}/stop", {}, csrf=token)
        assert stopped.location == "/dates?done=stopped"
        listed = visible((await browser.get("/dates")).html)
        assert visible(t("de").gettext("There is no repeating date yet.")) in listed
        with sqlite3.connect(desk.bot.settings.db_path) as conn:
            actions = [
                row[0]
                for row in conn.execute(
                    "SELECT action FROM audit WHERE via = 'console' AND action LIKE 'event.%' "
                    "ORDER BY id"
                )
            ]
        assert actions == ["event.plan", "event.announce", "event.rule_stop"]


async def test_a_repeating_date_made_at_the_desk_plans_its_dates(
    api: FakeBotAPI, city: CityConfig, tmp_path: Path
) -> None:
    async with console_bot(api, city, tmp_path) as desk:
        db = desk.bot.settings.db_path
        browser = await desk.signed_in()
        token = await browser.csrf("/dates")
        rule = {
            "title": "Stammtisch",
            "week": "1",
            "weekday": "2",
            "time": "18:00",
            "place": "Treffpunkt Altstadt",
        }
        # A week that is none, or no place: nothing is made.
        assert (await browser.post("/dates/rules", {**rule, "week": "9"}, csrf=token)).status == 400
        assert (await browser.post("/dates/rules", {**rule, "place": ""}, csrf=token)).status == 400
        made = await browser.post("/dates/rules", rule, csrf=token)
        assert made.status == 303 and made.location == "/dates?done=repeating"
        with sqlite3.connect(db) as conn:
            assert conn.execute("SELECT title, rrule, place FROM event_rule").fetchall() == [
                ("Stammtisch", "FREQ=MONTHLY;BYDAY=1WE", "Treffpunkt Altstadt")
            ]
            starts = [row[0] for row in conn.execute("SELECT starts_at FROM event ORDER BY 1")]
        assert starts  # its next dates, each on a first Wednesday at 18:00 in the city
        for start in starts:
            local = datetime.fromisoformat(start).astimezone(city.timezone)
            assert (local.weekday(), local.day <= 7, local.time()) == (2, True, time(18, 0))
        page = visible((await browser.get("/dates?done=repeating")).html)
        assert visible(ev.saved_rule(t("de"))) in page
        assert visible(ev.pattern_label(t("de"), Pattern(2, 1))) in page
        with sqlite3.connect(db) as conn:
            assert conn.execute(
                "SELECT count(*) FROM audit WHERE via = 'console' AND action = 'event.rule_add'"
            ).fetchone() == (1,)


async def test_every_control_of_the_desks_other_pages_is_labelled(
    api: FakeBotAPI, city: CityConfig, tmp_path: Path
) -> None:
    """Keyboard and screen-reader use on the broadcasts, waiting list, dates, figures and audit
    pages: each field has its label, each id is unique, each button says what it does."""
    async with console_bot(api, city, tmp_path) as desk:
        (code,) = await invite_codes(api, 1)
        await become_lotse(api, 601, "Mina", ["fa"], code)
        browser = await desk.signed_in()
        token = await browser.csrf("/dates")
        today = desk.bot.clock.now().astimezone(city.timezone).date()
        day = (today + timedelta(days=9)).isoformat()
        form = {"title": TITLE, "day": day, "time": "18:00", "place": "Rathaus"}
        assert (await browser.post("/dates", form, csrf=token)).status == 303
        training = {
            "day": day,
            "time": "10:00",
            "place": "Rathaus",
            "capacity": "12",
            "confirm_by": (today + timedelta(days=3)).isoformat(),
        }
        assert (await browser.post("/waitlist/trainings", training, csrf=token)).status == 303
        draft = {"text": "Neuigkeiten", "audience": "lotsen"}
        assert (await browser.post("/broadcasts/draft", draft, csrf=token)).status == 303
        paths = ["/broadcasts", "/broadcasts/draft", "/waitlist", "/dates", "/dates/1/cancel"]
        paths += ["/figures", "/audit"]
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
        # the text and its 12 translations, the audience, the training's and the date's fields
        assert checked >= 40
