"""What every benchmark needs: the fake server with a reply hook, bots as child processes,
seeded databases and scripted users that tap through the refugee intake.

The bench process runs the fake Bot API and the scripted users; the bot under test runs in
a child process of its own (``lotsenbot run`` for ours, ``python -m bench.baselines`` for
the baselines), so each side has its own interpreter and its own core, and the bot's
resident memory can be read from ``/proc``.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.clock import to_db
from bot.storage.database import Database
from channels.signal.fakedaemon import FakeSignalDaemon
from channels.telegram.fakeapi import FakeBotAPI
from tests.scenario import BY_TELEGRAM_ID

ROOT = Path(__file__).resolve().parent.parent
CITY_FILE = ROOT / "data" / "dorsten.toml"
COORDINATOR_ID = 9000
LANGUAGES = ("de", "ar", "uk", "fa")
LOTSEN_PER_LANGUAGE = 30

JSON = dict[str, Any]
Predicate = Callable[[list[str]], bool]


# --------------------------------------------------------------------------- the server


class BenchAPI(FakeBotAPI):
    """The fake Bot API, telling the bench about every message the bot puts into a chat."""

    def __init__(self, round_trip: float = 0.0) -> None:
        super().__init__()
        #: Called with (chat id, callback data of the message's buttons, perf_counter time).
        self.on_reply: Callable[[int, list[str], float], None] | None = None
        self.replies = 0
        #: Seconds every call takes longer, getUpdates included, like the way to Telegram
        #: and back: half before the server handles it, half before its answer leaves.
        self.round_trip = round_trip

    async def _handle(self, request: web.Request) -> web.Response:
        # So an update reaches the bot half a round trip after the server has it (getUpdates'
        # answer), and a message reaches the server half a round trip after the bot sent it:
        # from a tap to the next message at the server takes one round trip at the least.
        half = self.round_trip / 2
        if half:
            await asyncio.sleep(half)
        response = await super()._handle(request)
        if half:
            await asyncio.sleep(half)
        return response

    def _reply(self, raw: JSON) -> JSON:
        self.replies += 1
        if self.on_reply is not None:
            markup = raw.get("reply_markup") or {}
            data = [
                str(b.get("callback_data"))
                for row in markup.get("inline_keyboard", [])
                for b in row
                if b.get("callback_data")
            ]
            self.on_reply(int(raw["chat"]["id"]), data, time.perf_counter())
        return raw

    async def _api_sendmessage(self, params: JSON) -> JSON:
        return self._reply(await super()._api_sendmessage(params))

    async def _api_sendphoto(self, params: JSON) -> JSON:
        return self._reply(await super()._api_sendphoto(params))

    async def _api_senddocument(self, params: JSON) -> JSON:
        return self._reply(await super()._api_senddocument(params))

    async def _api_editmessagetext(self, params: JSON) -> JSON:
        return self._reply(await super()._api_editmessagetext(params))

    async def _api_editmessagereplymarkup(self, params: JSON) -> JSON:
        return self._reply(await super()._api_editmessagereplymarkup(params))


# --------------------------------------------------------------------------- the bots


def city_file(folder: Path, **settings: str) -> Path:
    """A copy of Dorsten's city file with some ``key = value`` lines changed."""
    lines = CITY_FILE.read_text(encoding="utf-8").splitlines()
    for key, value in settings.items():
        index = next(i for i, line in enumerate(lines) if line.split("=")[0].strip() == key)
        lines[index] = f"{key} = {value}"
    path = folder / "city.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


BOTS = ("lotsenbot", "peer", "echo")


