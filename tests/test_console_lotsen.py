"""The console's Lotsen over HTTP on loopback, with the real bot and the fake Telegram API:
the roster filtered and sorted, the card and its dates, suspending (the cases move as from
``/lotsen`` in chat), reinstating, retiring, deciding an expense, invitation links."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

from bot.config import CityConfig
from bot.domain.lotsen import LotseStatus
from channels.telegram.fakeapi import FakeBotAPI
from handlers import asking_views, coordination_views, roster_views
from tests.conftest import COORDINATOR_ID, RunningBot, plain
from tests.console import console_bot
from tests.scenario import (
    ask_for_lotse,
    become_lotse,
    has_data,
    invite_codes,
    label,
    onboard,
    t,
)
from tests.test_console_requests import stored


def console_audit(bot: RunningBot) -> list[tuple[str, int | None]]:
    """(action, person) of the console's actions on Lotsen, in order."""
    with sqlite3.connect(bot.settings.db_path) as conn:
        return conn.execute(
            "SELECT action, subject_id FROM audit WHERE via = 'console' "
            "AND action NOT LIKE 'console.%' AND action <> 'lotse.card' ORDER BY id"
        ).fetchall()


def names(html: str) -> list[str]:
    """The Lotsen the roster lists, in order."""
    return re.findall(r'<td[^>]*><a href="/lotsen/\d+">([^<]+)</a></td>', html)


def person_of(bot: RunningBot, name: str) -> int:
    with sqlite3.connect(bot.settings.db_path) as conn:
        row = conn.execute("SELECT person_id FROM lotse WHERE first_name = ?", (name,)).fetchone()
    return int(row[0])


async def test_roster_card_suspend_reinstate_retire_expense_and_invitations(
    api: FakeBotAPI, city: CityConfig, tmp_path: Path
) -> None:
    async with console_bot(api, city, tmp_path) as desk:
        codes = await invite_codes(api, 2)
        zora = await become_lotse(api, 701, "Zora", ["de", "ar"], codes[0])
        bo = await become_lotse(api, 702, "Bo", ["de"], codes[1])
        amal = api.user(801, "Amal", language_code="ar")
        await onboard(amal, "ar")
        await ask_for_lotse(amal, "ar", text="رسالة من Jobcenter", name="Amal")
        await zora.press(data="offer:accept:1")
        await amal.wait_for_text("Zora")
        zora_id, bo_id = person_of(desk.bot, "Zora"), person_of(desk.bot, "Bo")
        browser = await desk.signed_in()

        # The roster: filtered by language, sorted by name or by load.
        assert names((await browser.get("/lotsen")).html) == ["Bo", "Zora"]
        assert names((await browser.get("/lotsen?language=ar")).html) == ["Zora"]
        assert names((await browser.get("/lotsen?sort=load")).html) == ["Zora", "Bo"]
        for by in ("hours", "seen"):  # the same this year and today: by name then
            assert names((await browser.get(f"/lotsen?sort={by}")).html) == ["Bo", "Zora"]
        assert names((await browser.get("/lotsen?state=suspended")).html) == []

        # The card: the case, and the programme's dates saved.
        card = await browser.get(f"/lotsen/{zora_id}")
        assert card.status == 200 and 'href="/requests/1"' in card.html
        token = await browser.csrf(f"/lotsen/{zora_id}")
        done = await browser.post(
            f"/lotsen/{zora_id}/records",
            {
                "certified_on": "2026-03-14",
                "pledge_on": "",
                "check_seen_on": "",
                "check_valid_until": "",
            },
            csrf=token,
        )
        assert done.location == f"/lotsen/{zora_id}?done=records"
        assert 'value="2026-03-14"' in (await browser.get(f"/lotsen/{zora_id}")).html
        bad = await browser.post(f"/lotsen/{zora_id}/records", {"pledge_on": "14.3."}, csrf=token)
        assert bad.location == f"/lotsen/{zora_id}?done=invalid"

        # Suspending needs a reason; then the case goes to others, as in chat.
        nothing = await browser.post(f"/lotsen/{zora_id}/suspend", {"reason": " "}, csrf=token)
        assert nothing.location == f"/lotsen/{zora_id}?done=invalid"
        seen = len(bo.bot_messages())
        done = await browser.post(
            f"/lotsen/{zora_id}/suspend", {"reason": "Beschwerde geprüft"}, csrf=token
        )
        assert done.location == f"/lotsen/{zora_id}?done=suspended"
        de = t("de")
        await zora.wait_for_text(plain(roster_views.told(de, city, LotseStatus.SUSPENDED)))
        case = await stored(desk, 1)
        await amal.wait_for_text(plain(asking_views.handed_back_for_person(t("ar"), case)))
        await bo.wait_for_message(lambda m: has_data(m, "offer:accept:1"), after=seen)
        assert case.lotse_id is None
        suspended = await browser.get(f"/lotsen/{zora_id}")
        assert "Beschwerde geprüft" in suspended.html
        assert names((await browser.get("/lotsen?state=suspended")).html) == ["Zora"]

        done = await browser.post(f"/lotsen/{zora_id}/reinstate", {}, csrf=token)
        assert done.location == f"/lotsen/{zora_id}?done=reinstated"
        await zora.wait_for_text(plain(roster_views.told(de, city, LotseStatus.ACTIVE)))

        unsure = await browser.post(f"/lotsen/{zora_id}/retire", {}, csrf=token)
        assert unsure.location == f"/lotsen/{zora_id}?done=invalid"
        done = await browser.post(f"/lotsen/{zora_id}/retire", {"sure": "yes"}, csrf=token)
        assert done.location == f"/lotsen/{zora_id}?done=retired"
        await zora.wait_for_text(plain(roster_views.told(de, city, LotseStatus.RETIRED)))
        again = await browser.post(f"/lotsen/{zora_id}/retire", {"sure": "yes"}, csrf=token)
        assert again.location == f"/lotsen/{zora_id}?done=refused"

        # Bo takes the case and records an expense in chat; the office approves it here.
        await bo.press(data="offer:accept:1")
        await amal.wait_for_text("Bo")
        await bo.wait_for_message(lambda m: has_data(m, "ex:new:1"))
        await bo.press(data="ex:new:1")
        await bo.wait_for_message(lambda m: has_data(m, "ex:stop"))
        await bo.send("Busfahrkarte")
        await bo.wait_for_text(plain(de.gettext("How much was it, in euros (e.g. 12,50)?")))
        await bo.send("2,80")
        await bo.wait_for_message(lambda m: has_data(m, "ex:skip"))
        photo = b"\x89PNG the bus ticket"
        await bo.send_photo(photo)
        await bo.wait_for_text("Busfahrkarte, 2,80")
        bo_card = await browser.get(f"/lotsen/{bo_id}")
        assert "Busfahrkarte" in bo_card.html
        expense = re.search(r'action="/lotsen/expenses/(\d+)"', bo_card.html)
        assert expense is not None
        # The receipt, fetched from Telegram when the office opens it.
        receipt = f"/lotsen/expenses/{expense.group(1)}/receipt"
        assert f'href="{receipt}"' in bo_card.html
        shown = await browser.get(receipt)
        assert (shown.status, shown.body) == (200, photo)
        assert shown.headers["Content-Type"] == "image/png"
        assert "default-src 'self'" in shown.headers["Content-Security-Policy"]
        assert (await browser.get("/lotsen/expenses/99/receipt")).status == 404
        seen = len(bo.bot_messages())
        done = await browser.post(
            f"/lotsen/expenses/{expense.group(1)}", {"decision": "approve"}, csrf=token
        )
        assert done.location == f"/lotsen/{bo_id}?done=approved"
        await bo.wait_for_message(lambda m: "Busfahrkarte" in m.text, after=seen)
        assert 'action="/lotsen/expenses/' not in (await browser.get(f"/lotsen/{bo_id}")).html

        # Invitation links to hand out: each works once, as the chat's.
        # The form's answer leads to the page that shows them (after it, a reload of that
        # page makes no more links).
        posted = await browser.post("/lotsen/invitations", {"count": "2"}, csrf=token)
        assert (posted.status, posted.location) == (303, "/lotsen/invitations")
        made = await browser.get("/lotsen/invitations")
        new = re.findall(r"start=([A-Z0-9]{10})", made.html.split('id="made"', 1)[1])
        assert len(set(new)) == 2
        again = await browser.get("/lotsen/invitations")
        assert 'id="made"' not in again.html
        assert set(re.findall(r"start=([A-Z0-9]{10})", again.html)) == set(new)
        lina = await become_lotse(api, 703, "Lina", ["de"], new[0])
        await lina.wait_for_message(lambda m: has_data(m, "prof:show:lang"))
        assert "Lina" in names((await browser.get("/lotsen")).html)
        assert new[0] not in (await browser.get("/lotsen/invitations")).html

        assert console_audit(desk.bot) == [
            ("lotse.records", zora_id),
            ("lotse.suspend", zora_id),
            ("lotse.reinstate", zora_id),
            ("lotse.retire", zora_id),
            ("expense.receipt", bo_id),
            ("expense.approve", bo_id),
            ("invite.create", None),
        ]


