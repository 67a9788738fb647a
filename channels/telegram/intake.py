"""Durable intake: fetch updates, store them, then handle them, per chat in order.

python-telegram-bot's Updater tells Telegram it has an update (the next ``getUpdates`` with a
higher ``offset``) before any handler ran, so a ``kill -9`` in between loses the update. Here
the batch is written to the inbox table first; only then is the next offset sent. Handling
runs from the inbox, each update is marked done afterwards, and on start whatever is left is
handled first. A redelivered ``update_id`` is recognised and not handled twice.

Outages are waited out here. A batch the database cannot store (a full disk, an I/O error)
is not confirmed: the same ``getUpdates`` is sent again, with jittered backoff, until it can
be stored, and Telegram keeps the updates meanwhile. An update whose handling met such a
fault is handled again, whole, once the database writes, and its marks are retried until
stored, before that chat's next update starts. When the Bot API cannot be reached, polling
(on a connection of its own) backs off with jitter up to a minute between tries.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from telegram import Update
from telegram.error import InvalidToken, NetworkError, RetryAfter, TelegramError

from bot.clock import Clock
from bot.storage.database import storage_fault
from bot.storage.inbox import InboxRepository
from channels.telegram.app import ALLOWED_UPDATES, LotsenApp
from channels.telegram.transport import AiohttpRequest
from handlers.outages import Backoff, HandlingFault, Outage, handling_fault, pause, until_stored

__all__ = ["Intake", "NotAnUpdate"]

log = logging.getLogger(__name__)

#: An update as Telegram sends it.
JSONDict = dict[str, Any]

_PRUNE_EVERY = timedelta(hours=1)
_KEEP_DONE = timedelta(days=1)


class NotAnUpdate(ValueError):
    """A body that is not an update; the message says why (never what it contained)."""


def _seconds(period: int | timedelta) -> float:
    return period.total_seconds() if isinstance(period, timedelta) else float(period)


def _chat_key(update: Update) -> int:
    """Updates with the same key are handled one after another, in order."""
    if update.effective_chat is not None:
        return update.effective_chat.id
    if update.effective_user is not None:
        return update.effective_user.id
    return -update.update_id


class _GroupWrite:
    """Marks that come in while one write is on its way go together in the next one.

    Each caller waits until its own mark is stored; under load one statement carries many
    (a group commit), instead of every update queueing for the write lock on its own.
    """

    def __init__(self, write: Callable[[list[int]], Awaitable[None]]) -> None:
        self._write = write
        self._pending: list[tuple[int, asyncio.Future[None]]] = []
        self._flusher: asyncio.Task[None] | None = None

    async def mark(self, item: int) -> None:
        done = asyncio.get_running_loop().create_future()
        self._pending.append((item, done))
        if self._flusher is None:
            self._flusher = asyncio.create_task(self._flush())
        await done

    async def _flush(self) -> None:
        try:
            while self._pending:
                batch, self._pending = self._pending, []
                try:
                    await self._write([item for item, _ in batch])
                except Exception as exc:  # each waiter sees its write fail
                    for _, done in batch:
                        if not done.done():
                            done.set_exception(exc)
                else:
                    for _, done in batch:
                        if not done.done():
                            done.set_result(None)
        finally:
            self._flusher = None


class Intake:
    """Fetch, store and dispatch updates; different chats are handled concurrently."""

    def __init__(
        self,
        app: LotsenApp,
        inbox: InboxRepository,
        clock: Clock,
        *,
        poll_timeout: int = 30,
        max_in_flight: int = 256,
        max_attempts: int = 3,
        api_outage: Outage | None = None,
        storage_outage: Outage | None = None,
    ) -> None:
        self.app = app
        self.api_outage = api_outage or Outage("the Bot API cannot be reached", "retrying")
        self.storage_outage = storage_outage or Outage("the database cannot write", "retrying")
        # Long polls have a connection of their own, and are retried here alone.
        self._poller = AiohttpRequest(connection_pool_size=1)
        self._stopping = asyncio.Event()
        self.inbox = inbox
        self.clock = clock
        self.poll_timeout = poll_timeout
        self.max_attempts = max_attempts
        self.max_in_flight = max_in_flight
        self._room = asyncio.Semaphore(max_in_flight)
        self._accepting = asyncio.Lock()
        self._tails: dict[int, asyncio.Task[None]] = {}
        self._in_flight: set[asyncio.Task[None]] = set()
        self._last_prune = clock.now()
        #: Handles, one at a time, what was being handled when the last run died; nothing
        #: else begins until it is done (see :meth:`_resume_leftovers`).
        self._suspects: asyncio.Task[None] | None = None
        self._begun = _GroupWrite(inbox.begin)
        self._done = _GroupWrite(lambda ids: inbox.mark_done(ids, clock.now()))

    async def resume(self) -> None:
        """At start: forget old handled updates and handle what the last run left."""
        await self.inbox.prune(self.clock.now() - _KEEP_DONE)
        await self._resume_leftovers()

    def stops_with(self, stop: asyncio.Event) -> None:
        """Retries while the database cannot write end when ``stop`` is set (the webhook's;
        :meth:`run` sets its own)."""
        self._stopping = stop

    def read(self, data: object) -> Update:
        """One update as Telegram sends it, read; :class:`NotAnUpdate` when ``data`` is not one.

        For bodies from outside (the webhook): an object with a whole-number ``update_id``
        that python-telegram-bot can read.
        """
        if not isinstance(data, dict):
            raise NotAnUpdate("not an object")
        update_id = data.get("update_id")
        if type(update_id) is not int or not 0 <= update_id < 2**63:
            raise NotAnUpdate("no whole-number update_id")
        try:
            return Update.de_json(data, self.app.bot)
        except (AttributeError, TypeError, KeyError, ValueError, OverflowError) as exc:
            raise NotAnUpdate(f"unreadable: {type(exc).__name__}") from exc

    async def accept(self, raw: Sequence[JSONDict], updates: Sequence[Update]) -> None:
        """Store updates durably and dispatch the new ones (the webhook's entry point):
        ``raw`` as Telegram sent them, ``updates`` as :meth:`read` read them.

        A database that cannot store them raises: the webhook answers an error, and Telegram
        sends the updates again later.
        """
        try:
            await self._accept(raw, updates)
            await self._maybe_prune()
        except Exception as exc:
            fault = storage_fault(exc)
            if fault is not None:
                self.storage_outage.failed(fault)
            raise
        self.storage_outage.succeeded()

    async def run(self, stop: asyncio.Event) -> None:
        """Handle leftovers, then poll until ``stop`` is set; finish what is in hand."""
        await self.resume()
        last = await self.inbox.last_update_id()
        offset = None if last is None else last + 1
        unreachable = Backoff(1.0, cap=60.0)
        unwritable = Backoff(0.5, cap=30.0)
        stopping = asyncio.create_task(stop.wait())
        self.stops_with(stop)
        await self._poller.initialize()
        try:
            while not stop.is_set():
                poll = asyncio.create_task(self._fetch(offset))
                await asyncio.wait({poll, stopping}, return_when=asyncio.FIRST_COMPLETED)
                if stop.is_set():
                    poll.cancel()
                    with contextlib.suppress(asyncio.CancelledError, TelegramError):
                        await poll
                    break
                try:
                    updates = poll.result()
                except InvalidToken:
                    raise
                except RetryAfter as exc:
                    await pause(stop, _seconds(exc.retry_after))
                    continue
                except (NetworkError, TelegramError) as exc:
                    self.api_outage.failed(type(exc).__name__)
                    await pause(stop, unreachable.next())
                    continue
                self.api_outage.succeeded()
                unreachable.reset()
                try:
                    if updates:
                        offset = await self._accept(updates)
                        # Only a write that was made tells that the database writes again.
                        self.storage_outage.succeeded()
                    await self._maybe_prune()
                except Exception as exc:
                    fault = storage_fault(exc)
                    if fault is None:
                        raise
                    # Not confirmed: the next getUpdates asks for the same updates again.
                    self.storage_outage.failed(fault)
                    await pause(stop, unwritable.next())
                    continue
                unwritable.reset()
        finally:
            stopping.cancel()
            await self.drain()
            await self._poller.shutdown()

    async def drain(self, timeout: float = 25.0) -> None:
        """Wait for the updates in hand; whatever does not finish stays in the inbox."""
        if self._in_flight:
            await asyncio.wait(set(self._in_flight), timeout=timeout)

    async def _fetch(self, offset: int | None) -> list[JSONDict]:
        """One long poll for updates, as Telegram sent them (stored as they are)."""
        bot = self.app.bot
        poller = self._poller
        # Right after an outage, a short poll: a long one would tell only at its end (up to
        # half a minute later) that the Bot API answers again, and the timers wait for that.
        timeout = 0 if self.api_outage.down else self.poll_timeout
        query: dict[str, object] = {
            "timeout": timeout,
            "allowed_updates": json.dumps(ALLOWED_UPDATES),
        }
        if offset is not None:
            query["offset"] = offset
        result = await poller.post(
            f"{bot.base_url}/getUpdates?{urlencode(query)}",
            read_timeout=timeout + (poller.read_timeout or 0),
        )
        return result if isinstance(result, list) else []

    async def _accept(
        self, raw: Sequence[JSONDict], updates: Sequence[Update] | None = None
    ) -> int:
        """Store a fetched batch durably, dispatch the new ones, return the next offset."""
        if updates is None:
            updates = [Update.de_json(data, self.app.bot) for data in raw]
        async with self._accepting:  # webhook requests come concurrently
            # The first update of each chat with nothing in hand starts at once (when there
            # is room for the whole batch): its attempt is counted in the same statement
            # that stores it.
            begun = set()
            if len(self._in_flight) + len(updates) <= self.max_in_flight:
                waiting = set(self._tails)
                for update in updates:
                    key = _chat_key(update)
                    if key not in waiting:
                        begun.add(update.update_id)
                        waiting.add(key)
            stored = await self.inbox.store(
                ((u.update_id, json.dumps(data)) for u, data in zip(updates, raw, strict=True)),
                self.clock.now(),
                begun,
            )
            fresh = set(stored)
            for update in updates:
                if update.update_id in fresh:
                    await self._dispatch(update, counted=update.update_id in begun)
        return updates[-1].update_id + 1

    async def _resume_leftovers(self) -> None:
        left, given_up = await self.inbox.take_leftovers(self.max_attempts, self.clock.now())
        if given_up:
            log.error("gave up %d update(s) that failed %d times", given_up, self.max_attempts)
        if left:
            log.info("handling %d update(s) left from the previous run", len(left))
        read = [
            (Update.de_json(json.loads(payload), self.app.bot), tries) for payload, tries in left
        ]
        # What was being handled when the last run died is handled first, one at a time, and
        # nothing else begins meanwhile: if one of them takes the process down again, only it
        # is counted against, not everything that happened to be handled with it.
        suspects = [update for update, tries in read if tries]
        if suspects:
            self._suspects = asyncio.create_task(self._one_by_one(suspects))
            self._in_flight.add(self._suspects)
            self._suspects.add_done_callback(self._in_flight.discard)
        for update, tries in read:
            if not tries:
                await self._dispatch(update)

    async def _one_by_one(self, updates: list[Update]) -> None:
        for update in updates:
            await self._handle(update, None, counted=False)

    async def _dispatch(self, update: Update, *, counted: bool = False) -> None:
        await self._room.acquire()  # bounds memory when a burst arrives
        key = _chat_key(update)
        task = asyncio.create_task(self._handle(update, self._tails.get(key), counted))
        self._tails[key] = task
        self._in_flight.add(task)

        def done(finished: asyncio.Task[None]) -> None:
            self._in_flight.discard(finished)
            self._room.release()
            if self._tails.get(key) is finished:
                del self._tails[key]

        task.add_done_callback(done)

    async def _handle(
        self, update: Update, previous: asyncio.Task[None] | None, counted: bool
    ) -> None:
        if previous is not None:
            await asyncio.wait({previous})
        suspects = self._suspects
        if suspects is not None and asyncio.current_task() is not suspects:
            await asyncio.wait({suspects})
        # Counted before handling: only an update whose handling began can be blamed for a
        # crash, not one that was merely waiting in the inbox when the process died.
        if not counted:
            await self._note(self._begun, update.update_id, "count an attempt at")
        while True:
            # What handlers raise is caught and reported by handlers.router.Router, which
            # notes here a database that could not write (and answers nobody).
            fault = HandlingFault()
            token = handling_fault.set(fault)
            try:
                await self.app.process_update(update)
            finally:
                handling_fault.reset(token)
            if not fault.storage or self._stopping.is_set():
                break
            await self.storage_outage.over(self._stopping)  # then handled again, whole
        # Done before the chat's next update starts, so that a crash never replays an
        # update after a later one of the same chat.
        await self._note(self._done, update.update_id, "mark as done")

    async def _note(self, marks: _GroupWrite, update_id: int, what: str) -> None:
        """Store an inbox mark, retried while the database cannot write (until stopped); a
        database that refuses it otherwise is logged, handling goes on."""
        try:
            await until_stored(lambda: marks.mark(update_id), self.storage_outage, self._stopping)
        except Exception as exc:  # the database itself failed: nothing to answer anyone
            name = getattr(exc, "sqlite_errorname", None) or type(exc).__name__
            log.error("could not %s update %d (%s)", what, update_id, name)

    async def _maybe_prune(self) -> None:
        now = self.clock.now()
        if now - self._last_prune >= _PRUNE_EVERY:
            self._last_prune = now
            await self.inbox.prune(now - _KEEP_DONE)
