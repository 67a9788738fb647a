"""What both sides of a running case see: reminders, attendance, and the messages passed on
between them."""

from __future__ import annotations

from bot.config import CityConfig
from bot.domain.requests import CLOSED_STATES, Request
from bot.i18n import Texts
from handlers.actions import NUMBER, Actions
from handlers.request_views import office_contact, when_label
from handlers.views import (
    Screen,
    button,
)

__all__ = [
    "RELAY",
    "attendance_news",
    "attendance_noted",
    "relay_sent",
    "relayed",
    "reminder",
    "reminder_answered",
    "reply_refused",
    "reply_unknown",
    "which_case",
]


def reminder(t: Texts, request: Request, other_name: str) -> Screen:
    """The appointment reminder with attendance buttons: the case, who, when and where."""
    text = t.gettext(
        "⏰ <b>Reminder (#{number}):</b> appointment with {name} on {when}.",
        number=str(request.id),
        name=other_name,
        when=when_label(t, request),
    )
    if request.place:
        text += "\n" + t.gettext("🏢 Place: {place}", place=request.place)
    elif request.district:
        text += "\n" + t.gettext("📍 Stadtteil: {district}", district=request.district)
    return Screen(
        text,
        (
            (
                button(_attendance_label(t, True), f"att:{request.id}:yes"),
                button(_attendance_label(t, False), f"att:{request.id}:no"),
            ),
        ),
    )


def _attendance_label(t: Texts, coming: bool) -> str:
    return t.gettext("👍 I'll be there") if coming else t.gettext("I can't come")


def reminder_answered(t: Texts, request: Request, other_name: str, coming: bool) -> Screen:
    """The reminder after an attendance button: the date stays, the answer is added."""
    text = reminder(t, request, other_name).text
    answer = t.gettext("Your answer: {answer}", answer=_attendance_label(t, coming))
    return Screen(f"{text}\n\n{answer}\n{attendance_noted(t)}")


def attendance_news(t: Texts, request: Request, name: str, coming: bool) -> str:
    """Tell the other side whether someone comes."""
    if coming:
        return t.gettext(
            "👍 {name} confirmed the appointment (#{number}).", name=name, number=str(request.id)
        )
    return t.gettext(
        "⚠️ {name} cannot come to the appointment (#{number}). Please agree on "
        "a new date by writing here.",
        name=name,
        number=str(request.id),
    )


def attendance_noted(t: Texts) -> str:
    """After pressing an attendance button."""
    return t.gettext("Thank you, noted.")


def relayed(t: Texts, request: Request, sender: str, text: str | None) -> str:
    """A relayed message, marked with the case."""
    if not text:
        return t.gettext("💬 #{number} · {name}:", number=str(request.id), name=sender)
    return t.gettext(
        "💬 #{number} · {name}:\n{text}", number=str(request.id), name=sender, text=text
    )


#: Which case a message is for: ``relay:to:<id>``.
RELAY = Actions("relay", {"to": (NUMBER,)})


def which_case(t: Texts, cases: list[tuple[Request, str]]) -> Screen:
    """Someone with several cases wrote without saying which: the message is kept, and each
    case is a choice (its number and the other side's first name)."""
    return Screen(
        t.gettext("Which case is this message for?"),
        tuple(
            (RELAY.choice(f"#{request.id} {name}", "to", request.id),) for request, name in cases
        ),
    )


def relay_sent(t: Texts, request: Request, recipient: str) -> str:
    """Confirmation that a message went through, and to whom: the sender sees where it went."""
    return t.gettext(
        "✓ Passed on to {name} (case #{number}).", name=recipient, number=str(request.id)
    )


def reply_refused(t: Texts, city: CityConfig, request: Request, person_id: int) -> str:
    """A reply to a message of a case the sender can no longer write in: nothing was passed on."""
    office = office_contact(city)
    number = str(request.id)
    if request.status in CLOSED_STATES:
        return t.gettext(
            "Case #{number} is closed, so this message was not passed on to anyone. "
            "For questions about it, please contact the coordination office: {office}",
            number=number,
            office=office,
        )
    if person_id == request.person_id:  # handed back, or not accepted yet
        return t.gettext(
            "Request #{number} has no Lotse at the moment, so your message was not passed on "
            "to anyone. We are looking for a Lotse and will tell you here. For questions, "
            "please contact the coordination office: {office}",
            number=number,
            office=office,
        )
    return t.gettext(
        "Case #{number} is no longer yours, so this message was not passed on to anyone. "
        "For questions about it, please contact the coordination office: {office}",
        number=number,
        office=office,
    )


def reply_unknown(t: Texts) -> str:
    """A reply to a message that belongs to no case, from someone with a running case."""
    return t.gettext(
        "The message you replied to does not belong to one of your cases, so I did not pass "
        "this on. Please reply to a message of the case you mean, or write without replying."
    )
