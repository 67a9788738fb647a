"""Retention: every kind of personal data ages out, proved on the raw database file."""

from __future__ import annotations

import re
import sqlite3
from datetime import timedelta

from bot.i18n import language_name
from channels.telegram.fakeapi import BotMessage, FakeBotAPI, FakeUser
from handlers import asking_views, coordination_views, views
from tests.conftest import COORDINATOR_ID, RunningBot, start_bot
from tests.scenario import (
    BY_TELEGRAM_ID,
    ask_for_lotse,
    become_lotse,
    has_data,
    invite_codes,
    label,
    onboard,
    plain_first_line,
    t,
)
from tests.test_broadcasts import compose
from tests.test_events import invitations
from tests.test_privacy import raw_bytes, traces

# Distinctive ids and texts, so that a byte search cannot match by chance.
REFUGEE_ID = 7_533_226_417
LOTSE_ID = 7_644_337_506
DRAFTER_ID = 7_755_448_695
JOINER_ID = 7_866_559_784
SILENT_ID = 7_977_660_873
CASE_TEXT = "Mietvertrag Wohnung Hervest, Vermieter antwortet nicht seit März"
RELAYED = "Ich bin am Donnerstag beim Vermieter, Nummer 0209 4455667"
DRAFT_TEXT = "Kindergeld Antrag Familienkasse abgelehnt, Bescheid vom Januar"
JOIN_NAME = "Dilan Yıldırımoğlu-Kaplan"
JOIN_PHONE = "0173 2468013579"
NEWS = "Danke an Frau Wrobelewski für den Sommerabend"

STILL_RUNNING = "✅ Still running"
CLOSE_NOW = "🗂 Close now"
KEPT = "Thank you. Case #{number} stays open."
CLOSED = "Case #{number} has been closed and its details erased."
CLOSED_FOR_PERSON = (
    "Your request #{number} has been closed because nothing happened in it for a long "
    "time. If you still need help, you can ask for a Lotse again: /menu"
)


def asked(api: FakeBotAPI, user: FakeUser) -> int:
    """How often the user was asked "is this case still running?" (answered ones too)."""
    return sum(
        1
        for call in api.calls_of("sendMessage")
        if str(call.params.get("chat_id")) == str(user.id)
        and "idle:keep:" in str(call.params.get("reply_markup"))
    )


def question(user: FakeUser) -> BotMessage | None:
    """The newest question the user can still answer."""
    shown = [
        m for m in user.bot_messages() if any("idle:keep:" in str(b) for r in m.buttons for b in r)
    ]
    return shown[-1] if shown else None


def rows(bot: RunningBot, sql: str, *params: object) -> list[tuple[object, ...]]:
    with sqlite3.connect(bot.settings.db_path) as conn:
        return conn.execute(sql, params).fetchall()


async def accepted_case(
    api: FakeBotAPI, lotse_id: int, lotse_language: str, refugee_id: int, refugee_language: str
) -> tuple[FakeUser, FakeUser]:
    """A refugee asks (with :data:`CASE_TEXT`), a Lotse accepts; nobody closes the case."""
    (code,) = await invite_codes(api, 1)
    lotse = await become_lotse(api, lotse_id, "Ilkay", [lotse_language, refugee_language], code)
    refugee = api.user(refugee_id, "Parwaneh", language_code=refugee_language)
    await onboard(refugee, refugee_language)
    await ask_for_lotse(refugee, refugee_language, text=CASE_TEXT, name="Parwaneh")
    await lotse.press(label(lotse_language, "✅ Accept"))
    await refugee.wait_for_text("Ilkay")
    return lotse, refugee


