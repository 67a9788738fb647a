"""The intake on Signal, through the local signal-cli daemon, against Telegram's in the same run.

New people go through the whole first conversation and a help request (11 inputs each,
as in :func:`bench.harness.full_intake`): on Telegram by tapping buttons, on Signal by
typing the number of each choice (and the same texts). Both runs use the same process —
``lotsenbot run`` with both channels, the Lotsen on Telegram getting the offers — and
differ only in the messenger the people use: the fake Bot API or the local daemon, each
over loopback HTTP. ``throughput``: everyone at once, each as fast as answered (closed
loop). ``paced``: each person's next input two seconds after the answer to the last one,
to time the answers at a load the bot carries; an answer is timed from the person's input
at the server (queued there for ``getUpdates``, or for the event stream) to the next screen
the bot sends there.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.harness import (
    LANGUAGES,
    BenchAPI,
    BotProcess,
    Replies,
    closed_loop_user,
    full_intake,
    intake_world,
    percentile,
)
from channels.signal.fakedaemon import FakeSignalDaemon

CHANNELS = ("telegram", "signal")
#: Seconds between the answer to one input and the next input, when paced.
PAUSE = 2.0
_LISTED = re.compile(r"(?m)^1\. ")

JSON = dict[str, Any]


class BenchDaemon(FakeSignalDaemon):
    """The local daemon, telling the bench about every new screen the bot sends (a message
    with a numbered list; edits in place carry none)."""

    def __init__(self) -> None:
        super().__init__()
        #: Called with (number, the screen's timestamp, perf_counter time).
        self.on_screen: Callable[[str, int, float], None] | None = None

    async def _rpc_send(self, params: JSON) -> JSON:
        result = await super()._rpc_send(params)
        text = str(params.get("message") or "")
        if self.on_screen is not None and not params.get("editTimestamp") and _LISTED.search(text):
            number = self.number_of(str(params["recipient"][0]))
            self.on_screen(number, int(result["timestamp"]), time.perf_counter())
        return result


@dataclass(frozen=True)
class Typed:
    """One input on Signal: text, or the number of ``action`` on the latest screen."""

    text: str | None = None
    action: str | None = None


def signal_intake(index: int) -> list[Typed]:
    """What :func:`bench.harness.full_intake` taps, typed on Signal."""
    language = LANGUAGES[index % len(LANGUAGES)]
    return [
        Typed(text="Hallo"),
        Typed(action=f"lang:{language}"),
        Typed(action="consent:yes"),
        Typed(action="menu:request"),
        Typed(action="ask:topic:jobcenter"),
        Typed(text="Brief vom Jobcenter verstehen"),
        Typed(action="ask:langs_done"),
        Typed(action=f"ask:district:{index % 11}"),
        Typed(action="ask:day:flex"),  # no date: no place is asked
        Typed(text="Amal"),
        Typed(action="ask:confirm"),
    ]


@dataclass
class Screens:
    """Matches the bot's new screens on Signal to the inputs that asked for them, and reads
    each screen's numbered choices from the bot's ``menu`` table (as the person reads the
    list on the phone)."""

    daemon: BenchDaemon
    db_path: Path
    waiting: dict[str, tuple[float, asyncio.Future[int]]] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    _conn: sqlite3.Connection | None = None

    def __post_init__(self) -> None:
        self.daemon.on_screen = self._on_screen

    def expect(self, number: str) -> asyncio.Future[int]:
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self.waiting[number] = (time.perf_counter(), future)
        return future

    def _on_screen(self, number: str, timestamp: int, at: float) -> None:
        entry = self.waiting.pop(number, None)
        if entry is None:
            return
        sent, future = entry
        self.latencies.append(at - sent)
        if not future.done():
            future.set_result(timestamp)

    async def number_of(self, chat: str, screen: int, action: str, timeout: float) -> int:
        """The number of ``action`` on the screen, once the bot has recorded it."""
        if self._conn is None:
            self._conn = sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True)
        deadline = time.monotonic() + timeout
        while True:
            row = self._conn.execute(
                "SELECT choices FROM menu WHERE channel = 'signal' AND chat = ? AND message_id = ?",
                (chat, screen),
            ).fetchone()
            if row is not None:
                actions = [a for _, a in json.loads(row[0])]
                return actions.index(action) + 1
            if time.monotonic() > deadline:
                raise TimeoutError(action)
            await asyncio.sleep(0.002)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()


async def signal_user(
    screens: Screens,
    number: str,
    steps: list[Typed],
    timeout: float,
    pause: float | None = None,
) -> None:
    """Type each step once the screen that answers the one before has come (and, with
    ``pause``, that many seconds after it)."""
    user = screens.daemon.user(number, "Amal Haddad")
    screen = 0
    for index, step in enumerate(steps):
        if pause is not None and index:
            await asyncio.sleep(pause)
        text = step.text
        if step.action is not None:
            text = str(await screens.number_of(user.uuid, screen, step.action, timeout))
        assert text is not None
        answered = screens.expect(number)
        await user.send(text)
        screen = await asyncio.wait_for(answered, timeout)


@dataclass
class Run:
    updates: int
    seconds: float
    latencies: list[float]
    bot_cpu: float

    @property
    def per_second(self) -> float:
        return self.updates / self.seconds

    @property
    def p50(self) -> float:
        return percentile(self.latencies, 0.5)

    @property
    def p99(self) -> float:
        return percentile(self.latencies, 0.99)


async def intake(channel: str, folder: Path, users: int, *, paced: bool = False) -> Run:
    """``users`` new people through the intake on ``channel`` (``telegram`` or ``signal``)."""
    api = BenchAPI()
    daemon = BenchDaemon()
    await api.start()
    await daemon.start()
    ids = range(1_000, 1_000 + users)
    await intake_world(api, folder)
    bot = BotProcess("lotsenbot", api, folder, signal=daemon)
    await bot.start()
    rng = random.Random(14)
    screens = Screens(daemon, folder / "lotsenbot.sqlite3")
    try:
        pause = PAUSE if paced else None
        if channel == "telegram":
            for user_id in ids:
                api.user(user_id, "Amal", language_code=LANGUAGES[user_id % len(LANGUAGES)])
            replies = Replies(api)

            def telegram(user_id: int) -> Any:
                think = (lambda: PAUSE) if paced else None
                return closed_loop_user(api, replies, user_id, full_intake(user_id), 120, think)

            flows = [telegram(u) for u in ids]
            latencies = replies.latencies
        else:
            flows = [
                signal_user(screens, f"+4917{u:09d}", signal_intake(u), 120, pause) for u in ids
            ]
            latencies = screens.latencies

        async def spread(flow: Any) -> None:
            if paced:  # people start at different moments of the pause
                await asyncio.sleep(rng.uniform(0, PAUSE))
            await flow

        cpu = bot.cpu_seconds()
        started = time.perf_counter()
        await asyncio.gather(*(spread(f) for f in flows))
        took = time.perf_counter() - started
        cpu = bot.cpu_seconds() - cpu
    finally:
        screens.close()
        await bot.stop()
        await daemon.stop()
        await api.stop()
    return Run(users * len(full_intake(0)), took, list(latencies), cpu)
