"""The office's side over the wire: concerns, the office's inbox, expenses, the confirmation
of volunteering and the appointment in the calendar."""

from __future__ import annotations

import csv
import io
import sqlite3
from datetime import datetime, timedelta

from icalendar import Calendar
from pypdf import PdfReader

from bot.i18n import language_name
from channels.telegram.fakeapi import BotMessage, FakeBotAPI, FakeUser
from handlers import office_views
from tests.conftest import COORDINATOR_ID, RunningBot, plain
from tests.scenario import (
    ask_for_lotse,
    become_lotse,
    has_data,
    invite_codes,
    label,
    onboard,
    t,
)
from tests.test_privacy import raw_bytes

LOTSE_ID = 5_101
REFUGEE_ID = 5_202


async def _case(
    running: RunningBot, api: FakeBotAPI, language: str = "ar", time: str = "0900"
) -> tuple[FakeUser, FakeUser, FakeUser]:
    """A Lotse accompanies a refugee (case #1, appointment in two days at ``time``); the
    coordinator has started the bot in German."""
    codes = await invite_codes(api, 1)
    coordinator = api.user(COORDINATOR_ID, "Koordination", language_code="de")
    await onboard(coordinator, "de")
    lotse = await become_lotse(api, LOTSE_ID, "Wiebke", [language, "de"], codes[0])
    refugee = api.user(REFUGEE_ID, "Samiha", language_code=language)
    await onboard(refugee, language)
    day = (running.clock.now().astimezone(running.city.timezone) + timedelta(days=2)).date()
    await ask_for_lotse(refugee, language, name="Samiha", day=day.isoformat(), time=time)
    await lotse.press(label(language, "✅ Accept"))
    await refugee.wait_for_text("Wiebke")
    await lotse.wait_for_message(lambda m: has_data(m, "ex:new:1"))
    # Each side's calendar entry comes after its news.
    for side in (lotse, refugee):
        await side.wait_for_message(lambda m: m.kind == "document")
    return coordinator, lotse, refugee


def _count(user: FakeUser) -> int:
    return len(user.bot_messages())


def _db(running: RunningBot) -> sqlite3.Connection:
    return sqlite3.connect(running.settings.db_path)


async def test_a_concern_reaches_only_the_coordinators_and_the_answer_the_reporter(
    running: RunningBot, api: FakeBotAPI
) -> None:
    coordinator, lotse, refugee = await _case(running, api)
    lotse_seen, coordinator_seen = _count(lotse), _count(coordinator)
    await refugee.press(label("ar", "⚠️ Something is wrong"))
    await refugee.wait_for_message(lambda m: has_data(m, "cn:r:1:unsafe"))
    await refugee.press(data="cn:r:1:unsafe")
    await refugee.wait_for_text(plain(office_views.concern_thanks(t("ar"))))
    note = await coordinator.wait_for_message(
        lambda m: "#1" in m.text and label("de", "I do not feel safe") in m.text,
        after=coordinator_seen,
    )
    assert language_name("ar") in note.text and "Wiebke" in note.text
    assert label("de", "📂 Open the case") in note.button_labels()
    # The person helped reported it: the office can stop the Lotse from the note.
    assert label("de", "⛔ Suspend") in note.button_labels()
    # Nobody else hears of it: not the Lotse.
    await refugee.send("/menu")
    await refugee.wait_for_text(label("ar", "What would you like to do?"))
    assert _count(lotse) == lotse_seen

    # The Lotse writes theirs in a few words.
    refugee_seen = _count(refugee)
    await lotse.press(data="cn:ask:1")
    await lotse.wait_for_message(lambda m: has_data(m, "cn:stop"))
    await lotse.send("Die Familie war zweimal nicht da")
    await coordinator.wait_for_text("Die Familie war zweimal nicht da")

    # The coordinator opens the case from the note, then answers the refugee by replying.
    await coordinator.press(label("de", "📂 Open the case"), message=note)
    await coordinator.wait_for_message(lambda m: m.text.startswith("Case #1") or "#1" in m.text)
    await coordinator.send_raw(text="Wir rufen Sie morgen an.", reply_to_message=note.raw)
    await coordinator.wait_for_text(label("de", "✓ Your answer was passed on."))
    answer = await refugee.wait_for_text("Wir rufen Sie morgen an.")
    assert answer.text == plain(office_views.answer_for_person(t("ar"), "Wir rufen Sie morgen an."))
    assert refugee_seen < _count(refugee)
    lotse_note = await coordinator.wait_for_text("Die Familie war zweimal nicht da")
    assert label("de", "⛔ Suspend") not in lotse_note.button_labels()
    refugee_id, lotse_id = _person_ids(running, REFUGEE_ID, LOTSE_ID)
    assert _audit(running) == [
        ("concern.case", refugee_id, 1),
        ("concern.reply", refugee_id, 1),
    ]
    # From the refugee's note the office stops the Lotse (the roster's suspension).
    await coordinator.press(label("de", "⛔ Suspend"), message=note)
    await coordinator.wait_for_text(
        t("de").gettext(
            "Why is {name} suspended? Type the reason (only the office sees it).", name="Wiebke"
        )
    )
    await coordinator.send("Meldung der Familie, bis zur Klärung")
    await api.wait_until(
        lambda: _audit(running)[-1:] == [("lotse.suspend", lotse_id, None)] or None
    )
    with _db(running) as conn:
        assert conn.execute("SELECT stopped FROM lotse").fetchall() == [("suspended",)]
    with _db(running) as conn:
        assert conn.execute(
            "SELECT kind, side, reason FROM office_thread ORDER BY id"
        ).fetchall() == [("concern", "person", "unsafe"), ("concern", "lotse", None)]
        assert conn.execute("SELECT direction FROM office_message ORDER BY id").fetchall() == [
            ("in",),
            ("in",),
            ("out",),
        ]


