"""/mydata holds every row that refers to the person, read from the schema, not from a list."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.config import CityConfig
from channels.telegram.fakeapi import FakeBotAPI, FakeUser
from handlers import broadcast_views as bv
from tests.conftest import COORDINATOR_ID, assert_stored_load_is_counted
from tests.console import ConsoleBot, console_bot
from tests.scenario import (
    BY_TELEGRAM_ID,
    ask_for_lotse,
    become_lotse,
    has_data,
    invite_codes,
    join_waitlist,
    label,
    onboard,
)
from tests.test_broadcasts import compose, copies, final_report

PHONE = "0157 31415926"

#: Columns of a row left out of the export on purpose, by (table, column that names the
#: person). Of a case someone had as a Lotse, what the person asking told about themselves
#: is that person's data, not the Lotse's.
NOT_EXPORTED = {
    ("request", "lotse_id"): {
        "description", "files", "place", "first_name", "feedback",
        "updated_by",
    },
    # A coordinator's decision on a Lotse's expense: the decision, not the Lotse's expense.
    ("expense", "decided_by"): {
        "lotse_id", "request_id", "what", "cents", "receipt_kind", "receipt_ref",
        "receipt_channel", "created_at",
    },
    # The office console's sign-in links and sessions: when, not the hashes of their
    # secrets, nor a live session's CSRF token.
    ("console_link", "person_id"): {"token_hash"},
    ("console_session", "person_id"): {"id_hash", "csrf"},
}  # fmt: skip


def person_columns(conn: sqlite3.Connection) -> set[tuple[str, str]]:
    """(table, column) pairs that hold a person's id: a foreign key to the person (directly
    or to another such column, e.g. a Lotse's languages) or a column named like one."""
    tables = [
        r[0]
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    found = {("person", "id")}
    grown = True
    while grown:
        grown = False
        for table in tables:
            for fk in conn.execute(f"PRAGMA foreign_key_list('{table}')"):
                target, source, to = fk[2], fk[3], fk[4] or "id"
                if (target, to) in found and (table, source) not in found:
                    found.add((table, source))
                    grown = True
    for table in tables:
        for column in conn.execute(f"PRAGMA table_info('{table}')"):
            name = column[1]
            if name in ("person_id", "lotse_id") or name.endswith(("_person_id", "_lotse_id")):
                found.add((table, name))
    return found


def rows_about(
    conn: sqlite3.Connection, person_id: int, telegram_id: int
) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """Every row naming the person: (table, the column that names them, the row)."""
    conn.row_factory = sqlite3.Row
    references = person_columns(conn)
    for table, column in sorted(references - {("person", "id")}):
        for row in conn.execute(f'SELECT * FROM "{table}" WHERE "{column}" = ?', (person_id,)):
            yield table, column, dict(row)
    # Telegram ids are found by value in every column of every table (chat ids, reports).
    for (table,) in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    ).fetchall():
        for info in conn.execute(f"PRAGMA table_info('{table}')").fetchall():
            column = info[1]
            if table == "person" or (table, column) in references:
                continue
            for row in conn.execute(
                f'SELECT * FROM "{table}" WHERE "{column}" = ?', (telegram_id,)
            ).fetchall():
                yield table, column, dict(row)


