"""Intake load: throughput with people tapping as fast as answers come (closed loop), and
latency at a fixed offered load (each person sends an update every 2 s, open loop), with
loopback as it is or with a round trip added to every Bot API call."""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass
from pathlib import Path

from bench.harness import (
    LANGUAGES,
    BenchAPI,
    BotProcess,
    Replies,
    Step,
    any_reply,
    asking_cycle,
    closed_loop_user,
    full_intake,
    inject_menu,
    intake_world,
    percentile,
    perform,
    seed_drafts,
)

#: The open-loop load of the issue: 500 people, each sending an update every 2 s.
P99_USERS = 500
P99_INTERVAL = 2.0
P99_RATE = P99_USERS / P99_INTERVAL


def people_at(rate: float) -> int:
    """How many people, each sending an update every 2 s, make ``rate`` updates per second."""
    return max(5, round(rate * P99_INTERVAL))


@dataclass
class Throughput:
    updates: int
    seconds: float
    bot_cpu: float  # CPU seconds the bot used while the load ran
    server_cpu: float  # the same for the bench process (fake server and scripted users)
    calls: int  # Bot API calls the bot made while the load ran (getUpdates not counted)

    @property
    def per_second(self) -> float:
        return self.updates / self.seconds


async def throughput(kind: str, folder: Path, users: int, round_trip: float = 0.0) -> Throughput:
    """``users`` new people go through the whole intake at once, each as fast as answered.

    ``round_trip``: seconds each Bot API call takes (0: loopback as it is).
    """
    api = BenchAPI(round_trip)
    await api.start()
    ids = range(1_000, 1_000 + users)
    for user_id in ids:
        api.user(user_id, "Amal", language_code=LANGUAGES[user_id % len(LANGUAGES)])
    await intake_world(api, folder)
    bot = BotProcess(kind, api, folder)
    await bot.start()
    try:
        replies = Replies(api)
        scripts = {
            u: full_intake(u) if kind == "lotsenbot" else any_reply(full_intake(u)) for u in ids
        }
        cpu, own = bot.cpu_seconds(), time.process_time()
        calls = _calls(api)
        started = time.perf_counter()
        await asyncio.gather(*(closed_loop_user(api, replies, u, scripts[u], 120) for u in ids))
        took = time.perf_counter() - started
        cpu, own = bot.cpu_seconds() - cpu, time.process_time() - own
        calls = _calls(api) - calls
    finally:
        await bot.stop()
        await api.stop()
    return Throughput(sum(len(s) for s in scripts.values()), took, cpu, own, calls)


def _calls(api: BenchAPI) -> int:
    return sum(1 for call in api.calls if call.method != "getUpdates")


@dataclass
class Latency:
    sent: int
    answered: int
    p50: float
    p99: float
    steps: dict[str, float]  # p99 per kind of update


async def latency(
    kind: str, folder: Path, seconds: float, *, rate: float = P99_RATE, round_trip: float = 0.0
) -> Latency:
    """People each send an update every 2 s for ``seconds``; time each answer.

    As many people as make ``rate`` updates per second (by default 500: 250/s); each answer is
    timed from the update's arrival at the server to the message that shows the next step
    (for a baseline: its one reply). ``round_trip``: seconds each Bot API call takes
    longer (0: loopback as it is; see :class:`BenchAPI`).

    A fifth are new (from /start). The others were onboarded before and are somewhere in
    asking for a Lotse - at the main menu, mid-way through a request (their drafts are in
    the database, as the intake leaves them) or just after sending one - spread evenly, so
    that every kind of step, sending a request included, comes at its usual share rather
    than everyone sending their request in the same two seconds.
    """
    rounds = int(seconds / P99_INTERVAL)
    users = people_at(rate)
    api = BenchAPI(round_trip)
    await api.start()
    fresh = list(range(1_000, 1_000 + users // 5))
    known = list(range(20_000, 20_000 + users - len(fresh)))
    for user_id in fresh:
        api.user(user_id, "Amal", language_code=LANGUAGES[user_id % len(LANGUAGES)])
    for user_id in known:
        inject_menu(api, user_id)
    await intake_world(api, folder, onboarded=known)
    cycle = len(asking_cycle(0))
    offsets = {user_id: index % cycle for index, user_id in enumerate(known)}
    seed_drafts(folder / "lotsenbot.sqlite3", offsets)
    bot = BotProcess(kind, api, folder)
    await bot.start()
    scripts: dict[int, list[Step]] = {}
    for user_id in fresh:
        scripts[user_id] = full_intake(user_id)[:rounds]
    for user_id in known:
        k = offsets[user_id]
        scripts[user_id] = (asking_cycle(user_id % 11) * 3)[k : k + rounds]
    if kind != "lotsenbot":
        scripts = {u: any_reply(s) for u, s in scripts.items()}
    replies = Replies(api)
    rng = random.Random(6)
    loop = asyncio.get_running_loop()
    begin = loop.time() + 0.5

    async def person(user_id: int, steps: list[Step]) -> None:
        phase = rng.uniform(0, P99_INTERVAL)
        for index, step in enumerate(steps):
            await asyncio.sleep(max(0.0, begin + phase + index * P99_INTERVAL - loop.time()))
            replies.expect(user_id, step, future=False)
            await perform(api, user_id, step)

    try:
        await asyncio.gather(*(person(u, s) for u, s in scripts.items()))
        deadline = loop.time() + 10
        while replies.unanswered() and loop.time() < deadline:  # noqa: ASYNC110 - polling a count
            await asyncio.sleep(0.1)
    finally:
        await bot.stop()
        await api.stop()
    sent = sum(len(s) for s in scripts.values())
    late = [float("inf")] * replies.unanswered()
    values = replies.latencies + late
    steps = {label: percentile(v, 0.99) for label, v in replies.by_step.items()}
    return Latency(
        sent, len(replies.latencies), percentile(values, 0.5), percentile(values, 0.99), steps
    )
