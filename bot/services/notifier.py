"""The outbound port: how services tell people things, without knowing the messenger."""

from __future__ import annotations

from datetime import date, datetime
from typing import Protocol

from bot.domain.lotsen import Lotse, LotseStatus
from bot.domain.mailings import Delivered, Mailing, Progress, Recipient
from bot.domain.people import MessageRef
from bot.domain.requests import Request

__all__ = ["Mailer", "Notifier"]


class Notifier(Protocol):
    """Implemented by ``handlers/notify.py`` on whichever messenger a person uses."""

    async def offer(self, lotse: Lotse, request: Request) -> MessageRef | None:
        """Show the anonymous summary with Accept / Not this time; return its message."""

    async def offer_gone(self, message: MessageRef) -> None:
        """Replace an offer the Lotse can no longer take with "already taken"."""

    async def offer_assigned(self, message: MessageRef) -> None:
        """Take the choices off an offer whose request a coordinator gave to that Lotse."""

    async def accepted(self, request: Request, lotse: Lotse, side: str) -> bool:
        """Give the Lotse the details (``side`` ``lotse``) or tell the person who accepted
        (``person``, first name only); False if it could not be delivered."""

    async def accepted_files(self, request: Request, lotse: Lotse, side: str) -> None:
        """After :meth:`accepted` arrived and was recorded (so that a crash while these go
        out repeats no news): the request's files (to the Lotse) and the appointment as a
        calendar file (to either side)."""

    async def taking_longer(self, request: Request) -> None:
        """Tell the person honestly that finding a Lotse takes longer."""

    async def coordinators(self, request: Request, reason: str) -> None:
        """Hand a request to the coordinators (``no_lotse`` or ``no_language``), or tell
        them it ``expired`` without a Lotse."""

    async def expired(self, request: Request) -> None:
        """Tell the person that the date passed without a Lotse."""

    async def cancelled(self, request: Request, lotse: Lotse | None) -> None:
        """Tell the Lotse of a case that the person cancelled it."""

    async def cancelled_by_office(self, request: Request, lotse: Lotse | None) -> None:
        """Tell the person, and the Lotse of a case, that the office cancelled it."""

    async def reopened(self, request: Request) -> None:
        """Tell the person that the office opened their request again and a Lotse is sought."""

    async def handed_back(self, request: Request, lotse: Lotse) -> None:
        """Tell the person their Lotse could not continue and a new one is being sought, and
        cut the case's messages in that Lotse's chat down to "handed back"."""

    async def closed(self, request: Request) -> bool:
        """Tell the person the case is done and ask for feedback; False if undelivered."""

    async def moved(self, request: Request, lotse: Lotse) -> None:
        """Tell both sides the case's appointment moved, with the updated calendar entry."""

    async def reminder(self, request: Request, lotse: Lotse, side: str) -> bool:
        """Remind one side (``lotse`` or ``person``) of the appointment; False if undelivered."""

    async def attendance(
        self, request: Request, lotse: Lotse, by_lotse: bool, coming: bool
    ) -> None:
        """Tell the other side (and, when someone cannot come, the coordinators)."""

    async def idle_warning(
        self, request: Request, lotse: Lotse | None, since: datetime, deadline: datetime
    ) -> None:
        """Ask the Lotse and the coordinators whether a case quiet since ``since`` still runs
        (*still running* / *close now*); it is closed at ``deadline`` otherwise."""

    async def idle_closed(self, request: Request, lotse: Lotse | None) -> None:
        """Tell the person (and the Lotse, if given) that the quiet case was closed and its
        details erased."""

    async def lotse_state(self, lotse: Lotse, state: LotseStatus) -> None:
        """Tell the Lotse, in their language, that they were suspended (contact the office),
        reinstated (``active``), retired, or that they left (a thank-you; the coordinators
        hear of it too)."""

    async def check_runs_out(self, lotse: Lotse, valid_until: date) -> None:
        """Remind the coordinators and the Lotse that the Führungszeugnis runs out."""


class Mailer(Protocol):
    """Sends one copy of a mailing and shows its progress (``handlers/mailer.py``)."""

    async def deliver(self, mailing: Mailing, content: object, recipient: Recipient) -> Delivered:
        """Send ``content`` to ``recipient`` in their language; never raises for the messenger."""
        ...

    async def report(
        self, mailing: Mailing, content: object, progress: Progress, final: bool
    ) -> int | None:
        """Show the coordinator how far it got (edited in place); return the message id."""
        ...
