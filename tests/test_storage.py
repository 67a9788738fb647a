"""The database layer on real SQLite files in temporary directories."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.domain.audit import Entry
from bot.domain.people import Contact, Role
from bot.storage.audit import AuditRepository
from bot.storage.database import Database, DatabaseError
from bot.storage.inbox import InboxRepository, StampedInbox
from bot.storage.people import PeopleRepository
from tests.conftest import eventually

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def tg(user_id: int) -> Contact:
    """A Telegram user as a contact."""
    return Contact("telegram", str(user_id))


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(tmp_path / "sub" / "bot.sqlite3")
    await database.open()
    yield database
    await database.close()


async def test_open_sets_pragmas_and_applies_migrations(db: Database) -> None:
    assert (await db.fetch_one("PRAGMA journal_mode"))[0] == "wal"  # type: ignore[index]
    assert (await db.fetch_one("PRAGMA foreign_keys"))[0] == 1  # type: ignore[index]
    assert (await db.fetch_one("PRAGMA busy_timeout"))[0] == 5000  # type: ignore[index]
    assert (await db.fetch_one("PRAGMA secure_delete"))[0] == 1  # type: ignore[index]
    assert (await db.fetch_one("PRAGMA user_version"))[0] >= 1  # type: ignore[index]
    tables = {r[0] for r in await db.fetch_all("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"person", "inbox"} <= tables


async def test_reopening_applies_nothing_twice(db: Database) -> None:
    version = (await db.fetch_one("PRAGMA user_version"))[0]  # type: ignore[index]
    await db.close()
    await db.open()
    assert (await db.fetch_one("PRAGMA user_version"))[0] == version  # type: ignore[index]


async def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA user_version = 999")
    with pytest.raises(DatabaseError, match="newer than this Lotsenbot"):
        await Database(path).open()


async def test_a_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "garbage.sqlite3"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(DatabaseError):
        await Database(path).open()


async def test_transaction_rolls_back_on_error(db: Database) -> None:
    people = PeopleRepository(db)
    with pytest.raises(RuntimeError):
        async with db.transaction() as conn:
            await conn.execute(
                "INSERT INTO person (id, language, created_at) VALUES (1, 'de', 'x')"
            )
            await conn.execute(
                "INSERT INTO contact (channel, address, person_id) VALUES ('telegram', '1', 1)"
            )
            raise RuntimeError("boom")
    assert await people.get(tg(1)) is None


async def test_concurrent_writers_do_not_interleave(db: Database) -> None:
    people = PeopleRepository(db)
    await asyncio.gather(*(people.set_language(tg(i), "ar", NOW) for i in range(200)))
    rows = await db.fetch_all("SELECT count(*) FROM person")
    assert rows[0][0] == 200


async def test_a_second_process_holding_the_write_lock_makes_us_wait(db: Database) -> None:
    other = sqlite3.connect(db.path, timeout=0)
    other.execute("BEGIN IMMEDIATE")
    people = PeopleRepository(db)
    begun: list[str] = []  # statements as SQLite begins to run them (before any lock)
    await db.conn.set_trace_callback(begun.append)
    write = asyncio.create_task(people.set_language(tg(7), "fa", NOW))
    # A new person and their contact are written in one transaction: its BEGIN waits.
    await eventually(lambda: any(sql.startswith("BEGIN IMMEDIATE") for sql in begun))
    assert not write.done()  # it runs, and waits for the lock
    other.commit()
    other.close()
    person = await asyncio.wait_for(write, 5)
    assert person.language == "fa"


async def test_people_language_consent_and_roles(db: Database) -> None:
    people = PeopleRepository(db)
    person = await people.set_language(tg(42), "uk", NOW)
    assert (person.language, person.role, person.consent_at) == ("uk", Role.MEMBER, None)
    person = await people.set_language(tg(42), "ru", NOW + timedelta(hours=1))
    assert person.language == "ru" and person.created_at == NOW
    person = await people.record_consent(tg(42), "1", NOW)
    assert person.consent_at == NOW and person.consent_version == "1"
    assert person.has_consented
    await people.withdraw_consent(person.id, NOW + timedelta(hours=2))
    withdrawn = await people.get(tg(42))
    assert withdrawn is not None and withdrawn.consent_at is None
    assert withdrawn.withdrawn_at == NOW + timedelta(hours=2) and not withdrawn.has_consented
    # Agreeing to an older notice is not agreeing to today's.
    assert not (await people.record_consent(tg(42), "0", NOW)).has_consented
    await people.set_role(tg(43), Role.COORDINATOR, "de", NOW)
    await people.set_role(tg(42), Role.COORDINATOR, "de", NOW)
    assert await people.contacts_with_role(Role.COORDINATOR) == [tg(42), tg(43)]
    assert (await people.get(tg(42))).language == "ru"  # type: ignore[union-attr]


async def test_inbox_dedupes_counts_attempts_and_prunes(db: Database) -> None:
    inbox = InboxRepository(db)
    assert await inbox.store([(1, '{"update_id": 1}'), (2, '{"update_id": 2}')], NOW) == [1, 2]
    assert await inbox.store([(2, '{"update_id": 2}'), (3, '{"update_id": 3}')], NOW) == [3]
    await inbox.mark_done([1], NOW)
    assert await inbox.last_update_id() == 3

    # Waiting in the inbox through any number of restarts costs no attempt ...
    for _ in range(4):
        payloads, given_up = await inbox.take_leftovers(max_attempts=2, now=NOW)
        assert payloads == [('{"update_id": 2}', 0), ('{"update_id": 3}', 0)] and given_up == 0
    # ... handling that began and never finished does: twice, and it is given up.
    await inbox.begin([2])
    payloads, given_up = await inbox.take_leftovers(max_attempts=2, now=NOW)
    assert payloads == [('{"update_id": 2}', 1), ('{"update_id": 3}', 0)] and given_up == 0
    await inbox.begin([2])
    await inbox.begin([3])
    payloads, given_up = await inbox.take_leftovers(max_attempts=2, now=NOW)
    assert payloads == [('{"update_id": 3}', 1)] and given_up == 1
    await inbox.begin([3])
    payloads, given_up = await inbox.take_leftovers(max_attempts=2, now=NOW)
    assert payloads == [] and given_up == 1
    # An update whose handling starts at once is counted as it is stored.
    assert await inbox.store([(4, '{"update_id": 4}'), (5, '{"update_id": 5}')], NOW, {5}) == [
        4,
        5,
    ]
    await inbox.begin([5])
    payloads, given_up = await inbox.take_leftovers(max_attempts=2, now=NOW)
    assert payloads == [('{"update_id": 4}', 0)] and given_up == 1
    await inbox.mark_done([4], NOW)

    done = await db.fetch_all("SELECT update_id FROM inbox WHERE payload IS NULL")
    assert [r[0] for r in done] == [1, 2, 3, 4, 5]
    assert await inbox.prune(NOW + timedelta(days=2)) == 5
    assert await inbox.last_update_id() is None


async def test_stamped_inbox_stores_a_batch_at_once_and_each_event_once(db: Database) -> None:
    inbox = StampedInbox(db, "signal")
    first = await inbox.store([("a", 1, '{"n": 1}'), ("b", 1, '{"n": 2}'), ("a", 2, "{}")], NOW)
    assert None not in first and len(set(first)) == 3
    # Delivered again, alone or in the same batch: stored once, only the new one gets an id.
    again = await inbox.store([("b", 1, "{}"), ("a", 3, '{"n": 4}'), ("a", 3, "{}")], NOW)
    assert again[0] is None and again[1] is not None and again[2] is None
    assert await StampedInbox(db, "other").store([("a", 1, "{}")], NOW) != [None]
    assert await inbox.store([], NOW) == []
    left, given_up = await inbox.take_leftovers(max_attempts=2, now=NOW)
    assert [payload for _, payload, _ in left] == ['{"n": 1}', '{"n": 2}', "{}", '{"n": 4}']
    assert [event_id for event_id, _, _ in left] == [*first, again[1]] and given_up == 0
    assert {tries for _, _, tries in left} == {0}


async def test_a_database_with_lotsen_passes_the_integrity_check_on_reopening(
    db: Database,
) -> None:
    from bot.domain.lotsen import LotseStatus
    from bot.storage.lotsen import LotsenRepository

    people, lotsen = PeopleRepository(db), LotsenRepository(db)
    person = await people.set_language(tg(77), "fa", NOW)
    await people.record_consent(tg(77), "1", NOW)
    await lotsen.create(person.id, "Bashir", LotseStatus.ACTIVE, "fa", NOW)
    await lotsen.toggle_language(person.id, "de")
    await db.close()
    await db.open()  # runs PRAGMA quick_check
    found = await lotsen.best(["de"], None, None, since=NOW, now=NOW, hour=12, limit=None)
    assert [lotse.first_name for lotse in found] == ["Bashir"]


async def test_upgrading_dates_each_case_from_its_last_activity(tmp_path: Path) -> None:
    from bot.storage.database import _migrations, _statements

    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as conn:  # the schema before retention knew of activity
        for version, (name, sql) in enumerate(_migrations(), start=1):
            if name.startswith("0006"):
                break
            for statement in _statements(sql):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {version}")
        conn.execute(
            "INSERT INTO person (id, telegram_id, language, created_at) "
            "VALUES (1, 11, 'de', '2025-01-01T00:00:00+00:00')"
        )
        conn.execute(
            "INSERT INTO request (id, person_id, status, created_at, confirmed_at, accepted_at) "
            "VALUES (1, 1, 'accepted', '2025-01-02T00:00:00+00:00', "
            "'2025-01-02T00:01:00+00:00', '2025-01-03T00:00:00+00:00'), "
            "(2, 1, 'draft', '2025-01-05T00:00:00+00:00', NULL, NULL)"
        )
        conn.execute(
            "INSERT INTO relay (request_id, receiver_chat, message_id, created_at) "
            "VALUES (1, 11, 5, '2025-03-04T00:00:00+00:00')"
        )
    db = Database(path)
    await db.open()
    try:
        rows = await db.fetch_all("SELECT id, active_at, idle_warned_at FROM request ORDER BY id")
        assert [tuple(r) for r in rows] == [
            (1, "2025-03-04T00:00:00+00:00", None),  # the last relayed message
            (2, "2025-01-05T00:00:00+00:00", None),
        ]
        seen = await db.fetch_one("SELECT seen_at FROM person")
        assert seen is not None and seen[0] == "2025-01-01T00:00:00+00:00"
    finally:
        await db.close()


async def test_audit_search_filters_by_time_coordinator_and_action(db: Database) -> None:
    people = PeopleRepository(db)
    anna = (await people.set_language(tg(1), "de", NOW)).id
    ben = (await people.set_language(tg(2), "de", NOW)).id
    audit = AuditRepository(db)
    for minutes, actor, action in [
        (0, anna, "lotse.suspend"),
        (1, ben, "lotse.reinstate"),
        (2, anna, "broadcast"),
        (3, None, "coordinator.remove"),
        (4, anna, "lotsenliste"),  # a family's name as a prefix of another word is no match
    ]:
        await audit.add(NOW + timedelta(minutes=minutes), "bot", actor, action, None, None)

    def actions(entries: list[Entry]) -> list[str]:
        return [e.action for e in entries]

    assert actions(await audit.search()) == [
        "lotsenliste",
        "coordinator.remove",
        "broadcast",
        "lotse.reinstate",
        "lotse.suspend",
    ]
    assert actions(await audit.search(action="lotse")) == ["lotse.reinstate", "lotse.suspend"]
    assert actions(await audit.search(action="lotse.suspend")) == ["lotse.suspend"]
    assert actions(await audit.search(actor_id=anna)) == [
        "lotsenliste",
        "broadcast",
        "lotse.suspend",
    ]
    assert actions(await audit.search(NOW + timedelta(minutes=1), anna, "lotse")) == []
    assert actions(await audit.search(NOW + timedelta(minutes=1), limit=2)) == [
        "lotsenliste",
        "coordinator.remove",
    ]
    assert await audit.actors() == sorted([(anna, None), (ben, None)])
    assert "coordinator.remove" in await audit.actions()
