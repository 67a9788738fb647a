"""/console: a one-time link that signs a coordinator in to the office console in the
browser (the router lets only coordinators through; see :mod:`bot.services.console`)."""

from __future__ import annotations

from bot.i18n import Texts
from handlers.context import Turn, speaker

__all__ = ["show_console"]


async def show_console(turn: Turn) -> None:
    """/console: the sign-in link, valid 10 minutes and once."""
    who = await speaker(turn)
    services = turn.services
    if not services.console.available:
        await turn.send(not_set_up(who.t))
        return
    person = who.person
    if person is None:  # a coordinator of the city file who never chose a language
        person = await services.people.choose_language(who.contact, who.t.language)
    link = await services.console.link(person.id)
    if link is None:
        await turn.send(too_many(who.t))
        return
    await services.audit.record(person.id, "console.link")
    await turn.send(sign_in_link(who.t, link))


def sign_in_link(t: Texts, link: str) -> str:
    """The link itself."""
    return t.gettext(
        "🖥 Your sign-in link for the office console, valid for 10 minutes and only once:\n"
        "{link}\n\nDo not pass it on: it signs in as you.",
        link=link,
    )


def not_set_up(t: Texts) -> str:
    """The bot runs without a console."""
    return t.gettext("The office console is not set up for this bot.")


def too_many(t: Texts) -> str:
    """More links than the limit allows within 10 minutes."""
    return t.gettext(
        "You were sent several sign-in links just now. Please use the latest one, "
        "or ask again in 10 minutes."
    )
