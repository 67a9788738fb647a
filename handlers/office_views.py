"""What people and the office see of concerns, messages to the office, expenses, the
confirmation of volunteering and a case's appointment in the calendar."""

from __future__ import annotations

import html
import re
from datetime import date, datetime, time, timedelta
from pathlib import Path

from bot.config import CityConfig
from bot.domain.events import CalendarEntry, calendar_entry
from bot.domain.office import CONCERN_REASONS, Expense, ExpenseState, Thread, Volunteering
from bot.domain.requests import Request
from bot.i18n import Texts, language_name
from handlers.actions import DATE, NUMBER, Actions
from handlers.asking_views import TIMES
from handlers.port import Attachment, OutFile
from handlers.request_views import summary, topic_label, when_label
from handlers.views import Choice, Screen, grid

__all__ = [
    "CERTIFICATE",
    "CONCERN",
    "EXPENSE",
    "MONTHS_BACK",
    "MOVE",
    "OFFICE",
    "OFFICE_DESK",
    "answer_for_person",
    "answer_sent",
    "appointment_file",
    "ask_concern",
    "ask_expense_amount",
    "ask_expense_what",
    "ask_message",
    "ask_move_day",
    "ask_move_time",
    "ask_receipt",
    "ask_year",
    "calendar_caption",
    "case_for_office",
    "certificate_asked",
    "certificate_button",
    "certificate_confirmed",
    "certificate_for_lotse",
    "certificate_for_office",
    "concern_button",
    "concern_for_office",
    "concern_thanks",
    "confirmation_pdf",
    "expense_button",
    "expense_decided",
    "expense_for_office",
    "expense_news",
    "expense_recorded",
    "expenses_button",
    "expenses_exported",
    "expenses_overview",
    "message_for_office",
    "message_sent",
    "move_button",
    "moved_news",
    "not_delivered",
    "reason_text",
    "reply_hint",
]

#: How many months back the office can page through expenses.
MONTHS_BACK = tuple(str(n) for n in range(12))
_HHMM = re.compile(r"[0-2][0-9][0-5][0-9]")
_YEAR = re.compile(r"20[0-9]{2}")

#: Both sides of a case: *something is wrong* (``cn:ask:<case>``), a tapped reason.
CONCERN = Actions("cn", {"ask": (NUMBER,), "r": (NUMBER, CONCERN_REASONS), "stop": ()})
#: Writing to the office from the main menu: stop writing.
OFFICE = Actions("of", {"stop": ()})
#: The office's own choices: open the case of a concern, expenses, confirmations.
OFFICE_DESK = Actions(
    "ofc",
    {
        "case": (NUMBER,),
        "ok": (NUMBER,),
        "no": (NUMBER,),
        "month": (MONTHS_BACK,),
        "csv": (MONTHS_BACK,),
        "xlsx": (MONTHS_BACK,),
        "cert": (NUMBER,),
    },
)
#: A Lotse's expense: begin for a case, no receipt, stop.
EXPENSE = Actions("ex", {"new": (NUMBER,), "skip": (), "stop": ()})
#: A Lotse's confirmation of volunteering: choose the year.
CERTIFICATE = Actions("cf", {"menu": (), "ask": (_YEAR,)})
#: Moving a case's appointment: show the days, a day, a time.
MOVE = Actions("mv", {"show": (NUMBER,), "d": (NUMBER, DATE), "t": (NUMBER, DATE, _HHMM)})


# ------------------------------------------------------------------ concerns


def concern_button(t: Texts, request: Request) -> Choice:
    """*Something is wrong*, in every case message of both sides."""
    return CONCERN.choice(t.gettext("⚠️ Something is wrong"), "ask", request.id)


def _reason_label(t: Texts, reason: str) -> str:
    return {
        "absent": t.gettext("Did not come to the appointment"),
        "behaviour": t.gettext("Rude or disrespectful behaviour"),
        "unsafe": t.gettext("I do not feel safe"),
        "money": t.gettext("Asked for money or gifts"),
    }[reason]


def reason_text(t: Texts, reason: str | None, typed: str) -> str:
    """A concern's reason as the office reads it (a tapped one in the office's language)."""
    return _reason_label(t, reason) if reason in CONCERN_REASONS else typed


def ask_concern(t: Texts, request: Request) -> Screen:
    """What is wrong? A few reasons to tap, or a few words to write."""
    text = t.gettext(
        "What is wrong in case #{number}? Tap a reason or write a few words. "
        "Only the coordination office sees it.",
        number=str(request.id),
    )
    rows = [
        (CONCERN.choice(_reason_label(t, reason), "r", request.id, reason),)
        for reason in CONCERN_REASONS
    ]
    rows.append((CONCERN.choice(t.gettext("✖️ Cancel"), "stop"),))
    return Screen(text, tuple(rows))


