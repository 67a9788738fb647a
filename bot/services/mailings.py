"""Send one message to many people: paced, recorded per recipient, resumed after a crash."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Protocol

from bot.clock import Clock
from bot.config import MailingRules
from bot.domain.mailings import (
    Audience,
    Delivered,
    DeliveryStatus,
    Mailing,
    MailingKind,
    MailingStatus,
    Progress,
    Recipient,
)
from bot.domain.people import Contact
from bot.domain.throttle import Throttle
from bot.logs import describe
from bot.services.notifier import Mailer
from bot.storage.mailings import MailingsRepository
from bot.storage.timers import TimersRepository

__all__ = ["MailingOwner", "MailingService"]

log = logging.getLogger(__name__)

_BATCH = 500
_NETWORK_RETRY = 10.0


class MailingOwner(Protocol):
    """The service a mailing belongs to: it knows what to say and to whom."""

    async def content(self, mailing: Mailing) -> object | None:
        """What the mailing carries (None: its subject is gone, nothing to send)."""

    async def audience(self, mailing: Mailing) -> Audience:
        """Who a scheduled mailing goes to, asked when it begins."""


class MailingService:
    """Deliver mailings under each messenger's limits, exactly once per recipient where
    knowable.

    Every copy is claimed (``sending``) in the database before it goes out and settled after.
    After a crash, copies still ``sending`` are *unconfirmed*: they may have arrived, so they
    are not sent again; everything else resumes where it stopped.
    """

    def __init__(
        self,
        repo: MailingsRepository,
        timers: TimersRepository,
        mailer: Mailer | None,
        rules: MailingRules,
        clock: Clock,
    ) -> None:
        """``mailer`` None: this process only records mailings (the command line); the
        running bot picks them up and sends them."""
        self.repo = repo
        self.timers = timers
        self.mailer = mailer
        self.rules = rules
        self.clock = clock
        #: One pace per messenger, each against its own limits.
        self._throttles: dict[str, Throttle] = {}
        self._owners: dict[MailingKind, MailingOwner] = {}
        self._running: dict[int, asyncio.Task[None]] = {}
        self._stopping = asyncio.Event()

    def throttle(self, channel: str) -> Throttle:
        """The pace of mass messages on ``channel``."""
        if channel not in self._throttles:
            self._throttles[channel] = Throttle(
                self.rules.rate(channel), account_wide=self.rules.account_wide(channel)
            )
        return self._throttles[channel]

    @property
    def _mail(self) -> Mailer:
        assert self.mailer is not None  # _launch never starts a run without one
        return self.mailer

    def register(self, kind: MailingKind, owner: MailingOwner) -> None:
        """Let ``owner`` provide the content and audience of mailings of ``kind``."""
        self._owners[kind] = owner

    async def send(
        self,
        kind: MailingKind,
        subject: int,
        variant: str,
        audience: Audience,
        *,
        send_at: datetime | None = None,
        report_to: Contact | None = None,
    ) -> Mailing | None:
        """Record a mailing and start it (or schedule it); None if it existed already."""
        mailing = await self.repo.create(
            kind,
            subject,
            variant,
            audience,
            self.clock.now(),
            send_at=send_at,
            report_to=report_to,
        )
        if mailing is not None:
            self.launch(mailing)
        return mailing

    async def count(self, audience: Audience) -> int:
        """How many people an audience reaches now."""
        return await self.repo.count(audience)

    async def get(self, mailing_id: int) -> Mailing | None:
        """One mailing."""
        return await self.repo.get(mailing_id)

    async def find(self, kind: MailingKind, subject: int, variant: str) -> Mailing | None:
        """The mailing of ``subject`` with ``variant``."""
        return await self.repo.find(kind, subject, variant)

    async def scheduled(self, kind: MailingKind) -> list[Mailing]:
        """Mailings of ``kind`` waiting for their time."""
        return await self.repo.with_status(MailingStatus.SCHEDULED, kind)

    async def recent(self, kind: MailingKind, limit: int = 20) -> list[Mailing]:
        """The newest mailings of ``kind``, newest first."""
        return await self.repo.recent(kind, limit)

    async def cancel(self, mailing_id: int) -> bool:
        """Cancel a scheduled mailing before it starts."""
        if not await self.repo.cancel(mailing_id):
            return False
        await self.timers.cancel("mailing:*", mailing_id)
        return True

    async def progress(self, mailing_id: int) -> Progress:
        """How far a mailing has come."""
        return await self.repo.progress(mailing_id)

    async def message_of(self, mailing: Mailing, person_id: int) -> int | None:
        """The message a person received from ``mailing``."""
        return await self.repo.message_of(mailing.id, person_id)

    async def resend_unconfirmed(self, mailing_id: int) -> int:
        """Send the unconfirmed copies again (the coordinator accepts possible doubles)."""
        count = await self.repo.resend_unconfirmed(mailing_id)
        if count:
            self._launch(mailing_id)
        return count

    async def on_timer(self, what: str, mailing_id: int, due: datetime, now: datetime) -> None:
        """``mailing:send``: a scheduled mailing's time has come."""
        mailing = await self.repo.get(mailing_id)
        if what != "send" or mailing is None or mailing.status is not MailingStatus.SCHEDULED:
            return
        owner = self._owners[mailing.kind]
        if await self.repo.begin(mailing_id, await owner.audience(mailing), now):
            self._launch(mailing_id)

    # ------------------------------------------------------------------ running

    async def resume(self) -> int:
        """At start: settle what the last process left half-sent, continue every mailing."""
        unconfirmed = await self.repo.unconfirm_interrupted()
        if unconfirmed:
            log.warning(
                "%d message(s) were being sent when the bot stopped; they are marked "
                "unconfirmed and not sent again",
                unconfirmed,
            )
        running = await self.repo.with_status(MailingStatus.SENDING)
        for mailing in running:
            self._launch(mailing.id)
        return len(running)

    async def stop(self, timeout: float = 20.0) -> None:
        """Finish the copies in flight, start no new ones; the rest resumes at next start."""
        self._stopping.set()
        tasks = [t for t in self._running.values() if not t.done()]
        if tasks:
            await asyncio.wait(tasks, timeout=timeout)

    async def wait_idle(self) -> None:
        """Wait until no mailing is running (tests, the demo)."""
        while tasks := [t for t in self._running.values() if not t.done()]:
            await asyncio.wait(tasks)

    def launch(self, mailing: Mailing) -> None:
        """Start sending a mailing recorded by another service (scheduled ones wait)."""
        if mailing.status is MailingStatus.SENDING:
            self._launch(mailing.id)

    async def pick_up(self) -> None:
        """Start mailings another process recorded (e.g. ``lotsenbot event cancel``)."""
        for mailing in await self.repo.with_status(MailingStatus.SENDING):
            self._launch(mailing.id)

    def _launch(self, mailing_id: int) -> None:
        if self.mailer is None:
            return
        task = self._running.get(mailing_id)
        if task is not None and not task.done():
            return
        self._running[mailing_id] = asyncio.create_task(self._run(mailing_id))

    async def _run(self, mailing_id: int) -> None:
        mailing = await self.repo.get(mailing_id)
        if mailing is None or self.mailer is None:
            return
        content = await self._owners[mailing.kind].content(mailing)
        delivered = asyncio.Event()
        reporter = None
        if mailing.report_to is not None:
            reporter = asyncio.create_task(self._report_loop(mailing, content, delivered))
        try:
            await self._deliver_all(mailing, content)
        except Exception as exc:
            log.error(
                "mailing %s stopped by %s; it resumes at the next start",
                mailing_id,
                describe(exc),
            )
            return
        finally:
            delivered.set()
            if reporter is not None:
                await reporter
        if self._stopping.is_set():
            return
        # The final report comes before the mailing is marked done: if the process dies in
        # between, the next start shows it again (an edit of the same message), instead of
        # never.
        finished = self.clock.now()
        if mailing.report_to is not None:
            loop = asyncio.get_running_loop()
            slot = self.throttle(mailing.report_to.channel).reserve(mailing.report_to, loop.time())
            await asyncio.sleep(max(0.0, slot - loop.time()))
            fresh = replace(await self.repo.get(mailing_id) or mailing, finished_at=finished)
            await self._mail.report(fresh, content, await self.repo.progress(mailing_id), True)
        await self.repo.finish(mailing_id, finished)

    async def _deliver_all(self, mailing: Mailing, content: object | None) -> None:
        while not self._stopping.is_set():
            batch = await self.repo.pending(mailing.id, self.clock.now(), _BATCH)
            if not batch:
                count, retry_at = await self.repo.waiting(mailing.id)
                if count == 0:
                    return
                wait = (retry_at - self.clock.now()).total_seconds() if retry_at else 0.0
                await self._pause(min(max(wait, 0.05), 5.0))
                continue
            if content is None:  # the subject is gone: nothing to say
                for recipient in batch:
                    if await self.repo.claim(mailing.id, recipient.person_id):
                        await self._settle(mailing, recipient, Delivered(DeliveryStatus.FAILED))
                continue
            # Each messenger at its own pace, at the same time: a slow one holds up no other.
            queues: dict[str, asyncio.Queue[Recipient]] = {}
            for recipient in batch:
                channel = recipient.contact.channel
                queues.setdefault(channel, asyncio.Queue()).put_nowait(recipient)
            await asyncio.gather(
                *(
                    self._sender(mailing, content, queue, self.throttle(channel))
                    for channel, queue in queues.items()
                    for _ in range(min(self.rules.senders_on(channel), queue.qsize()))
                )
            )

    async def _sender(
        self,
        mailing: Mailing,
        content: object,
        queue: asyncio.Queue[Recipient],
        throttle: Throttle,
    ) -> None:
        loop = asyncio.get_running_loop()
        while not queue.empty() and not self._stopping.is_set():
            recipient = queue.get_nowait()
            slot = throttle.reserve(recipient.contact, loop.time())
            if slot > loop.time():
                await asyncio.sleep(slot - loop.time())
            while (wait := throttle.admit(loop.time())) > 0:  # noqa: ASYNC110 - a clock, not an event
                await asyncio.sleep(wait)
            try:
                if self._stopping.is_set():
                    return
                if not await self.repo.claim(mailing.id, recipient.person_id):
                    continue
                try:
                    result = await self._mail.deliver(mailing, content, recipient)
                except Exception as exc:
                    log.error(
                        "a copy of mailing %s could not be rendered or sent: %s",
                        mailing.id,
                        describe(exc),
                    )
                    result = Delivered(DeliveryStatus.PENDING, retry_after=_NETWORK_RETRY)
            finally:
                throttle.answered(loop.time())
            if result.status is DeliveryStatus.PENDING and result.retry_after:
                throttle.slow_down(result.retry_after, loop.time())
            await self._settle(mailing, recipient, result)

    async def _settle(self, mailing: Mailing, recipient: Recipient, result: Delivered) -> None:
        now = self.clock.now()
        retry_at = now + timedelta(seconds=result.retry_after or _NETWORK_RETRY)
        await self.repo.record(
            mailing.id,
            recipient.person_id,
            result,
            now,
            retry_at=retry_at,
            max_attempts=self.rules.max_attempts,
            to=recipient.contact,
        )

    async def _report_loop(
        self, mailing: Mailing, content: object | None, delivered: asyncio.Event
    ) -> None:
        loop = asyncio.get_running_loop()
        while not delivered.is_set():
            assert mailing.report_to is not None
            # The progress message counts against the coordinator's per-chat limit too.
            slot = self.throttle(mailing.report_to.channel).reserve(mailing.report_to, loop.time())
            await asyncio.sleep(max(0.0, slot - loop.time()))
            progress = await self.repo.progress(mailing.id)
            try:
                message_id = await self._mail.report(mailing, content, progress, False)
            except Exception as exc:
                log.error("progress of mailing %s not shown: %s", mailing.id, describe(exc))
                message_id = None
            if message_id is not None and message_id != mailing.report_message:
                await self.repo.set_report_message(mailing.id, message_id)
                mailing = await self.repo.get(mailing.id) or mailing
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(delivered.wait(), timeout=self.rules.report_every)

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)
