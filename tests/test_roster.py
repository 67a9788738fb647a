"""The office's side of its volunteers: the audit log, the roster, stopping a Lotse,
leaving, the programme's records — over the wire, as coordinators and Lotsen use them."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import subprocess
from datetime import timedelta

from channels.telegram.fakeapi import BotMessage, FakeBotAPI, FakeUser
from tests.conftest import COORDINATOR_ID, ROOT, RunningBot, eventually
from tests.process import LOTSENBOT, bot_env
from tests.scenario import (
    BY_TELEGRAM_ID,
    ask_for_lotse,
    become_lotse,
    has_data,
    invite_codes,
    label,
    onboard,
    t,
)


def lotsenbot(running: RunningBot, *args: str) -> subprocess.CompletedProcess[str]:
    """The ``lotsenbot`` command beside the running bot, as an operator runs it."""
    return subprocess.run(
        [str(LOTSENBOT), *args],
        env=bot_env(None, running.settings.db_path),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def audit_rows(running: RunningBot) -> list[tuple[str, str, int | None, int | None]]:
    with sqlite3.connect(running.settings.db_path) as conn:
        return conn.execute(
            "SELECT via, action, actor_id, subject_id FROM audit ORDER BY id"
        ).fetchall()


async def test_audit_log_records_who_did_what_to_whom_and_shows_it(
    running: RunningBot, api: FakeBotAPI
) -> None:
    coordinator = api.user(COORDINATOR_ID, "Koordination", language_code="de")
    await onboard(coordinator, "de")
    applicant = api.user(903, "Bea", language_code="de")
    await onboard(applicant, "de")
    await applicant.press(label("de", "🧭 I am a Lotse"))
    await applicant.press(label("de", "🙋 Ask for approval"))
    await coordinator.press(label("de", "✅ Approve"))
    await applicant.wait_for_text("🎉")

    await coordinator.send("/stats")
    await coordinator.press(data="st:hours:csv")
    await coordinator.wait_for_message(lambda m: m.kind == "document")

    done = lotsenbot(running, "export", "requests", "--out", str(running.settings.db_path) + ".csv")
    assert done.returncode == 0, done.stderr

    with sqlite3.connect(running.settings.db_path) as conn:
        coordinator_id, bea_id = (
            conn.execute(
                "SELECT person_id FROM contact WHERE channel = 'telegram' AND address = ?",
                (str(telegram_id),),
            ).fetchone()[0]
            for telegram_id in (COORDINATOR_ID, 903)
        )
    assert audit_rows(running) == [
        ("bot", "lotse.approve", coordinator_id, bea_id),
        ("bot", "export.hours", coordinator_id, None),
        ("cli", "export.requests", None, None),
    ]

    printed = lotsenbot(running, "audit", "--format", "csv")
    assert printed.returncode == 0, printed.stderr
    table = list(csv.DictReader(io.StringIO(printed.stdout.lstrip("\ufeff"))))
    # In time order: the command line keeps the real time, before the bot's shifted clock.
    assert [(r["via"], r["action"], r["coordinator_id"], r["subject_id"]) for r in table] == [
        ("cli", "export.requests", "", ""),
        ("bot", "lotse.approve", str(coordinator_id), str(bea_id)),
        ("bot", "export.hours", str(coordinator_id), ""),
    ]
    later = lotsenbot(running, "audit", "--since", "2999-01-01")
    assert later.returncode == 0 and later.stdout == ""
    text = lotsenbot(running, "audit")
    assert "lotse.approve" in text.stdout and "Bea" not in text.stdout

    # Bea's /mydata shows what the office did that concerned her, and nothing else.
    await applicant.send("/mydata")
    document = await applicant.wait_for_message(lambda m: m.kind == "document")
    exported = json.loads(api.files[document.file_id or ""])
    assert [e["action"] for e in exported["office_actions_concerning_you"]] == ["lotse.approve"]
    assert exported["office_actions_taken"] == []


def person_id(running: RunningBot, telegram_id: int) -> int:
    with sqlite3.connect(running.settings.db_path) as conn:
        row = conn.execute(f"SELECT id FROM person WHERE {BY_TELEGRAM_ID}", (telegram_id,))
        return int(row.fetchone()[0])


def cases(running: RunningBot) -> list[tuple[int, str, int | None]]:
    with sqlite3.connect(running.settings.db_path) as conn:
        return conn.execute("SELECT id, status, lotse_id FROM request ORDER BY id").fetchall()


def offers_of(running: RunningBot, request_id: int) -> dict[int, str]:
    with sqlite3.connect(running.settings.db_path) as conn:
        rows = conn.execute(
            "SELECT lotse_id, status FROM offer WHERE request_id = ?", (request_id,)
        ).fetchall()
    return dict(rows)


async def open_card(coordinator: FakeUser, name: str) -> BotMessage:
    """/lotsen, then the Lotse's button in the list; return the card."""
    seen = len(coordinator.bot_messages())
    await coordinator.send("/lotsen")
    listing = await coordinator.wait_for_message(lambda m: "👥" in m.text, after=seen)
    pressed = next(
        b["text"] for row in listing.buttons for b in row if b["text"].startswith(f"{name} ·")
    )
    await coordinator.press(pressed, message=listing)
    return await coordinator.wait_for_message(
        lambda m: m.text.startswith(name) and "🎓" in m.text, after=seen
    )