class BotProcess:
    """One bot under test in a child process, talking to ``api`` over loopback HTTP."""

    def __init__(
        self,
        kind: str,
        api: FakeBotAPI,
        folder: Path,
        config: Path | None = None,
        signal: FakeSignalDaemon | None = None,
    ):
        self.kind = kind
        self.api = api
        self.signal = signal  # Lotsenbot on Signal too, through this daemon
        self.folder = folder
        self.db_path = folder / "lotsenbot.sqlite3"
        self.config = config or city_file(folder, telegram_ids=f"[{COORDINATOR_ID}]")
        self.proc: asyncio.subprocess.Process | None = None

    def command(self) -> list[str]:
        if self.kind == "lotsenbot":
            command = ["-m", "bot.cli", "run"]
        else:
            command = ["-m", "bench.baselines", self.kind]
        profile = os.environ.get("BENCH_PROFILE")
        if profile:  # BENCH_PROFILE=/tmp/prof: a pyinstrument session per bot process
            report = f"{profile}-{self.kind}-{self.folder.name}.pyisession"
            return [sys.executable, "-m", "pyinstrument", "-r", "session", "-o", report, *command]
        return [sys.executable, *command]

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "LOTSENBOT_"))}
        env.update(
            TELEGRAM_BOT_TOKEN=self.api.token,
            TELEGRAM_API_URL=self.api.url,
            LOTSENBOT_DB=str(self.db_path),
            LOTSENBOT_CONFIG=str(self.config),
            BENCH_STATE=str(self.folder / "peer.pickle"),
            PYTHONPATH=str(ROOT),
        )
        if self.signal is not None:
            env.update(
                LOTSENBOT_SIGNAL_URL=self.signal.url, LOTSENBOT_SIGNAL_ACCOUNT=self.signal.account
            )
        return env

    async def start(self) -> None:
        """Start the process and wait until it long-polls for updates (and listens to
        signal-cli's events)."""
        polls = len(self.api.calls_of("getUpdates"))
        streams = self.signal.connects if self.signal is not None else 0
        with (self.folder / f"{self.kind}.log").open("ab") as log:
            self.proc = await asyncio.create_subprocess_exec(
                *self.command(), env=self.env(), stdout=log, stderr=log, cwd=ROOT
            )
        proc = self.proc
        await self.api.wait_until(
            lambda: len(self.api.calls_of("getUpdates")) > polls or proc.returncode is not None,
            timeout=60,
        )
        if self.signal is not None:
            daemon = self.signal
            await daemon.wait_until(
                lambda: daemon.connects > streams or proc.returncode is not None, timeout=60
            )
        if proc.returncode is not None:
            raise RuntimeError(f"{self.kind} exited at start:\n{self.log()}")

    def cpu_seconds(self) -> float:
        """User and system CPU time the process used so far."""
        assert self.proc is not None
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_kib(self) -> int:
        """Resident memory of the process now, in KiB."""
        assert self.proc is not None
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError("no VmRSS")

    async def stop(self) -> None:
        """SIGTERM, as an operator would stop it; SIGKILL if it hangs."""
        if self.proc is None or self.proc.returncode is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.proc.wait(), 30)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()

    def log(self) -> str:
        path = self.folder / f"{self.kind}.log"
        return path.read_text(errors="replace") if path.exists() else ""


# --------------------------------------------------------------------------- seeding


async def create_schema(db_path: Path) -> None:
    """A database with every migration applied, as the bot would create it."""
    db = Database(db_path)
    await db.open()
    await db.close()


def seed_people(
    db_path: Path,
    telegram_ids: Iterable[int],
    *,
    languages: Sequence[str] = LANGUAGES,
    lotse: bool = False,
) -> None:
    """Many people who agreed (optionally active Lotsen), inserted in one transaction."""
    now = to_db(datetime.now(UTC))
    conn = sqlite3.connect(db_path)
    try:
        with conn:
            for index, telegram_id in enumerate(telegram_ids):
                language = languages[index % len(languages)]
                cursor = conn.execute(
                    "INSERT INTO person (role, language, consent_at, consent_version, "
                    "created_at) VALUES (?, ?, ?, ?, ?)",
                    ("lotse" if lotse else "member", language, now, "1", now),
                )
                person_id = cursor.lastrowid
                conn.execute(
                    "INSERT INTO contact (channel, address, person_id, last_used) "
                    "VALUES ('telegram', ?, ?, ?)",
                    (str(telegram_id), person_id, now),
                )
                if lotse:
                    conn.execute(
                        "INSERT INTO lotse (person_id, first_name, max_open, created_at) "
                        "VALUES (?, ?, 20, ?)",
                        (person_id, f"L{telegram_id}", now),
                    )
                    for spoken in {language, "de"}:
                        conn.execute(
                            "INSERT INTO lotse_language (language, person_id) VALUES (?, ?)",
                            (spoken, person_id),
                        )
    finally:
        conn.close()


