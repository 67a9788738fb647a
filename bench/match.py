"""Matching as the database grows: p99 time to pick the Lotsen for a new request.

The database is filled directly (like a programme that ran for a year): every Lotse speaks
German and one more language; most choose some Stadtteile and topics, some are paused or
have quiet hours; past requests are spread over the last year, each offered to three Lotsen,
most done, some expired or cancelled, and up to a third of the Lotsen have an open case.
What is timed is ``RequestService.pick``, the code the bot runs when a request is sent.
"""

from __future__ import annotations

import random
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.harness import CITY_FILE, create_schema, percentile
from bot.clock import SystemClock, to_db
from bot.config import load_city
from bot.domain.requests import Request, Status, Step
from bot.i18n import LANGUAGES
from bot.services.lotsen import LotsenService
from bot.services.requests import RequestService
from bot.storage.database import Database
from bot.storage.lotsen import LotsenRepository
from bot.storage.requests import RequestsRepository
from bot.storage.timers import TimersRepository

OTHER = [code for code in LANGUAGES if code != "de"]
TOPICS = ["auslaenderbehoerde", "jobcenter", "health", "school", "housing", "work", "letter"]


def fill(db_path: Path, lotsen: int, requests: int, districts: list[str], seed: int = 6) -> None:
    """``lotsen`` Lotsen and ``requests`` past requests with their offers."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    stamp = to_db(now)
    conn = sqlite3.connect(db_path)
    try:
        with conn:
            conn.executemany(
                "INSERT INTO person (id, role, language, consent_at, consent_version, "
                "created_at) VALUES (?, 'lotse', 'de', ?, '1', ?)",
                [(i, stamp, stamp) for i in range(1, lotsen + 1)],
            )
            conn.executemany(
                "INSERT INTO contact (channel, address, person_id) VALUES ('telegram', ?, ?)",
                [(str(300_000 + i), i) for i in range(1, lotsen + 1)],
            )
            rows = []
            for i in range(1, lotsen + 1):
                chosen = rng.sample(districts, rng.randint(1, 3)) if rng.random() < 0.6 else []
                topics = rng.sample(TOPICS, rng.randint(2, 4)) if rng.random() < 0.5 else []
                paused = to_db(now + timedelta(days=7)) if rng.random() < 0.05 else None
                quiet = (22, 7) if rng.random() < 0.1 else (None, None)
                rows.append(
                    (
                        i,
                        f"L{i}",
                        "\n".join(sorted(chosen)),
                        "\n".join(sorted(topics)),
                        rng.randint(1, 5),
                        paused,
                        *quiet,
                        stamp,
                    )
                )
            conn.executemany(
                "INSERT INTO lotse (person_id, first_name, districts, topics, max_open, "
                "paused_until, quiet_from, quiet_to, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            conn.executemany(
                "INSERT INTO lotse_language (language, person_id) VALUES (?, ?)",
                [(code, i) for i in range(1, lotsen + 1) for code in ("de", rng.choice(OTHER))],
            )
            open_cases = 0
            offers: list[tuple[int, int, int, str]] = []
            requests_rows = []
            for r in range(1, requests + 1):
                created = now - timedelta(seconds=rng.uniform(0, 365 * 86_400))
                offered = rng.sample(range(1, lotsen + 1), 3)
                roll = rng.random()
                if roll < 0.1:
                    status, lotse = "expired", None
                elif roll < 0.2:
                    status, lotse = "cancelled", None
                elif open_cases < lotsen // 3 and created > now - timedelta(days=30):
                    status, lotse = "accepted", offered[0]
                    open_cases += 1
                else:
                    status, lotse = "done", offered[0]
                requests_rows.append(
                    (
                        r,
                        status,
                        rng.choice(TOPICS),
                        f"{rng.choice(OTHER)} de",
                        rng.choice(districts),
                        lotse,
                        to_db(created),
                        to_db(created),
                    )
                )
                offers.extend((r, o, 1, to_db(created)) for o in offered)
            conn.executemany(
                "INSERT INTO request (id, status, topic, languages, district, lotse_id, "
                "created_at, confirmed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                requests_rows,
            )
            conn.executemany(
                "INSERT INTO offer (request_id, lotse_id, round, created_at) VALUES (?, ?, ?, ?)",
                offers,
            )
        conn.execute("ANALYZE")
    finally:
        conn.close()


async def pick_p99(folder: Path, lotsen: int, requests: int, picks: int) -> float:
    """Seconds: p99 of ``picks`` calls of ``RequestService.pick`` for new requests."""
    city = load_city(CITY_FILE)
    db_path = folder / f"match-{lotsen}.sqlite3"
    await create_schema(db_path)
    fill(db_path, lotsen, requests, list(city.districts))
    db = Database(db_path)
    await db.open()
    clock = SystemClock()
    service = RequestService(
        RequestsRepository(db),
        TimersRepository(db),
        LotsenService(LotsenRepository(db), city, clock),
        None,  # type: ignore[arg-type]  # picking notifies nobody
        city,
        clock,
    )
    rng = random.Random(7)
    timings = []
    try:
        for index in range(picks + 10):
            languages = (rng.choice(OTHER),) if rng.random() < 0.7 else (rng.choice(OTHER), "de")
            request = Request(
                id=0, person_id=None, status=Status.OPEN, step=Step.CONFIRM,
                topic=rng.choice(TOPICS), description="x",
                languages=languages, district=rng.choice(city.districts), day=None, time=None,
                place=None, first_name="Amal", round=0, lotse_id=None,
                created_at=clock.now(), confirmed_at=clock.now(), accepted_at=None,
            )  # fmt: skip
            started = time.perf_counter()
            chosen, _ = await service.pick(request, 1)
            took = time.perf_counter() - started
            assert chosen, "nobody picked"
            if index >= 10:  # the first few warm the caches
                timings.append(took)
    finally:
        await db.close()
    return percentile(timings, 0.99)
