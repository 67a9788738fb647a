"""The office console's queries on a real SQLite file: the table of requests and its
filters, a request's timeline, reopening, the office's threads, a Lotse's cases and
expenses."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from bot.clock import to_db
from bot.domain.requests import RequestFilter, Status
from bot.storage.database import Database
from bot.storage.office import OfficeRepository
from bot.storage.requests import RequestsRepository

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(tmp_path / "bot.sqlite3")
    await database.open()
    yield database
    await database.close()


async def person(db: Database, language: str = "de") -> int:
    rows = await db.write_returning(
        "INSERT INTO person (role, language, consent_at, consent_version, created_at) "
        "VALUES ('member', ?, ?, '1', ?) RETURNING id",
        (language, to_db(NOW), to_db(NOW)),
    )
    return int(rows[0][0])


async def lotse(db: Database, name: str) -> int:
    person_id = await person(db)
    await db.write(
        "INSERT INTO lotse (person_id, first_name, created_at) VALUES (?, ?, ?)",
        (person_id, name, to_db(NOW)),
    )
    return person_id


async def request(
    db: Database,
    owner: int,
    *,
    status: str = "open",
    topic: str = "jobcenter",
    languages: str = "ar de",
    district: str | None = "Hervest",
    sent: datetime = NOW,
    lotse_id: int | None = None,
) -> int:
    rows = await db.write_returning(
        "INSERT INTO request (person_id, status, topic, languages, district, created_at, "
        "confirmed_at, lotse_id, accepted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (
            owner,
            status,
            topic,
            languages,
            district,
            to_db(sent),
            None if status == "draft" else to_db(sent),
            lotse_id,
            to_db(sent) if lotse_id else None,
        ),
    )
    return int(rows[0][0])


async def test_the_filters_narrow_the_table_and_drafts_never_show(db: Database) -> None:
    repo = RequestsRepository(db)
    owner = await person(db, "ar")
    other = await person(db, "uk")
    ada = await lotse(db, "Ada")
    october = datetime(2026, 10, 15, 9, tzinfo=UTC)
    first = await request(db, owner, sent=october)
    second = await request(db, other, topic="housing", languages="uk", district=None)
    third = await request(db, owner, status="accepted", lotse_id=ada, languages="de")
    await request(db, other, status="draft")

    def ids(page: list[tuple[object, str | None]]) -> list[int]:
        return [r.id for r, _ in page]  # type: ignore[attr-defined]

    everything, total = await repo.search(RequestFilter(), None, 50, 0)
    assert ids(everything) == [third, second, first] and total == 3
    assert dict((r.id, name) for r, name in everything)[third] == "Ada"

    by_language, _ = await repo.search(RequestFilter(language="ar"), None, 50, 0)
    assert ids(by_language) == [first]  # "ar" is not found inside another code
    by_topic, _ = await repo.search(RequestFilter(topic="housing"), None, 50, 0)
    assert ids(by_topic) == [second]
    by_state, _ = await repo.search(RequestFilter(status=Status.ACCEPTED), None, 50, 0)
    assert ids(by_state) == [third]
    by_district, _ = await repo.search(RequestFilter(district="Hervest"), None, 50, 0)
    assert ids(by_district) == [third, first]
    span = (datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC))
    by_month, counted = await repo.search(RequestFilter(month=date(2026, 10, 1)), span, 50, 0)
    assert ids(by_month) == [first] and counted == 1

    page, total = await repo.search(RequestFilter(), None, 2, 2)
    assert ids(page) == [first] and total == 3


async def test_the_timeline_shows_offers_acceptance_news_and_the_offices_actions(
    db: Database,
) -> None:
    repo = RequestsRepository(db)
    owner = await person(db)
    ada, bo = await lotse(db, "Ada"), await lotse(db, "Bo")
    number = await request(db, owner)
    await repo.add_offers(number, [ada, bo], 1, NOW + timedelta(minutes=1))
    await repo.decline(number, bo)
    assert await repo.accept(number, ada, NOW + timedelta(minutes=5))
    await repo.claim_notice(number, "accepted", ada, "person", NOW + timedelta(minutes=6))
    await repo.settle_notice(number, "accepted", ada, "person", True)
    await db.write(
        "INSERT INTO audit (at, via, actor_id, action, subject_id, request_id) "
        "VALUES (?, 'bot', NULL, 'request.assign', NULL, ?)",
        (to_db(NOW + timedelta(minutes=7)), number),
    )
    await repo.move(number, [Status.ACCEPTED], Status.DONE, NOW + timedelta(days=1), hours=2.5)

    moments = await repo.history(number)
    assert [m.what for m in moments] == [
        "created",
        "sent",
        "offered",
        "offered",
        "accepted",
        "notice",
        "audit",
        "closed",
    ]
    offered = {m.name: m.state for m in moments if m.what == "offered"}
    assert offered == {"Ada": "accepted", "Bo": "declined"}
    accepted = next(m for m in moments if m.what == "accepted")
    assert accepted.name == "Ada"
    notice = next(m for m in moments if m.what == "notice")
    assert (notice.detail, notice.side, notice.state) == ("accepted", "person", "sent")
    assert moments[-1].state == "done"
    closed = await repo.get(number)
    assert closed is not None and closed.hours == 2.5 and closed.closed_at is not None
    assert [case.id for case in await repo.of_lotse(ada)] == [number]


async def test_reopening_an_expired_request_makes_it_wait_again(db: Database) -> None:
    repo = RequestsRepository(db)
    owner = await person(db)
    ada, bo = await lotse(db, "Ada"), await lotse(db, "Bo")
    number = await request(db, owner)
    await repo.add_offers(number, [ada, bo], 1, NOW)
    await repo.decline(number, bo)
    assert await repo.move(number, [Status.OFFERED], Status.EXPIRED, NOW)
    await repo.close_offers(number)
    assert not await repo.reopen_ended(number + 1, NOW, undated=False)

    assert await repo.reopen_ended(number, NOW, undated=True)
    fresh = await repo.get(number)
    assert fresh is not None and fresh.status is Status.OPEN and fresh.round == 0
    assert fresh.closed_at is None and fresh.day is None
    # Ada may be asked again; Bo, who declined, is not.
    assert await repo.add_offers(number, [ada, bo], 1, NOW) == [ada]
    assert not await repo.reopen_ended(number, NOW, undated=False)  # it waits already


async def test_threads_are_listed_open_or_answered_with_their_messages(db: Database) -> None:
    repo = OfficeRepository(db)
    coordinator = await person(db)
    asking, answered = await person(db, "ar"), await person(db, "uk")
    first = await repo.open_thread(asking, "message", "ar", "Wo ist das Amt?", NOW)
    second = await repo.open_thread(answered, "message", "uk", "Danke", NOW + timedelta(hours=1))
    await repo.add_message(second.id, "out", "Gern", coordinator, NOW + timedelta(hours=2))

    waiting, count = await repo.threads(None, False, 20, 0)
    assert [i.thread.id for i in waiting] == [first.id] and count == 1
    assert waiting[0].latest == "Wo ist das Amt?" and not waiting[0].answered
    done, _ = await repo.threads("message", True, 20, 0)
    assert [i.thread.id for i in done] == [second.id] and done[0].messages == 2
    both, count = await repo.threads(None, None, 20, 0)
    assert [i.thread.id for i in both] == [second.id, first.id] and count == 2
    assert await repo.threads("concern", None, 20, 0) == ([], 0)
    said = await repo.messages(second.id)
    assert [(m.direction, m.text, m.author_id) for m in said] == [
        ("in", "Danke", None),
        ("out", "Gern", coordinator),
    ]


async def test_a_lotses_expenses_newest_first(db: Database) -> None:
    repo = OfficeRepository(db)
    ada, bo = await lotse(db, "Ada"), await lotse(db, "Bo")
    older = await repo.add_expense(ada, None, "Bus", 280, None, NOW)
    newer = await repo.add_expense(ada, None, "Kopien", 150, None, NOW + timedelta(hours=1))
    await repo.add_expense(bo, None, "Bus", 280, None, NOW)
    assert [e.id for e in await repo.expenses_of(ada)] == [newer, older]