def concern_thanks(t: Texts) -> str:
    """The reporter is thanked and told what happens next."""
    return t.gettext(
        "Thank you for telling us. Only the coordination office sees this. Someone from the "
        "office will get in touch with you here soon."
    )


def concern_for_office(
    t: Texts, thread: Thread, request: Request, lotse_name: str, reason: str
) -> Screen:
    """The note the coordinators get: the case, who reports, their language, the reason."""
    side = t.gettext("the Lotse") if thread.side == "lotse" else t.gettext("the person helped")
    text = t.gettext(
        "⚠️ <b>Concern about case #{number}</b> from {side} ({language}), Lotse: {lotse}\n{reason}",
        number=str(request.id),
        side=side,
        language=language_name(thread.language),
        lotse=lotse_name,
        reason=reason,
    )
    text += "\n\n" + reply_hint(t)
    return Screen(text, ((OFFICE_DESK.choice(t.gettext("📂 Open the case"), "case", thread.id),),))


def case_for_office(t: Texts, city: CityConfig, request: Request, lotse_name: str) -> str:
    """A case as the office opens it from a concern."""
    return (
        t.gettext("<b>Case #{number}</b>", number=str(request.id))
        + "\n"
        + summary(t, city, request, anonymous=False)
        + "\n"
        + t.gettext("🧭 Lotse: {name}", name=lotse_name)
    )


# ---------------------------------------------------------- the office's inbox


def ask_message(t: Texts) -> Screen:
    """Write your message."""
    return Screen(
        t.gettext(
            "Write your message to the coordination office, in your language. "
            "The answer comes here."
        ),
        ((OFFICE.choice(t.gettext("✖️ Cancel"), "stop"),),),
    )


def message_sent(t: Texts) -> str:
    """After writing to the office."""
    return t.gettext("✓ Sent to the coordination office. The answer comes here.")


def reply_hint(t: Texts) -> str:
    return t.gettext("Reply to this message to answer.")


def message_for_office(t: Texts, thread: Thread, text: str) -> str:
    """A message to the office, marked with its number and the writer's language."""
    return (
        t.gettext(
            "✉️ <b>Message #{number} to the office</b> ({language}):\n{text}",
            number=str(thread.id),
            language=language_name(thread.language),
            text=text,
        )
        + "\n\n"
        + reply_hint(t)
    )


def answer_for_person(t: Texts, text: str) -> str:
    """The office's answer, as the person reads it."""
    return t.gettext(
        "✉️ <b>The coordination office answers:</b>\n{text}\n\n"
        "To write back, reply to this message.",
        text=text,
    )


def not_delivered(t: Texts) -> str:
    """To the coordinator, when the person cannot be reached."""
    return t.gettext("⚠️ Not delivered: the person cannot be reached in their messenger now.")


def answer_sent(t: Texts) -> str:
    """To the coordinator, after answering."""
    return t.gettext("✓ Your answer was passed on.")


# ------------------------------------------------------------------ expenses


def expense_button(t: Texts, request: Request) -> Choice:
    return EXPENSE.choice(t.gettext("🧾 Expense"), "new", request.id)


def _stop_expense(t: Texts) -> tuple[Choice, ...]:
    return (EXPENSE.choice(t.gettext("✖️ Cancel"), "stop"),)


def ask_expense_what(t: Texts, number: int) -> Screen:
    return Screen(
        t.gettext(
            "🧾 Expense for case #{number}: what was it for (e.g. a bus ticket)?",
            number=str(number),
        ),
        (_stop_expense(t),),
    )


def ask_expense_amount(t: Texts) -> Screen:
    return Screen(t.gettext("How much was it, in euros (e.g. 12,50)?"), (_stop_expense(t),))


def ask_receipt(t: Texts) -> Screen:
    return Screen(
        t.gettext("Send a photo of the receipt, or tap “No receipt”."),
        ((EXPENSE.choice(t.gettext("No receipt"), "skip"),), _stop_expense(t)),
    )


def expense_recorded(t: Texts, expense: Expense) -> str:
    return t.gettext(
        "✓ Recorded: {what}, {amount} (case #{number}). The office decides and tells you here.",
        what=expense.what,
        amount=t.euros(expense.cents),
        number=str(expense.request_id or ""),
    )


def expense_line(t: Texts, expense: Expense) -> str:
    """One expense as the office lists it."""
    return t.gettext(
        "🧾 #{id} · {lotse} · case #{number}\n{what}: <b>{amount}</b>",
        id=str(expense.id),
        lotse=expense.lotse_name,
        number=str(expense.request_id or "–"),
        what=expense.what,
        amount=t.euros(expense.cents),
    )