async def test_an_office_conversation_both_ways_in_arabic(
    running: RunningBot, api: FakeBotAPI
) -> None:
    coordinator = api.user(COORDINATOR_ID, "Koordination", language_code="de")
    await onboard(coordinator, "de")
    refugee = api.user(REFUGEE_ID, "Samiha", language_code="ar")
    await onboard(refugee, "ar")
    question = "مرحبا، أحتاج مساعدة في رسالة من مكتب العمل"
    await refugee.press(label("ar", "✉️ Write to the office"))
    await refugee.wait_for_message(lambda m: has_data(m, "of:stop"))
    await refugee.send(question)
    await refugee.wait_for_text(
        plain(label("ar", "✓ Sent to the coordination office. The answer comes here."))
    )
    inbox = await coordinator.wait_for_text(question)
    assert language_name("ar") in inbox.text
    await coordinator.send_raw(
        text="Gern, kommen Sie Dienstag ins Büro.", reply_to_message=inbox.raw
    )
    answer = await refugee.wait_for_text("Gern, kommen Sie Dienstag ins Büro.")
    assert (
        plain(t("ar").gettext("<b>The coordination office answers:</b>", text="")) in (answer.text)
        or "Gern" in answer.text
    )
    # The refugee writes back by replying to the answer: it reaches the same thread.
    await refugee.send_raw(text="شكرا جزيلا", reply_to_message=answer.raw)
    again = await coordinator.wait_for_text("شكرا جزيلا")
    assert "#1" in again.text
    with _db(running) as conn:
        assert conn.execute(
            "SELECT t.kind, t.language, m.direction, m.text FROM office_message m "
            "JOIN office_thread t ON t.id = m.thread_id ORDER BY m.id"
        ).fetchall() == [
            ("message", "ar", "in", question),
            ("message", "ar", "out", "Gern, kommen Sie Dienstag ins Büro."),
            ("message", "ar", "in", "شكرا جزيلا"),
        ]