async def test_a_quiet_case_a_draft_a_half_join_and_a_silent_person_age_out(
    running: RunningBot, api: FakeBotAPI
) -> None:
    coordinator = api.user(COORDINATOR_ID, "Koordination", language_code="uk")
    await onboard(coordinator, "uk")
    lotse, refugee = await accepted_case(api, LOTSE_ID, "tr", REFUGEE_ID, "ar")
    await refugee.send(RELAYED)
    await lotse.wait_for_text(RELAYED)
    (case_id,) = [r[0] for r in rows(running, "SELECT id FROM request WHERE status = 'accepted'")]

    # Someone begins a request, writes what it is about, and never sends it.
    drafter = api.user(DRAFTER_ID, "Hamid", language_code="ar")
    await onboard(drafter, "ar")
    await drafter.press(label("ar", "🤝 I need a Lotse"))
    await drafter.press(data="ask:topic:letter")
    await drafter.wait_for_text(plain_first_line(asking_views.ask_description(t("ar")).text))
    await drafter.send(DRAFT_TEXT)
    await drafter.wait_for_message(lambda m: has_data(m, "ask:langs_done"))

    # Someone begins joining the waiting list with name and phone, and stops there.
    joiner = api.user(JOINER_ID, "Dilan", language_code="de")
    await onboard(joiner, "de")
    await joiner.press(data="menu:become")
    await joiner.press(data="wl:join")
    await joiner.wait_for_message(lambda m: has_data(m, "wld:discard"))
    await joiner.send(JOIN_NAME)
    await joiner.wait_for_message(lambda m: has_data(m, "wld:tg"))
    await joiner.send(JOIN_PHONE)
    await joiner.wait_for_message(lambda m: f"✓ {language_name('de')}" in m.button_labels())

    # Someone picks a language and never agrees.
    silent = api.user(SILENT_ID, "Lev", language_code="ru")
    await silent.send("/start")
    await silent.press(language_name("ru"), data="lang:ru")
    await silent.wait_for_message(lambda m: has_data(m, "consent:yes"))

    blob = raw_bytes(running.settings.db_path)
    for stored in (CASE_TEXT, DRAFT_TEXT, JOIN_NAME, JOIN_PHONE):
        assert stored.encode() in blob, stored
    # Stored: their Telegram id (as the text of their contact), to be found after it is gone.
    assert f"{SILENT_ID} as text" in traces(blob, SILENT_ID)

    # Four weeks on, all of it is still there: the draft and the dialog can be finished.
    await running.advance(timedelta(days=29))
    await running.timers.retention()
    assert rows(running, "SELECT count(*) FROM request WHERE status = 'draft'") == [(1,)]
    assert rows(running, "SELECT kind FROM dialog") == [("join",)]
    assert rows(running, f"SELECT count(*) FROM person WHERE {BY_TELEGRAM_ID}", SILENT_ID) == [(1,)]

    # 800 days on: the unfinished things and the silent person are gone; the quiet case is
    # brought up with its Lotse and the coordinator, each in their language, before it goes.
    await running.advance(timedelta(days=771))
    swept = await running.timers.retention()
    assert (swept.unfinished, swept.people, swept.warned) == (2, 1, 1)
    assert rows(running, "SELECT count(*) FROM request WHERE status = 'draft'") == [(0,)]
    assert rows(running, "SELECT count(*) FROM dialog") == [(0,)]
    assert rows(running, f"SELECT count(*) FROM person WHERE {BY_TELEGRAM_ID}", SILENT_ID) == [(0,)]
    assert asked(api, lotse) == 1 and asked(api, coordinator) == 1
    to_lotse, to_coordinator = question(lotse), question(coordinator)
    assert to_lotse is not None and to_coordinator is not None
    assert label("tr", STILL_RUNNING) in to_lotse.button_labels()
    assert label("tr", CLOSE_NOW) in to_lotse.button_labels()
    assert f"#{case_id}" in to_lotse.text
    assert label("uk", STILL_RUNNING) in to_coordinator.button_labels()
    assert "Ilkay" in to_coordinator.text and CASE_TEXT not in to_coordinator.text
    assert rows(running, "SELECT status FROM request WHERE id = ?", case_id) == [("accepted",)]

    # A restart (and another sweep) does not ask again.
    clock = running.clock
    await running.shutdown()
    restarted = await start_bot(api, running.city, running.settings.db_path, clock)
    try:
        await restarted.timers.retention()
        assert asked(api, lotse) == 1 and asked(api, coordinator) == 1

        # Nobody answers. Six days later the case still runs; at the deadline it is closed.
        await restarted.advance(timedelta(days=6))
        assert (await restarted.timers.retention()).cases == 0
        assert rows(restarted, "SELECT status FROM request WHERE id = ?", case_id) == [
            ("accepted",)
        ]
        await restarted.advance(timedelta(days=1, hours=1))
        assert (await restarted.timers.retention()).cases == 1
        await lotse.wait_for_text(t("tr").gettext(CLOSED, number=str(case_id)))
        await refugee.wait_for_text(t("ar").gettext(CLOSED_FOR_PERSON, number=str(case_id)))
        assert asked(api, lotse) == 1 and asked(api, coordinator) == 1
    finally:
        await restarted.shutdown()

    assert rows(restarted, "SELECT status, description, first_name, person_id FROM request") == [
        ("done", None, None, None)
    ]
    for table in ("relay", "offer", "case_notice", "dialog"):
        assert rows(restarted, f"SELECT count(*) FROM {table}") == [(0,)], table
    blob = raw_bytes(restarted.settings.db_path)
    found = traces(blob, SILENT_ID, CASE_TEXT, RELAYED, DRAFT_TEXT, JOIN_NAME, JOIN_PHONE)
    assert found == []
    assert b"Parwaneh" not in blob


