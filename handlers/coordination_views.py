"""What coordinators see of requests and Lotsen: applications, escalations, the overview,
invitations."""

from __future__ import annotations

from bot.config import CityConfig
from bot.domain.lotsen import Lotse
from bot.domain.requests import Request
from bot.i18n import Texts
from handlers.actions import NUMBER, Actions
from handlers.request_views import languages_label, status_label, summary, topic_label
from handlers.views import (
    Screen,
)

__all__ = [
    "COORD",
    "application",
    "application_decided",
    "assigned",
    "cannot_come",
    "escalation",
    "invites",
    "not_allowed",
    "overview",
    "rejected",
]


#: The coordinators' choices: approve or reject an application (by the applicant's person
#: id), assign a request to a Lotse by hand.
COORD = Actions("coord", {"approve": (NUMBER,), "reject": (NUMBER,), "assign": (NUMBER, NUMBER)})


def application(t: Texts, lotse: Lotse) -> Screen:
    """A person without a code asks to become a Lotse."""
    return Screen(
        t.gettext(
            "🙋 <b>{name}</b> asks to be approved as a Lotse (languages: {languages}).",
            name=lotse.first_name,
            languages=languages_label(t, lotse.languages),
        ),
        (
            (
                COORD.choice(t.gettext("✅ Approve"), "approve", lotse.person_id),
                COORD.choice(t.gettext("✖️ Reject"), "reject", lotse.person_id),
            ),
        ),
    )


def application_decided(t: Texts, name: str, approved: bool) -> str:
    """Shown in place of the approval buttons."""
    if approved:
        return t.gettext("✅ {name} is now a Lotse.", name=name)
    return t.gettext("✖️ The application of {name} was rejected.", name=name)


def rejected(t: Texts, city: CityConfig) -> str:
    """Told to an applicant who was not approved."""
    return t.gettext(
        "Your request to become a Lotse was not approved. For questions, "
        "please contact the coordination office: {email}",
        email=city.contact.email,
    )


def escalation(
    t: Texts, city: CityConfig, request: Request, reason: str, lotsen: list[Lotse]
) -> Screen:
    """A request handed to the coordinators, with buttons to assign someone by hand."""
    if reason == "no_language":
        head = t.gettext(
            "⚠️ No Lotse shares a language with request #{number}; "
            "German-speaking Lotsen were asked.",
            number=str(request.id),
        )
    elif reason == "expired":
        head = t.gettext(
            "⌛ Request #{number} expired: no Lotse was found in time. The person was told.",
            number=str(request.id),
        )
        lotsen = []
    else:
        head = t.gettext("⚠️ Nobody has accepted request #{number} yet.", number=str(request.id))
    text = head + "\n\n" + summary(t, city, request, anonymous=True)
    choices = tuple(
        (
            COORD.choice(
                t.gettext("Assign to {name}", name=lotse.first_name),
                "assign",
                request.id,
                lotse.person_id,
            ),
        )
        for lotse in lotsen[:8]
    )
    return Screen(text, choices)


def cannot_come(
    t: Texts, city: CityConfig, request: Request, lotse_name: str, by_lotse: bool
) -> Screen:
    """One side of a case cannot come to the appointment: which case, and who."""
    number = str(request.id)
    if by_lotse:
        head = t.gettext(
            "⚠️ Case #{number}: the Lotse {lotse} cannot come to the appointment.",
            number=number,
            lotse=lotse_name,
        )
    else:
        head = t.gettext(
            "⚠️ Case #{number}: the person helped cannot come to the appointment with the "
            "Lotse {lotse}.",
            number=number,
            lotse=lotse_name,
        )
    return Screen(head + "\n\n" + summary(t, city, request, anonymous=True))


def assigned(t: Texts, request: Request, name: str) -> str:
    """After a manual assignment."""
    return t.gettext(
        "✅ Request #{number} was assigned to {name}.", number=str(request.id), name=name
    )


def overview(t: Texts, requests: list[Request]) -> str:
    """Open, stuck and expired requests for coordinators."""
    if not requests:
        return t.gettext("No open or expired requests.")
    lines = [t.gettext("<b>Requests waiting for a Lotse</b>")]
    for request in requests:
        lines.append(
            t.gettext(
                "#{number} {topic} · {district} · {state} · round {round}",
                number=str(request.id),
                topic=topic_label(t, request.topic),
                district=request.district or "–",
                state=status_label(t, request.status),
                round=str(request.round),
            )
        )
    return "\n".join(lines)


def invites(t: Texts, links: list[str]) -> str:
    """New invitations, one link each."""
    lines = [
        t.ngettext(
            "{n} new invitation (each works once):",
            "{n} new invitations (each works once):",
            len(links),
        )
    ]
    lines += links
    return "\n".join(lines)


def not_allowed(t: Texts) -> str:
    """A command or button the person's role does not permit."""
    return t.gettext("Sorry, this is only for the coordination office.")
