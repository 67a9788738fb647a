"""The coordinator at the desk: assigning by hand, the entry points, invitations."""

from __future__ import annotations

import dataclasses
import re
import sqlite3
from datetime import time, timedelta
from pathlib import Path

from bot.clock import from_db
from bot.config import CityConfig, RequestRules
from bot.i18n import language_name
from channels.telegram.fakeapi import BotMessage, FakeBotAPI
from handlers import broadcast_views, coordination_views, lotse_views, views
from tests.conftest import COORDINATOR_ID, RunningBot, plain, start_bot
from tests.scenario import (
    ask_for_lotse,
    become_lotse,
    has_data,
    invite_codes,
    onboard,
    seed_people,
    t,
)


def visible(text: str) -> str:
    return text.replace("\u2068", "").replace("\u2069", "")


def data_of(message: BotMessage) -> list[str]:
    return [str(b.get("callback_data", "")) for row in message.buttons for b in row]


def assign_buttons(message: BotMessage) -> list[str]:
    """The labels of a message's *assign* choices, in their order."""
    return [
        b["text"]
        for row in message.buttons
        for b in row
        if b.get("callback_data", "").startswith("coord:assign:")
    ]


async def test_assigning_by_hand_offers_the_fitting_lotsen_first(
    api: FakeBotAPI, city: CityConfig, tmp_path: Path
) -> None:
    city = dataclasses.replace(city, requests=RequestRules(offer_count=1))
    bot = await start_bot(api, city, tmp_path / "bot.sqlite3")
    try:
        codes = await invite_codes(api, 4)
        await become_lotse(api, 401, "Aylin", ["tr"], codes[0])
        await become_lotse(api, 402, "Karim", ["ar"], codes[1])
        olena = await become_lotse(api, 403, "Olena", ["uk"], codes[2])
        petro = await become_lotse(api, 404, "Petro", ["uk"], codes[3])
        await petro.press(data="prof:show:pause")
        await petro.press(data="prof:pause:14")
        await bot.handled_all()
        coordinator = api.user(COORDINATOR_ID, "Koordination", language_code="de")

        # A Ukrainian request nobody takes, and an Arabic one whose day passes.
        mykola = api.user(501, "Mykola", language_code="uk")
        await onboard(mykola, "uk")
        await ask_for_lotse(mykola, "uk", name="Mykola")
        await olena.wait_for_text("🔔")
        amal = api.user(502, "Amal", language_code="ar")
        await onboard(amal, "ar")
        tomorrow = (bot.clock.now().astimezone(city.timezone) + timedelta(days=1)).date()
        await ask_for_lotse(amal, "ar", name="Amal", day=tomorrow.isoformat(), time="1000")
        await bot.advance(timedelta(minutes=121))
        await bot.advance(timedelta(minutes=121))
        alert = await coordinator.wait_for_message(
            lambda m: "#1" in visible(m.text) and bool(assign_buttons(m))
        )
        # The Ukrainian speakers first (the paused one marked), with languages and load.
        labels = assign_buttons(alert)
        assert "Olena" in labels[0] and "UK" in labels[0] and "0/" in labels[0]
        assert "Petro" in labels[1] and "⏸" in labels[1]
        assert not any("⏸" in label for label in labels[:1] + labels[2:])
        assert {label.split(" ")[0] for label in labels[2:]} == {"Aylin", "Karim"}
        await bot.advance(timedelta(days=2))
        with sqlite3.connect(bot.settings.db_path) as conn:
            states = conn.execute("SELECT id, status FROM request ORDER BY id").fetchall()
        assert states == [(1, "offered"), (2, "expired")]

        # /requests: the waiting one with a button to assign it; the expired one apart.
        seen = len(coordinator.bot_messages())
        await coordinator.send("/requests")
        overview = await coordinator.wait_for_message(lambda m: "#1" in m.text, after=seen)
        waiting, _, expired = overview.text.partition(
            t("de").gettext("<b>Expired without a Lotse</b>").replace("<b>", "").replace("</b>", "")
        )
        assert "#1" in waiting and "#2" not in waiting and "#2" in expired
        assert has_data(overview, "coord:pick:1") and not has_data(overview, "coord:pick:2")
        seen = len(coordinator.bot_messages())
        await coordinator.press(data="coord:pick:1", message=overview)
        card = await coordinator.wait_for_message(lambda m: bool(assign_buttons(m)), after=seen)
        assert "Olena" in assign_buttons(card)[0]

        # Assigned to Olena: her old offer does not say someone else took it.
        offer = next(m for m in olena.bot_messages() if "🔔" in m.text)
        await coordinator.press(assign_buttons(card)[0], message=card)
        await olena.wait_for_text("Mykola")
        await mykola.wait_for_text("Olena")
        await bot.handled_all()
        offer = next(m for m in olena.bot_messages() if m.message_id == offer.message_id)
        assert offer.text != lotse_views.offer_gone(t("uk"))
        assert offer.buttons == []
    finally:
        await bot.shutdown()