LOTSE_IDS = range(50_000, 50_000 + LOTSEN_PER_LANGUAGE * len(LANGUAGES))


async def intake_world(api: FakeBotAPI, folder: Path, onboarded: Iterable[int] = ()) -> None:
    """A fresh database with Lotsen in every language (and optionally onboarded people)."""
    db_path = folder / "lotsenbot.sqlite3"
    await create_schema(db_path)
    seed_people(db_path, LOTSE_IDS, lotse=True)
    seed_people(db_path, onboarded)
    for lotse_id in LOTSE_IDS:
        api.user(lotse_id, f"L{lotse_id}")


# --------------------------------------------------------------------------- scripted users


@dataclass(frozen=True)
class Step:
    """One thing a person does, and how to recognise the screen that answers it."""

    text: str | None = None
    data: str | None = None
    expect: Predicate = lambda data: True


def has(value: str) -> Predicate:
    return lambda data: value in data


def prefix(value: str) -> Predicate:
    return lambda data: any(d.startswith(value) for d in data)


def only(*values: str) -> Predicate:
    return lambda data: data == list(values)


def onboarding(language: str) -> list[Step]:
    """/start, the language, consent: up to the main menu."""
    return [
        Step(text="/start", expect=prefix("lang:")),
        Step(data=f"lang:{language}", expect=has("consent:yes")),
        Step(data="consent:yes", expect=has("menu:request")),
    ]


def asking(district: int, *, day: str | None = None, name: str = "Amal") -> list[Step]:
    """From the main menu through the whole request to *sent*; the appointment on ``day``
    (ISO date) at 09:00, or a flexible one."""
    if day is None:  # no date: no place is asked
        when = [Step(data="ask:day:flex", expect=has("ask:name:telegram"))]
    else:
        when = [
            Step(data=f"ask:day:{day}", expect=has("ask:time:none")),
            Step(data="ask:hour:09", expect=has("ask:time:0900")),  # the hour, its quarter
            Step(data="ask:time:0900", expect=has("ask:place:skip")),
            Step(data="ask:place:skip", expect=has("ask:name:telegram")),
        ]
    return [
        Step(data="menu:request", expect=prefix("ask:topic:")),
        Step(data="ask:topic:jobcenter", expect=only("ask:stop")),
        Step(text="Brief vom Jobcenter verstehen", expect=has("ask:langs_done")),
        Step(data="ask:langs_done", expect=prefix("ask:district:")),
        Step(data=f"ask:district:{district}", expect=has("ask:day:flex")),
        *when,
        Step(text=name, expect=has("ask:confirm")),
        Step(data="ask:confirm", expect=only("menu:home")),
    ]


def asking_cycle(district: int) -> list[Step]:
    """A returning person's round: ask for a Lotse, send it, back to the main menu."""
    return [*asking(district), Step(data="menu:home", expect=has("menu:request"))]


#: The step a draft is at before the k-th action of :func:`asking_cycle` (k = 1..8).
DRAFT_STEPS = ("topic", "description", "languages", "district", "day", "place", "name", "confirm")


def seed_drafts(db_path: Path, offsets: dict[int, int]) -> None:
    """Unfinished requests as the intake leaves them, so people continue mid-way.

    ``offsets`` maps a Telegram id to how far into :func:`asking_cycle` the person is; at
    0 (main menu) and 9 (just sent) there is no draft.
    """
    now = to_db(datetime.now(UTC))
    conn = sqlite3.connect(db_path)
    try:
        with conn:
            for telegram_id, k in offsets.items():
                if not 1 <= k <= len(DRAFT_STEPS):
                    continue
                person_id, language = conn.execute(
                    f"SELECT id, language FROM person WHERE {BY_TELEGRAM_ID}", (telegram_id,)
                ).fetchone()
                conn.execute(
                    "INSERT INTO request (person_id, status, step, topic, description, "
                    "languages, district, first_name, created_at) "
                    "VALUES (?, 'draft', ?, ?, ?, ?, ?, ?, ?)",
                    (
                        person_id,
                        DRAFT_STEPS[k - 1],
                        "jobcenter" if k >= 2 else None,
                        "Brief vom Jobcenter verstehen" if k >= 3 else None,
                        language,
                        "Altstadt" if k >= 5 else None,
                        "Amal" if k >= 8 else None,
                        now,
                    ),
                )
    finally:
        conn.close()