def expense_for_office(t: Texts, expense: Expense) -> tuple[Screen, Attachment | None]:
    """An open expense with its one-tap decision, and the receipt if there is one."""
    choices = (
        (
            OFFICE_DESK.choice(t.gettext("✅ Approve"), "ok", expense.id),
            OFFICE_DESK.choice(t.gettext("✖️ Reject"), "no", expense.id),
        ),
    )
    receipt = None
    if expense.receipt_kind and expense.receipt_ref:
        receipt = Attachment(expense.receipt_kind, expense.receipt_ref, expense.receipt_channel)
    return Screen(expense_line(t, expense), choices), receipt


def expense_decided(t: Texts, expense: Expense) -> str:
    """The office's message after the tap."""
    state = (
        t.gettext("✅ Approved")
        if expense.state is ExpenseState.APPROVED
        else t.gettext("✖️ Rejected")
    )
    return expense_line(t, expense) + "\n" + state


def expense_news(t: Texts, expense: Expense) -> str:
    """The Lotse hears of the decision."""
    values = {
        "what": expense.what,
        "amount": t.euros(expense.cents),
        "number": str(expense.request_id or "–"),
    }
    if expense.state is ExpenseState.APPROVED:
        return t.gettext(
            "✅ Your expense “{what}” ({amount}, case #{number}) was approved.", **values
        )
    return t.gettext(
        "Your expense “{what}” ({amount}, case #{number}) was not approved. "
        "For questions, write to the office from the main menu.",
        **values,
    )


def expenses_button(t: Texts) -> Choice:
    """The way to the expenses from the roster (``/lotsen``)."""
    return OFFICE_DESK.choice(t.gettext("🧾 Expenses"), "month", 0)


def expenses_overview(t: Texts, month: date, count: int, back: int) -> Screen:
    """The head of /expenses: the month, how many are open, other months, exports."""
    rows: list[tuple[Choice, ...]] = [
        (
            OFFICE_DESK.choice(t.gettext("⬇️ CSV"), "csv", back),
            OFFICE_DESK.choice(t.gettext("⬇️ XLSX"), "xlsx", back),
        )
    ]
    if back + 1 < len(MONTHS_BACK):
        rows.append((OFFICE_DESK.choice(t.gettext("◀️ Month before"), "month", back + 1),))
    if back > 0:
        rows.append((OFFICE_DESK.choice(t.gettext("▶️ Month after"), "month", back - 1),))
    text = t.ngettext(
        "🧾 <b>Expenses {month}</b>: {n} open.",
        "🧾 <b>Expenses {month}</b>: {n} open.",
        count,
        month=t.month(month),
    )
    return Screen(text, tuple(rows))


def expenses_exported(t: Texts, rows: int) -> str:
    return t.ngettext(
        "{n} expense: Lotse, month, case number, what, amount, state.",
        "{n} expenses: Lotse, month, case number, what, amount, state.",
        rows,
    )


# -------------------------------------------------------------- confirmation


def certificate_button(t: Texts) -> Choice:
    return CERTIFICATE.choice(t.gettext("📄 Confirmation of volunteering"), "menu")


def ask_year(t: Texts, years: tuple[int, ...]) -> Screen:
    return Screen(
        t.gettext("A confirmation of your volunteering, for which year?"),
        (tuple(CERTIFICATE.choice(str(year), "ask", year) for year in years),),
    )


def certificate_asked(t: Texts) -> str:
    return t.gettext("Thank you! The office checks the confirmation and sends it here.")


def certificate_for_office(t: Texts, name: str, year: int, certificate_id: int) -> Screen:
    return Screen(
        t.gettext(
            "📄 {name} asks for a confirmation of volunteering for {year}. Please check it.",
            name=name,
            year=str(year),
        ),
        ((OFFICE_DESK.choice(t.gettext("✅ Confirm and send"), "cert", certificate_id),),),
    )


def certificate_confirmed(t: Texts) -> str:
    return t.gettext("✓ Confirmed and sent.")


def certificate_for_lotse(t: Texts, year: int) -> str:
    return t.gettext("📄 Your confirmation of volunteering for {year}.", year=str(year))


def _plain(text: str) -> str:
    """Texts are written in the conversation's markup; a PDF takes plain text."""
    return html.unescape(re.sub(r"<[^>]+>", "", text))


#: The font of the PDF: DejaVu Sans, which matplotlib ships, prints every script's letters.
def _font(name: str = "DejaVuSans.ttf") -> Path:
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf" / name


