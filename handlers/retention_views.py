"""What the bot says about a case without activity: the question, the answers, the closing."""

from __future__ import annotations

import datetime as dt

from bot.domain.requests import Request
from bot.i18n import Texts
from handlers.actions import NUMBER, Actions
from handlers.port import Screen
from handlers.request_views import topic_label

__all__ = ["IDLE", "closed", "closed_for_person", "idle_warning", "kept"]

#: The answers to the question: ``idle:keep:<id>`` (*still running*), ``idle:close:<id>``.
IDLE = Actions("idle", {"keep": (NUMBER,), "close": (NUMBER,)})


def idle_warning(
    t: Texts, request: Request, since: dt.datetime, deadline: dt.datetime, lotse_name: str | None
) -> Screen:
    """To the case's Lotse (``lotse_name`` None) or a coordinator: is the case still running?"""
    values = {
        "number": str(request.id),
        "topic": topic_label(t, request.topic),
        "since": t.date(since, "long"),
        "deadline": t.date(deadline, "long"),
    }
    if lotse_name is None:
        text = t.gettext(
            "⏳ <b>Case #{number}</b> ({topic}): nothing has happened in it since {since}.\n\n"
            "Is it still running? If nobody answers, the case will be closed on {deadline} "
            "and its details (what it is about, attachments, the first name, the link to "
            "your messages) will be erased.",
            **values,
        )
    else:
        text = t.gettext(
            "⏳ <b>Case #{number}</b> ({topic}, Lotse: {name}): nothing has happened in it "
            "since {since}.\n\nIf nobody answers, the case will be closed on {deadline} and "
            "its details will be erased.",
            name=lotse_name,
            **values,
        )
    choices = (
        (
            IDLE.choice(t.gettext("✅ Still running"), "keep", request.id),
            IDLE.choice(t.gettext("🗂 Close now"), "close", request.id),
        ),
    )
    return Screen(text, choices)


def kept(t: Texts, request: Request) -> str:
    """After *still running*."""
    return t.gettext("Thank you. Case #{number} stays open.", number=str(request.id))


def closed(t: Texts, request: Request) -> str:
    """After *close now*, and to the Lotse when the case was closed at its deadline."""
    return t.gettext(
        "Case #{number} has been closed and its details erased.", number=str(request.id)
    )


def closed_for_person(t: Texts, request: Request) -> str:
    """To the person whose quiet case was closed."""
    return t.gettext(
        "Your request #{number} has been closed because nothing happened in it for a long "
        "time. If you still need help, you can ask for a Lotse again: /menu",
        number=str(request.id),
    )
