"""Choosing Lotsen in SQL (reading only the least loaded) agrees with the ranking rule in
Python (tests/oracle.py)."""

from __future__ import annotations

import asyncio
import random
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import aiosqlite
import pytest

from bot.clock import to_db
from bot.domain.lotsen import LotseStatus
from bot.domain.requests import Request, Status, Step
from bot.storage.database import Database, Params
from bot.storage.lotsen import LotsenRepository
from bot.storage.requests import RequestsRepository
from tests.oracle import rank

BERLIN = ZoneInfo("Europe/Berlin")
LANGUAGES = ["de", "ar", "uk", "fa", "ru"]
DISTRICTS = ["Altstadt", "Hervest", "Wulfen (mit Barkenberg)", "Östrich"]
TOPICS = ["jobcenter", "health", "school", "letter"]


def fill(path: Path, rng: random.Random, now: datetime, lotsen: int = 120) -> None:
    stamp = to_db(now)
    conn = sqlite3.connect(path)
    with conn:
        for i in range(1, lotsen + 1):
            unreachable = stamp if rng.random() < 0.05 else None
            # Most agreed to today's notice; some withdrew, some agreed to an older one.
            version = rng.choice(["1"] * 18 + [None, "0"])
            conn.execute(
                "INSERT INTO person (id, role, language, created_at, unreachable_at, "
                "consent_at, consent_version) VALUES (?, 'lotse', 'de', ?, ?, ?, ?)",
                (i, stamp, unreachable, version and stamp, version),
            )
            conn.execute(
                "INSERT INTO contact (channel, address, person_id) VALUES ('telegram', ?, ?)",
                (str(1000 + i), i),
            )
            quiet = rng.choice([(None, None), (22, 7), (9, 17), (5, 5), (0, 23), (None, 8)])
            paused = rng.choice([None, None, now - timedelta(days=1), now + timedelta(days=1)])
            conn.execute(
                "INSERT INTO lotse (person_id, first_name, status, districts, topics, max_open, "
                "paused_until, quiet_from, quiet_to, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, "
                "?, ?)",
                (
                    i,
                    f"L{i}",
                    rng.choice(["active"] * 8 + ["pending", "rejected"]),
                    "\n".join(rng.sample(DISTRICTS, rng.randint(0, 2))),
                    "\n".join(rng.sample(TOPICS, rng.randint(0, 2))),
                    rng.randint(1, 3),
                    to_db(paused) if paused else None,
                    *quiet,
                    stamp,
                ),
            )
            for code in rng.sample(LANGUAGES, rng.randint(1, 3)):
                conn.execute(
                    "INSERT INTO lotse_language (language, person_id) VALUES (?, ?)", (code, i)
                )
        for r in range(1, lotsen * 3):
            lotse = rng.randint(1, lotsen)
            created = now - timedelta(days=rng.uniform(0, 60))
            status = rng.choice(["accepted", "done", "expired"])
            conn.execute(
                "INSERT INTO request (id, status, lotse_id, created_at) VALUES (?, ?, ?, ?)",
                (r, status, lotse if status != "expired" else None, to_db(created)),
            )
            conn.execute(
                "INSERT INTO offer (request_id, lotse_id, round, created_at) VALUES (?, ?, 1, ?)",
                (r, lotse, to_db(created)),
            )
    conn.close()


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(tmp_path / "bot.sqlite3")
    await database.open()
    yield database
    await database.close()