async def test_invitations_say_what_was_understood_and_the_invited_get_their_own_welcome(
    running: RunningBot, api: FakeBotAPI
) -> None:
    de = t("de")
    coordinator = api.user(COORDINATOR_ID, "Koordination", language_code="de")
    await onboard(coordinator, "de")
    seen = len(coordinator.bot_messages())
    await coordinator.send("/invite zwei")
    made = await coordinator.wait_for_message(lambda m: "start=" in m.text, after=seen)
    # Not a number: one link, and it says so.
    assert made.text.split("\n")[0] == de.gettext(
        "“{typed}” is not a number from 1 to 50, so I made one link.", typed="zwei"
    )
    assert len(re.findall(r"start=([A-Z0-9]+)", made.text)) == 1
    codes = await invite_codes(api, 2)

    # The invited volunteer: a welcome and a notice of their own, not the refugee's.
    olha = api.user(601, "Olha", language_code="uk")
    await olha.send(f"/start {codes[0]}")
    uk = t("uk")
    city = running.city
    first = await olha.wait_for_message(lambda m: has_data(m, f"lang:uk:{codes[0]}"))
    assert plain(views.invited(uk, city)) in first.text
    assert plain(views.welcome(uk, city)) not in first.text
    await olha.press(data=f"lang:uk:{codes[0]}", message=first)
    notice = await olha.wait_for_message(lambda m: has_data(m, f"consent:yes:{codes[0]}"))
    assert notice.text == plain(views.consent_for_lotse(uk, city, codes[0]).text)
    assert notice.text != plain(views.consent(uk, city).text)
    seen = len(coordinator.bot_messages())
    await olha.press(data=f"consent:yes:{codes[0]}", message=notice)
    await olha.wait_for_message(lambda m: has_data(m, "prof:show:lang"))

    # The coordinator hears that the link was used, and sees the two still open.
    used = coordination_views.invite_used(de, "Olha")
    await coordinator.wait_for_message(lambda m: m.text == used, after=seen)
    seen = len(coordinator.bot_messages())
    await coordinator.press(data="coord:links")
    listing = await coordinator.wait_for_message(lambda m: "start=" in m.text, after=seen)
    open_codes = re.findall(r"start=([A-Z0-9]+)", listing.text)
    assert sorted(open_codes) == sorted([*re.findall(r"start=([A-Z0-9]+)", made.text), codes[1]])


