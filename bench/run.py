"""``make bench``: Lotsenbot and python-telegram-bot baselines under the same load, in one run.

Every figure is the median of several repetitions; every ratio is computed from figures of
this run, on this machine, with the bots run the same way (child processes polling the same
fake Bot API over loopback HTTP). The table is printed and ``bench/results.json`` written.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from bench.broadcast import broadcast
from bench.harness import BOTS
from bench.intake import P99_INTERVAL, latency, people_at, throughput
from bench.match import pick_p99
from bench.memory import resident_memory
from bench.signal_intake import CHANNELS, intake

RESULTS = Path(__file__).resolve().parent / "results.json"
T = TypeVar("T")

#: Targets of issue 6: (key, comparison, value).
TARGETS = {
    "intake_vs_peer": (">=", 1.5),
    "intake_vs_echo": (">=", 0.6),
    "p99_vs_echo": ("<=", 3.0),
    "broadcast_rate_ratio": (">=", 0.9),
    "broadcast_ceiling": (">=", 500.0),
    "match_growth": ("<=", 3.0),
    "rss_growth": ("<=", 1.5),
}


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


async def repeat(
    times: int, label: str, measure: Callable[[Path], Awaitable[T]], show: Callable[[T], str]
) -> list[T]:
    results = []
    for index in range(times):
        with tempfile.TemporaryDirectory(prefix="lotsenbench-") as folder:
            result = await measure(Path(folder))
        log(f"{label} #{index + 1}: {show(result)}")
        results.append(result)
    return results


def machine() -> dict[str, Any]:
    model = "?"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": os.cpu_count(),
        "cpu": model,
        "python": platform.python_version(),
        "load_average": os.getloadavg()[0],
    }


async def taps(args: argparse.Namespace, figures: dict[str, Any], details: dict[str, Any]) -> None:
    """What a person feels with a network like Telegram's: from a tap (a button or a typed
    step) to the next step's message at the API, every Bot API call ``--round-trip-ms``
    longer, at an open-loop load the peer can carry (``--tap-rate``). Lotsenbot and the
    peer, interleaved."""
    ms = args.round_trip_ms
    kinds = ("lotsenbot", "peer")
    p50s: dict[str, list[float]] = {kind: [] for kind in kinds}
    p99s: dict[str, list[float]] = {kind: [] for kind in kinds}
    steps: dict[str, float] = {}
    for index in range(args.repeat):
        for kind in kinds:
            with tempfile.TemporaryDirectory(prefix="lotsenbench-") as folder:
                timed = await latency(
                    kind, Path(folder), args.tap_seconds, rate=args.tap_rate, round_trip=ms / 1000
                )
            p50s[kind].append(timed.p50)
            p99s[kind].append(timed.p99)
            if kind == "lotsenbot":
                steps = timed.steps
            log(
                f"tap {kind} at {ms} ms per API call #{index + 1}: p50 {timed.p50 * 1000:.1f} ms, "
                f"p99 {timed.p99 * 1000:.1f} ms ({timed.answered}/{timed.sent} answered)"
            )
    p50 = {k: statistics.median(v) for k, v in p50s.items()}
    p99 = {k: statistics.median(v) for k, v in p99s.items()}
    figures[f"tap_p50_ms_at_{ms}ms"] = round(p50["lotsenbot"] * 1000, 1)
    figures[f"tap_p99_ms_at_{ms}ms"] = round(p99["lotsenbot"] * 1000, 1)
    figures[f"peer_tap_p99_ms_at_{ms}ms"] = round(p99["peer"] * 1000, 1)
    figures[f"tap_p99_vs_peer_at_{ms}ms"] = round(p99["lotsenbot"] / p99["peer"], 3)
    people = people_at(args.tap_rate)
    details[f"tap_at_{ms}ms"] = {
        "load": f"{args.tap_rate:g} updates/s open loop ({people} people, an update every "
        f"{P99_INTERVAL:g} s each), {args.tap_seconds:g} s per repetition",
        "p50_ms": {k: round(v * 1000, 1) for k, v in p50.items()},
        "p99_ms": {k: round(v * 1000, 1) for k, v in p99.items()},
        "p99_ms_by_repetition": {k: [round(x * 1000, 1) for x in v] for k, v in p99s.items()},
        "lotsenbot_p99_ms_by_step_last_run": {
            k: round(v * 1000, 1) for k, v in sorted(steps.items())
        },
    }


async def signal(
    args: argparse.Namespace, figures: dict[str, Any], details: dict[str, Any]
) -> None:
    """The intake on Signal through the local daemon against Telegram's, the same process
    (both channels) for both, interleaved: updates per second with everyone at once, and
    the answer times with each person pausing two seconds after each answer."""
    rates: dict[str, list[float]] = {c: [] for c in CHANNELS}
    cpu: dict[str, list[float]] = {c: [] for c in CHANNELS}
    p50s: dict[str, list[float]] = {c: [] for c in CHANNELS}
    p99s: dict[str, list[float]] = {c: [] for c in CHANNELS}
    for index in range(args.repeat):
        for channel in CHANNELS:
            with tempfile.TemporaryDirectory(prefix="lotsenbench-") as folder:
                run = await intake(channel, Path(folder), args.signal_users)
            rates[channel].append(run.per_second)
            cpu[channel].append(run.bot_cpu / run.updates * 1000)
            log(
                f"intake on {channel} #{index + 1}: {run.per_second:.0f} updates/s, "
                f"{run.bot_cpu / run.updates * 1000:.2f} ms CPU per update in the bot"
            )
        for channel in CHANNELS:
            with tempfile.TemporaryDirectory(prefix="lotsenbench-") as folder:
                run = await intake(channel, Path(folder), args.signal_paced_users, paced=True)
            p50s[channel].append(run.p50)
            p99s[channel].append(run.p99)
            log(
                f"paced intake on {channel} #{index + 1}: p50 {run.p50 * 1000:.1f} ms, "
                f"p99 {run.p99 * 1000:.1f} ms ({len(run.latencies)} answers)"
            )
    rate = {c: statistics.median(v) for c, v in rates.items()}
    p50 = {c: statistics.median(v) for c, v in p50s.items()}
    p99 = {c: statistics.median(v) for c, v in p99s.items()}
    figures["signal_intake_updates_per_s"] = round(rate["signal"], 1)
    figures["telegram_intake_updates_per_s_both_channels"] = round(rate["telegram"], 1)
    figures["signal_vs_telegram_intake"] = round(rate["signal"] / rate["telegram"], 3)
    figures["signal_p99_ms_paced"] = round(p99["signal"] * 1000, 1)
    figures["telegram_p99_ms_paced"] = round(p99["telegram"] * 1000, 1)
    figures["signal_p99_vs_telegram_paced"] = round(p99["signal"] / p99["telegram"], 3)
    details["signal_intake"] = {
        "load": f"{args.signal_users} new people at once, 11 inputs each; paced: "
        f"{args.signal_paced_users} people, 2 s after each answer",
        "cpu_ms_per_update": {c: round(statistics.median(v), 3) for c, v in cpu.items()},
        "p50_ms_paced": {c: round(v * 1000, 1) for c, v in p50.items()},
        "p99_ms_paced_by_repetition": {c: [round(x * 1000, 1) for x in v] for c, v in p99s.items()},
    }


def finish(
    figures: dict[str, Any], details: dict[str, Any], reps: int, began: float
) -> dict[str, Any]:
    """The run's figures and details, with the machine and the time it took."""
    details["machine"] = machine()
    details["repetitions"] = reps
    details["wall_seconds"] = round(time.perf_counter() - began, 1)
    return {"figures": figures, "details": details}


