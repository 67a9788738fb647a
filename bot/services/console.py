"""Signing in to the office console: one-time links for coordinators, and sessions.

No passwords. A coordinator asks the bot (``/console``) or the command line
(``lotsenbot console-link ID``) for a link; it is valid :data:`LINK_VALID`, once, and a
coordinator gets at most :data:`LINKS_PER_WINDOW` of them in that time. The link opens a
session that ends after :data:`IDLE` without use, :data:`LONGEST` after signing in at the
latest, at *Sign out*, and at once when the person no longer coordinates (checked on every
request). Only SHA-256 hashes of the link tokens and session ids are stored.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from bot.clock import Clock
from bot.domain.console import Overview, RunningBroadcast
from bot.domain.people import Person
from bot.domain.requests import Status
from bot.services.audit import AuditService
from bot.services.mailings import MailingService
from bot.services.people import PeopleService
from bot.services.requests import RequestService
from bot.services.roster import CHECK_NOTICE
from bot.storage.console import ConsoleRepository

__all__ = [
    "IDLE",
    "LINKS_PER_WINDOW",
    "LINK_VALID",
    "LONGEST",
    "ConsoleService",
    "Session",
    "SignIn",
]

#: How long a sign-in link may be used.
LINK_VALID = timedelta(minutes=10)
#: How many links a coordinator is given within :data:`LINK_VALID`.
LINKS_PER_WINDOW = 3
#: A session ends after this long without a request …
IDLE = timedelta(minutes=30)
#: … and this long after signing in at the latest.
LONGEST = timedelta(hours=8)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class SignIn:
    """A new session: the id for the cookie (never stored as such) and its CSRF token."""

    session_id: str
    csrf: str
    person: Person


@dataclass(frozen=True, slots=True)
class Session:
    """A live session of a coordinator."""

    person: Person
    csrf: str


class ConsoleService:
    """Links and sessions of the office console."""

    def __init__(
        self,
        repo: ConsoleRepository,
        people: PeopleService,
        audit: AuditService,
        clock: Clock,
        base_url: str | None = None,
    ) -> None:
        self.repo = repo
        self.people = people
        self.city = people.city
        #: The audit log as the console writes it (``via`` ``console``).
        self.audit = audit
        self.clock = clock
        #: Where the console is published (``https://lotsen.dorsten.de/desk``); None: the
        #: bot runs without a console.
        self.base_url = base_url

    @property
    def available(self) -> bool:
        """Whether the bot runs with a console."""
        return self.base_url is not None

    async def link(self, person_id: int) -> str | None:
        """A new one-time sign-in link for a coordinator; None when they were given
        :data:`LINKS_PER_WINDOW` links within :data:`LINK_VALID` already (or there is no
        console, or they do not coordinate)."""
        if self.base_url is None or await self.people.coordinator(person_id) is None:
            return None
        now = self.clock.now()
        if await self.repo.links_since(person_id, now - LINK_VALID) >= LINKS_PER_WINDOW:
            return None
        token = secrets.token_urlsafe(32)
        await self.repo.add_link(_hash(token), person_id, now, now + LINK_VALID)
        return f"{self.base_url}/signin/{token}"

    async def sign_in(self, token: str) -> SignIn | None:
        """Use a link's token (once) and open a session; None if the token is unknown, used
        or expired, or its coordinator no longer coordinates."""
        now = self.clock.now()
        # Anyone can post a made-up token: only a real one may wait for the write lock.
        if not await self.repo.usable_link(_hash(token), now):
            return None
        person_id = await self.repo.use_link(_hash(token), now)
        if person_id is None:
            return None
        person = await self.people.coordinator(person_id)
        if person is None:
            return None
        session_id = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        await self.repo.add_session(_hash(session_id), person_id, csrf, now, now + LONGEST)
        await self.audit.record(person_id, "console.sign_in")
        return SignIn(session_id, csrf, person)

    async def session(self, session_id: str, use: bool = True) -> Session | None:
        """The live session with this id (and note its use, unless ``use`` is False: a
        page's script asking by itself); None if there is none, it is idle or over, or its
        coordinator no longer coordinates (then it is ended)."""
        id_hash = _hash(session_id)
        stored = await self.repo.session(id_hash)
        if stored is None:
            return None
        now = self.clock.now()
        if now >= stored.ends_at or now - stored.seen_at >= IDLE:
            await self.repo.end(id_hash)
            return None
        person = await self.people.coordinator(stored.person_id)
        if person is None:
            await self.repo.end_all(stored.person_id)
            return None
        if use:
            await self.repo.touch(id_hash, now)
        return Session(person, stored.csrf)

    async def sign_out(self, session_id: str) -> None:
        """End the session (and record it)."""
        id_hash = _hash(session_id)
        stored = await self.repo.session(id_hash)
        await self.repo.end(id_hash)
        if stored is not None:
            await self.audit.record(stored.person_id, "console.sign_out")

    async def expire(self) -> int:
        """Delete used or expired links and ended sessions (the retention sweep)."""
        now = self.clock.now()
        return await self.repo.expire(now, now - IDLE)

    async def overview(self, requests: RequestService, mailings: MailingService) -> Overview:
        """What waits for the office: requests waiting (and stuck) or expired, today's and
        tomorrow's appointments, concerns and messages not answered, Führungszeugnisse
        running out within 30 days, broadcasts being sent."""
        now = self.clock.now()
        today = now.astimezone(self.city.timezone).date()
        tomorrow = today + timedelta(days=1)
        listed = await requests.waiting()
        waiting = [r for r in listed if r.status is not Status.EXPIRED]
        # Waiting twice as long as the first escalation counts as stuck (as in /stats).
        stuck_before = now - 2 * self.city.requests.escalate_after
        appointments = await self.repo.appointments(today, tomorrow)
        broadcasts = [
            RunningBroadcast(mailing_id, started, await mailings.progress(mailing_id))
            for mailing_id, started in await self.repo.sending_broadcasts()
        ]
        return Overview(
            waiting=waiting,
            stuck=frozenset(
                r.id for r in waiting if (r.confirmed_at or r.created_at) < stuck_before
            ),
            expired=[r for r in listed if r.status is Status.EXPIRED],
            today=[a for a in appointments if a.day == today],
            tomorrow=[a for a in appointments if a.day == tomorrow],
            unanswered=await self.repo.unanswered(),
            running_out=await self.repo.running_out(today + CHECK_NOTICE),
            broadcasts=broadcasts,
        )
