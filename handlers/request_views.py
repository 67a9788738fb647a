"""What every side of a help request sees alike: labels of topics, languages and dates, and a
request's summary."""

from __future__ import annotations

from bot.config import CityConfig
from bot.domain.requests import Request, Status
from bot.domain.topics import TOPICS
from bot.i18n import LANGUAGES, Texts, language_name
from handlers.actions import NUMBER, Actions
from handlers.views import (
    Choices,
    button,
)

__all__ = [
    "FEEDBACK",
    "REQ",
    "feedback_choices",
    "languages_label",
    "office_contact",
    "status_label",
    "summary",
    "topic_label",
    "when_label",
]


#: What the buttons offer (handlers accept nothing else).
FEEDBACK = ("good", "ok", "bad")


#: The person's own requests in /status: cancel one (asked first), or keep it.
REQ = Actions("req", {"keep": (), "cancel": (NUMBER,), "cancel_yes": (NUMBER,)})


def topic_label(t: Texts, topic: str | None) -> str:
    """The translated label of a topic key."""
    return t.gettext(TOPICS[topic]) if topic in TOPICS else "–"


def languages_label(t: Texts, codes: tuple[str, ...] | frozenset[str]) -> str:
    """Language names, each in its own language, listed in ``t``'s."""
    return t.join(language_name(code) for code in LANGUAGES if code in codes)


def when_label(t: Texts, request: Request) -> str:
    """Day and time of the appointment, or *flexible*."""
    if request.day is None:
        return t.gettext("flexible")
    if request.time is None:
        return t.gettext("{day}, time still open", day=t.day(request.day))
    return t.gettext("{day} at {time}", day=t.day(request.day), time=t.clock(request.time))


def summary(t: Texts, city: CityConfig, request: Request, anonymous: bool) -> str:
    """The request in a few lines; ``anonymous`` leaves out the name (for offers)."""
    lines = [
        t.gettext("📌 Topic: {topic}", topic=topic_label(t, request.topic)),
        t.gettext("🗣 Languages: {languages}", languages=languages_label(t, request.languages)),
        t.gettext("📍 Stadtteil: {district}", district=request.district or "–"),
        t.gettext("🗓 When: {when}", when=when_label(t, request)),
    ]
    if request.place:
        lines.append(t.gettext("🏢 Place: {place}", place=request.place))
    if not anonymous and request.first_name:
        lines.insert(0, t.gettext("👤 Name: {name}", name=request.first_name))
    if request.description:
        lines.append(t.gettext("📝 About: {text}", text=request.description))
    kinds = [f.kind for f in request.files]
    if kinds == ["voice"]:
        lines.append(t.gettext("🎤 A voice note is attached."))
    elif len(kinds) == 1:
        lines.append(t.gettext("📎 A photo or document is attached."))
    elif kinds:
        lines.append(
            t.ngettext("📎 {n} file is attached.", "📎 {n} files are attached.", len(kinds))
        )
    return "\n".join(lines)


def status_label(t: Texts, status: Status) -> str:
    """A request's state in plain words."""
    labels = {
        Status.OPEN: t.gettext("looking for a Lotse"),
        Status.OFFERED: t.gettext("looking for a Lotse"),
        Status.ACCEPTED: t.gettext("a Lotse accompanies you"),
        Status.DONE: t.gettext("done"),
        Status.CANCELLED: t.gettext("cancelled"),
        Status.EXPIRED: t.gettext("no Lotse found in time"),
        Status.DRAFT: t.gettext("not sent yet"),
    }
    return labels[status]


def feedback_choices(request: Request) -> Choices:
    return (
        tuple(
            button(face, f"fb:{request.id}:{answer}")
            for face, answer in zip(("👍", "🙂", "👎"), FEEDBACK, strict=True)
        ),
    )


def office_contact(city: CityConfig) -> str:
    """How to reach the coordination office, as other texts show it."""
    return ", ".join(
        part for part in (city.contact.office, city.contact.email, city.contact.phone) if part
    )