def full_intake(user_id: int) -> list[Step]:
    """A new person: first conversation and a help request (12 updates)."""
    return onboarding(LANGUAGES[user_id % len(LANGUAGES)]) + asking(user_id % 11)


def any_reply(steps: list[Step]) -> list[Step]:
    """The same updates for a baseline bot, which answers each with one message."""
    return [Step(text=s.text, data=s.data) for s in steps]


def inject_menu(api: FakeBotAPI, user_id: int) -> None:
    """Put a screen the bot sent earlier into the chat (for people already onboarded)."""
    api.user(user_id, "Amal", language_code=LANGUAGES[user_id % len(LANGUAGES)])
    api._add(
        user_id,
        text="What would you like to do?",
        html=None,
        kind="text",
        params={
            "reply_markup": {"inline_keyboard": [[{"text": "x", "callback_data": "menu:request"}]]}
        },
    )


async def perform(api: FakeBotAPI, user_id: int, step: Step) -> None:
    """Send the step's text, or press its button: on the newest message that has it, else on
    the newest message that has buttons (a copy of a broadcast that came in between keeps
    its own)."""
    user = api.user(user_id)
    if step.text is not None:
        await user.send(step.text)
        return
    assert step.data is not None
    message = None
    for candidate in reversed(api.chats[user_id]):
        if candidate.from_bot and candidate.buttons and not candidate.deleted:
            if any(b.get("callback_data") == step.data for row in candidate.buttons for b in row):
                message = candidate
                break
            message = message or candidate
    if message is None:  # nothing to press on yet: the same update Telegram would send
        message = api._add(user_id, text=".", html=None, kind="text", params={})
    await user.press(data=step.data, message=message)


@dataclass
class _Waiting:
    expect: Predicate
    sent: float
    label: str
    future: asyncio.Future[float] | None = None


@dataclass
class Replies:
    """Matches the bot's messages to the updates that asked for them, per chat in order."""

    api: BenchAPI
    pending: dict[int, deque[_Waiting]] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    by_step: dict[str, list[float]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.api.on_reply = self._on_reply

    def expect(self, chat_id: int, step: Step, *, future: bool) -> _Waiting:
        label = (step.data or step.text or "?").split(":")[:2]
        waiting = _Waiting(step.expect, time.perf_counter(), ":".join(label))
        if future:
            waiting.future = asyncio.get_running_loop().create_future()
        self.pending.setdefault(chat_id, deque()).append(waiting)
        return waiting

    def _on_reply(self, chat_id: int, data: list[str], at: float) -> None:
        queue = self.pending.get(chat_id)
        if not queue or not queue[0].expect(data):
            return
        waiting = queue.popleft()
        self.latencies.append(at - waiting.sent)
        self.by_step.setdefault(waiting.label, []).append(at - waiting.sent)
        if waiting.future is not None and not waiting.future.done():
            waiting.future.set_result(at)

    def unanswered(self) -> int:
        return sum(len(q) for q in self.pending.values())


async def closed_loop_user(
    api: FakeBotAPI,
    replies: Replies,
    user_id: int,
    steps: list[Step],
    timeout: float,
    think: Callable[[], float] | None = None,
) -> None:
    """Send each step once the answer to the previous one has arrived (and, with ``think``,
    that many seconds after it)."""
    for index, step in enumerate(steps):
        if think is not None and index:
            await asyncio.sleep(think())
        waiting = replies.expect(user_id, step, future=True)
        waiting.sent = time.perf_counter()
        await perform(api, user_id, step)
        assert waiting.future is not None
        await asyncio.wait_for(waiting.future, timeout)


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0..1), nearest rank."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))
    return ordered[index]
