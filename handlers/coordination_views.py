"""What coordinators see of requests and Lotsen: applications, escalations, the overview,
invitations."""

from __future__ import annotations

from datetime import datetime

from bot.config import CityConfig
from bot.domain.lotsen import Lotse
from bot.domain.requests import Request, Status
from bot.i18n import LANGUAGES, Texts
from handlers.actions import NUMBER, Actions
from handlers.port import Choices
from handlers.request_views import languages_label, status_label, summary, topic_label
from handlers.views import Screen, grid

__all__ = [
    "COORD",
    "application",
    "application_decided",
    "assigned",
    "assignee",
    "assignment",
    "cannot_come",
    "escalation",
    "invite_used",
    "invites",
    "not_allowed",
    "open_invites",
    "overview",
    "rejected",
]


#: The coordinators' choices: approve or reject an application (by the applicant's person
#: id), pick a request to assign and assign it to a Lotse by hand.
COORD = Actions(
    "coord",
    {
        "approve": (NUMBER,),
        "reject": (NUMBER,),
        "assign": (NUMBER, NUMBER),
        "pick": (NUMBER,),
        "links": (),
    },
)
#: How many Lotsen an assignment offers (the best placed first).
ASSIGN_CHOICES = 8


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
    t: Texts,
    city: CityConfig,
    request: Request,
    reason: str,
    lotsen: list[Lotse],
    now: datetime,
) -> Screen:
    """A request handed to the coordinators, with choices to assign someone by hand
    (``lotsen`` in the order :func:`bot.domain.lotsen.for_assignment` gives)."""
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
    return assignment(t, city, request, lotsen, now, head)


def assignment(
    t: Texts, city: CityConfig, request: Request, lotsen: list[Lotse], now: datetime, head: str
) -> Screen:
    """``head``, the request without its name, and one choice per Lotse to assign it to."""
    text = head + "\n\n" + summary(t, city, request, anonymous=True)
    if lotsen:
        text += "\n\n" + t.gettext(
            "Lotsen who share a language come first. ⏸ paused · ⛔ no room for more cases"
        )
    return Screen(text, _assign_choices(t, request, lotsen[:ASSIGN_CHOICES], now))


def _assign_choices(t: Texts, request: Request, lotsen: list[Lotse], now: datetime) -> Choices:
    return tuple(
        (COORD.choice(assignee(t, lotse, now), "assign", request.id, lotse.person_id),)
        for lotse in lotsen
    )


def assignee(t: Texts, lotse: Lotse, now: datetime) -> str:
    """A Lotse a request can be assigned to: name, languages, load (⏸ paused, ⛔ full)."""
    marks = ("⏸ " if lotse.paused(now) else "") + ("⛔ " if lotse.full else "")
    return marks + t.gettext(
        "{name} · {languages} · {open}/{max} cases",
        name=lotse.first_name,
        languages=" ".join(code.upper() for code in LANGUAGES if code in lotse.languages),
        open=str(lotse.open_cases),
        max=str(lotse.max_open),
    )


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


def overview(t: Texts, requests: list[Request]) -> Screen:
    """Requests waiting for a Lotse, each with a choice to assign it by hand, and apart from
    them those that expired lately."""
    if not requests:
        return Screen(t.gettext("No open or expired requests."))
    waiting = [r for r in requests if r.status is not Status.EXPIRED]
    expired = [r for r in requests if r.status is Status.EXPIRED]
    lines = []
    if waiting:
        lines += [t.gettext("<b>Requests waiting for a Lotse</b>"), *_lines(t, waiting)]
    if expired:
        lines += ["", t.gettext("<b>Expired without a Lotse</b>"), *_lines(t, expired)]
    choices = [
        COORD.choice(t.gettext("👤 Assign #{number}", number=str(r.id)), "pick", r.id)
        for r in waiting[:12]
    ]
    return Screen("\n".join(lines).strip(), grid(choices, 3))


def _lines(t: Texts, requests: list[Request]) -> list[str]:
    return [
        t.gettext(
            "#{number} {topic} · {district} · {state} · round {round}",
            number=str(request.id),
            topic=topic_label(t, request.topic),
            district=request.district or "–",
            state=status_label(t, request.status),
            round=str(request.round),
        )
        for request in requests
    ]


def pick_head(t: Texts, request: Request) -> str:
    """Above the Lotsen a request can be assigned to."""
    return t.gettext("Assign request #{number} to:", number=str(request.id))


def invites(t: Texts, links: list[str], typed: str | None = None) -> Screen:
    """New invitations, one link each; ``typed``: what was typed instead of a number."""
    lines = []
    if typed is not None:
        lines.append(
            t.gettext("“{typed}” is not a number from 1 to 50, so I made one link.", typed=typed)
        )
    lines.append(
        t.ngettext(
            "{n} new invitation (each works once):",
            "{n} new invitations (each works once):",
            len(links),
        )
    )
    lines += links
    return Screen("\n".join(lines), ((COORD.choice(t.gettext("📋 Open links"), "links"),),))


def open_invites(t: Texts, links: list[str]) -> str:
    """The invitations nobody has used yet."""
    if not links:
        return t.gettext("No invitation link is open.")
    head = t.ngettext(
        "{n} invitation link not used yet:", "{n} invitation links not used yet:", len(links)
    )
    return "\n".join([head, *links])


def invite_used(t: Texts, name: str) -> str:
    """Told to the coordinators when someone joins with an invitation."""
    return t.gettext("🧭 {name} used an invitation link and is now a Lotse.", name=name)


def not_allowed(t: Texts) -> str:
    """A command or button the person's role does not permit."""
    return t.gettext("Sorry, this is only for the coordination office.")