async def test_an_expense_with_a_receipt_is_approved_and_exported(
    running: RunningBot, api: FakeBotAPI
) -> None:
    coordinator, lotse, _ = await _case(running, api, language="de")
    await lotse.press(data="ex:new:1")
    await lotse.wait_for_message(lambda m: has_data(m, "ex:stop"))
    await lotse.send("Busticket")
    await lotse.wait_for_text(plain(label("de", "How much was it, in euros (e.g. 12,50)?")))
    await lotse.send("zwölf")  # not an amount: asked again
    await lotse.wait_for_text(
        label("de", "Sorry, I did not understand that. Please use the buttons below.")
    )
    await lotse.send("12,50 €")
    await lotse.wait_for_message(lambda m: has_data(m, "ex:skip"))
    await lotse.send_photo(data=b"\x89PNG-receipt-of-wiebke")
    await lotse.wait_for_text("Busticket, 12,50")
    with _db(running) as conn:
        assert conn.execute(
            "SELECT request_id, what, cents, receipt_kind, state FROM expense"
        ).fetchall() == [(1, "Busticket", 1250, "photo", "open")]

    seen = _count(coordinator)
    await coordinator.send("/expenses")
    item = await coordinator.wait_for_message(lambda m: has_data(m, "ofc:ok:1"), after=seen)
    assert item.kind == "photo" and "Busticket" in item.text and "Wiebke" in item.text
    lotse_seen = _count(lotse)
    await coordinator.press(label("de", "✅ Approve"), message=item)
    news = await lotse.wait_for_message(lambda m: "Busticket" in m.text, after=lotse_seen)
    assert news.text.startswith("✅")
    # One tap only: a second tap changes nothing.
    query = await coordinator.press(data="ofc:no:1", message=item)
    assert (await coordinator.wait_for_answer(query)).get("show_alert") is True
    with _db(running) as conn:
        assert conn.execute("SELECT state FROM expense").fetchall() == [("approved",)]

    # The roster leads there too: nothing open any more this month.
    await coordinator.send("/lotsen")
    await coordinator.press(label("de", "🧾 Expenses"))
    month_name = t("de").month(running.clock.now().astimezone(running.city.timezone).date())
    await coordinator.wait_for_text(
        plain(t("de").ngettext(
            "🧾 <b>Expenses {month}</b>: {n} open.", "🧾 <b>Expenses {month}</b>: {n} open.", 0,
            month=month_name,
        ))
    )  # fmt: skip
    seen = _count(coordinator)
    await coordinator.press(data="ofc:csv:0")
    document = await coordinator.wait_for_message(lambda m: m.kind == "document", after=seen)
    rows = list(csv.reader(io.StringIO(api.files[document.file_id or ""].decode("utf-8-sig"))))
    month = running.clock.now().astimezone(running.city.timezone).strftime("%Y-%m")
    assert rows == [
        ["lotse", "month", "case", "what", "amount_eur", "state"],
        ["Wiebke", month, "1", "Busticket", "12.50", "approved"],
    ]
    assert "Samiha" not in api.files[document.file_id or ""].decode("utf-8-sig")
    (lotse_id,) = _person_ids(running, LOTSE_ID)
    assert _audit(running) == [("expense.approve", lotse_id, 1), ("export.expenses", None, None)]


async def _closed_case_with_hours(
    running: RunningBot, api: FakeBotAPI
) -> tuple[FakeUser, FakeUser]:
    coordinator, lotse, _ = await _case(running, api, language="de")
    await lotse.press(data="case:done:1")
    await lotse.wait_for_message(lambda m: has_data(m, "case:hours:1:3"))
    await lotse.press(data="case:hours:1:3")
    await lotse.wait_for_text(
        t("de").gettext("Case #{number} is closed. Thank you for your help!", number="1")
    )
    with _db(running) as conn:
        assert conn.execute("SELECT status, hours FROM request").fetchall() == [("done", 3.0)]
    return coordinator, lotse


def _pdfs(api: FakeBotAPI, user: FakeUser) -> list[BotMessage]:
    return [
        m
        for m in user.bot_messages()
        if m.kind == "document" and api.file_names.get(m.file_id or "", "").endswith(".pdf")
    ]


def _pdf_text(data: bytes) -> str:
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    reader = PdfReader(io.BytesIO(data), strict=True)
    assert len(reader.pages) == 1
    return "\n".join(page.extract_text() for page in reader.pages)


async def test_a_confirmation_of_volunteering_is_confirmed_then_sent(
    running: RunningBot, api: FakeBotAPI
) -> None:
    coordinator, lotse = await _closed_case_with_hours(running, api)
    year = running.clock.now().astimezone(running.city.timezone).year
    await lotse.send("/menu")
    await lotse.press(label("de", "🧭 I am a Lotse"))
    await lotse.press(label("de", "📄 Confirmation of volunteering"))
    seen = _count(coordinator)
    await lotse.press(str(year))
    await lotse.wait_for_text(
        label("de", "Thank you! The office checks the confirmation and sends it here.")
    )
    draft = await coordinator.wait_for_message(lambda m: m.kind == "document", after=seen)
    assert has_data(draft, "ofc:cert:1") and "Wiebke" in draft.text
    text = _pdf_text(api.files[draft.file_id or ""])
    assert label("de", "Draft: not yet confirmed by the coordination office.") in text
    # Nothing reaches the Lotse before the office confirms.
    assert _pdfs(api, lotse) == []

    await coordinator.press(label("de", "✅ Confirm and send"), message=draft)
    (sent,) = await api.wait_until(lambda: _pdfs(api, lotse))
    assert api.file_names[sent.file_id or ""] == f"confirmation-{year}.pdf"
    text = _pdf_text(api.files[sent.file_id or ""])
    city = running.city
    for expected in (city.programme, city.city, "Wiebke", str(year), "3", "Jobcenter"):
        assert expected in text, expected
    assert "Samiha" not in text and "Draft" not in text and "Entwurf" not in text
    # Confirmed once: a second tap is refused.
    query = await coordinator.press(data="ofc:cert:1", message=draft)
    assert (await coordinator.wait_for_answer(query)).get("show_alert") is True
    assert len(_pdfs(api, lotse)) == 1
    (lotse_id,) = _person_ids(running, LOTSE_ID)
    assert _audit(running) == [("certificate.confirm", lotse_id, None)]