async def test_an_application_approved_or_rejected_at_the_desk_reaches_the_applicant(
    api: FakeBotAPI, city: CityConfig, tmp_path: Path
) -> None:
    async with console_bot(api, city, tmp_path) as desk:
        coordinator = api.user(COORDINATOR_ID, "Koordination", language_code="de")
        await onboard(coordinator, "de")
        applicants = []
        for user_id, name in ((903, "Bea"), (904, "Cem")):
            applicant = api.user(user_id, name, language_code="de")
            await onboard(applicant, "de")
            await applicant.press(label("de", "🧭 I am a Lotse"))
            await applicant.press(label("de", "🙋 Ask for approval"))
            await coordinator.wait_for_text(name)
            applicants.append(applicant)
        bea, cem = applicants
        browser = await desk.signed_in()
        bea_id, cem_id = person_of(desk.bot, "Bea"), person_of(desk.bot, "Cem")
        card = await browser.get(f"/lotsen/{bea_id}")
        assert f'action="/lotsen/{bea_id}/decide"' in card.html
        token = await browser.csrf(f"/lotsen/{bea_id}")

        done = await browser.post(f"/lotsen/{bea_id}/decide", {"decision": "approve"}, csrf=token)
        assert done.location == f"/lotsen/{bea_id}?done=approved"
        await bea.wait_for_text("🎉")
        again = await browser.post(f"/lotsen/{bea_id}/decide", {"decision": "reject"}, csrf=token)
        assert again.location == f"/lotsen/{bea_id}?done=refused"

        done = await browser.post(f"/lotsen/{cem_id}/decide", {"decision": "reject"}, csrf=token)
        assert done.location == "/lotsen"
        await cem.wait_for_text(plain(coordination_views.rejected(t("de"), city)))
        assert names((await browser.get("/lotsen")).html) == ["Bea"]
        assert console_audit(desk.bot) == [("lotse.approve", bea_id), ("lotse.reject", cem_id)]
