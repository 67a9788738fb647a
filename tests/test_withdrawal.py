"""Withdrawing consent stops all processing: cases go back, requests end, no audience is left."""

from __future__ import annotations

import dataclasses
import sqlite3
from datetime import timedelta

import pytest

from bot.config import CityConfig
from bot.domain.mailings import Audience
from bot.storage.lotsen import LotsenRepository
from bot.storage.mailings import MailingsRepository
from bot.storage.requests import RequestsRepository
from channels.telegram.fakeapi import BotMessage, FakeBotAPI, FakeUser
from handlers import asking_views, lotse_views, views
from tests.conftest import COORDINATOR_ID, RunningBot, plain
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

SECRET = "Termin bei der Ausländerbehörde wegen Aufenthaltstitel"


@pytest.fixture
def city(city: CityConfig) -> CityConfig:
    """Round 1 goes to one Lotse only, so the second is asked only by an escalation."""
    return dataclasses.replace(city, requests=dataclasses.replace(city.requests, offer_count=1))


def offers(user: FakeUser, request_id: int) -> list[BotMessage]:
    """The offers of ``request_id`` the user was sent (still carrying *Accept*)."""
    data = f"offer:accept:{request_id}"
    return [
        m
        for m in user.bot_messages()
        if any(b.get("callback_data") == data for row in m.buttons for b in row)
    ]


def row(running: RunningBot, sql: str, *params: object) -> tuple[object, ...] | None:
    with sqlite3.connect(running.settings.db_path) as conn:
        found: tuple[object, ...] | None = conn.execute(sql, params).fetchone()
        return found


async def ask_to_withdraw(user: FakeUser, language: str) -> BotMessage:
    """/privacy → *Withdraw my consent*; return the question that comes back."""
    seen = len(user.bot_messages())
    await user.send("/privacy")
    notice = await user.wait_for_message(
        lambda m: label(language, "Withdraw my consent") in m.button_labels(), after=seen
    )
    seen = len(user.bot_messages())
    await user.press(label(language, "Withdraw my consent"), message=notice)
    return await user.wait_for_message(lambda m: has_data(m, "priv:withdraw_yes"), after=seen)


async def confirm_withdrawal(user: FakeUser, language: str, question: BotMessage) -> None:
    """Press *Yes, withdraw my consent*; wait until the bot says it is done."""
    tr = t(language)
    await user.press(tr.gettext("Yes, withdraw my consent"), message=question)
    await user.wait_for_text(views.consent_withdrawn(tr))
    await user.wait_for_message(lambda m: tr.gettext("✅ I agree after all") in m.button_labels())


async def test_a_lotse_who_withdraws_hands_the_case_back_and_is_offered_nothing(
    running: RunningBot, api: FakeBotAPI
) -> None:
    codes = await invite_codes(api, 2)
    wiebke = await become_lotse(api, 4101, "Wiebke", ["ar"], codes[0])
    malte = await become_lotse(api, 4102, "Malte", ["ar"], codes[1])
    amal = api.user(4103, "Amal", language_code="ar")
    await onboard(amal, "ar")
    await ask_for_lotse(amal, "ar", text=SECRET, name="Amal")
    await wiebke.wait_for_message(lambda m: m in offers(wiebke, 1))
    assert offers(malte, 1) == []  # one Lotse per round here
    await wiebke.press(label("ar", "✅ Accept"))
    await amal.wait_for_text("Wiebke")

    # Wiebke withdraws: she is asked first, because her case would go back.
    question = await ask_to_withdraw(wiebke, "ar")
    ar = t("ar")
    assert (
        ar.ngettext(
            "Your {n} open case as a Lotse will be handed back and offered to other Lotsen.",
            "Your {n} open cases as a Lotse will be handed back and offered to other Lotsen.",
            1,
        )
        in question.text
    )
    await confirm_withdrawal(wiebke, "ar", question)

    # The case goes back: Amal is told, and the next Lotse is offered it and takes it.
    db = await running.db()
    try:
        case = await RequestsRepository(db).get(1)
    finally:
        await db.close()
    assert case is not None
    await amal.wait_for_text(asking_views.handed_back_for_person(ar, case))
    await malte.wait_for_message(lambda m: m in offers(malte, 1))
    await malte.press(label("ar", "✅ Accept"), message=offers(malte, 1)[0])
    await amal.wait_for_text("Malte")
    malte_id = row(running, f"SELECT id FROM person WHERE {BY_TELEGRAM_ID}", malte.id)
    assert malte_id is not None
    assert row(running, "SELECT status, lotse_id FROM request WHERE id = 1") == (
        "accepted",
        malte_id[0],
    )

    # A new request is never offered to her, however long it waits.
    bashir = api.user(4104, "Bashir", language_code="ar")
    await onboard(bashir, "ar")
    await ask_for_lotse(bashir, "ar", name="Bashir")
    await malte.wait_for_message(lambda m: m in offers(malte, 2))
    await running.advance(running.city.requests.escalate_after + timedelta(minutes=1))
    await running.advance(running.city.requests.escalate_after + timedelta(minutes=1))
    assert offers(wiebke, 2) == []
    wiebke_id = row(running, f"SELECT id FROM person WHERE {BY_TELEGRAM_ID}", wiebke.id)
    assert wiebke_id is not None
    assert row(running, "SELECT count(*) FROM offer WHERE lotse_id = ?", wiebke_id[0]) == (0,)

    # What stays is the person row with the language and when she withdrew.
    assert row(
        running,
        "SELECT role, language, consent_at, withdrawn_at IS NOT NULL FROM person WHERE id = ?",
        wiebke_id[0],
    ) == ("member", "ar", None, 1)
    assert row(running, "SELECT count(*) FROM lotse WHERE person_id = ?", wiebke_id[0]) == (0,)