async def main(args: argparse.Namespace) -> dict[str, Any]:
    reps = args.repeat
    figures: dict[str, Any] = {}
    details: dict[str, Any] = {}
    began = time.perf_counter()
    if args.only == "taps":
        await taps(args, figures, details)
        return finish(figures, details, reps, began)
    if args.only == "signal":
        await signal(args, figures, details)
        return finish(figures, details, reps, began)

    # 1. Throughput of the intake, the three bots interleaved so that noise hits each alike.
    rates: dict[str, list[float]] = {kind: [] for kind in BOTS}
    cpu: dict[str, list[float]] = {kind: [] for kind in BOTS}
    calls: dict[str, float] = {}
    for index in range(reps):
        for kind in BOTS:
            with tempfile.TemporaryDirectory(prefix="lotsenbench-") as folder:
                result = await throughput(kind, Path(folder), args.users)
            rates[kind].append(result.per_second)
            cpu[kind].append(result.bot_cpu / result.updates * 1000)
            calls[kind] = result.calls / result.updates
            log(
                f"intake {kind} #{index + 1}: {result.per_second:.0f} updates/s, "
                f"{result.calls / result.updates:.2f} Bot API calls and "
                f"{result.bot_cpu / result.updates * 1000:.2f} ms CPU per update in the bot, "
                f"{result.server_cpu / result.seconds * 100:.0f}% CPU in the bench process"
            )
    ours, peer, echo = (statistics.median(rates[k]) for k in BOTS)
    figures["intake_updates_per_s"] = round(ours, 1)
    figures["peer_intake_updates_per_s"] = round(peer, 1)
    figures["echo_updates_per_s"] = round(echo, 1)
    figures["intake_vs_peer"] = round(ours / peer, 3)
    figures["intake_vs_echo"] = round(ours / echo, 3)
    details["cpu_ms_per_update"] = {k: round(statistics.median(v), 3) for k, v in cpu.items()}
    details["api_calls_per_update"] = {k: round(v, 2) for k, v in calls.items()}

    # 1b. The same with a round trip to the API like Telegram's (not a target; shows what
    # handling people concurrently is for). Fewer people: a sequential bot is slow here.
    if args.round_trip_ms:
        rtt: dict[str, float] = {}
        for kind in BOTS:
            with tempfile.TemporaryDirectory(prefix="lotsenbench-") as folder:
                result = await throughput(kind, Path(folder), 40, args.round_trip_ms / 1000)
            rtt[kind] = round(result.per_second, 1)
            log(f"intake {kind} at {args.round_trip_ms} ms per API call: {rtt[kind]} updates/s")
        details[f"intake_updates_per_s_at_{args.round_trip_ms}ms_per_call"] = rtt

    # 2. Latency at a fixed offered load (500 people, an update every 2 s each).
    p99s: dict[str, list[float]] = {kind: [] for kind in BOTS}
    steps: dict[str, float] = {}
    for index in range(reps):
        for kind in BOTS:
            with tempfile.TemporaryDirectory(prefix="lotsenbench-") as folder:
                timed = await latency(kind, Path(folder), args.latency_seconds)
            p99s[kind].append(timed.p99)
            if kind == "lotsenbot":
                steps = timed.steps
            log(
                f"latency {kind} #{index + 1}: p50 {timed.p50 * 1000:.1f} ms, "
                f"p99 {timed.p99 * 1000:.1f} ms ({timed.answered}/{timed.sent} answered)"
            )
    p99 = {k: statistics.median(v) for k, v in p99s.items()}
    figures["p99_vs_echo"] = round(p99["lotsenbot"] / p99["echo"], 3)
    details["p99_ms"] = {k: round(v * 1000, 1) for k, v in p99.items()}
    details["lotsenbot_p99_ms_by_step_last_run"] = {
        k: round(v * 1000, 1) for k, v in sorted(steps.items())
    }

    # 2b. Tap to the next step at a round trip like Telegram's (reported, not a target).
    if args.round_trip_ms:
        await taps(args, figures, details)

    # 3. Broadcast to 5,000 people: under enforced limits, and with limits off.
    limit = args.broadcast_limit
    limited = await repeat(
        reps,
        f"broadcast at {limit}/s",
        lambda f: broadcast(f, limit=limit, per_second=limit),
        lambda r: f"{r.copies} copies, {r.per_second:.0f}/s, {r.violations} x 429",
    )
    figures["broadcast_rate_ratio"] = round(
        statistics.median(r.per_second for r in limited) / limit, 3
    )
    details["broadcast_429"] = sum(r.violations for r in limited)
    open_ = await repeat(
        reps,
        "broadcast, limits off",
        lambda f: broadcast(f, limit=None, per_second=1000),
        lambda r: f"{r.copies} copies, {r.per_second:.0f}/s",
    )
    figures["broadcast_ceiling"] = round(statistics.median(r.per_second for r in open_), 1)

    # 4. Matching as the database grows.
    small: list[float] = []
    large: list[float] = []
    for index in range(reps):
        with tempfile.TemporaryDirectory(prefix="lotsenbench-") as folder:
            small.append(await pick_p99(Path(folder), 100, 1_000, 200))
            large.append(await pick_p99(Path(folder), 10_000, 100_000, 100))
        log(f"match #{index + 1}: p99 {small[-1] * 1000:.2f} ms vs {large[-1] * 1000:.1f} ms")
    figures["match_growth"] = round(statistics.median(large) / statistics.median(small), 2)
    details["match_p99_ms"] = {
        "100 Lotsen / 1,000 requests": round(statistics.median(small) * 1000, 3),
        "10,000 Lotsen / 100,000 requests": round(statistics.median(large) * 1000, 2),
    }

    # 5. Resident memory of the running bot.
    rss_small: list[int] = []
    rss_large: list[int] = []
    for index in range(reps):
        for people, into in ((1_000, rss_small), (100_000, rss_large)):
            with tempfile.TemporaryDirectory(prefix="lotsenbench-") as folder:
                into.append(await resident_memory(Path(folder), people))
        log(f"rss #{index + 1}: {rss_small[-1] / 1024:.1f} MiB vs {rss_large[-1] / 1024:.1f} MiB")
    figures["rss_growth"] = round(statistics.median(rss_large) / statistics.median(rss_small), 3)
    details["rss_mib"] = {
        "1,000 people": round(statistics.median(rss_small) / 1024, 1),
        "100,000 people": round(statistics.median(rss_large) / 1024, 1),
    }

    # 6. The intake on Signal, through the local daemon, against Telegram's.
    await signal(args, figures, details)

    return finish(figures, details, reps, began)