def leaves(value: object) -> set[str]:
    """The scalar values in ``value``; a text holding JSON counts with its contents."""
    if isinstance(value, dict):
        return set().union(*(leaves(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(leaves(v) for v in value)) if value else set()
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return leaves(json.loads(value))
        except ValueError:
            pass
    return set() if value is None else {str(value)}


def records(value: object, root: bool = True) -> Iterator[dict[str, Any]]:
    """Every object in the export below its top level."""
    if isinstance(value, dict):
        if not root:
            yield value
        for child in value.values():
            yield from records(child, False)
    elif isinstance(value, list):
        for child in value:
            yield from records(child, False)


def missing_from(
    export: dict[str, Any], conn: sqlite3.Connection, person_id: int, telegram_id: int
) -> tuple[list[str], set[tuple[str, str]]]:
    """Rows about the person that no single record of the export shows with all their
    values; and which (table, column) the person has rows in."""
    conn.row_factory = sqlite3.Row
    references = person_columns(conn)
    person = dict(conn.execute("SELECT * FROM person WHERE id = ?", (person_id,)).fetchone())
    about = [("person", "id", person), *rows_about(conn, person_id, telegram_id)]
    shown = [leaves(record) for record in records(export)]
    missing = []
    for table, column, row in about:
        skip = NOT_EXPORTED.get((table, column), set()) | {column}
        if table != "person":
            skip |= {name for name in row if (table, name) in references}
        wanted = leaves({name: value for name, value in row.items() if name not in skip})
        if not any(wanted <= record for record in shown):
            missing.append(f"{table} (by {column}): {sorted(wanted)}")
    return missing, {(table, column) for table, column, _ in about}


async def my_data(user: FakeUser, api: FakeBotAPI) -> dict[str, Any]:
    seen = len(user.bot_messages())
    await user.send("/mydata")
    document = await user.wait_for_message(lambda m: m.kind == "document", after=seen)
    exported: dict[str, Any] = json.loads(api.files[document.file_id or ""])
    return exported


@pytest.fixture
async def running(api: FakeBotAPI, city: CityConfig, tmp_path: Path) -> AsyncIterator[ConsoleBot]:
    """The bot with the office console."""
    async with console_bot(api, city, tmp_path) as desk:
        yield desk
    await assert_stored_load_is_counted(desk.bot.settings.db_path)


async def test_mydata_shows_every_row_of_every_table_that_names_the_person(
    running: ConsoleBot, api: FakeBotAPI
) -> None:
    coordinator = api.user(COORDINATOR_ID, "Koordination", language_code="de")
    await onboard(coordinator, "de")
    # The coordinator signs in to the office console, and asks for a second link.
    browser = await running.signed_in()
    assert (await browser.get("/")).status == 200
    await running.link()
    (code,) = await invite_codes(api, 1)
    lotse = await become_lotse(api, 5101, "Wiebke", ["ar", "de"], code)
    refugee = api.user(5102, "Samiha", language_code="ar")
    await onboard(refugee, "ar")
    day = (running.bot.clock.now().astimezone(running.bot.city.timezone) + timedelta(days=3)).date()
    await ask_for_lotse(refugee, "ar", name="Samiha", day=day.isoformat(), time="0900")
    # Offered, accepted, told to both sides; messages relayed both ways.
    await lotse.press(label("ar", "✅ Accept"))
    await refugee.wait_for_text("Wiebke")
    await refugee.send("Ich bringe den Brief mit")
    await lotse.wait_for_text("Ich bringe den Brief mit")
    await lotse.send("Bis Donnerstag")
    await refugee.wait_for_text("Bis Donnerstag")

    # Something is wrong, says the refugee; the office answers by replying.
    await refugee.press(data="cn:ask:1")
    await refugee.press(data="cn:r:1:absent")
    note = await coordinator.wait_for_message(lambda m: has_data(m, "ofc:case:1"))
    await coordinator.send_raw(text="Wir kümmern uns darum.", reply_to_message=note.raw)
    await refugee.wait_for_text("Wir kümmern uns darum.")
    # The Lotse records an expense, which the office approves; and asks for a confirmation.
    await lotse.press(data="ex:new:1")
    await lotse.wait_for_message(lambda m: has_data(m, "ex:stop"))
    await lotse.send("Fahrkarte")
    await lotse.wait_for_message(lambda m: "12,50" in m.text and has_data(m, "ex:stop"))
    await lotse.send("4,20")
    await lotse.press(data="ex:skip")
    await lotse.wait_for_text("Fahrkarte")
    await coordinator.send("/expenses")
    await coordinator.press(data="ofc:ok:1")
    year = running.bot.clock.now().astimezone(running.bot.city.timezone).year
    await lotse.press(data=f"cf:ask:{year}")
    await coordinator.wait_for_message(lambda m: has_data(m, "ofc:cert:1"))
    await coordinator.press(data="ofc:cert:1")
    await lotse.wait_for_message(lambda m: m.kind == "document" and str(year) in m.text)

    # A Stammtisch date: the Lotse is invited and says yes.
    date = running.bot.clock.now().astimezone(running.bot.city.timezone).date() + timedelta(days=10)
    await coordinator.send("/stammtisch")
    await coordinator.press(data="ev:new")
    await coordinator.send("Sommerfest der Lotsen")
    await coordinator.wait_for_message(lambda m: "evd:day:" in str(m.buttons))
    await coordinator.send(f"{date.day}.{date.month}.{date.year}")
    await coordinator.wait_for_message(lambda m: "evd:time:" in str(m.buttons))
    await coordinator.send("17:45")
    await coordinator.press(data="evd:place:default")
    await coordinator.press(data="evd:goto:confirm")
    await coordinator.press(data="evd:save")
    invitation = await lotse.wait_for_message(lambda m: "ev:rsvp:" in str(m.buttons))
    rsvp = next(
        str(b["callback_data"])
        for row in invitation.buttons
        for b in row
        if str(b.get("callback_data", "")).endswith(":yes")
    )
    await lotse.press(data=rsvp, message=invitation)
    await lotse.wait_for_message(lambda m: any(b.startswith("• ") for b in m.button_labels()))

    # The office reads the Lotse's card and notes her training: the audit log names her.
    await coordinator.send("/lotsen")
    listing = await coordinator.wait_for_message(lambda m: "👥" in m.text)
    wiebke = next(b for b in listing.button_labels() if b.startswith("Wiebke ·"))
    await coordinator.press(wiebke, message=listing)
    card = await coordinator.wait_for_message(
        lambda m: m.text.startswith("Wiebke") and "🎓" in m.text
    )
    await coordinator.press(label("de", "✏️ Certified"), message=card)
    await coordinator.send("12.9.2025")
    await coordinator.wait_for_message(lambda m: "2025" in m.text and "🎓" in m.text)

    # Someone else joins the training waiting list.
    waiting = api.user(5103, "Olena", language_code="uk")
    await onboard(waiting, "uk")
    await join_waitlist(waiting, "uk", typed_name="Olena Muster", phone=None, district=1)

    # A broadcast to everyone; the refugee leaves the news.
    await compose(coordinator, "Neue Sprachkurse ab Januar", "everyone")
    await coordinator.press(data="bc:send")
    await api.wait_until(lambda: final_report(coordinator))
    copy = await refugee.wait_for_message(lambda m: m in copies(refugee))
    await refugee.press(data=bv.NEWS_OFF, message=copy)
    await refugee.wait_for_message(lambda m: m.text != copy.text and not m.buttons)

    # The refugee starts joining the waiting list too, types a phone number, and stops.
    await refugee.press(data="menu:become")
    await refugee.press(data="wl:join")
    await refugee.wait_for_message(lambda m: has_data(m, "wld:discard"))
    await refugee.send("Samiha Nasser")
    await refugee.wait_for_message(lambda m: has_data(m, "wld:tg"))
    await refugee.send(PHONE)
    await refugee.wait_for_message(lambda m: has_data(m, "wld:lang_done"))
    # And the coordinator leaves a broadcast half-written.
    await coordinator.send("/broadcast")
    await coordinator.wait_for_message(lambda m: m.text.startswith("📢") and bool(m.buttons))

    await running.bot.timers.mailings.wait_idle()
    covered: set[tuple[str, str]] = set()
    for user in (coordinator, lotse, refugee, waiting):
        export = await my_data(user, api)
        with sqlite3.connect(running.bot.settings.db_path) as conn:
            (person_id,) = conn.execute(
                f"SELECT id FROM person WHERE {BY_TELEGRAM_ID}", (user.id,)
            ).fetchone()
            missing, touched = missing_from(export, conn, person_id, user.id)
        assert missing == [], (user.data["first_name"], missing)
        covered |= touched
    assert PHONE in json.dumps(await my_data(refugee, api), ensure_ascii=False)

    # The scenario reaches every table that can name a person, so a new one cannot be
    # forgotten by /mydata without this test noticing (extend the scenario for it).
    with sqlite3.connect(running.bot.settings.db_path) as conn:
        assert person_columns(conn) - covered == set()