async def test_the_coordinators_menu_help_dates_and_an_unfinished_broadcast(
    running: RunningBot, api: FakeBotAPI
) -> None:
    de = t("de")
    coordinator = api.user(COORDINATOR_ID, "Koordination", language_code="de")
    await onboard(coordinator, "de")
    # Their own entry points in the menu and in /help; people seeking help see none.
    menu = coordinator.bot_messages()[-1]
    for entry in views.DESK_ENTRIES:
        assert has_data(menu, f"desk:{entry}"), entry
    seen = len(coordinator.bot_messages())
    await coordinator.send("/help")
    help_text = await coordinator.wait_for_message(lambda m: "/help" in m.text, after=seen)
    commands = ("/requests", "/invite", "/broadcast", "/stammtisch", "/waitlist", "/stats")
    for command in (*commands, "/console"):
        assert command in help_text.text, command
    amal = api.user(701, "Amal", language_code="ar")
    await onboard(amal, "ar")
    assert not any(d.startswith("desk:") for d in data_of(amal.bot_messages()[-1]))
    refused = await amal.press(data="desk:requests")
    assert (await amal.wait_for_answer(refused)).get("show_alert")

    codes = await invite_codes(api, 1)
    olena = await become_lotse(api, 702, "Olena", ["uk"], codes[0])
    seen = len(coordinator.bot_messages())
    await coordinator.press(data="desk:requests", message=menu)
    await coordinator.wait_for_text(de.gettext("No open or expired requests."))
    await coordinator.press(data="desk:dates", message=menu)
    dates = await coordinator.wait_for_message(lambda m: has_data(m, "ev:new"), after=seen)

    # A broadcast begun, then the old *New date* button: the draft does not end silently.
    await coordinator.send("/broadcast")
    await coordinator.wait_for_message(lambda m: has_data(m, "bc:discard"))
    await coordinator.send("Neuigkeiten")
    await coordinator.press(data="bc:aud:lotsen")
    await coordinator.wait_for_message(lambda m: has_data(m, "bc:send"))
    seen = len(coordinator.bot_messages())
    await coordinator.press(data="ev:new", message=dates)
    await coordinator.wait_for_message(
        lambda m: m.text == plain(broadcast_views.dropped(de)), after=seen
    )

    # A date on a typed day (16.12. style), announced; the card lists who answered.
    await coordinator.press(data="evd:title:default")
    day = (running.clock.now().astimezone(running.city.timezone) + timedelta(days=9)).date()
    await coordinator.wait_for_message(lambda m: any(d.startswith("evd:day:") for d in data_of(m)))
    await coordinator.send(f"{day.day}.{day.month}.")
    await coordinator.press(data="evd:time:1800")
    await coordinator.press(data="evd:place:default")
    await coordinator.press(data="evd:goto:confirm")
    summary = await coordinator.wait_for_message(lambda m: has_data(m, "evd:save"))
    assert de.day(day) in summary.text
    await coordinator.press(data="evd:save", message=summary)
    invitation = await olena.wait_for_message(lambda m: m.text.startswith("📣"))
    yes = next(d for d in data_of(invitation) if d.endswith(":yes"))
    await olena.press(data=yes, message=invitation)
    await running.handled_all()
    seen = len(coordinator.bot_messages())
    await coordinator.press(data=f"ev:card:{yes.split(':')[2]}")
    card = await coordinator.wait_for_message(
        lambda m: has_data(m, f"ev:move:{yes.split(':')[2]}"), after=seen
    )
    assert "✅ Olena" in card.text.split("\n")


async def test_a_repeating_date_reads_its_times_plainly(
    running: RunningBot, api: FakeBotAPI
) -> None:
    coordinator = api.user(COORDINATOR_ID, "Koordination", language_code="de")
    await onboard(coordinator, "de")
    await coordinator.send("/stammtisch")
    await coordinator.press(data="ev:rules")
    await coordinator.press(data="ev:rule_new")
    for data in (
        "evd:title:default",
        "evd:nth:1",
        "evd:wd:2",
        "evd:time:1800",
        "evd:place:default",
    ):
        await coordinator.press(data=data)
    await coordinator.press(data="evd:goto:confirm")
    summary = await coordinator.wait_for_message(lambda m: has_data(m, "evd:save"))
    # The next dates as "… um 18:00", not "18:00:00 Mitteleuropäische Normalzeit".
    dates = [line for line in summary.text.split("\n") if line.startswith("• ")]
    assert len(dates) == 3
    for line in dates:
        assert t("de").clock(time(18)) in line, line
        assert "18:00:00" not in line and "Normalzeit" not in line, line
    await coordinator.press(data="evd:save", message=summary)

    # The rule can be changed, not only stopped: from its summary, to 19:00.
    seen = len(coordinator.bot_messages())
    await coordinator.send("/stammtisch")
    await coordinator.press(data="ev:rules")
    listing = await coordinator.wait_for_message(
        lambda m: any(d.startswith("ev:rule_edit:") for d in data_of(m)), after=seen
    )
    (edit,) = [d for d in data_of(listing) if d.startswith("ev:rule_edit:")]
    seen = len(coordinator.bot_messages())
    await coordinator.press(data=edit, message=listing)
    again = await coordinator.wait_for_message(lambda m: has_data(m, "evd:save"), after=seen)
    assert [line for line in again.text.split("\n") if line.startswith("• ")] == dates
    await coordinator.press(data="evd:goto:time", message=again)
    await coordinator.press(data="evd:time:1900")
    changed = await coordinator.wait_for_message(
        lambda m: has_data(m, "evd:save") and t("de").clock(time(19)) in m.text
    )
    await coordinator.press(data="evd:save", message=changed)
    await running.handled_all()
    with sqlite3.connect(running.settings.db_path) as conn:
        rules = conn.execute("SELECT start_time, active FROM event_rule ORDER BY id").fetchall()
        starts = conn.execute(
            "SELECT e.starts_at FROM event e JOIN event_rule r ON r.id = e.rule_id "
            "WHERE r.active = 1"
        ).fetchall()
    assert rules == [("18:00", 0), ("19:00", 1)]
    tz = running.city.timezone
    assert starts and {from_db(s).astimezone(tz).time() for (s,) in starts} == {time(19)}


