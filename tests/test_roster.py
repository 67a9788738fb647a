"""The office's side of its volunteers: the audit log, the roster, stopping a Lotse,
leaving, the programme's records — over the wire, as coordinators and Lotsen use them."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import sqlite3
import subprocess
from datetime import date, timedelta
from pathlib import Path

from openpyxl import load_workbook

from bot.i18n import language_name
from channels.telegram.fakeapi import BotMessage, FakeBotAPI, FakeUser
from handlers import views
from handlers.views import MENU_LOTSE
from tests.conftest import CITY_FILE, COORDINATOR_ID, ROOT, RunningBot, eventually
from tests.process import LOTSENBOT, bot_env, city_file
from tests.scenario import (
    BY_TELEGRAM_ID,
    ask_for_lotse,
    become_lotse,
    has_data,
    invite_codes,
    label,
    onboard,
    seed_people,
    t,
)
from tests.test_privacy import raw_bytes, traces


def lotsenbot(
    running: RunningBot, *args: str, config: Path = CITY_FILE
) -> subprocess.CompletedProcess[str]:
    """The ``lotsenbot`` command beside the running bot, as an operator runs it."""
    return subprocess.run(
        [str(LOTSENBOT), *args],
        env=bot_env(None, running.settings.db_path, config),
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
    await become_lotse(api, 613, "Cem", ["ar"], codes[2])
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


async def test_a_lotse_leaves_by_themselves_and_their_records_age_out(
    running: RunningBot, api: FakeBotAPI
) -> None:
    coordinator = api.user(COORDINATOR_ID, "Koordination", language_code="de")
    await onboard(coordinator, "de")
    codes = await invite_codes(api, 1)
    dana = await become_lotse(api, 631, "Dana", ["fa"], codes[0])
    reza = api.user(632, "Reza", language_code="fa")
    await onboard(reza, "fa")
    await ask_for_lotse(reza, "fa", name="Reza")
    await dana.press(label("fa", "✅ Accept"))
    await reza.wait_for_text("Dana")
    card = await open_card(coordinator, "Dana")  # read once: an entry of the audit log
    assert "📂" in card.text

    await dana.press(data=MENU_LOTSE)
    await dana.press(label("fa", "⚙️ My profile"))
    await dana.press(label("fa", "🚪 Leave the programme"))
    question = await dana.wait_for_message(lambda m: has_data(m, "lotse:leave_yes"))
    seen = len(reza.bot_messages())
    await dana.press(label("fa", "🚪 Yes, leave"), message=question)
    await dana.wait_for_text(
        t("fa").gettext(
            "Thank you for all your help as a Lotse! Your open cases go to other Lotsen. "
            "You can still use the bot as before."
        )
    )
    handed_back = t("fa").gettext(
        "Your Lotse cannot continue with request #{number}. Don't worry: "
        "we are looking for another Lotse now.",
        number="1",
    )
    await reza.wait_for_message(lambda m: m.text == handed_back, after=seen)
    await coordinator.wait_for_text(
        t("de").gettext("🚪 {name} has left the programme.", name="Dana")
    )
    dana_id = person_id(running, 631)
    assert cases(running)[0][2] is None  # waiting again (no other Lotse speaks Farsi)
    # The Lotse menu now offers joining again, as for anyone.
    await dana.press(data=MENU_LOTSE)
    await dana.wait_for_message(lambda m: has_data(m, "lotse:apply"))
    # Pressing the old question again changes nothing.
    query = await dana.press(data="lotse:leave_yes")
    assert (await dana.wait_for_answer(query)).get("show_alert") is True

    def kept() -> tuple[object, object, int]:
        with sqlite3.connect(running.settings.db_path) as conn:
            lotse = conn.execute(
                "SELECT stopped FROM lotse WHERE person_id = ?", (dana_id,)
            ).fetchone()
            role = conn.execute("SELECT role FROM person WHERE id = ?", (dana_id,)).fetchone()
            audit = conn.execute("SELECT count(*) FROM audit").fetchone()[0]
        return lotse, role, audit

    assert kept() == (("left",), ("lotse",), 1)
    running.clock.advance(timedelta(days=364))
    await running.timers.retention()
    assert kept() == (("left",), ("lotse",), 1)  # the office keeps a former Lotse a year
    running.clock.advance(timedelta(days=2))
    await running.timers.retention()
    assert kept() == (None, ("member",), 1)  # then the profile goes; the audit log stays
    running.clock.advance(timedelta(days=365))
    await running.timers.retention()
    assert kept()[2] == 0  # two years after the action, its record goes too


async def test_roster_pages_filters_search_and_the_records_with_their_reminder(
    running: RunningBot, api: FakeBotAPI
) -> None:
    coordinator = api.user(COORDINATOR_ID, "Koordination", language_code="de")
    await onboard(coordinator, "de")
    codes = await invite_codes(api, 2)
    anna = await become_lotse(api, 641, "Anna", ["ar"], codes[0])
    await become_lotse(api, 642, "Ben", ["uk"], codes[1])
    await seed_people(running.settings.db_path, range(650, 660), language="de", lotse=True)

    seen = len(coordinator.bot_messages())
    await coordinator.send("/lotsen")
    first = await coordinator.wait_for_message(lambda m: "👥" in m.text, after=seen)
    assert "12" in first.text and "▶️" in first.button_labels()
    names = [label.split(" · ")[0] for label in first.button_labels() if " · " in label]
    assert names[:2] == ["Anna", "Ben"] and len(names) == 8
    await coordinator.press("▶️", message=first)
    await coordinator.wait_for_message(
        lambda m: m.message_id == first.message_id and "◀️" in m.button_labels()
    )
    # By language: only Anna speaks Arabic.
    await coordinator.press(label("de", "🗣 Languages"), message=first)
    await coordinator.wait_for_message(
        lambda m: m.message_id == first.message_id and language_name("ar") in m.button_labels()
    )
    await coordinator.press(language_name("ar"), message=first)
    arabic = await coordinator.wait_for_message(
        lambda m: m.message_id == first.message_id and "🗣 " + language_name("ar") in m.text
    )
    assert [b for b in arabic.button_labels() if " · " in b] == [
        f"Anna · {label('de', '🟢 active')} · 📂0"
    ]
    # By state, on top: nobody is suspended.
    await coordinator.press(label("de", "🚦 State"), message=arabic)
    states = await coordinator.wait_for_message(
        lambda m: label("de", "⛔ suspended") in m.button_labels()
    )
    await coordinator.press(label("de", "⛔ suspended"), message=states)
    await coordinator.wait_for_message(
        lambda m: m.message_id == first.message_id and label("de", "No Lotse matches.") in m.text
    )
    # By name, typed.
    await coordinator.press(label("de", "🔎 Name"))
    await coordinator.wait_for_text(label("de", "Type a name or a part of it."))
    seen = len(coordinator.bot_messages())
    await coordinator.send("BE")
    found = await coordinator.wait_for_message(lambda m: "🔎 BE" in m.text, after=seen)
    assert [b.split(" · ")[0] for b in found.button_labels() if " · " in b] == ["Ben"]

    # The records: a date typed on the card, after one that is not a date.
    card = await open_card(coordinator, "Anna")
    await coordinator.press(label("de", "✏️ Valid until"), message=card)
    await coordinator.wait_for_text(
        label("de", "Type the date, e.g. 14.3.2027 (a dash clears it).")
    )
    seen = len(coordinator.bot_messages())
    await coordinator.send("bald")
    await coordinator.wait_for_message(lambda m: "14.3.2027" in m.text, after=seen)
    today = running.clock.now().astimezone(running.city.timezone).date()
    valid_until = today + timedelta(days=40)
    await coordinator.send(f"{valid_until.day}.{valid_until.month}.{valid_until.year}")
    shown = t("de").day(valid_until, "medium")
    updated = await coordinator.wait_for_message(lambda m: shown in m.text and "🎓" in m.text)
    await coordinator.press(label("de", "✏️ Certified"), message=updated)
    await coordinator.send("3.2.2029")
    await coordinator.wait_for_message(lambda m: t("de").day(date(2029, 2, 3), "medium") in m.text)
    anna_id = person_id(running, 641)
    with sqlite3.connect(running.settings.db_path) as conn:
        assert conn.execute(
            "SELECT certified_on, check_valid_until FROM lotse WHERE person_id = ?", (anna_id,)
        ).fetchone() == ("2029-02-03", valid_until.isoformat())

    # Reminded 30 days before: the office and Anna, in Arabic.
    reminder = t("ar").gettext(
        "Your Führungszeugnis is valid until {date}. Please bring a new one to the "
        "coordination office in time.",
        date=t("ar").day(valid_until),
    )
    await running.advance(timedelta(days=9))
    assert not any(m.text == reminder for m in anna.bot_messages())
    await running.advance(timedelta(days=1))
    await anna.wait_for_message(lambda m: m.text == reminder)
    office = await coordinator.wait_for_message(lambda m: m.text.startswith("⏰"))
    assert "Anna" in office.text and "👤 Anna" in office.button_labels()
    await running.advance(timedelta(days=1))
    assert sum(m.text == reminder for m in anna.bot_messages()) == 1


async def test_the_command_line_lists_shows_and_stops_lotsen_and_the_bot_tells_them(
    running: RunningBot, api: FakeBotAPI, tmp_path: Path
) -> None:
    codes = await invite_codes(api, 1)
    emil = await become_lotse(api, 661, "Emil", ["tr"], codes[0])
    aylin = api.user(662, "Aylin", language_code="tr")
    await onboard(aylin, "tr")
    await ask_for_lotse(aylin, "tr", name="Aylin")
    await emil.press(label("tr", "✅ Accept"))
    await aylin.wait_for_text("Emil")
    emil_id = person_id(running, 661)

    listed = lotsenbot(running, "lotsen", "list")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.split("\n")[0].split("\t")[:6] == [
        str(emil_id),
        "Emil",
        "active",
        "tr",
        "all",
        "open=1",
    ]
    csv_file, xlsx_file = tmp_path / "lotsen.csv", tmp_path / "lotsen.xlsx"
    assert (
        lotsenbot(running, "lotsen", "list", "--format", "csv", "--out", str(csv_file)).returncode
        == 0
    )
    rows = list(csv.DictReader(io.StringIO(csv_file.read_text("utf-8-sig"))))
    assert [(r["id"], r["first_name"], r["state"], r["open_cases"]) for r in rows] == [
        (str(emil_id), "Emil", "active", "1")
    ]
    assert "Aylin" not in csv_file.read_text("utf-8-sig")
    assert (
        lotsenbot(running, "lotsen", "list", "--format", "xlsx", "--out", str(xlsx_file)).returncode
        == 0
    )
    sheet = load_workbook(xlsx_file).active
    assert sheet is not None
    assert [c.value for c in sheet[2]][:3] == [emil_id, "Emil", "active"]
    shown = lotsenbot(running, "lotsen", "show", str(emil_id))
    assert "Emil" in shown.stdout and "open cases: 1" in shown.stdout

    seen = len(aylin.bot_messages())
    done = lotsenbot(running, "lotsen", "suspend", str(emil_id), "--reason", "Rückfrage Büro")
    assert done.returncode == 0, done.stderr
    await running.advance(timedelta(minutes=1))  # the running bot's next look at its timers
    await emil.wait_for_text(
        t("tr").gettext(
            "The coordination office has paused your role as a Lotse: you get no requests "
            "for now, and your open cases go to other Lotsen. Please contact the office: "
            "{email}",
            email=running.city.contact.email,
        )
    )
    handed_back = t("tr").gettext(
        "Your Lotse cannot continue with request #{number}. Don't worry: "
        "we are looking for another Lotse now.",
        number="1",
    )
    await aylin.wait_for_message(lambda m: m.text == handed_back, after=seen)
    assert cases(running)[0][2] is None
    again = lotsenbot(running, "lotsen", "suspend", str(emil_id), "--reason", "x")
    assert again.returncode == 2 and "not an active Lotse" in again.stderr
    assert lotsenbot(running, "lotsen", "reinstate", str(emil_id)).returncode == 0
    await running.advance(timedelta(minutes=1))
    await emil.wait_for_text(
        t("tr").gettext("You are an active Lotse again and will receive requests.")
    )
    assert lotsenbot(running, "lotsen", "retire", str(emil_id)).returncode == 0
    await running.advance(timedelta(minutes=1))
    await emil.wait_for_text(
        t("tr").gettext(
            "Your role as a Lotse has ended. Thank you for your help! Questions: {email}",
            email=running.city.contact.email,
        )
    )
    assert lotsenbot(running, "lotsen", "reinstate", str(emil_id)).returncode == 2

    # Coordinators: listed, and one removed loses access at once.
    assert lotsenbot(running, "coordinator", "add", "telegram:9100").returncode == 0
    helper = api.user(9100, "Helfer", language_code="de")
    await onboard(helper, "de")
    seen = len(helper.bot_messages())
    await helper.send("/lotsen")
    await helper.wait_for_message(lambda m: "👥" in m.text, after=seen)
    helper_id = person_id(running, 9100)
    coordinators = lotsenbot(running, "coordinator", "list")
    assert coordinators.stdout == f"{helper_id}: telegram:9100 (de)\n"
    config = city_file(tmp_path, telegram_ids=f"[{COORDINATOR_ID}]")
    with_file = lotsenbot(running, "coordinator", "list", config=config)
    assert with_file.stdout.split("\n")[:2] == [
        f"telegram:{COORDINATOR_ID} (city file)",
        f"{helper_id}: telegram:9100 (de)",
    ]
    assert lotsenbot(running, "coordinator", "remove", str(helper_id)).returncode == 0
    seen = len(helper.bot_messages())
    await helper.send("/lotsen")
    refused = await helper.wait_for_message(after=seen)
    assert refused.text == t("de").gettext("Sorry, this is only for the coordination office.")
    assert lotsenbot(running, "coordinator", "remove", str(helper_id)).returncode == 2

    cli = [(action, subject) for via, action, _, subject in audit_rows(running) if via == "cli"]
    assert cli == [
        ("export.lotsen", None),
        ("export.lotsen", None),
        ("export.lotsen", None),
        ("lotse.card", emil_id),
        ("lotse.suspend", emil_id),
        ("lotse.reinstate", emil_id),
        ("lotse.retire", emil_id),
        ("coordinator.add", helper_id),
        ("coordinator.remove", helper_id),
    ]


async def test_the_roster_is_refused_to_people_and_lotsen_and_nothing_changes(
    running: RunningBot, api: FakeBotAPI
) -> None:
    coordinator = api.user(COORDINATOR_ID, "Koordination", language_code="de")
    await onboard(coordinator, "de")
    codes = await invite_codes(api, 2)
    lotse = await become_lotse(api, 671, "Nele", ["de"], codes[0])
    await become_lotse(api, 672, "Ole", ["de"], codes[1])
    refugee = api.user(673, "Omar", language_code="de")
    await onboard(refugee, "de")
    ole = person_id(running, 672)
    # A coordinator's roster dialog is open meanwhile: nobody else's typing reaches it.
    await coordinator.send("/lotsen")
    await coordinator.press(label("de", "🔎 Name"))
    await coordinator.wait_for_text(label("de", "Type a name or a part of it."))

    def snapshot() -> list[object]:
        with sqlite3.connect(running.settings.db_path) as conn:
            return [
                conn.execute("SELECT * FROM lotse ORDER BY person_id").fetchall(),
                conn.execute("SELECT * FROM audit").fetchall(),
                conn.execute("SELECT * FROM dialog").fetchall(),
                conn.execute("SELECT kind, subject, done_at FROM timer ORDER BY id").fetchall(),
            ]

    before = snapshot()
    refusal = t("de").gettext("Sorry, this is only for the coordination office.")
    for user in (refugee, lotse):
        seen = len(user.bot_messages())
        await user.send("/lotsen")
        assert (await user.wait_for_message(after=seen)).text == refusal
        for data in (
            "ro:list:0:-:-:-",
            "ro:list:1:ar:0:suspended",
            "ro:pick:lang:-:-:-",
            "ro:find",
            f"ro:card:{ole}",
            f"ro:suspend:{ole}",
            f"ro:reinstate:{ole}",
            f"ro:retire:{ole}",
            f"ro:retire_yes:{ole}",
            f"ro:rec:{ole}:check_valid_until",
        ):
            query = await user.press(data=data)
            answer = await user.wait_for_answer(query)
            assert answer.get("text") == refusal and answer.get("show_alert") is True, data
        seen = len(user.bot_messages())
        await user.send("Ole")  # as if it were a search, or a reason, or a date
        await user.wait_for_message(after=seen)
    # Leaving is the Lotse's own: someone who is none cannot leave as one.
    for data in ("lotse:leave", "lotse:leave_yes"):
        query = await refugee.press(data=data)
        answer = await refugee.wait_for_answer(query)
        assert answer.get("show_alert") is True
    await running.handled_all()
    assert snapshot() == before


async def test_delete_by_a_suspended_lotse_erases_the_roster_data_to_the_bytes(
    running: RunningBot, api: FakeBotAPI
) -> None:
    coordinator = api.user(COORDINATOR_ID, "Koordination", language_code="de")
    await onboard(coordinator, "de")
    codes = await invite_codes(api, 1)
    telegram_id = 7_533_226_417
    lotse = await become_lotse(api, telegram_id, "Wilhelmina", ["ku"], codes[0])
    reason = "Vertraulichkeit verletzt, Gespräch am Donnerstag Zimmer 212"
    card = await open_card(coordinator, "Wilhelmina")
    await coordinator.press(label("de", "✏️ Pledge"), message=card)
    await coordinator.send("5.6.1987")
    card = await coordinator.wait_for_message(
        lambda m: t("de").day(date(1987, 6, 5), "medium") in m.text
    )
    await coordinator.press(label("de", "✏️ Valid until"), message=card)
    await coordinator.send("7.8.2096")
    card = await coordinator.wait_for_message(
        lambda m: t("de").day(date(2096, 8, 7), "medium") in m.text
    )
    await coordinator.press(label("de", "⛔ Suspend"), message=card)
    await coordinator.send(reason)
    await coordinator.wait_for_message(lambda m: reason in m.text)
    lotse_id = person_id(running, telegram_id)

    await lotse.send("/mydata")
    document = await lotse.wait_for_message(lambda m: m.kind == "document")
    exported = json.loads(api.files[document.file_id or ""])
    assert exported["lotse"]["stopped"] == "suspended"
    assert exported["lotse"]["stop_reason"] == reason
    assert exported["lotse"]["pledge_on"] == "1987-06-05"
    assert {e["action"] for e in exported["office_actions_concerning_you"]} == {
        "lotse.card",
        "lotse.records",
        "lotse.suspend",
    }

    await lotse.send("/delete")
    await lotse.press(label("ku", "🗑 Yes, delete everything"))
    await lotse.wait_for_text(
        label(
            "ku",
            "All your data has been deleted. If you write again, you start from the beginning.",
        )
    )
    blob = raw_bytes(running.settings.db_path)
    assert traces(blob, telegram_id, "Wilhelmina", reason, "1987-06-05", "2096-08-07") == []
    with sqlite3.connect(running.settings.db_path) as conn:
        assert conn.execute("SELECT count(*) FROM lotse").fetchone() == (0,)
        assert conn.execute(
            "SELECT count(*) FROM audit WHERE subject_id = ?", (lotse_id,)
        ).fetchone() == (0,)
        # The record that the office acted stays, about nobody.
        assert conn.execute("SELECT count(*) FROM audit WHERE subject_id IS NULL").fetchone()[0]
        assert conn.execute(
            "SELECT count(*) FROM timer WHERE kind GLOB 'lotse:*' AND done_at IS NULL"
        ).fetchone() == (0,)


async def test_a_suspension_racing_an_acceptance_leaves_no_case_with_the_suspended_lotse(
    running: RunningBot, api: FakeBotAPI
) -> None:
    coordinator = api.user(COORDINATOR_ID, "Koordination", language_code="de")
    await onboard(coordinator, "de")
    codes = await invite_codes(api, 2)
    fatma = await become_lotse(api, 681, "Fatma", ["tr"], codes[0])
    await become_lotse(api, 682, "Gül", ["tr"], codes[1])
    fatma_id = person_id(running, 681)
    for number, telegram_id in enumerate((683, 684, 685), start=1):
        person = api.user(telegram_id, f"P{telegram_id}", language_code="tr")
        await onboard(person, "tr")
        await ask_for_lotse(person, "tr", name=f"P{telegram_id}")
        await fatma.wait_for_message(lambda m, n=number: has_data(m, f"offer:accept:{n}"))  # type: ignore[misc]
    card = await open_card(coordinator, "Fatma")
    await coordinator.press(label("de", "⛔ Suspend"), message=card)
    await coordinator.wait_for_text("Fatma")
    # Fatma accepts all three while the office sends the reason.
    await asyncio.gather(
        coordinator.send("Rückruf nötig"),
        *(fatma.press(data=f"offer:accept:{n}") for n in (1, 2, 3)),
    )
    await running.handled_all()
    await running.advance(timedelta(minutes=1))  # the handover's timer, if the bot stopped
    await eventually(
        lambda: (
            all(lotse != fatma_id for _, _, lotse in cases(running))
            and all(status in ("offered", "accepted", "open") for _, status, _ in cases(running))
        )
    )
    assert len(cases(running)) == 3  # none lost
    for number in (1, 2, 3):
        assert offers_of(running, number)[fatma_id] in ("declined", "closed"), number


async def test_a_lotse_suspended_on_the_command_line_cannot_accept_before_the_handover(
    running: RunningBot, api: FakeBotAPI
) -> None:
    codes = await invite_codes(api, 1)
    ilse = await become_lotse(api, 691, "Ilse", ["ru"], codes[0])
    person = api.user(692, "Pavel", language_code="ru")
    await onboard(person, "ru")
    await ask_for_lotse(person, "ru", name="Pavel")
    offer = await ilse.wait_for_message(lambda m: has_data(m, "offer:accept:1"))
    ilse_id = person_id(running, 691)
    done = lotsenbot(running, "lotsen", "suspend", str(ilse_id), "--reason", "Prüfung")
    assert done.returncode == 0, done.stderr
    # The running bot has not looked at its timers yet: the suspension holds all the same.
    query = await ilse.press(data="offer:accept:1", message=offer)
    answer = await ilse.wait_for_answer(query)
    assert answer.get("text") == views.button_expired(t("ru")) and answer.get("show_alert")
    assert cases(running) == [(1, "offered", None)]
    await running.advance(timedelta(minutes=1))
    assert offers_of(running, 1) == {ilse_id: "declined"}
    gone = t("ru").gettext("This request has already been taken or is no longer open. Thank you!")
    await eventually(
        lambda: (
            next(m for m in ilse.bot_messages() if m.message_id == offer.message_id).text == gone
        )
    )