@pytest.mark.parametrize(("seed", "lotsen"), [(1, 120), (2, 120), (3, 120), (4, 1500)])
async def test_best_lotsen_in_sql_are_the_first_of_the_ranking(
    db: Database, seed: int, lotsen: int
) -> None:
    rng = random.Random(seed)
    now = datetime(2026, 11, 24, 6, 30, tzinfo=UTC) + timedelta(hours=seed * 5)
    fill(db.path, rng, now, lotsen)
    repo = LotsenRepository(db)
    without_consent = {
        row[0]
        for row in await db.fetch_all("SELECT id FROM person WHERE consent_version IS NOT '1'")
    }
    assert without_consent
    since = now - timedelta(days=30)
    hour = now.astimezone(BERLIN).hour
    for _ in range(60):
        request = Request(
            id=0, person_id=None, status=Status.OPEN, step=Step.CONFIRM,
            topic=rng.choice([*TOPICS, None]), description=None,
            languages=tuple(rng.sample(LANGUAGES, rng.randint(1, 2))),
            district=rng.choice([*DISTRICTS, None]), day=None, time=None, place=None,
            first_name=None, round=0, lotse_id=None, created_at=now, confirmed_at=now,
            accepted_at=None,
        )  # fmt: skip
        limit = rng.randint(1, 5)
        candidates = await repo.active(since)
        everyone = rank(candidates, request, now, BERLIN)
        assert not {lotse.person_id for lotse in candidates} & without_consent
        found = [
            await repo.best(
                request.languages,
                request.district,
                request.topic,
                since=since,
                now=now,
                hour=hour,
                limit=chosen,
            )
            for chosen in (limit, None)
        ]
        assert [lotse.person_id for lotse in found[0]] == [
            lotse.person_id for lotse in everyone[:limit]
        ], request
        assert found[1] == everyone, request  # everyone who can help: the second round


class _OtherChatBetweenWindows(Database):
    """The real database; after the first window of a choice, another chat gets its turn."""

    other_chat: Callable[[], Awaitable[object]] | None = None

    async def fetch_all(self, sql: str, params: Params = ()) -> list[aiosqlite.Row]:
        rows = await super().fetch_all(sql, params)
        if "INDEXED BY lotse_language_by_load" in sql and self.other_chat is not None:
            other, self.other_chat = self.other_chat, None
            task = asyncio.create_task(other())
            await asyncio.wait({task}, timeout=0.2)  # done at once unless it has to wait
        return rows


async def test_a_load_that_changes_while_choosing_does_not_hide_the_best(tmp_path: Path) -> None:
    """Forty Lotsen outside the Stadtteil fill the first window; the only Lotse in it (one
    more open case) closes that case while the choice is being made, from another chat, and
    so moves to before where the reading of the first window stopped."""
    db = _OtherChatBetweenWindows(tmp_path / "bot.sqlite3")
    await db.open()
    lotsen, requests = LotsenRepository(db), RequestsRepository(db)
    now = datetime(2026, 1, 1, 12, tzinfo=UTC)
    for person in range(1, 43):
        await db.write(
            "INSERT INTO person (id, language, created_at, consent_at, consent_version) "
            "VALUES (?, 'de', ?, ?, '1')",
            (person, to_db(now), to_db(now)),
        )
        await db.write(
            "INSERT INTO contact (channel, address, person_id) VALUES ('telegram', ?, ?)",
            (str(100 + person), person),
        )
    for person in range(1, 42):
        await lotsen.create(person, f"L{person}", LotseStatus.ACTIVE, "de", now)
        await lotsen.update(person, districts=frozenset({"Altstadt" if person == 1 else "Hervest"}))
    # Everyone has had one offer; the first Lotse's led to a case.
    case = await requests.start_draft(42, ("de",), now)
    await requests.move(case.id, [Status.DRAFT], Status.OPEN, now)
    await requests.add_offers(case.id, [1], 1, now)
    assert await requests.accept(case.id, 1, now, [])
    other = await requests.start_draft(42, ("de",), now)
    await requests.move(other.id, [Status.DRAFT], Status.OPEN, now)
    await requests.add_offers(other.id, range(2, 42), 1, now)
    closed = asyncio.Event()

    async def close_case() -> None:
        await requests.move(case.id, [Status.ACCEPTED], Status.DONE, now)
        closed.set()

    since = now - timedelta(days=30)
    db.other_chat = close_case
    try:
        chosen = await lotsen.best(["de"], "Altstadt", None, since=since, now=now, hour=12, limit=1)
        await asyncio.wait_for(closed.wait(), 5)
        assert [lotse.person_id for lotse in chosen] == [1]
        assert (await lotsen.get(1, since)).open_cases == 0  # type: ignore[union-attr]
    finally:
        await db.close()