def _event(data: bytes) -> tuple[str, int, datetime]:
    calendar = Calendar.from_ical(data)
    (event,) = calendar.walk("VEVENT")
    return str(event["UID"]), int(event["SEQUENCE"]), event.decoded("DTSTART")


async def test_an_accepted_case_and_a_moved_one_come_as_calendar_files(
    running: RunningBot, api: FakeBotAPI
) -> None:
    _, lotse, refugee = await _case(running, api, language="de", time="0900")
    files: dict[str, BotMessage] = {}
    for name, user in (("lotse", lotse), ("refugee", refugee)):
        files[name] = await user.wait_for_message(
            lambda m: (
                m.kind == "document"
                and m.file_id in api.file_names
                and api.file_names[m.file_id].endswith(".ics")
            )
        )
    first = {name: _event(api.files[m.file_id or ""]) for name, m in files.items()}
    uid, sequence, start = first["lotse"]
    assert first["refugee"] == first["lotse"] and uid.startswith("case-1@") and sequence == 0
    assert start.astimezone(running.city.timezone).hour == 9

    new_day = start.astimezone(running.city.timezone).date() + timedelta(days=3)
    await lotse.press(data="mv:show:1")
    await lotse.press(data=f"mv:d:1:{new_day.isoformat()}")
    await lotse.press(data=f"mv:t:1:{new_day.isoformat()}:1400")
    moved = {}
    for name, user in (("lotse", lotse), ("refugee", refugee)):
        message = await user.wait_for_message(
            lambda m, old=files[name]: m.kind == "document" and m.message_id > old.message_id
        )
        moved[name] = _event(api.files[message.file_id or ""])
    uid2, sequence2, start2 = moved["refugee"]
    assert moved["lotse"] == moved["refugee"]
    assert (uid2, sequence2) == (uid, 1)
    local = start2.astimezone(running.city.timezone)
    assert (local.date(), local.hour) == (new_day, 14)
    with _db(running) as conn:
        assert conn.execute("SELECT day, time, calendar_sequence FROM request").fetchall() == [
            (new_day.isoformat(), "14:00", 1)
        ]
        # The reminders are set for the new date.
        assert conn.execute(
            "SELECT count(*) FROM timer WHERE kind GLOB 'request:remind:*' AND done_at IS NULL "
            "AND due_at > ?",
            ((start + timedelta(days=1)).isoformat(),),
        ).fetchone()[0]


async def test_lotse_and_coordinator_actions_are_refused_to_others_and_change_nothing(
    running: RunningBot, api: FakeBotAPI
) -> None:
    _, lotse, refugee = await _case(running, api, language="de")
    stranger = api.user(5_303, "Fremd", language_code="de")
    await onboard(stranger, "de")
    year = running.clock.now().astimezone(running.city.timezone).year

    def snapshot() -> list[object]:
        with _db(running) as conn:
            return [
                conn.execute("SELECT day, time, calendar_sequence FROM request").fetchall(),
                conn.execute("SELECT count(*) FROM expense").fetchone(),
                conn.execute("SELECT count(*) FROM certificate").fetchone(),
                conn.execute("SELECT count(*) FROM office_thread").fetchone(),
                conn.execute("SELECT count(*) FROM dialog").fetchone(),
                conn.execute("SELECT count(*) FROM audit").fetchone(),
            ]

    before = snapshot()
    expired = label("de", "This button is no longer valid.")
    other_day = (running.clock.now() + timedelta(days=3)).date().isoformat()
    for user in (refugee, stranger):
        for data in ("ex:new:1", "mv:show:1", f"mv:t:1:{other_day}:1400", f"cf:ask:{year}"):
            query = await user.press(data=data)
            answer = await user.wait_for_answer(query)
            assert answer.get("text") == expired and answer.get("show_alert") is True, data
    query = await stranger.press(data="cn:ask:1")  # no side of the case
    assert (await stranger.wait_for_answer(query)).get("text") == expired
    refusal = label("de", "Sorry, this is only for the coordination office.")
    for user in (refugee, lotse, stranger):
        seen = _count(user)
        await user.send("/expenses")
        assert (await user.wait_for_message(after=seen)).text == refusal
        for data in (
            "ofc:ok:1",
            "ofc:no:1",
            "ofc:csv:0",
            "ofc:xlsx:0",
            "ofc:month:1",
            "ofc:case:1",
            "ofc:cert:1",
        ):
            query = await user.press(data=data)
            answer = await user.wait_for_answer(query)
            assert answer.get("text") == refusal and answer.get("show_alert") is True, data
    assert snapshot() == before


