"""Access, erasure, retention and roles, proved on the raw database file."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from datetime import timedelta
from pathlib import Path

from channels.telegram.fakeapi import FakeBotAPI
from tests.conftest import COORDINATOR_ID, RunningBot
from tests.process import LOTSENBOT, bot_env
from tests.scenario import (
    BY_TELEGRAM_ID,
    ask_for_lotse,
    become_lotse,
    has_data,
    invite_codes,
    join_waitlist,
    label,
    onboard,
    t,
)

# Distinctive ids and texts, so that a byte search cannot match by chance.
REFUGEE_ID = 7_311_004_219
LOTSE_ID = 7_422_115_308
PHONE = "0151 99887766"
SECRET_TEXT = "Aufenthaltstitel läuft ab, Brief Ausländerbehörde Zimmer 317"
RELAYED = "Meine Nummer ist 0176 5550199, bitte anrufen"
CONCERN = "Er hat nach meiner Adresse in der Lindenstraße 12 gefragt"
TO_OFFICE = "Bitte rufen Sie mich an, Familie Nasser"
ANSWER = "Wir melden uns bei Frau Nasser morgen"
LOTSE_CONCERN = "Samihas Nachbar hat mich bedroht"
EXPENSE = "Taxi zur Klinik Dorsten-Nord"


def raw_bytes(db_path: Path) -> bytes:
    """The database file and its WAL, exactly as they lie on disk."""
    data = db_path.read_bytes()
    wal = db_path.with_name(db_path.name + "-wal")
    return data + (wal.read_bytes() if wal.exists() else b"")


def traces(blob: bytes, telegram_id: int, *texts: str) -> list[str]:
    found = [text for text in texts if text.encode() in blob]
    if str(telegram_id).encode() in blob:
        found.append(f"{telegram_id} as text")
    if telegram_id.to_bytes(6, "big") in blob:  # SQLite's 6-byte integer encoding
        found.append(f"{telegram_id} as integer")
    return found


async def test_delete_erases_refugee_and_lotse_from_the_raw_file(
    running: RunningBot, api: FakeBotAPI
) -> None:
    codes = await invite_codes(api, 1)
    lotse = await become_lotse(api, LOTSE_ID, "Wiebke", ["ar", "de"], codes[0])
    refugee = api.user(REFUGEE_ID, "Samiha", language_code="ar")
    await onboard(refugee, "ar")
    tomorrow = (running.clock.now().astimezone(running.city.timezone) + timedelta(days=2)).date()
    await ask_for_lotse(
        refugee, "ar", text=SECRET_TEXT, name="Samiha", day=tomorrow.isoformat(), time="0900"
    )
    await lotse.press(label("ar", "✅ Accept"))
    await refugee.wait_for_text("Wiebke")
    await refugee.send(RELAYED)
    await lotse.wait_for_text(RELAYED)
    await refugee.send_voice(data=b"OggS-voice-of-samiha")
    voice = await lotse.wait_for_message(lambda m: m.kind == "voice")
    assert voice.file_id is not None
    assert running.clock  # a reminder is pending for the appointment
    with sqlite3.connect(running.settings.db_path) as conn:
        assert conn.execute(
            "SELECT count(*) FROM timer WHERE kind LIKE 'request:remind:%'"
        ).fetchone()[0]

    # Something is wrong, she says, and writes to the office; the office answers.
    coordinator = api.user(COORDINATOR_ID, "Koordination", language_code="de")
    await onboard(coordinator, "de")
    await refugee.press(data="cn:ask:1")
    await refugee.wait_for_message(lambda m: has_data(m, "cn:stop"))
    await refugee.send(CONCERN)
    note = await coordinator.wait_for_text(CONCERN)
    await coordinator.send_raw(text=ANSWER, reply_to_message=note.raw)
    await refugee.wait_for_text(ANSWER)
    await refugee.press(data="menu:office")
    await refugee.wait_for_message(lambda m: has_data(m, "of:stop"))
    await refugee.send(TO_OFFICE)
    await coordinator.wait_for_text(TO_OFFICE)
    # The Lotse reports a concern too, and records an expense with a photo of the receipt.
    await lotse.press(data="cn:ask:1")
    await lotse.wait_for_message(lambda m: has_data(m, "cn:stop"))
    await lotse.send(LOTSE_CONCERN)
    await coordinator.wait_for_text(LOTSE_CONCERN)
    await lotse.press(data="ex:new:1")
    await lotse.wait_for_message(lambda m: has_data(m, "ex:stop"))
    await lotse.send(EXPENSE)
    await lotse.wait_for_message(lambda m: "12,50" in m.text and has_data(m, "ex:stop"))
    await lotse.send("23,80")
    await lotse.wait_for_message(lambda m: has_data(m, "ex:skip"))
    await lotse.send_photo(data=b"\x89PNG-taxi-receipt")
    await lotse.wait_for_text(EXPENSE)
    with sqlite3.connect(running.settings.db_path) as conn:
        ((receipt,),) = conn.execute("SELECT receipt_ref FROM expense").fetchall()
        assert conn.execute("SELECT count(*) FROM office_message").fetchone() == (4,)

    # She also wants to become a Lotse one day.
    await join_waitlist(refugee, "ar", typed_name="Samiha Nasser", phone=PHONE, district=2)

    # /mydata first: the person receives what is stored, as a readable document.
    seen = len(refugee.bot_messages())  # the appointment's calendar file came before
    await refugee.send("/mydata")
    document = await refugee.wait_for_message(lambda m: m.kind == "document", after=seen)
    exported = json.loads(api.files[document.file_id or ""])
    assert exported["requests"][0]["description"] == SECRET_TEXT
    assert [(c["channel"], c["address"]) for c in exported["contacts"]] == [
        ("telegram", str(REFUGEE_ID))
    ]
    assert exported["waiting_list"]["name"] == "Samiha Nasser"

    await refugee.send("/delete")
    await refugee.press(label("ar", "🗑 Yes, delete everything"))
    await refugee.wait_for_text(
        label(
            "ar",
            "All your data has been deleted. If you write again, you start from the beginning.",
        )
    )
    # The Lotse is told the case was closed.
    await lotse.wait_for_message(
        lambda m: (
            m.text
            == t("ar").gettext(
                "Request #{number} was cancelled by the person. Thank you for your help!",
                number="1",
            )
        )
    )

    await lotse.send("/delete")
    await lotse.press(label("ar", "🗑 Yes, delete everything"))
    await lotse.wait_for_text(
        label(
            "ar",
            "All your data has been deleted. If you write again, you start from the beginning.",
        )
    )

    blob = raw_bytes(running.settings.db_path)
    assert traces(
        blob, REFUGEE_ID, "Samiha", SECRET_TEXT, RELAYED, voice.file_id, PHONE, CONCERN, ANSWER,
        TO_OFFICE,
    ) == []  # fmt: skip
    assert traces(blob, LOTSE_ID, "Wiebke", LOTSE_CONCERN, EXPENSE, receipt) == []
    with sqlite3.connect(running.settings.db_path) as conn:
        # The city's statistics keep an anonymous row.
        assert conn.execute(
            "SELECT status, topic, person_id, lotse_id, description FROM request"
        ).fetchall() == [("cancelled", "jobcenter", None, None, None)]
        # Nobody is left but the coordinator, who answered.
        assert conn.execute(
            "SELECT c.address FROM person p JOIN contact c ON c.person_id = p.id"
        ).fetchall() == [(str(COORDINATOR_ID),)]
        assert conn.execute("SELECT count(*) FROM person").fetchone() == (1,)
        for table in ("office_thread", "office_message", "office_copy", "expense"):
            assert conn.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,), table
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)


async def test_retention_erases_details_of_old_closed_cases(
    running: RunningBot, api: FakeBotAPI
) -> None:
    codes = await invite_codes(api, 1)
    lotse = await become_lotse(api, 801, "Ole", ["uk"], codes[0])
    refugee = api.user(802, "Halyna", language_code="uk")
    await onboard(refugee, "uk")
    await ask_for_lotse(refugee, "uk", text=SECRET_TEXT, name="Halyna")
    await lotse.press(label("uk", "✅ Accept"))
    await refugee.wait_for_text("Ole")
    await lotse.press(label("uk", "✅ Mark as done"))
    await lotse.press("1")
    await refugee.wait_for_message(lambda m: "👍" in m.button_labels())

    assert (await running.timers.retention()).cases == 0  # closed today: kept
    running.clock.advance(timedelta(days=91))
    assert (await running.timers.retention()).cases == 1
    assert (await running.timers.retention()).cases == 0  # idempotent
    with sqlite3.connect(running.settings.db_path) as conn:
        assert conn.execute(
            "SELECT status, description, first_name, hours FROM request"
        ).fetchall() == [("done", None, None, 1.0)]
        assert conn.execute("SELECT count(*) FROM relay").fetchone() == (0,)
    assert SECRET_TEXT.encode() not in raw_bytes(running.settings.db_path)


async def test_coordinator_commands_and_buttons_are_refused_to_everyone_else(
    running: RunningBot, api: FakeBotAPI
) -> None:
    codes = await invite_codes(api, 1)
    lotse = await become_lotse(api, 901, "Nele", ["de"], codes[0])
    refugee = api.user(902, "Omar", language_code="de")
    await onboard(refugee, "de")
    applicant = api.user(903, "Bea", language_code="de")
    await onboard(applicant, "de")
    await applicant.press(label("de", "🧭 I am a Lotse"))
    await applicant.press(label("de", "🙋 Ask for approval"))
    coordinator = api.user(COORDINATOR_ID)
    await coordinator.wait_for_text("Bea")
    await ask_for_lotse(refugee, "de", name="Omar")

    def snapshot() -> list[object]:
        with sqlite3.connect(running.settings.db_path) as conn:
            return [
                conn.execute("SELECT count(*) FROM invite").fetchone(),
                conn.execute(
                    "SELECT person_id, status, stopped, stop_reason, certified_on, pledge_on, "
                    "check_seen_on, check_valid_until FROM lotse ORDER BY 1"
                ).fetchall(),
                conn.execute("SELECT status, lotse_id FROM request").fetchall(),
                conn.execute("SELECT count(*) FROM dialog").fetchone(),
                conn.execute("SELECT count(*) FROM mailing").fetchone(),
                conn.execute("SELECT count(*) FROM event_rule").fetchone(),
                conn.execute("SELECT count(*) FROM training").fetchone(),
                conn.execute("SELECT count(*) FROM audit").fetchone(),
                conn.execute("SELECT count(*) FROM timer WHERE kind GLOB 'lotse:*'").fetchone(),
                conn.execute("SELECT count(*) FROM console_link").fetchone(),
            ]

    before = snapshot()
    refusal = t("de").gettext("Sorry, this is only for the coordination office.")
    applicant_id = before[1][-1][0]  # type: ignore[index]
    for user in (refugee, lotse):
        for command in (
            "/invite 5",
            "/requests",
            "/broadcast",
            "/waitlist",
            "/stats",
            "/lotsen",
            "/console",
        ):
            seen = len(user.bot_messages())
            await user.send(command)
            reply = await user.wait_for_message(after=seen)
            assert reply.text == refusal
        for data in (
            f"coord:approve:{applicant_id}",
            f"coord:reject:{applicant_id}",
            f"coord:assign:1:{applicant_id}",
            "bc:new",
            "bc:send",
            "ev:new",
            "ev:rule_new",
            "evd:save",
            "wlc:new",
            "wlc:save",
            "wlc:export:csv",
            "st:requests:xlsx",
        ):
            query = await user.press(data=data)
            answer = await user.wait_for_answer(query)
            assert answer.get("text") == refusal and answer.get("show_alert") is True
    assert snapshot() == before


async def test_online_backup_while_the_bot_runs(
    running: RunningBot, api: FakeBotAPI, tmp_path: Path
) -> None:
    user = api.user(1001, "Backup", language_code="en")
    await onboard(user, "en")
    target = tmp_path / "backup.sqlite3"
    result = subprocess.run(  # noqa: ASYNC221 - the CLI runs beside the bot, as an operator would
        [str(LOTSENBOT), "backup", str(target)],
        env=bot_env(None, running.settings.db_path),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(target) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute(
            f"SELECT language FROM person WHERE {BY_TELEGRAM_ID}", (1001,)
        ).fetchone() == ("en",)