def met(key: str, value: float) -> str:
    if key not in TARGETS:
        return ""
    op, target = TARGETS[key]
    ok = value >= target if op == ">=" else value <= target
    return f"{op} {target:g} {'met' if ok else 'MISSED'}"


def table(figures: dict[str, Any], details: dict[str, Any]) -> str:
    lines = ["| key | value | target |", "|---|---:|---|"]
    for key, value in figures.items():
        lines.append(f"| `{key}` | {value:g} | {met(key, value)} |")
    m = details["machine"]
    lines.append("")
    lines.append(
        f"{m['date']}, {m['nproc']} cores ({m['cpu']}), Python {m['python']}, "
        f"load average {m['load_average']:.1f} at the end; medians of "
        f"{details['repetitions']} repetitions; {details['wall_seconds']:.0f} s."
    )
    return "\n".join(lines)


def cli() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3, help="repetitions per figure")
    parser.add_argument("--users", type=int, default=150, help="people in the throughput run")
    parser.add_argument("--latency-seconds", type=float, default=18.0)
    parser.add_argument("--broadcast-limit", type=int, default=300)
    parser.add_argument(
        "--round-trip-ms",
        type=int,
        default=30,
        help="API delay of the extra throughput run and of the tap latency (0: skip both)",
    )
    parser.add_argument("--tap-seconds", type=float, default=24.0)
    parser.add_argument(
        "--tap-rate", type=float, default=20.0, help="updates/s of the tap latency run"
    )
    parser.add_argument(
        "--signal-users", type=int, default=150, help="people in the Signal/Telegram intake run"
    )
    parser.add_argument(
        "--signal-paced-users",
        type=int,
        default=40,
        help="people in the paced Signal/Telegram run (2 s after each answer)",
    )
    parser.add_argument(
        "--only",
        choices=["taps", "signal"],
        help="run only this part and print it; bench/results*.json stay as they are",
    )
    args = parser.parse_args()
    if args.only == "taps" and not args.round_trip_ms:
        parser.error("--only taps needs a --round-trip-ms")
    result = asyncio.run(main(args))
    figures, details = result["figures"], result["details"]
    if args.only is None:
        RESULTS.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
        RESULTS.with_name("results-details.json").write_text(
            json.dumps(details, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
    print(table(figures, details))
    print(json.dumps(details, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(cli())
