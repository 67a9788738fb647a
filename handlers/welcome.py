"""The first conversation: /start, the language picker, consent and the main menu."""

from __future__ import annotations

from bot.config import CityConfig
from bot.i18n import LANGUAGES, texts
from bot.services.lotsen import CODE
from handlers import asking, events, lotse, office, privacy, views, waitlist
from handlers.actions import INVITE, parse
from handlers.context import Speaker, Turn, speaker

#: The consent buttons (``yes`` may carry an invitation code).
_CONSENT = ("yes", "no", "show", "withdraw")
#: The main menu's entries and the way back to it.
_MENU = (
    "request",
    "quick",
    "status",
    "lotse",
    "become",
    "stammtisch",
    "office",
    "language",
    "privacy",
    "home",
)

__all__ = [
    "edited",
    "fallback_button",
    "fallback_message",
    "on_consent",
    "on_language",
    "on_menu",
    "show_help",
    "show_language",
    "show_menu",
    "show_privacy",
    "start",
]


async def _close_query(turn: Turn, text: str | None = None) -> None:
    """Answer the press and replace the pressed message's choices by ``text``.

    Unchanged text is fine: a press handled again after a restart finds the message
    already edited, and must still go on to the next step.
    """
    await turn.notice()
    if text is not None:
        await turn.replace(text)


async def start(turn: Turn) -> None:
    """/start [code]: welcome, then language (new people) or the menu (people who agreed).

    A code (from an invitation link) makes the person a Lotse once they have chosen a
    language and agreed.
    """
    who = await speaker(turn)
    city = turn.services.city
    invite = _invite_code(turn.input.args)
    if who.consented:
        if invite:
            await lotse.join_with_code(turn, who, invite)
            return
        await turn.send(views.welcome(who.t, city))
        await turn.send(await _menu(turn, who))
    else:
        await turn.send(_first_picker(who, city, invite))


def _first_picker(who: Speaker, city: CityConfig, invite: str | None = None) -> views.Screen:
    """The language picker before a first choice: below the welcome in the language Telegram
    suggests, or below a greeting in several languages when it suggests none the bot speaks."""
    if who.language_known:
        intro = views.invited(who.t, city) if invite else views.welcome(who.t, city)
        return views.language_picker(who.t, intro=intro, invite=invite)
    return views.greeting_picker(city, invite)


def typed_code(text: str | None) -> str | None:
    """An invitation code typed as a message of its own (on a messenger whose links cannot
    carry it, or copied from a letter), in capitals or small letters."""
    typed = (text or "").strip().upper()
    return typed if CODE.fullmatch(typed) else None


def _invite_code(args: tuple[str, ...]) -> str | None:
    """The invitation code of a deep link, if it looks like one."""
    code = (args or [""])[0].strip().upper()
    return code if INVITE.fullmatch(code) else None


async def show_menu(turn: Turn) -> None:
    """/menu: the main menu, or the step still missing before it."""
    await next_step(turn, await speaker(turn))


async def show_language(turn: Turn) -> None:
    """/language: the language picker (with the greeting while the language is unknown)."""
    who = await speaker(turn)
    if who.language_known:
        await turn.send(views.language_picker(who.t))
    else:
        await turn.send(views.greeting_picker(turn.services.city))


async def show_privacy(turn: Turn) -> None:
    """/privacy: the privacy notice and the person's consent state."""
    who = await speaker(turn)
    consent_at = who.person.consent_at if who.consented and who.person else None
    await turn.send(views.privacy_notice(who.t, turn.services.city, consent_at))


async def show_help(turn: Turn) -> None:
    """/help: what the bot does."""
    who = await speaker(turn)
    coordinator = await turn.services.people.is_coordinator(who.contact)
    await turn.send(views.help_text(who.t, turn.services.city, coordinator))


async def on_language(turn: Turn) -> None:
    """A language choice: store it, then continue in that language."""
    data = turn.input.action
    parts = parse(data, "lang", LANGUAGES) or parse(data, "lang", LANGUAGES, INVITE)
    before = await speaker(turn)
    if parts is None:
        await turn.notice(views.button_expired(before.t), alert=True)
        return
    code, invite = parts[1], "".join(parts[2:])
    city = turn.services.city
    person = await turn.services.people.choose_language(turn.input.contact, code)
    t = texts(person.language, city.timezone)
    await _close_query(turn, views.language_chosen(t))
    if not before.language_known:  # greeted in several languages: now the welcome in theirs
        await turn.send(views.invited(t, city) if invite else views.welcome(t, city))
    who = await speaker(turn)
    if invite and not who.consented:
        await turn.send(views.consent_for_lotse(who.t, turn.services.city, invite))
    elif invite:
        await lotse.join_with_code(turn, who, invite)
    else:
        await next_step(turn, who)


