"""The office's side: concerns and messages to the office, expenses for reimbursement,
confirmations of volunteering."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.config import CityConfig
from bot.domain.dialogs import Dialog
from bot.domain.lotsen import Lotse
from bot.domain.office import (
    CONCERN_REASONS,
    Certificate,
    Expense,
    ExpenseState,
    OfficeMessage,
    Thread,
    ThreadItem,
    Volunteering,
    euros,
)
from bot.domain.people import MessageRef, Person
from bot.domain.requests import Request
from bot.services.stats import FORMATS, Export, spreadsheet
from bot.storage.dialogs import DialogsRepository
from bot.storage.office import OfficeRepository

__all__ = ["MAX_MESSAGE", "MAX_WHAT", "OfficeService"]

#: The longest message to the office, and the longest description of an expense.
MAX_MESSAGE = 2000
MAX_WHAT = 200

#: The columns of the expenses export (no data of the people helped).
EXPENSE_HEADER = ["lotse", "month", "case", "what", "amount_eur", "state"]


def _month_start(day: date, tz: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, 1, tzinfo=tz)


class OfficeService:
    """What passes between people and the coordination office."""

    def __init__(
        self, repo: OfficeRepository, dialogs: DialogsRepository, city: CityConfig, clock: Clock
    ) -> None:
        self.repo = repo
        self.dialogs = dialogs
        self.city = city
        self.clock = clock

    # ---------------------------------------------------------------- dialogs

    #: The dialogs of this feature: writing to the office, a concern, an expense.
    KINDS = ("office", "concern", "expense")

    async def dialog(self, person: Person, kind: str) -> Dialog | None:
        """The person's open dialog of ``kind``."""
        dialog = await self.dialogs.get(person.id)
        return dialog if dialog is not None and dialog.kind == kind else None

    async def begin(
        self, person: Person, kind: str, step: str, key: int | None, **data: object
    ) -> Dialog:
        """Start a dialog (one replaces any other the person had open)."""
        assert kind in self.KINDS
        return await self.dialogs.save(person.id, kind, step, dict(data), key, self.clock.now())

    async def advance(self, dialog: Dialog, step: str, key: int | None, **data: object) -> Dialog:
        """The dialog's next step, with what was answered."""
        merged = {**dialog.data, **data}
        return await self.dialogs.save(
            dialog.person_id, dialog.kind, step, merged, key, self.clock.now()
        )

    async def end(self, dialog: Dialog) -> None:
        await self.dialogs.end(dialog.person_id, dialog.kind)

    # ---------------------------------------------------------------- threads

    async def report_concern(
        self, person: Person, request: Request, reason: str | None, text: str
    ) -> Thread | None:
        """A side of the case says something is wrong: a tapped ``reason`` (one of
        :data:`CONCERN_REASONS`, then ``text`` is its label) or typed ``text``. None if the
        person is no side of the case."""
        if person.id == request.person_id:
            side = "person"
        elif person.id == request.lotse_id:
            side = "lotse"
        else:
            return None
        if reason is not None and reason not in CONCERN_REASONS:
            return None
        return await self.repo.open_thread(
            person.id,
            "concern",
            person.language,
            text[:MAX_MESSAGE],
            self.clock.now(),
            request_id=request.id,
            side=side,
            reason=reason,
        )

    async def write(self, person: Person, text: str) -> Thread:
        """A message to the office from the main menu."""
        return await self.repo.open_thread(
            person.id, "message", person.language, text[:MAX_MESSAGE], self.clock.now()
        )

    async def write_more(self, thread: Thread, text: str) -> None:
        """The person answers in a thread of theirs."""
        await self.repo.add_message(thread.id, "in", text[:MAX_MESSAGE], None, self.clock.now())

    async def answer(self, thread: Thread, coordinator: Person, text: str) -> None:
        """A coordinator's answer to the person."""
        await self.repo.add_message(
            thread.id, "out", text[:MAX_MESSAGE], coordinator.id, self.clock.now()
        )

    async def thread(self, thread_id: int) -> Thread | None:
        return await self.repo.thread(thread_id)

    async def threads(
        self, kind: str | None, answered: bool | None, page: int, per_page: int
    ) -> tuple[list[ThreadItem], int]:
        """One page (from 0) of the office's threads, the latest first, and how many."""
        return await self.repo.threads(kind, answered, per_page, max(page, 0) * per_page)

    async def messages(self, thread: Thread) -> list[OfficeMessage]:
        """What was said in the thread, oldest first."""
        return await self.repo.messages(thread.id)

    async def thread_of(self, message: MessageRef) -> Thread | None:
        """The thread a replied-to message of the bot belongs to."""
        return await self.repo.thread_of(message)

    async def remember(self, thread: Thread, *messages: MessageRef) -> None:
        """Link the bot's messages to the thread: a reply to one continues it."""
        await self.repo.add_copies(thread.id, list(messages))

    # --------------------------------------------------------------- expenses

    async def add_expense(
        self,
        lotse: Lotse,
        request: Request,
        what: str,
        cents: int,
        receipt: tuple[str, str, str] | None = None,
    ) -> Expense | None:
        """An expense of the Lotse for their case; None if the case is not theirs."""
        if request.lotse_id != lotse.person_id:
            return None
        expense_id = await self.repo.add_expense(
            lotse.person_id,
            request.id,
            " ".join(what.split())[:MAX_WHAT],
            cents,
            receipt,
            self.clock.now(),
        )
        return await self.repo.expense(expense_id)

    async def expenses_of(self, lotse: Lotse) -> list[Expense]:
        """The Lotse's expenses, newest first."""
        return await self.repo.expenses_of(lotse.person_id)

    async def expense(self, expense_id: int) -> Expense | None:
        return await self.repo.expense(expense_id)

    def month(self, months_back: int = 0) -> date:
        """The first day of this month (or of one ``months_back``), city time."""
        today = self.clock.now().astimezone(self.city.timezone).date()
        index = today.year * 12 + today.month - 1 - months_back
        return date(index // 12, index % 12 + 1, 1)

    async def open_expenses(self, month: date) -> list[Expense]:
        """The expenses of ``month`` still waiting for a decision."""
        return await self.repo.expenses(*self._span(month), ExpenseState.OPEN.value)

    def _span(self, month: date) -> tuple[datetime, datetime]:
        tz = self.city.timezone
        after = date(month.year + month.month // 12, month.month % 12 + 1, 1)
        return _month_start(month, tz), _month_start(after, tz)

    async def decide(self, expense: Expense, approved: bool, coordinator: Person) -> Expense | None:
        """Approve or reject an open expense (one tap); None if it was decided already."""
        state = ExpenseState.APPROVED if approved else ExpenseState.REJECTED
        if not await self.repo.decide_expense(expense.id, state, coordinator.id, self.clock.now()):
            return None
        return await self.repo.expense(expense.id)

    async def export_expenses(self, fmt: str, month: date | None = None) -> Export:
        """Expenses for reimbursement (of ``month``, or all): Lotse, month, case, what,
        amount, state; nothing about the people helped."""
        if fmt not in FORMATS:
            raise ValueError(fmt)
        if month is None:
            expenses = await self.repo.all_expenses()
        else:
            expenses = await self.repo.expenses(*self._span(month), None)
        tz = self.city.timezone
        rows: list[list[object]] = [
            [
                e.lotse_name,
                e.created_at.astimezone(tz).strftime("%Y-%m"),
                e.request_id or "",
                e.what,
                euros(e.cents),
                e.state.value,
            ]
            for e in expenses
        ]
        return spreadsheet(self.clock, self.city, "expenses", fmt, EXPENSE_HEADER, rows)

    # ----------------------------------------------------------- certificates

    def certificate_years(self) -> tuple[int, int]:
        """The years a confirmation can be asked for: this one and the last."""
        year = self.clock.now().astimezone(self.city.timezone).year
        return year, year - 1

    async def ask_certificate(self, lotse: Lotse, year: int) -> Certificate | None:
        """The Lotse asks for a confirmation of ``year``; None for a year not offered."""
        if year not in self.certificate_years():
            return None
        return await self.repo.ask_certificate(lotse.person_id, year, self.clock.now())

    async def certificate(self, certificate_id: int) -> Certificate | None:
        return await self.repo.certificate(certificate_id)

    async def volunteering(self, lotse: Lotse, year: int) -> Volunteering:
        """What the confirmation of ``year`` says: cases and hours per topic."""
        tz = self.city.timezone
        start = datetime(year, 1, 1, tzinfo=tz)
        end = datetime(year + 1, 1, 1, tzinfo=tz)
        topics = await self.repo.volunteering(lotse.person_id, start, end)
        return Volunteering(lotse.first_name, year, topics)

    async def confirm_certificate(self, certificate: Certificate, coordinator: Person) -> bool:
        """The office confirms (one tap): the confirmation goes out, once."""
        return await self.repo.confirm_certificate(certificate.id, coordinator.id, self.clock.now())
