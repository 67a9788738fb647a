"""The chaos harness: the real ``lotsenbot run`` is SIGKILLed again and again while scripted
people use it; afterwards the fake Bot API's record of what was sent and the SQLite file
(read with plain ``sqlite3``) must agree.

Shared by ``tests/test_chaos.py`` (about a minute, in ``make test``) and ``bench/soak.py``
(``make soak``: at least 200 kills, then a busy Monday morning). The bot runs as its own
process on the real clock, so reminders are set up to fall due a little after the start:
the city file puts them so many minutes before tomorrow's 09:00 appointment, and a
Stammtisch date one hour after such a moment (``remind_hours_before = 1``).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import sqlite3
import time as wall
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from pathlib import Path

from bot.clock import to_db
from channels.telegram.fakeapi import BotMessage, FakeBotAPI, FakeUser
from handlers import asking_views
from handlers import broadcast_views as bv
from tests.process import LOTSENBOT, BotProcess, bot_env
from tests.scenario import BERLIN, ask_for_lotse, onboard, t, telegram_id_of

#: The first reminders fall due this long (or up to a minute longer) after the start.
FIRST_DUE_AFTER = timedelta(seconds=30)
#: What a person writes to their Lotse, and the Lotse's answer (``name``: the person's).
QUESTION = "Frage von {name}: Wo treffen wir uns?"
ANSWER = "Antwort für {name}: vor dem Jobcenter"


# --------------------------------------------------------------------------- the plan


@dataclass(frozen=True)
class Plan:
    """Every request's appointment (tomorrow, 09:00 in Dorsten) and when reminders fall due."""

    appointment: datetime
    due: tuple[datetime, ...]  # request reminders, first to last

    @property
    def minutes_before(self) -> str:
        """The city file's ``reminders_minutes_before`` that makes them due then."""
        return str([int((self.appointment - due).total_seconds()) // 60 for due in self.due])

    @staticmethod
    def stammtisch_for(due: datetime) -> datetime:
        """A Stammtisch date whose reminder (one hour before) falls due at ``due``."""
        return due + timedelta(hours=1)


def make_plan(now: datetime, reminders: int = 2, every: timedelta = timedelta(minutes=1)) -> Plan:
    """``reminders`` due times, the first at least FIRST_DUE_AFTER from ``now``."""
    first = (now + FIRST_DUE_AFTER).replace(second=0, microsecond=0) + timedelta(minutes=1)
    day = (now.astimezone(BERLIN) + timedelta(days=1)).date()
    appointment = datetime.combine(day, time(9), BERLIN)
    return Plan(appointment, tuple(first + i * every for i in range(reminders)))


# --------------------------------------------------------------------------- messages


def data_of(message: BotMessage) -> list[str]:
    """The callback data of the message's buttons."""
    return [str(b.get("callback_data", "")) for row in message.buttons for b in row]


def is_offer(message: BotMessage) -> str | None:
    return next((d for d in data_of(message) if d.startswith("offer:accept:")), None)


def is_invitation(message: BotMessage) -> str | None:
    """The *I'll come* button of a Stammtisch invitation (or reminder)."""
    return next(
        (d for d in data_of(message) if d.startswith("ev:rsvp:") and d.endswith(":yes")), None
    )


def request_reminders(user: FakeUser, name: str | None = None) -> list[BotMessage]:
    """Appointment reminders (they carry attendance buttons), optionally about ``name``."""
    return [
        m
        for m in user.bot_messages()
        if m.text.startswith("⏰")
        and any(d.startswith("att:") for d in data_of(m))
        and (name is None or name in m.text)
    ]


def mailing_of(
    message: BotMessage, broadcasts: dict[int, str]
) -> tuple[str, int | None, str] | None:
    """Which mailing a message is a copy of, as (kind, subject, what), if it is one.

    ``broadcasts`` maps each broadcast's id to its text. A training announcement loses its
    buttons once answered, so its subject (the training) may be unknown: None. The answers
    to a copy's buttons (which carry the same buttons) are not copies.
    """
    data = data_of(message)
    if bv.NEWS_OFF in data:
        subject = next((i for i, text in broadcasts.items() if text in message.text), None)
        return "broadcast", subject, ""
    ids = {
        value.split(":")[0]: int(value.split(":")[2])
        for value in data
        if value.startswith(("ev:rsvp:", "wl:t:")) and value.split(":")[2].isdigit()
    }
    text = message.text
    if "ev" in ids:
        if text.startswith("📣"):
            return "event", ids["ev"], "announce"
        if text.startswith("⏰"):
            return "event", ids["ev"], "remind"
    if text.startswith("🎓"):
        return "training", ids.get("wl"), "announce"
    if "wl" in ids and text.startswith(("⏰", "🎉")):
        return "training", ids["wl"], "remind" if text.startswith("⏰") else "moved_up"
    return None


# --------------------------------------------------------------------------- the process


async def add_stammtisch(process: BotProcess, at: datetime) -> None:
    """``lotsenbot event add`` next to the running bot, as a coordinator would."""
    command = await asyncio.create_subprocess_exec(
        str(LOTSENBOT),
        "event",
        "add",
        "--at",
        at.astimezone(BERLIN).strftime("%Y-%m-%d %H:%M"),
        env=bot_env(None, process.db_path, process.config),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await command.communicate()
    assert command.returncode == 0, err.decode()


class BotDied(AssertionError):
    """The bot exited without being killed."""


class Killer:
    """SIGKILLs the bot at random moments and starts it again; now and then it is killed
    again while still starting (before its first ``getUpdates``)."""

    def __init__(
        self,
        process: BotProcess,
        chance: random.Random,
        *,
        up: tuple[float, float] = (0.3, 1.5),
        while_starting: float = 0.25,
    ) -> None:
        self.process = process
        self.chance = chance
        self.up = up  # how long it runs (seconds, at random between) before the next kill
        self.while_starting_chance = while_starting
        self.kills = 0
        self.while_starting = 0  # of the kills, those before the process first polled
        self._waiting: list[tuple[int, asyncio.Event]] = []

    async def reached(self, kills: int) -> None:
        """Wait until this many kills are done."""
        if self.kills < kills:
            event = asyncio.Event()
            self._waiting.append((kills, event))
            await event.wait()

    async def _kill(self) -> None:
        await self.process.kill()
        self.kills += 1
        for kills, event in self._waiting:
            if self.kills >= kills:
                event.set()

    async def run(self, done: Callable[[], bool], deadline: float = float("inf")) -> None:
        """Kill and restart until ``done()`` after a restart, or the monotonic ``deadline``."""
        process, chance = self.process, self.chance
        while True:
            await asyncio.sleep(chance.uniform(*self.up))  # up and polling for a while
            proc = process.proc
            if proc is None or proc.returncode is not None:
                raise BotDied(f"the bot died by itself:\n{process.log()[-3000:]}")
            await self._kill()
            await asyncio.sleep(chance.uniform(0.0, 0.3))
            if chance.random() < self.while_starting_chance:
                polls = process.api.polls
                await process.spawn()
                await asyncio.sleep(chance.uniform(0.05, 1.2))
                await self._kill()
                self.while_starting += process.api.polls == polls
            await process.start()
            if done() or wall.monotonic() > deadline:
                return


async def handled(db_path: Path, updates: int, timeout: float) -> bool:
    """Wait until the updates handed out so far (ids 1 to ``updates``) are all handled."""

    def done() -> bool:
        with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as conn:
            query = "SELECT count(done_at) FROM inbox WHERE update_id <= ?"
            return bool(conn.execute(query, (updates,)).fetchone()[0] >= updates)

    deadline = wall.monotonic() + timeout
    while not done():
        if wall.monotonic() > deadline:
            return False
        await asyncio.sleep(0.1)
    return True


# --------------------------------------------------------------------------- people


class LotseDuty:
    """A Lotse who accepts every offer, answers every Stammtisch invitation and answers
    each relayed question, as soon as it shows (each message once, in order)."""

    def __init__(
        self,
        api: FakeBotAPI,
        lotse: FakeUser,
        presses: Counter[str],
        rsvp: Callable[[int], str] = lambda event: "yes",
    ) -> None:
        self.api = api
        self.lotse = lotse
        self.presses = presses  # accept presses per offer, to count the races
        self.rsvp = rsvp  # the answer to the invitation to an event (yes, maybe, no)
        self.cursor = 0

    def _next(self) -> BotMessage | None:
        chat = self.api.chats[self.lotse.id]
        while self.cursor < len(chat):
            message = chat[self.cursor]
            if message.from_bot and not message.deleted and self._task(message):
                return message
            self.cursor += 1
        return None

    @staticmethod
    def _task(message: BotMessage) -> bool:
        return bool(
            is_offer(message)
            or is_invitation(message)
            or (message.text.startswith("💬") and QUESTION.split("{")[0] in message.text)
        )

    async def run(self) -> None:
        while True:
            message: BotMessage = await self.api.wait_until(self._next, timeout=3600)
            self.cursor += 1
            offer, invitation = is_offer(message), is_invitation(message)
            if offer:
                self.presses[offer] += 1
                await self.lotse.press(data=offer, message=message)
            elif invitation:
                event = int(invitation.split(":")[2])
                answer = f"ev:rsvp:{event}:{self.rsvp(event)}"
                await self.lotse.press(data=answer, message=message)
            else:
                name = message.text.split(QUESTION.split("{")[0], 1)[1].split(":")[0]
                await self.lotse.send_raw(
                    text=ANSWER.format(name=name), reply_to_message=message.raw
                )


async def refugee(user: FakeUser, plan: Plan, delay: float = 0.0, *, relay: bool = False) -> None:
    """Arrive after ``delay``, ask for a Lotse for the appointment; then perhaps ask the
    Lotse something through the bot and wait for the answer."""
    await asyncio.sleep(delay)
    language = user.data["language_code"]
    name = user.data["first_name"]
    await onboard(user, language)
    await ask_for_lotse(
        user, language, day=plan.appointment.date().isoformat(), time="0900", name=name
    )
    if not relay:
        return
    # The news of the Lotse may have been cut off by a kill (then it is not repeated).
    with contextlib.suppress(TimeoutError):
        await user.wait_for_text("🎉", timeout=4 * user.api.patience)
    seen = len(user.bot_messages())
    await user.send(QUESTION.format(name=name))
    # The confirmation names the case and the Lotse; in every language it starts with a tick.
    await user.wait_for_message(lambda m: m.text.startswith("✓"), after=seen)
    await user.wait_for_text(ANSWER.format(name=name))


# --------------------------------------------------------------------------- the checks


@dataclass
class Findings:
    """What the record and the database say, and every disagreement by kind."""

    integrity: str = ""
    requests: int = 0  # requests the bot confirmed to the person
    accepted: int = 0
    lost: list[str] = field(default_factory=list)  # a sent request not confirmed or stored
    not_accepted: list[str] = field(default_factory=list)
    double_assigned: list[str] = field(default_factory=list)
    duplicate_copies: list[str] = field(default_factory=list)  # anything received twice
    reminders_missed: list[str] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)  # any other disagreement
    counts: Counter[str] = field(default_factory=Counter)

    def problems(self) -> list[str]:
        integrity = [] if self.integrity == "ok" else [f"integrity_check: {self.integrity}"]
        return [
            *integrity,
            *self.lost,
            *self.double_assigned,
            *self.duplicate_copies,
            *self.reminders_missed,
            *self.wrong,
        ]

    def summary(self) -> str:
        c = self.counts
        pending = " (still pending)" if c["event reminders pending"] else ""
        return (
            f"request reminders {c['reminders done']} due and done, {c['reminders pending']} "
            f"pending, unconfirmed: {c['reminders unconfirmed']}; broadcast "
            f"{c['broadcast:sent']} sent, {c['broadcast:unconfirmed']} unconfirmed; "
            f"Stammtisch reminder {c['event:remind:sent']} sent{pending}"
        )


def check(
    db_path: Path,
    refugees: Iterable[FakeUser],
    lotsen: Iterable[FakeUser],
    everyone: Iterable[FakeUser],
    *,
    updates: int | None = None,
    due_by: datetime | None = None,
) -> Findings:
    """Compare the database with what arrived, for requests sent by ``refugees``.

    * every one of the ``updates`` the fake server handed out (ids 1 to ``updates``) was
      stored in the inbox and handled;
    * every sent request was confirmed and is stored once, accepted, with one Lotse, who
      alone got its details; the person heard of their Lotse once;
    * each side of each case got each due reminder exactly once, or it is still pending
      (a copy cut off by a kill mid-send is recorded as unconfirmed and not sent again);
      with ``due_by``, every reminder due before then must have been done;
    * nobody got a copy of a mailing (broadcast, Stammtisch or training notice) twice,
      everyone recorded as sent got exactly one, nobody recorded otherwise got one;
    * ``PRAGMA integrity_check`` says ``ok``.
    """
    found = Findings()
    refugees, lotsen = list(refugees), list(lotsen)
    chats = {u.id: u.bot_messages() for u in everyone}
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as conn:
        found.integrity = "\n".join(r[0] for r in conn.execute("PRAGMA integrity_check"))
        if updates is not None:
            _check_inbox(conn, found, updates)
        _check_requests(conn, found, refugees, lotsen, chats)
        _check_reminders(conn, found, chats, due_by)
        _check_mailings(conn, found, chats)
    return found


def _check_inbox(conn: sqlite3.Connection, found: Findings, updates: int) -> None:
    # Nothing Telegram handed over is lost: each update is stored, and handled (or given up
    # after repeated failures, which the log says).
    stored, handled = conn.execute(
        "SELECT count(*), count(done_at) FROM inbox WHERE update_id <= ?", (updates,)
    ).fetchone()
    if stored < updates:
        found.lost.append(f"{updates - stored} of {updates} updates never stored")
    if handled < stored:
        found.lost.append(f"{stored - handled} updates stored, never handled")
    found.counts["updates"] = updates


Row = tuple[int, int, str, int | None, str]


def _check_requests(
    conn: sqlite3.Connection,
    found: Findings,
    refugees: list[FakeUser],
    lotsen: list[FakeUser],
    chats: dict[int, list[BotMessage]],
) -> None:
    # No sent request lost, none twice, each in a legal state with at most one Lotse.
    confirmed = {
        u.id
        for u in refugees
        if any(
            m.text.startswith(asking_views.sent(t(u.data["language_code"])).text[:12])
            for m in chats[u.id]
        )
    }
    found.requests = len(confirmed)
    rows: list[Row] = conn.execute(
        f"SELECT r.id, {telegram_id_of('p')}, r.status, {telegram_id_of('lp')}, r.first_name "
        "FROM request r "
        "JOIN person p ON p.id = r.person_id LEFT JOIN person lp ON lp.id = r.lotse_id "
        "WHERE r.status <> 'draft'"
    ).fetchall()
    stored = Counter(row[1] for row in rows)
    for user in refugees:
        if user.id not in confirmed:
            found.lost.append(f"{user.id}: sent a request, never confirmed")
        elif not stored[user.id]:
            found.lost.append(f"{user.id}: request confirmed, not stored")
    for telegram_id, times in stored.items():
        if times > 1 or telegram_id not in confirmed:
            found.wrong.append(f"{telegram_id}: {times} requests stored, confirmed: no")
    found.accepted = sum(1 for row in rows if row[2] == "accepted")
    found.not_accepted += [f"#{r[0]}: {r[2]}" for r in rows if r[2] != "accepted"]
    for (request_id,) in conn.execute(
        "SELECT request_id FROM offer WHERE status = 'accepted' "
        "GROUP BY request_id HAVING count(*) > 1"
    ):
        found.double_assigned.append(f"#{request_id}: two accepted offers")
    for (request_id,) in conn.execute(
        "SELECT r.id FROM request r LEFT JOIN offer o ON o.request_id = r.id "
        "AND o.status = 'accepted' WHERE r.status = 'accepted' AND r.lotse_id IS NOT o.lotse_id"
    ):
        found.double_assigned.append(f"#{request_id}: the case's Lotse is not the one accepted")

    # The person heard of their Lotse once; only the winner got the case's details.
    news = dict(
        ((r, side), status)
        for r, side, status in conn.execute(
            "SELECT request_id, side, status FROM case_notice WHERE what = 'accepted'"
        )
    )
    details: dict[str, list[int]] = {}
    for lotse in lotsen:
        for m in chats[lotse.id]:
            if m.text.startswith("✅"):
                details.setdefault(m.text, []).append(lotse.id)
    for request_id, person, status, lotse_id, name in rows:
        if status != "accepted" or lotse_id is None:
            continue
        heard = sum(1 for m in chats[person] if m.text.startswith("🎉"))
        got = [chat for text, ids in details.items() if name in text for chat in ids]
        if any(chat != lotse_id for chat in got):
            found.double_assigned.append(f"#{request_id}: another Lotse got the details")
        for side, times in (("person", heard), ("lotse", got.count(lotse_id))):
            if times > 1:
                found.duplicate_copies.append(f"#{request_id}: {side} told {times} times")
            elif times == 0 and news.get((request_id, side)) == "sending":
                found.counts["acceptance news cut off"] += 1  # perhaps arrived: not repeated
            elif times == 0:
                found.wrong.append(f"#{request_id}: the {side} never heard of the acceptance")


def _check_reminders(
    conn: sqlite3.Connection,
    found: Findings,
    chats: dict[int, list[BotMessage]],
    due_by: datetime | None,
) -> None:
    # Each side of each case got each due reminder exactly once, or it is still pending; a
    # copy cut off mid-send is unconfirmed and never sent again.
    timers = conn.execute(
        "SELECT subject, kind, due_at, done_at IS NOT NULL FROM timer "
        "WHERE kind GLOB 'request:remind:*'"
    ).fetchall()
    notices = {
        (r, f"request:{what}", side): status
        for r, what, side, status in conn.execute(
            "SELECT request_id, what, side, status FROM case_notice"
        )
    }
    cases = conn.execute(
        f"SELECT r.id, {telegram_id_of('p')}, {telegram_id_of('lp')}, r.first_name FROM request r "
        "JOIN person p ON p.id = r.person_id JOIN person lp ON lp.id = r.lotse_id "
        "WHERE r.status = 'accepted'"
    ).fetchall()
    by_case: dict[int, list[tuple[str, str, bool]]] = {}
    for subject, kind, due_at, done in timers:
        by_case.setdefault(subject, []).append((kind, due_at, bool(done)))
    cutoff = to_db(due_by) if due_by is not None else None
    for request_id, person, lotse, name in cases:
        slots = by_case.get(request_id, [])
        for side, chat, about in (("person", person, None), ("lotse", lotse, name)):
            got = sum(
                1
                for m in chats[chat]
                if m.text.startswith("⏰")
                and any(d.startswith("att:") for d in data_of(m))
                and (about is None or about in m.text)
            )
            statuses = [notices.get((request_id, kind, side)) for kind, _, _ in slots]
            sure = statuses.count("sent")
            maybe = statuses.count("sending")  # cut off by a kill: perhaps arrived
            if got < sure:
                found.reminders_missed.append(f"#{request_id} {side}: {got} of {sure} arrived")
            if got > sure + maybe:
                found.duplicate_copies.append(f"#{request_id} {side}: {got} reminders, {sure}")
            for kind, _, done in slots:
                if done and notices.get((request_id, kind, side)) not in ("sent", "sending"):
                    found.reminders_missed.append(f"#{request_id} {side}: {kind} done, not sent")
            found.counts["reminders unconfirmed"] += maybe
        for kind, due_at, done in slots:
            if not done and cutoff is not None and due_at <= cutoff:
                found.reminders_missed.append(f"#{request_id}: {kind} due, never done")
        found.counts["reminders done"] += sum(done for _, _, done in slots)
        found.counts["reminders pending"] += sum(not done for _, _, done in slots)
    found.counts["reminders sent"] = sum(
        1 for (_, what, _), status in notices.items() if "remind" in what and status == "sent"
    )


def _check_mailings(
    conn: sqlite3.Connection, found: Findings, chats: dict[int, list[BotMessage]]
) -> None:
    # Nobody got a copy twice; everyone recorded as sent got exactly one, nobody else any.
    broadcasts = {i: text for i, text in conn.execute("SELECT id, text FROM broadcast") if text}
    mailings = {
        i: (kind, subject, variant.split(":")[0])
        for i, kind, subject, variant in conn.execute(
            "SELECT id, kind, subject, variant FROM mailing"
        )
    }
    expected: dict[tuple[tuple[str, int, str], int], list[int]] = {}  # [sent, perhaps]
    for mailing_id, telegram_id, status in conn.execute(
        f"SELECT d.mailing_id, {telegram_id_of('p')}, d.status FROM delivery d "
        "JOIN person p ON p.id = d.person_id"
    ):
        key = mailings[mailing_id]
        label = "broadcast" if key[0] == "broadcast" else f"{key[0]}:{key[2]}"
        found.counts[f"{label}:{status}"] += 1
        slot = expected.setdefault((key, telegram_id), [0, 0])
        if status == "sent":
            slot[0] += 1
        elif status in ("unconfirmed", "sending"):
            slot[1] += 1
    subjects: dict[str, set[int]] = {}
    for kind, subject, _ in mailings.values():
        subjects.setdefault(kind, set()).add(subject)
    got: Counter[tuple[tuple[str, int, str], int]] = Counter()
    for telegram_id, messages in chats.items():
        for message in messages:
            copy = mailing_of(message, broadcasts)
            if copy is None:
                continue
            kind, subject, what = copy
            if subject is None:  # the only one of its kind, or unknown (-1)
                only = subjects.get(kind, set())
                subject = next(iter(only)) if len(only) == 1 else -1
            got[(kind, subject, what), telegram_id] += 1
    for pair in set(expected) | set(got):
        (kind, subject, what), telegram_id = pair
        sent, perhaps = expected.get(pair, [0, 0])
        where = f"{kind} {subject} {what} to {telegram_id}"
        if got[pair] > max(1, sent + perhaps):
            found.duplicate_copies.append(f"{where}: {got[pair]} copies")
        elif got[pair] > sent + perhaps:
            found.wrong.append(f"{where}: arrived, recorded as not sent")
        elif got[pair] < sent:
            found.wrong.append(f"{where}: recorded as sent, {got[pair]} of {sent} arrived")
    found.counts["event reminders pending"] = conn.execute(
        "SELECT count(*) FROM timer WHERE kind = 'event:remind' AND done_at IS NULL"
    ).fetchone()[0]


def relays(
    refugees: Iterable[FakeUser], lotsen: Iterable[FakeUser]
) -> tuple[int, list[str], list[str]]:
    """Questions and answers passed through the bot: (how many, lost ones, repeated ones)."""
    lost: list[str] = []
    repeated: list[str] = []
    to_lotsen = [m.text for u in lotsen for m in u.bot_messages() if m.text.startswith("💬")]
    count = 0
    for user in refugees:
        name = user.data["first_name"]
        own = [m.text for m in user.bot_messages() if m.text.startswith("💬")]
        for where, texts, sample in (
            ("question", to_lotsen, QUESTION.format(name=name)),
            ("answer", own, ANSWER.format(name=name)),
        ):
            count += 1
            times = sum(1 for text in texts if sample in text)
            if times == 0:
                lost.append(f"{where} of {name}")
            elif times > 1:
                repeated.append(f"{where} of {name}: {times} times")
    return count, lost, repeated