async def test_office_exchanges_and_decided_expenses_age_out(
    running: RunningBot, api: FakeBotAPI
) -> None:
    coordinator, lotse, refugee = await _case(running, api, language="de")
    await refugee.press(data="menu:office")
    await refugee.wait_for_message(lambda m: has_data(m, "of:stop"))
    await refugee.send("Eine Frage an das Büro")
    await coordinator.wait_for_text("Eine Frage an das Büro")
    for what, amount in (("Busticket", "3"), ("Kopien", "1,20")):
        await lotse.press(data="ex:new:1")
        await lotse.wait_for_message(lambda m: has_data(m, "ex:stop"))
        await lotse.send(what)
        await lotse.wait_for_message(lambda m: "12,50" in m.text and has_data(m, "ex:stop"))
        await lotse.send(amount)
        await lotse.press(data="ex:skip")
        await lotse.wait_for_text(f"{what}, ")
    await coordinator.send("/expenses")
    await coordinator.press(data="ofc:no:1")
    await lotse.wait_for_text("Busticket")
    await api.wait_until(lambda: _count_rows(running, "expense WHERE state = 'rejected'") == 1)

    running.clock.advance(timedelta(days=89))
    await running.timers.retention()
    assert _count_rows(running, "office_thread") == 1  # not yet
    running.clock.advance(timedelta(days=2))
    await running.timers.retention()
    assert _count_rows(running, "office_thread") == 0
    assert _count_rows(running, "office_message") == 0
    # The decided expense goes; the open one waits for the office.
    with _db(running) as conn:
        assert conn.execute("SELECT what, state FROM expense").fetchall() == [("Kopien", "open")]
    blob = raw_bytes(running.settings.db_path)
    assert b"Eine Frage an das B" not in blob and b"Busticket" not in blob


def _count_rows(running: RunningBot, table: str) -> int:
    with _db(running) as conn:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def _person_ids(running: RunningBot, *telegram_ids: int) -> list[int]:
    with _db(running) as conn:
        return [
            conn.execute(
                "SELECT person_id FROM contact WHERE channel = 'telegram' AND address = ?",
                (str(telegram_id),),
            ).fetchone()[0]
            for telegram_id in telegram_ids
        ]


def _audit(running: RunningBot) -> list[tuple[str, int | None, int | None]]:
    """The office's actions recorded: what, on whom, which case (never what was said)."""
    with _db(running) as conn:
        return [
            tuple(row)
            for row in conn.execute("SELECT action, subject_id, request_id FROM audit ORDER BY id")
        ]


async def test_an_answer_to_someone_who_blocked_the_bot_is_said_not_delivered(
    running: RunningBot, api: FakeBotAPI
) -> None:
    coordinator = api.user(COORDINATOR_ID, "Koordination", language_code="de")
    await onboard(coordinator, "de")
    refugee = api.user(REFUGEE_ID, "Samiha", language_code="ar")
    await onboard(refugee, "ar")
    await refugee.press(data="menu:office")
    await refugee.wait_for_message(lambda m: has_data(m, "of:stop"))
    await refugee.send("سؤال")
    inbox = await coordinator.wait_for_text("سؤال")
    api.block(REFUGEE_ID)
    await coordinator.send_raw(text="Antwort", reply_to_message=inbox.raw)
    await coordinator.wait_for_text(plain(office_views.not_delivered(t("de"))))
    with _db(running) as conn:
        assert conn.execute(
            "SELECT c.address, p.unreachable_at IS NOT NULL FROM person p "
            "JOIN contact c ON c.person_id = p.id ORDER BY c.address"
        ).fetchall() == sorted([(str(COORDINATOR_ID), 0), (str(REFUGEE_ID), 1)])
