"""Durable intake of Signal: each event of the stream is stored before it is handled.

signal-cli (``--receive-mode=on-connection``) hands a message over once, on the open event
stream, and Signal's servers forget it. Here the stream is read without waiting for the
database: what it has ready is stored in one statement, one transaction (the inbox,
``stamped_inbox``, keyed by sender and timestamp, so an event delivered twice is handled
once), and only then handled; handling runs per chat in order, different chats at once; each
event is marked done afterwards, and on start whatever is left is handled first. Events read
but not stored when the intake is stopped are stored before it ends.

The window that remains: an event signal-cli has written to the stream but the bot has not
yet stored (a crash between the two) is lost; ``tests/test_chaos.py`` measures it. Under
load it is the time of one write (the events that came meanwhile share the next), no
longer one write per event queued before it.

A database that cannot write (a full disk, an I/O error) drops nothing: what cannot be stored
waits in memory and is stored as soon as it can (:meth:`SignalIntake._store`); an event
whose handling met such a fault is handled again, whole, and its marks are retried until
stored, before that chat's next event starts. Nobody is answered meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Sequence
from datetime import timedelta

from bot.clock import Clock
from bot.domain.people import Contact
from bot.services import Services
from bot.storage.database import storage_fault
from bot.storage.inbox import MenuRepository, StampedInbox
from channels.signal.inputs import CHANNEL, READ_AT, Received, dump_inputs, inputs_of, received
from channels.signal.messenger import Coalescing, SignalMessenger
from channels.signal.rpc import Event, SignalRPC
from channels.signal.store import AttachmentStore
from handlers.outages import Backoff, HandlingFault, handling_fault, pause, until_stored
from handlers.port import DeliveryError, Input
from handlers.router import Router

__all__ = ["SignalIntake"]

log = logging.getLogger(__name__)

_KEEP_DONE = timedelta(days=1)
_KEEP_MENUS = timedelta(days=30)
#: At most this many events are stored with one statement.
_BATCH = 200


class SignalIntake:
    """Read, store and dispatch the events of signal-cli's stream."""

    def __init__(
        self,
        client: SignalRPC,
        inbox: StampedInbox,
        menus: MenuRepository,
        router: Router,
        messenger: SignalMessenger,
        services: Services,
        clock: Clock,
        account: str,
        *,
        store: AttachmentStore | None = None,
        max_attempts: int = 3,
        tidy_every: float = 3600.0,
        max_held: int = 1000,
    ) -> None:
        self.rpc = client
        self.inbox = inbox
        self.menus = menus
        self.router = router
        self.messenger = messenger
        self.services = services
        self.clock = clock
        self.account = account
        self.store = store
        self.max_attempts = max_attempts
        self.tidy_every = tidy_every
        #: At most this many events wait in memory for the database (see :meth:`_store`).
        self.max_held = max_held
        self._held: deque[tuple[Received, str]] = deque()
        self._storing: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._tails: dict[str, asyncio.Task[None]] = {}
        self._in_flight: set[asyncio.Task[None]] = set()
        #: Handles, one at a time, what was being handled when the last run died; nothing
        #: else begins until it is done (see :meth:`_resume`).
        self._suspects: asyncio.Task[None] | None = None

    async def run(self, stop: asyncio.Event) -> None:
        """Handle leftovers, then read the stream until ``stop`` is set; finish what is in
        hand."""
        self._stopping = stop
        await self._prune()
        await self._resume()
        events = self.rpc.events()
        # The events read, in order; None once ``stop`` is set or the stream's reader ended.
        ready: asyncio.Queue[Event | None] = asyncio.Queue()
        reading = asyncio.create_task(_read(events, ready))
        stopping = asyncio.create_task(_end_when(stop, ready))
        tidying = asyncio.create_task(self._keep_tidy(stop))
        try:
            ended = False
            while not ended:
                # The next event and what the stream has ready besides: one transaction.
                batch = [await ready.get()]
                while not ready.empty() and len(batch) < _BATCH:
                    batch.append(ready.get_nowait())
                if None in batch:
                    ended, batch = True, batch[: batch.index(None)]
                await self.accept([e for e in batch if e is not None])
            if reading.done() and not reading.cancelled():
                reading.result()  # the stream's reader failed: so does the intake
        finally:
            stopping.cancel()
            tidying.cancel()
            reading.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reading
            await events.aclose()
            # Read but not stored yet: stored now, so that the next start handles it.
            left = [e for e in (ready.get_nowait() for _ in range(ready.qsize())) if e is not None]
            if left:
                await self.accept(left)
            if self._storing is not None:
                await self._storing
            await self.drain()

    async def accept(self, events: Sequence[Event]) -> None:
        """Store events durably, all in one transaction, and dispatch those that are new (in
        the order they came)."""
        pairs = [
            (m, json.dumps(e.envelope, ensure_ascii=False))
            for e in events
            if (m := received(e.envelope)) is not None
        ]
        if pairs:  # receipts, typing, reactions, sync messages: nothing to handle
            await self._store(pairs)

    async def _store(self, pairs: list[tuple[Received, str]]) -> None:
        """Store events and dispatch those that are new.

        When the database cannot write (a full disk, an I/O error), the events are not
        dropped: they wait in memory, and every event after them too (in order), while a task
        stores them with jittered backoff; once stored, each is dispatched as if it had just
        arrived. The outage is logged and the coordinators told as for Telegram. Once
        :attr:`max_held` events wait, the intake takes no more from the stream's queue until
        they are stored (the stream is still read into it, in memory). What waits in memory
        is lost if the process dies too (or is stopped) before the disk writes again:
        signal-cli has handed those events over and Signal's servers have forgotten them;
        their senders see them delivered and get no answer.
        """
        storage = self.router.storage
        if not self._held:
            try:
                stored = await self._write(pairs)
            except Exception as exc:
                fault = storage_fault(exc)
                if fault is None:
                    raise
                storage.failed(fault)
            else:
                storage.succeeded()
                self._dispatch_new(pairs, stored)
                return
        self._held.extend(pairs)
        if self._storing is None:
            self._storing = asyncio.create_task(self._store_held())
        if len(self._held) >= self.max_held:
            await asyncio.shield(self._storing)

    async def _write(self, pairs: list[tuple[Received, str]]) -> list[int | None]:
        rows = [(message.sender, message.stamp, payload) for message, payload in pairs]
        return await self.inbox.store(rows, self.clock.now())

    def _dispatch_new(self, pairs: list[tuple[Received, str]], stored: list[int | None]) -> None:
        for (message, _), event_id in zip(pairs, stored, strict=True):
            if event_id is not None:
                self._dispatch(event_id, message)

    async def _store_held(self) -> None:
        """Store the events waiting in memory, oldest first, until none is left."""
        backoff = Backoff(0.5, cap=30.0)
        try:
            while self._held:
                await pause(self._stopping, backoff.next())
                pairs = list(self._held)[:_BATCH]
                try:
                    stored = await self._write(pairs)
                except Exception as exc:
                    self.router.storage.failed(storage_fault(exc) or type(exc).__name__)
                    if self._stopping.is_set():
                        log.error(
                            "%d Signal event(s) could not be stored before the bot stopped; "
                            "they are lost",
                            len(self._held),
                        )
                        self._held.clear()
                    continue
                self.router.storage.succeeded()
                backoff.reset()
                for _ in pairs:
                    self._held.popleft()
                self._dispatch_new(pairs, stored)
        finally:
            self._storing = None

    async def drain(self, timeout: float = 25.0) -> None:
        """Wait for the events in hand; whatever does not finish stays in the inbox."""
        if self._in_flight:
            await asyncio.wait(set(self._in_flight), timeout=timeout)

    async def _resume(self) -> None:
        left, given_up = await self.inbox.take_leftovers(self.max_attempts, self.clock.now())
        if given_up:
            log.error(
                "gave up %d Signal event(s) that failed %d times", given_up, self.max_attempts
            )
        if left:
            log.info("handling %d Signal event(s) left from the previous run", len(left))
        suspects: list[tuple[int, Received]] = []
        waiting: list[tuple[int, Received]] = []
        for event_id, payload, tries in left:
            message = received(json.loads(payload))
            if message is None:
                await self.inbox.mark_done(event_id, self.clock.now())
            else:
                (suspects if tries else waiting).append((event_id, message))
        # As on Telegram: what was being handled when the last run died first, one at a
        # time, so that an event that takes the process down is the only one counted against.
        if suspects:
            self._suspects = asyncio.create_task(self._one_by_one(suspects))
            self._in_flight.add(self._suspects)
            self._suspects.add_done_callback(self._in_flight.discard)
        for event_id, message in waiting:
            self._dispatch(event_id, message)

    async def _one_by_one(self, events: list[tuple[int, Received]]) -> None:
        for event_id, message in events:
            await self._handle(event_id, message, None)

    def _dispatch(self, event_id: int, message: Received) -> None:
        chat = message.sender
        task = asyncio.create_task(self._handle(event_id, message, self._tails.get(chat)))
        self._tails[chat] = task
        self._in_flight.add(task)

        def done(finished: asyncio.Task[None]) -> None:
            self._in_flight.discard(finished)
            if self._tails.get(chat) is finished:
                del self._tails[chat]

        task.add_done_callback(done)

    async def _handle(
        self, event_id: int, message: Received, previous: asyncio.Task[None] | None
    ) -> None:
        if previous is not None:
            await asyncio.wait({previous})
        suspects = self._suspects
        if suspects is not None and asyncio.current_task() is not suspects:
            await asyncio.wait({suspects})
        storage, stopping = self.router.storage, self._stopping
        try:
            inputs = message.read_as
            if inputs is None:
                # Read after the chat's earlier messages were handled: a number answers the
                # screens they brought. Kept with the event, so that handling it again
                # after a crash reads it the same way.
                known = await self.menus.latest(message.sender) is not None or (
                    await self.services.people.find(Contact(CHANNEL, message.sender)) is not None
                )
                inputs = await inputs_of(message, self.account, self.menus, known=known)
                read = dump_inputs(inputs)
                await until_stored(lambda: self.inbox.begin(event_id, read), storage, stopping)
            else:
                await until_stored(lambda: self.inbox.begin(event_id), storage, stopping)
        except Exception as exc:  # the database itself failed: the event stays stored
            log.error("could not read Signal event %d (%s)", event_id, type(exc).__name__)
            return
        while not await self._handled(inputs) and not stopping.is_set():
            await storage.over(stopping)  # then handled again, whole
        try:
            await until_stored(
                lambda: self.inbox.mark_done(event_id, self.clock.now()), storage, stopping
            )
        except Exception as exc:
            log.error("could not mark Signal event %d as done (%s)", event_id, type(exc).__name__)

    async def _handled(self, inputs: list[Input]) -> bool:
        """Hand the inputs to the router; False if the database could not write meanwhile
        (nobody was answered then, and they are to be handled again)."""
        fault = HandlingFault()
        token = handling_fault.set(fault)
        try:
            if len(inputs) > 1:
                # Several numbers in one message: one answer, with the screen's last state.
                batch = Coalescing(self.messenger)
                for input in inputs:
                    await self.router.dispatch(input, batch)
                    if fault.storage:
                        return False
                try:
                    await batch.flush()
                except DeliveryError as exc:
                    log.warning("could not show a screen's new state: %s", type(exc).__name__)
            else:
                for input in inputs:
                    # What handlers raise is caught and reported by the router.
                    await self.router.dispatch(input, self.messenger)
        finally:
            handling_fault.reset(token)
        return not fault.storage

    async def _keep_tidy(self, stop: asyncio.Event) -> None:
        """Prune every :attr:`tidy_every` seconds until ``stop``."""
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), timeout=self.tidy_every)
            except TimeoutError:
                try:
                    await self._prune()
                except Exception as exc:  # the next round tries again
                    log.error("could not tidy the Signal inbox (%s)", type(exc).__name__)

    async def _prune(self) -> None:
        """Forget handled events and old screens; erase the files nothing needs."""
        now = self.clock.now()
        await self.inbox.prune(now - _KEEP_DONE)
        await self.menus.prune(now - _KEEP_MENUS)
        if self.store is not None:
            needed = await self.inbox.files_in_use()
            await asyncio.to_thread(self.store.sweep, needed)


async def _read(events: AsyncIterator[Event], ready: asyncio.Queue[Event | None]) -> None:
    """Hand each event of the stream over as soon as it is read, whether or not those before
    are stored yet; None when the stream ends."""
    try:
        async for event in events:
            # When it came, on this machine's clock: which screen a typed number answers.
            event.envelope.setdefault(READ_AT, int(time.time() * 1000))
            ready.put_nowait(event)
    finally:
        ready.put_nowait(None)


async def _end_when(stop: asyncio.Event, ready: asyncio.Queue[Event | None]) -> None:
    await stop.wait()
    ready.put_nowait(None)
