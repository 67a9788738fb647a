"""The waiting list at the office console, over HTTP against the real bot: everyone waiting
on one page, a training announced from the desk reaches them, the answers come back to it,
and a change reaches those who did not say no."""

from __future__ import annotations

import re
import sqlite3
from datetime import timedelta
from html import unescape
from pathlib import Path

from bot.config import CityConfig
from channels.telegram.fakeapi import BotMessage, FakeBotAPI, FakeUser
from tests.conftest import COORDINATOR_ID
from tests.console import console_bot
from tests.scenario import join_waitlist, onboard, t


def visible(text: str) -> str:
    """Text without tags and the invisible direction marks around values."""
    return re.sub("[\u2067\u2068\u2069]", "", unescape(re.sub(r"<[^>]+>", "", text)))


def notices(user: FakeUser) -> list[BotMessage]:
    """The training notices a user got (each with answer buttons)."""
    return [
        m
        for m in user.bot_messages()
        if any(b.get("callback_data", "").startswith("wl:t:") for row in m.buttons for b in row)
    ]


def answer(notice: BotMessage, yes: bool) -> str:
    wanted = ":yes" if yes else ":no"
    for row in notice.buttons:
        for button in row:
            data = str(button.get("callback_data", ""))
            if data.startswith("wl:t:") and data.endswith(wanted):
                return data
    raise LookupError(wanted)


async def test_a_training_announced_at_the_desk_reaches_the_list_and_shows_the_answers(
    api: FakeBotAPI, city: CityConfig, tmp_path: Path
) -> None:
    async with console_bot(api, city, tmp_path) as desk:
        coordinator = api.user(COORDINATOR_ID, "Koordination", language_code="de")
        await onboard(coordinator, "de")
        people: dict[str, FakeUser] = {}
        for number, (name, language) in enumerate(
            [("Farid", "fa"), ("Olena", "uk"), ("Samir", "ar")]
        ):
            user = api.user(801 + number, name, language_code=language)
            await onboard(user, language)
            await join_waitlist(user, language, typed_name=name, phone=None, district=number)
            people[name] = user
        browser = await desk.signed_in()

        page = visible((await browser.get("/waitlist")).html)
        de = t("de")
        assert (
            visible(
                de.ngettext("<b>Waiting list</b>: {n} person", "<b>Waiting list</b>: {n} people", 3)
            )
            in page
        )
        assert all(name in page for name in people)
        assert (
            visible(
                de.ngettext(
                    "It goes to {n} person on the waiting list.",
                    "It goes to {n} people on the waiting list.",
                    3,
                )
            )
            in page
        )

        today = desk.bot.clock.now().astimezone(city.timezone).date()
        day, by = today + timedelta(days=14), today + timedelta(days=7)
        form = {
            "day": day.isoformat(),
            "time": "17:00",
            "place": "Rathaus, Raum 2",
            "capacity": "1",
            "confirm_by": by.isoformat(),
        }
        wrong = await browser.post(
            "/waitlist/trainings",
            {**form, "confirm_by": (day + timedelta(days=1)).isoformat()},
            csrf=await browser.csrf("/waitlist"),
        )
        assert wrong.status == 400  # answers after the training: refused as in chat
        announced = await browser.post("/waitlist/trainings", form)
        assert announced.status == 303

        for user in people.values():
            await user.wait_for_message(lambda m, u=user: m in notices(u))  # type: ignore[misc]
        farid, olena = people["Farid"], people["Olena"]
        await farid.press(data=answer(notices(farid)[0], True), message=notices(farid)[0])
        await olena.press(data=answer(notices(olena)[0], True), message=notices(olena)[0])
        samir = people["Samir"]
        await samir.press(data=answer(notices(samir)[0], False), message=notices(samir)[0])
        await desk.bot.handled_all()

        page = visible((await browser.get("/waitlist")).html)
        assert "Rathaus, Raum 2" in page
        assert "✅ Farid" in page and "⏳ Olena" in page and "❌ Samir" in page

        # Changed at the desk: those who did not say no hear of it.
        training_id = int(
            re.findall(r"/waitlist/trainings/(\d+)", (await browser.get("/waitlist")).html)[0]
        )
        changed = await browser.post(
            f"/waitlist/trainings/{training_id}", {**form, "time": "18:30"}
        )
        assert changed.status == 303
        for user in (farid, olena):
            await user.wait_for_message(lambda m: "18:30" in visible(m.text))
        await desk.bot.handled_all()
        assert not any("18:30" in visible(m.text) for m in samir.bot_messages())
        with sqlite3.connect(desk.bot.settings.db_path) as conn:
            actions = [
                row[0]
                for row in conn.execute(
                    "SELECT action FROM audit WHERE via = 'console' AND action LIKE 'training.%' "
                    "ORDER BY id"
                )
            ]
        assert actions == ["training.announce", "training.change"]