async def on_consent(turn: Turn) -> None:
    """The consent choices: agree, not now, show again, withdraw."""
    people = turn.services.people
    city = turn.services.city
    who = await speaker(turn)
    data = turn.input.action
    parts = parse(data, "consent", _CONSENT) or parse(data, "consent", "yes", INVITE)
    if parts is None:
        await turn.notice(views.button_expired(who.t), alert=True)
        return
    if who.person is None:  # consent before a language: start from the beginning
        await turn.notice()
        await turn.send(_first_picker(who, city))
        return
    action, invite = parts[1], "".join(parts[2:])
    if (action == "no" and who.consented) or (action == "withdraw" and not who.consented):
        # An old consent screen: it belongs to a choice made since.
        await turn.refuse(views.button_expired(who.t))
        return
    if action == "yes" and who.consented and not invite:
        await turn.notice()
        await turn.send(await _menu(turn, who))
        return
    if action == "yes":
        await people.give_consent(who.contact)
        await _close_query(turn, views.consent_given(who.t))
        if invite:
            await lotse.join_with_code(turn, await speaker(turn), invite)
        else:
            await turn.send(await _menu(turn, who))
    elif action == "no":
        await _close_query(turn)
        await turn.send(views.consent_declined(who.t, city))
    elif action == "withdraw":
        await privacy.ask_withdraw(turn, who)
    else:  # CONSENT_SHOW
        await _close_query(turn)
        await turn.send(views.consent(who.t, city))


async def on_menu(turn: Turn) -> None:
    """A main-menu choice."""
    who = await speaker(turn)
    entry = turn.input.action
    if parse(entry, "menu", _MENU) is None:
        await turn.notice(views.button_expired(who.t), alert=True)
        return
    await turn.notice()
    city = turn.services.city
    if who.person is None:
        await turn.send(_first_picker(who, city))
    elif entry == views.MENU_LANGUAGE:
        await turn.send(views.language_picker(who.t))
    elif entry == views.MENU_PRIVACY:
        consent_at = who.person.consent_at if who.consented else None
        await turn.send(views.privacy_notice(who.t, city, consent_at))
    elif entry == views.MENU_STAMMTISCH:
        await events.show_stammtisch(turn, who)
    elif (
        entry
        in (
            views.MENU_REQUEST,
            views.MENU_QUICK,
            views.MENU_STATUS,
            views.MENU_LOTSE,
            views.MENU_BECOME,
            views.MENU_OFFICE,
        )
        and not who.consented
    ):
        await turn.send(views.consent(who.t, city))
    elif entry == views.MENU_REQUEST:
        await asking.start_asking(turn, who)
    elif entry == views.MENU_QUICK:
        await asking.start_quick(turn, who)
    elif entry == views.MENU_STATUS:
        await asking.show_status(turn, who)
    elif entry == views.MENU_LOTSE:
        await lotse.show_lotse_menu(turn, who)
    elif entry == views.MENU_BECOME:
        await waitlist.show_become(turn, who)
    elif entry == views.MENU_OFFICE:
        await office.start_writing(turn, who)
    else:  # MENU_HOME
        await next_step(turn, who)


async def _menu(turn: Turn, who: Speaker) -> views.Screen:
    """The main menu as ``who`` sees it (with the coordinators' entries for them)."""
    return views.main_menu(who.t, await turn.services.people.is_coordinator(who.contact))


async def next_step(turn: Turn, who: Speaker) -> None:
    """Send whatever comes next for this person: language, consent or the menu."""
    city = turn.services.city
    if who.person is None:
        await turn.send(_first_picker(who, city))
    elif not who.consented:
        await turn.send(views.consent(who.t, city))
    else:
        await turn.send(await _menu(turn, who))


async def fallback_message(turn: Turn) -> None:
    """Anything the bot cannot use (free text, stickers, unknown commands): point to the menu."""
    who = await speaker(turn)
    await turn.send(views.not_understood(who.t))
    await next_step(turn, who)


async def fallback_button(turn: Turn) -> None:
    """A choice the bot does not know (old message, a number for no list, crafted data):
    refuse, change nothing, show where the person is."""
    who = await speaker(turn)
    await turn.refuse(views.button_expired(who.t))


async def edited(turn: Turn) -> None:
    """An edited message: the change does not reach anyone, so say so."""
    who = await speaker(turn)
    await turn.send(views.edits_not_seen(who.t))