async def test_a_refugee_who_withdraws_confirms_and_the_request_ends_without_escalation(
    running: RunningBot, api: FakeBotAPI
) -> None:
    coordinator = api.user(COORDINATOR_ID, "Koordination", language_code="de")
    await onboard(coordinator, "de")
    codes = await invite_codes(api, 2)
    first = await become_lotse(api, 4201, "Reza", ["fa"], codes[0])
    second = await become_lotse(api, 4202, "Dara", ["fa"], codes[1])
    samira = api.user(4203, "Samira", language_code="fa")
    await onboard(samira, "fa")
    await ask_for_lotse(samira, "fa", text=SECRET, name="Samira")
    offer = await first.wait_for_message(lambda m: m in offers(first, 1))

    # With a request open, withdrawing asks first, in her language.
    fa = t("fa")
    question = await ask_to_withdraw(samira, "fa")
    assert plain(fa.gettext("<b>Withdraw your consent?</b>")) in question.text
    assert (
        fa.ngettext(
            "Your {n} open request will be cancelled; a Lotse who has taken it on is told.",
            "Your {n} open requests will be cancelled; a Lotse who has taken one on is told.",
            1,
        )
        in question.text
    )
    assert question.button_labels() == [
        fa.gettext("Yes, withdraw my consent"),
        fa.gettext("No, keep my consent"),
    ]
    # Not confirming changes nothing.
    await samira.press(fa.gettext("No, keep my consent"), message=question)
    await samira.wait_for_text(asking_views.nothing_changed(fa))
    assert row(running, "SELECT status FROM request WHERE id = 1") == ("offered",)

    question = await ask_to_withdraw(samira, "fa")
    await confirm_withdrawal(samira, "fa", question)
    told = len(samira.bot_messages())
    # The request is cancelled and cut down to its anonymous row; the offer is withdrawn.
    assert row(running, "SELECT status, person_id, description FROM request") == (
        "cancelled",
        None,
        None,
    )
    await first.wait_for_message(
        lambda m: m.message_id == offer.message_id and m.text == lotse_views.offer_gone(fa)
    )

    # Long past every escalation: nobody else is offered it, the office is not alerted.
    escalations = len(coordinator.bot_messages())
    for _ in range(3):
        await running.advance(running.city.requests.escalate_after + timedelta(minutes=1))
    await running.advance(timedelta(days=15))  # past the expiry of a flexible request
    assert offers(second, 1) == []
    assert row(running, "SELECT count(*) FROM offer") == (1,)
    assert coordinator.bot_messages()[escalations:] == []
    assert samira.bot_messages()[told:] == []  # neither "taking longer" nor "expired"
    assert row(
        running,
        "SELECT language, consent_version, withdrawn_at IS NOT NULL FROM person "
        f"WHERE {BY_TELEGRAM_ID}",
        samira.id,
    ) == ("fa", None, 1)


async def test_without_consent_to_todays_notice_nobody_is_matched_or_mailed(
    running: RunningBot, api: FakeBotAPI
) -> None:
    """Defence in depth: a Lotse who agreed only to an older notice (or none) keeps their
    profile until they answer, but no query that chooses people finds them."""
    codes = await invite_codes(api, 2)
    old = await become_lotse(api, 4301, "Olga", ["uk"], codes[0])
    current = await become_lotse(api, 4302, "Petro", ["uk"], codes[1])
    with sqlite3.connect(running.settings.db_path) as conn:
        conn.execute(f"UPDATE person SET consent_version = '0' WHERE {BY_TELEGRAM_ID}", (old.id,))
    olga = row(running, f"SELECT id FROM person WHERE {BY_TELEGRAM_ID}", old.id)
    assert olga is not None
    olga_id = int(olga[0])  # type: ignore[call-overload]

    halyna = api.user(4303, "Halyna", language_code="uk")
    await onboard(halyna, "uk")
    await ask_for_lotse(halyna, "uk", name="Halyna")
    await current.wait_for_message(lambda m: m in offers(current, 1))
    await running.advance(running.city.requests.escalate_after + timedelta(minutes=1))
    assert offers(old, 1) == []

    db = await running.db()
    try:
        now = running.clock.now()
        since = now - timedelta(days=30)
        lotsen = LotsenRepository(db)
        assert [lotse.first_name for lotse in await lotsen.active(since)] == ["Petro"]
        for limit in (1, None):  # the first round and everyone
            chosen = await lotsen.best(
                ["uk"], None, None, since=since, now=now, hour=12, limit=limit
            )
            assert [lotse.first_name for lotse in chosen] == ["Petro"]
        mailings = MailingsRepository(db)
        for audience in ("lotsen", "event_lotsen", "everyone"):
            # Petro and Halyna agreed to today's notice; Olga did not.
            assert await mailings.count(Audience(audience)) == (1 if "lotsen" in audience else 2)
        assert await mailings.count(Audience("person", olga_id)) == 0
        requests = RequestsRepository(db)
        assert not await requests.assign(1, olga_id, now)  # an old "Assign to Olga" button
        # A waiting request whose person no longer consents is offered to nobody.
        with sqlite3.connect(running.settings.db_path) as conn:
            conn.execute(
                f"UPDATE person SET consent_version = '0' WHERE {BY_TELEGRAM_ID}", (halyna.id,)
            )
        assert await requests.add_offers(1, [olga_id], 2, now) is None
    finally:
        await db.close()