def confirmation_pdf(
    t: Texts, city: CityConfig, volunteering: Volunteering, confirmed: datetime | None
) -> OutFile:
    """The confirmation as a PDF: programme, city, the Lotse's name, the period, hours and
    cases per topic; marked as a draft until the office has confirmed it."""
    from fpdf import FPDF  # imported when needed: the bot starts faster without it

    p = _plain
    year = volunteering.year
    pdf = FPDF()
    pdf.set_title(p(t.gettext("Confirmation of volunteering")))
    pdf.set_author(city.programme)
    pdf.add_font("DejaVu", "", str(_font()))
    pdf.add_font("DejaVu", "B", str(_font("DejaVuSans-Bold.ttf")))
    pdf.add_page()
    pdf.set_font("DejaVu", size=18)
    pdf.multi_cell(
        0, 10, p(t.gettext("Confirmation of volunteering")), new_x="LMARGIN", new_y="NEXT"
    )
    pdf.ln(4)
    pdf.set_font("DejaVu", size=11)
    period = p(
        t.gettext(
            "{start} to {end}",
            start=t.day(date(year, 1, 1), "long"),
            end=t.day(date(year, 12, 31), "long"),
        )
    )
    lines = [
        p(t.gettext("Programme: {programme}", programme=city.programme)),
        p(t.gettext("City: {city}", city=city.city)),
        p(t.gettext("Lotse: {name}", name=volunteering.name)),
        p(t.gettext("Period: {period}", period=period)),
        "",
        p(
            t.gettext(
                "{name} volunteered as a Lotse, accompanying refugees in everyday life.",
                name=volunteering.name,
            )
        ),
        "",
    ]
    for line in lines:
        pdf.multi_cell(0, 7, line, new_x="LMARGIN", new_y="NEXT")
    with pdf.table(col_widths=(90, 40, 40), text_align=("LEFT", "RIGHT", "RIGHT")) as table:
        table.row((p(t.gettext("Topic")), p(t.gettext("Cases")), p(t.gettext("Hours"))))
        for topic, (cases, hours) in sorted(volunteering.topics.items()):
            table.row((_plain(topic_label(t, topic)), str(cases), t.number(hours)))
        total = (str(volunteering.cases), t.number(volunteering.hours))
        table.row((p(t.gettext("Total")), *total))
    pdf.ln(6)
    if confirmed is None:
        footer = p(t.gettext("Draft: not yet confirmed by the coordination office."))
    else:
        footer = p(
            t.gettext(
                "Confirmed by the coordination office ({office}) on {date}.",
                office=city.contact.office,
                date=t.date(confirmed, "long"),
            )
        )
    pdf.multi_cell(0, 7, footer, new_x="LMARGIN", new_y="NEXT")
    return OutFile(f"confirmation-{year}.pdf", bytes(pdf.output()))


# ----------------------------------------------------------- the appointment


def move_button(t: Texts, request: Request) -> Choice:
    return MOVE.choice(t.gettext("📅 New date"), "show", request.id)


def ask_move_day(t: Texts, request: Request, days: list[date]) -> Screen:
    choices = [MOVE.choice(t.short_day(day), "d", request.id, day) for day in days]
    return Screen(
        t.gettext("New date for case #{number}: which day?", number=str(request.id)),
        grid(choices, 3),
    )


def ask_move_time(t: Texts, request: Request, day: date) -> Screen:
    choices = [
        MOVE.choice(
            t.clock(time.fromisoformat(value)), "t", request.id, day, value.replace(":", "")
        )
        for value in TIMES
    ]
    return Screen(t.gettext("At what time on {day}?", day=t.day(day)), grid(choices, 5))


def calendar_caption(t: Texts) -> str:
    return t.gettext("📅 The appointment for your calendar.")


def moved_news(t: Texts, request: Request) -> str:
    return t.gettext(
        "📅 The appointment of case #{number} is now on {when}. The calendar file below "
        "updates your calendar.",
        number=str(request.id),
        when=when_label(t, request),
    )


#: How long an appointment is assumed to last (for the calendar entry).
APPOINTMENT = timedelta(hours=1)


def appointment_file(
    t: Texts, city: CityConfig, request: Request, other: str, now: datetime
) -> OutFile | None:
    """The case's appointment as a calendar file (None without a fixed day and time); the
    same UID with a higher sequence each time it moves."""
    starts = request.appointment(city.timezone)
    if starts is None:
        return None
    entry = CalendarEntry(
        uid=f"case-{request.id}@lotsenbot.{city.city.lower()}",
        sequence=request.calendar_sequence,
        starts_at=starts,
        ends_at=starts + APPOINTMENT,
        summary=_plain(
            t.gettext("Appointment with {name} (#{number})", name=other, number=str(request.id))
        ),
        place=request.place,
    )
    ics = calendar_entry(entry, f"mailto:{city.contact.email}", now)
    return OutFile(f"appointment-{request.id}.ics", ics)