async def test_still_running_keeps_a_case_and_close_now_erases_it(
    running: RunningBot, api: FakeBotAPI
) -> None:
    coordinator = api.user(COORDINATOR_ID, "Koordination", language_code="de")
    await onboard(coordinator, "de")
    lotse, refugee = await accepted_case(api, 811, "uk", 812, "fa")
    (case_id,) = [r[0] for r in rows(running, "SELECT id FROM request WHERE status = 'accepted'")]
    quiet = timedelta(days=running.city.retention_days)
    notice = timedelta(days=7)

    # A relayed message is activity: the quiet spell starts again from it.
    await running.advance(timedelta(days=50))
    await refugee.send("سلام، هنوز منتظرم")
    await lotse.wait_for_text("هنوز منتظرم")
    await running.advance(quiet - timedelta(days=50))  # accepted a full spell ago
    assert (await running.timers.retention()).warned == 0
    assert asked(api, lotse) == 0 and asked(api, coordinator) == 0

    # A week before the end of the spell, both are asked.
    await running.advance(timedelta(days=50) - notice + timedelta(hours=1))
    assert (await running.timers.retention()).warned == 1
    assert asked(api, lotse) == 1 and asked(api, coordinator) == 1

    # Nobody else can answer for the case.
    query = await refugee.press(data=f"idle:close:{case_id}")
    assert (await refugee.wait_for_answer(query)).get("text") == views.button_expired(t("fa"))
    assert rows(running, "SELECT status FROM request WHERE id = ?", case_id) == [("accepted",)]

    # The Lotse says it still runs: nothing is closed at the old deadline, nobody is asked.
    await lotse.press(label("uk", STILL_RUNNING), message=question(lotse))
    await lotse.wait_for_text(t("uk").gettext(KEPT, number=str(case_id)))
    await running.advance(notice + timedelta(days=1))
    swept = await running.timers.retention()
    assert (swept.cases, swept.warned) == (0, 0)
    assert rows(running, "SELECT status FROM request WHERE id = ?", case_id) == [("accepted",)]

    # Quiet long enough again: asked again, and the coordinator closes it at once.
    await running.advance(quiet - 2 * notice - timedelta(days=1) + timedelta(hours=1))
    assert (await running.timers.retention()).warned == 1
    assert asked(api, lotse) == 2 and asked(api, coordinator) == 2
    await coordinator.press(label("de", CLOSE_NOW), message=question(coordinator))
    await coordinator.wait_for_text(t("de").gettext(CLOSED, number=str(case_id)))
    await lotse.wait_for_text(t("uk").gettext(CLOSED, number=str(case_id)))
    await refugee.wait_for_text(t("fa").gettext(CLOSED_FOR_PERSON, number=str(case_id)))
    assert rows(running, "SELECT status, description, first_name, person_id FROM request") == [
        ("done", None, None, None)
    ]
    assert rows(running, "SELECT count(*) FROM relay") == [(0,)]
    assert CASE_TEXT.encode() not in raw_bytes(running.settings.db_path)

    # The question the Lotse still has is no longer valid.
    query = await lotse.press(label("uk", STILL_RUNNING), message=question(lotse))
    assert (await lotse.wait_for_answer(query)).get("show_alert") is True
    assert rows(running, "SELECT status FROM request") == [("done",)]