async def test_suspending_a_lotse_hands_over_cases_and_offers_and_stops_relays(
    running: RunningBot, api: FakeBotAPI
) -> None:
    coordinator = api.user(COORDINATOR_ID, "Koordination", language_code="de")
    await onboard(coordinator, "de")
    codes = await invite_codes(api, 3)
    anna = await become_lotse(api, 611, "Anna", ["ar", "uk"], codes[0])
    await anna.press(data="prof:show:max")
    await anna.press(data="prof:max:3")
    await anna.wait_for_message(lambda m: "✅ 3" in m.button_labels())
    layla = api.user(621, "Layla", language_code="ar")
    await onboard(layla, "ar")
    await ask_for_lotse(layla, "ar", name="Layla")
    await anna.press(label("ar", "✅ Accept"))
    await layla.wait_for_text("Anna")
    olena = api.user(622, "Olena", language_code="uk")
    await onboard(olena, "uk")
    await ask_for_lotse(olena, "uk", name="Olena")
    await anna.wait_for_message(lambda m: has_data(m, "offer:accept:2"))
    await anna.press(data="offer:accept:2")
    await olena.wait_for_text("Anna")
    ben = await become_lotse(api, 612, "Ben", ["uk", "ar"], codes[1])
    cem = await become_lotse(api, 613, "Cem", ["ar"], codes[2])
    samir = api.user(623, "Samir", language_code="ar")
    await onboard(samir, "ar")
    await ask_for_lotse(samir, "ar", name="Samir")
    offer = await anna.wait_for_message(lambda m: has_data(m, "offer:accept:3"))
    anna_id, ben_id, cem_id = (person_id(running, i) for i in (611, 612, 613))
    assert cases(running) == [
        (1, "accepted", anna_id),
        (2, "accepted", anna_id),
        (3, "offered", None),
    ]
    assert offers_of(running, 3) == {anna_id: "open", ben_id: "open", cem_id: "open"}

    card = await open_card(coordinator, "Anna")
    assert label("de", "⛔ Suspend") in card.button_labels()
    await coordinator.press(label("de", "⛔ Suspend"), message=card)
    await coordinator.wait_for_text("Anna")
    seen_by_layla, seen_by_olena = len(layla.bot_messages()), len(olena.bot_messages())
    await coordinator.send("Beschwerde über einen Termin")
    suspended = await coordinator.wait_for_message(
        lambda m: "Beschwerde über einen Termin" in m.text and "🎓" in m.text
    )
    assert label("de", "▶️ Reinstate") in suspended.button_labels()

    # The open offer is no longer available, in Anna's chat.
    await eventually(
        lambda: (
            next(m for m in anna.bot_messages() if m.message_id == offer.message_id).text
            == t("ar").gettext(
                "This request has already been taken or is no longer open. Thank you!"
            )
        )
    )
    # Both people are told kindly, each in their language, that another Lotse is sought.
    for person, language, number, after in (
        (layla, "ar", 1, seen_by_layla),
        (olena, "uk", 2, seen_by_olena),
    ):
        told = t(language).gettext(
            "Your Lotse cannot continue with request #{number}. Don't worry: "
            "we are looking for another Lotse now.",
            number=str(number),
        )
        await person.wait_for_message(lambda m, told=told: m.text == told, after=after)  # type: ignore[misc]
    # Anna is told in Arabic to contact the office.
    await anna.wait_for_text(
        t("ar").gettext(
            "The coordination office has paused your role as a Lotse: you get no requests "
            "for now, and your open cases go to other Lotsen. Please contact the office: "
            "{email}",
            email=running.city.contact.email,
        )
    )
    # Both cases wait again and are offered to the others, never again to Anna.
    await eventually(lambda: [c[1] for c in cases(running)] == ["offered"] * 3)
    for number in (1, 2, 3):
        offered = offers_of(running, number)
        assert offered[anna_id] == "declined", number
        assert {ben_id, cem_id} & {k for k, v in offered.items() if v == "open"}, number
    assert offers_of(running, 2) == {anna_id: "declined", ben_id: "open"}  # Cem: no Ukrainian

    # What Anna writes now reaches nobody.
    before = len(layla.bot_messages()), len(olena.bot_messages())
    await anna.send("Ich bin morgen doch da")
    await running.handled_all()
    assert (len(layla.bot_messages()), len(olena.bot_messages())) == before
    with sqlite3.connect(running.settings.db_path) as conn:
        assert conn.execute(
            "SELECT stopped, stop_reason FROM lotse WHERE person_id = ?", (anna_id,)
        ).fetchone() == ("suspended", "Beschwerde über einen Termin")
    assert ("bot", "lotse.suspend", person_id(running, COORDINATOR_ID), anna_id) in audit_rows(
        running
    )

    # Ben takes the first case; reinstating Anna leaves the cases where they went.
    first = next(m for m in ben.bot_messages() if has_data(m, "offer:accept:1"))
    await ben.press(label("uk", "✅ Accept"), message=first)
    await layla.wait_for_text("Ben")
    await coordinator.press(label("de", "▶️ Reinstate"), message=suspended)
    await anna.wait_for_text(
        t("ar").gettext("You are an active Lotse again and will receive requests.")
    )
    assert cases(running)[0] == (1, "accepted", ben_id)
    assert offers_of(running, 2)[anna_id] == "declined"
    with sqlite3.connect(running.settings.db_path) as conn:
        assert conn.execute(
            "SELECT stopped, stop_reason FROM lotse WHERE person_id = ?", (anna_id,)
        ).fetchone() == (None, None)
    # Her timers, run again, tell her nothing twice.
    told_before = len(anna.bot_messages())
    await running.advance(timedelta(minutes=1))
    await running.handled_all()
    assert len(anna.bot_messages()) == told_before