async def test_sending_to_many_asks_once_with_the_count_and_the_preview_shows_translations(
    api: FakeBotAPI, city: CityConfig, tmp_path: Path
) -> None:
    db_path = tmp_path / "bot.sqlite3"
    await seed_people(db_path, range(800_000, 800_060), language="uk")
    bot = await start_bot(api, city, db_path)
    try:
        de = t("de")
        coordinator = api.user(COORDINATOR_ID, "Koordination", language_code="de")
        await onboard(coordinator, "de")
        await coordinator.send("/broadcast")
        await coordinator.wait_for_message(lambda m: has_data(m, "bc:discard"))
        await coordinator.send("Stammtisch am Mittwoch")
        await coordinator.press(data="bc:aud:everyone")
        await coordinator.wait_for_message(lambda m: has_data(m, "bc:send"))
        await coordinator.press(data="bc:translate")
        await coordinator.press(data="bc:tr:uk")
        await coordinator.wait_for_message(lambda m: language_name("uk") in m.text)
        await coordinator.send("Зустріч у середу")
        preview = await coordinator.wait_for_message(
            lambda m: has_data(m, "bc:send") and language_name("uk") in m.text
        )
        # The translation as written, below the original.
        assert "Зустріч у середу" in preview.text
        assert preview.text.index("Stammtisch am Mittwoch") < preview.text.index("Зустріч")

        # Sent later on a typed day.
        await coordinator.press(data="bc:later", message=preview)
        await coordinator.wait_for_message(
            lambda m: any(d.startswith("bc:day:") for d in data_of(m))
        )
        day = (bot.clock.now().astimezone(city.timezone) + timedelta(days=3)).date()
        await coordinator.send(f"{day.day}.{day.month}.")
        asked = plain(de.gettext("<b>At what time on {day}?</b>", day=de.day(day)))
        await coordinator.wait_for_message(lambda m: m.text.startswith(asked))

        # Send now, to 61 people: asked once more, with the count; nothing is sent before yes.
        seen = len(coordinator.bot_messages())
        await coordinator.press(data="bc:send", message=preview)
        question = await coordinator.wait_for_message(
            lambda m: has_data(m, "bc:send_yes"), after=seen
        )
        assert question.text == de.ngettext(
            "Send it now to {n} person?", "Send it now to {n} people?", 61, n="61"
        )
        await bot.handled_all()
        with sqlite3.connect(db_path) as conn:
            assert conn.execute("SELECT count(*) FROM mailing").fetchone() == (0,)
        await coordinator.press(data="bc:send_yes", message=question)
        reader = api.user(800_001, "P", language_code="uk")
        copy = await reader.wait_for_message(lambda m: "Зустріч у середу" in m.text)
        assert "Stammtisch am Mittwoch" not in copy.text
    finally:
        await bot.shutdown()
