"""Durable intake of Signal: each event of the stream is stored before it is handled.

signal-cli (``--receive-mode=on-connection``) hands a message over once, on the open event
stream, and Signal's servers forget it. Here each message is written to the inbox
(``stamped_inbox``, keyed by sender and timestamp, so an event delivered twice is handled
once) before it is handled; handling runs per chat in order, different chats at once; each
event is marked done afterwards, and on start whatever is left is handled first.

The window that remains: an event signal-cli has written to the stream but the bot has not
yet stored (a crash between the two) is lost; ``tests/test_chaos.py`` measures it (tens of
milliseconds under load: reading the stream waits for each event's write).

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
from collections import deque
from datetime import timedelta

from bot.clock import Clock
from bot.domain.people import Contact
from bot.services import Services
from bot.storage.database import storage_fault
from bot.storage.inbox import MenuRepository, StampedInbox
from channels.signal.inputs import CHANNEL, Received, dump_inputs, inputs_of, received
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

    async def run(self, stop: asyncio.Event) -> None:
        """Handle leftovers, then read the stream until ``stop`` is set; finish what is in
        hand."""
        self._stopping = stop
        await self._prune()
        await self._resume()
        events = self.rpc.events()
        stopping = asyncio.create_task(stop.wait())
        tidying = asyncio.create_task(self._keep_tidy(stop))
        try:
            while not stop.is_set():
                following = asyncio.ensure_future(anext(events))
                await asyncio.wait({following, stopping}, return_when=asyncio.FIRST_COMPLETED)
                if stop.is_set():
                    following.cancel()
                    with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
                        await following
                    break
                await self.accept(following.result())
        finally:
            stopping.cancel()
            tidying.cancel()
            await events.aclose()
            if self._storing is not None:
                await self._storing
            await self.drain()

    async def accept(self, event: Event) -> None:
        """Store one event durably and dispatch it if it is new."""
        message = received(event.envelope)
        if message is None:
            return  # receipts, typing, reactions, sync messages: nothing to handle
        payload = json.dumps(event.envelope, ensure_ascii=False)
        await self._store(message, payload)

    async def _store(self, message: Received, payload: str) -> None:
        """Store an event and dispatch it if it is new.

        When the database cannot write (a full disk, an I/O error), the event is not dropped:
        it waits in memory, and every event after it too (in order), while a task stores
        them with jittered backoff; once one is stored, each is dispatched as if it had just
        arrived. The outage is logged and the coordinators told as for Telegram. At most
        :attr:`max_held` events wait: then the stream is read no further until they are
        stored (signal-cli keeps what follows). What waits in memory is lost if the process
        dies too (or is stopped) before the disk writes again: signal-cli has handed those
        events over and Signal's servers have forgotten them; their senders see them
        delivered and get no answer.
        """
        storage = self.router.storage
        if not self._held:
            try:
                stored = await self.inbox.store(
                    message.sender, message.stamp, payload, self.clock.now()
                )
            except Exception as exc:
                fault = storage_fault(exc)
                if fault is None:
                    raise
                storage.failed(fault)
            else:
                storage.succeeded()
                if stored is not None:
                    self._dispatch(stored, message)
                return
        self._held.append((message, payload))
        if self._storing is None:
            self._storing = asyncio.create_task(self._store_held())
        if len(self._held) >= self.max_held:
            await asyncio.shield(self._storing)

    async def _store_held(self) -> None:
        """Store the events waiting in memory, oldest first, until none is left."""
        backoff = Backoff(0.5, cap=30.0)
        try:
            while self._held:
                await pause(self._stopping, backoff.next())
                message, payload = self._held[0]
                try:
                    stored = await self.inbox.store(
                        message.sender, message.stamp, payload, self.clock.now()
                    )
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
                self._held.popleft()
                if stored is not None:
                    self._dispatch(stored, message)
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
        for event_id, payload in left:
            message = received(json.loads(payload))
            if message is None:
                await self.inbox.mark_done(event_id, self.clock.now())
            else:
                self._dispatch(event_id, message)

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