async def test_delivery_records_answers_broadcasts_and_rejections_age_out(
    running: RunningBot, api: FakeBotAPI
) -> None:
    coordinator = api.user(COORDINATOR_ID, "Koordination", language_code="de")
    await onboard(coordinator, "de")
    lotse, refugee = await accepted_case(api, 821, "de", 822, "uk")
    await lotse.press(label("de", "✅ Mark as done"))
    await lotse.press("1")
    await refugee.wait_for_message(lambda m: "👍" in m.button_labels())

    # A broadcast to the Lotsen.
    await compose(coordinator, NEWS, "lotsen")
    await coordinator.press(data="bc:send")
    await lotse.wait_for_text(NEWS)

    # A Stammtisch date in ten days, and the Lotse's answer.
    day = (running.clock.now().astimezone(running.city.timezone) + timedelta(days=10)).date()
    await coordinator.send("/stammtisch")
    await coordinator.press(data="ev:new")
    await coordinator.send("Sommerabend")
    await coordinator.wait_for_message(lambda m: "evd:day:" in str(m.buttons))
    await coordinator.send(f"{day.day}.{day.month}.{day.year}")
    await coordinator.wait_for_message(lambda m: "evd:time:" in str(m.buttons))
    await coordinator.send("18:00")
    await coordinator.press(data="evd:place:default")
    await coordinator.press(data="evd:goto:confirm")
    await coordinator.press(data="evd:save")
    invitation = await lotse.wait_for_message(lambda m: m in invitations(lotse))
    yes = next(
        str(b["callback_data"])
        for r in invitation.buttons
        for b in r
        if re.fullmatch(r"ev:rsvp:\d+:yes", str(b.get("callback_data")))
    )
    await lotse.press(data=yes, message=invitation)
    await api.wait_until(lambda: rows(running, "SELECT count(*) FROM rsvp") == [(1,)])

    # An application to become a Lotse, turned down.
    applicant = api.user(823, "Gundula", language_code="de")
    await onboard(applicant, "de")
    await applicant.press(label("de", "🧭 I am a Lotse"))
    await applicant.press(label("de", "🙋 Ask for approval"))
    application = await coordinator.wait_for_text("Gundula")
    await coordinator.press(label("de", "✖️ Reject"), message=application)
    await applicant.wait_for_text(
        plain_first_line(coordination_views.rejected(t("de"), running.city))
    )

    def counts() -> list[object]:
        return [
            rows(running, f"SELECT count(*) FROM {sql}")[0][0]
            for sql in (
                "delivery",
                "rsvp",
                "offer",
                "case_notice",
                "lotse WHERE status = 'rejected'",
                "mailing WHERE report_chat IS NOT NULL",
                "broadcast WHERE text IS NOT NULL OR author_id IS NOT NULL",
                "request WHERE person_id IS NOT NULL",
            )
        ]

    before = counts()
    assert all(before), before

    # Kept while they serve a purpose (the date is not yet long past) ...
    await running.advance(timedelta(days=running.city.retention_days))
    await running.timers.retention()
    assert counts()[1] == 1  # the answer to the date ten days later

    # ... and gone after it.
    await running.advance(timedelta(days=11))
    await running.timers.retention()
    assert counts() == [0] * len(before)
    assert NEWS.encode() not in raw_bytes(running.settings.db_path)
    assert rows(running, "SELECT count(*) FROM person") == [(4,)]  # all agreed: they stay
