"""The first conversation: /start, the language picker, consent and the main menu."""

from __future__ import annotations

from telegram import CallbackQuery, Message, Update

from bot.config import CityConfig
from bot.i18n import LANGUAGES, texts
from handlers import asking, events, lotse, privacy, views, waitlist
from handlers.actions import INVITE, parse
from handlers.context import LotsenContext, Speaker, acknowledge, replace, speaker

#: The consent buttons (``yes`` may carry an invitation code).
_CONSENT = ("yes", "no", "show", "withdraw")
#: The main menu's entries and the way back to it.
_MENU = ("request", "lotse", "become", "stammtisch", "language", "privacy", "home")

__all__ = [
    "on_consent",
    "on_language",
    "on_menu",
    "show_help",
    "show_language",
    "show_menu",
    "show_privacy",
    "start",
]


async def _send(update: Update, screen: views.Screen) -> Message | None:
    chat = update.effective_chat
    if chat is None:
        return None
    return await chat.send_message(screen.text, reply_markup=screen.buttons)


async def _close_query(query: CallbackQuery, text: str | None = None) -> None:
    """Answer the button press and replace the pressed message's buttons by ``text``.

    Unchanged text is fine: a press handled again after a restart finds the message
    already edited, and must still go on to the next step.
    """
    await acknowledge(query)
    if text is not None and query.message is not None:
        await replace(query, text)


async def start(update: Update, context: LotsenContext) -> None:
    """/start [code]: welcome, then language (new people) or the menu (people who agreed).

    A code (from a ``t.me/<bot>?start=<code>`` invitation link) makes the person a Lotse once
    they have chosen a language and agreed.
    """
    who = await speaker(update, context)
    city = context.services.city
    invite = _invite_code(context.args)
    if who.consented:
        if invite:
            await lotse.join_with_code(update, context, who, invite)
            return
        await _send(update, views.Screen(views.welcome(who.t, city)))
        await _send(update, views.main_menu(who.t))
    else:
        await _send(update, _first_picker(who, city, invite))


def _first_picker(who: Speaker, city: CityConfig, invite: str | None = None) -> views.Screen:
    """The language picker before a first choice: below the welcome in the language Telegram
    suggests, or below a greeting in several languages when it suggests none the bot speaks."""
    if who.language_known:
        return views.language_picker(who.t, intro=views.welcome(who.t, city), invite=invite)
    return views.greeting_picker(city, invite)


def _invite_code(args: list[str] | None) -> str | None:
    """The invitation code of a deep link, if it looks like one."""
    code = (args or [""])[0].strip().upper()
    return code if INVITE.fullmatch(code) else None


async def show_menu(update: Update, context: LotsenContext) -> None:
    """/menu: the main menu, or the step still missing before it."""
    await _next_step(update, context, await speaker(update, context))


async def show_language(update: Update, context: LotsenContext) -> None:
    """/language: the language picker (with the greeting while the language is unknown)."""
    who = await speaker(update, context)
    if who.language_known:
        await _send(update, views.language_picker(who.t))
    else:
        await _send(update, views.greeting_picker(context.services.city))


async def show_privacy(update: Update, context: LotsenContext) -> None:
    """/privacy: the privacy notice and the person's consent state."""
    who = await speaker(update, context)
    consent_at = who.person.consent_at if who.consented and who.person else None
    await _send(update, views.privacy_notice(who.t, context.services.city, consent_at))


async def show_help(update: Update, context: LotsenContext) -> None:
    """/help: what the bot does."""
    who = await speaker(update, context)
    await _send(update, views.help_text(who.t, context.services.city))


async def on_language(update: Update, context: LotsenContext) -> None:
    """A language button: store the choice, then continue in that language."""
    query = update.callback_query
    assert query is not None
    parts = parse(query.data, "lang", LANGUAGES) or parse(query.data, "lang", LANGUAGES, INVITE)
    before = await speaker(update, context)
    if parts is None:
        await acknowledge(query, views.button_expired(before.t), alert=True)
        return
    code, invite = parts[1], "".join(parts[2:])
    city = context.services.city
    person = await context.services.people.choose_language(query.from_user.id, code)
    t = texts(person.language, city.timezone)
    await _close_query(query, views.language_chosen(t))
    if not before.language_known:  # greeted in several languages: now the welcome in theirs
        await _send(update, views.Screen(views.welcome(t, city)))
    who = await speaker(update, context)
    if invite and not who.consented:
        await _send(update, views.consent(who.t, context.services.city, invite=invite))
    elif invite:
        await lotse.join_with_code(update, context, who, invite)
    else:
        await _next_step(update, context, who)


async def on_consent(update: Update, context: LotsenContext) -> None:
    """The consent buttons: agree, not now, show again, withdraw."""
    query = update.callback_query
    assert query is not None
    people = context.services.people
    city = context.services.city
    who = await speaker(update, context)
    if who.person is None:  # consent before a language: start from the beginning
        await acknowledge(query)
        await _send(update, _first_picker(who, city))
        return
    parts = parse(query.data, "consent", _CONSENT) or parse(query.data, "consent", "yes", INVITE)
    if parts is None:
        await acknowledge(query, views.button_expired(who.t), alert=True)
        return
    action, invite = parts[1], "".join(parts[2:])
    if action == "yes":
        await people.give_consent(who.telegram_id)
        await _close_query(query, views.consent_given(who.t))
        if invite:
            await lotse.join_with_code(update, context, await speaker(update, context), invite)
        else:
            await _send(update, views.main_menu(who.t))
    elif action == "no":
        await _close_query(query)
        await _send(update, views.consent_declined(who.t, city))
    elif action == "withdraw":
        await privacy.ask_withdraw(update, context, who)
    else:  # CONSENT_SHOW
        await _close_query(query)
        await _send(update, views.consent(who.t, city))


async def on_menu(update: Update, context: LotsenContext) -> None:
    """A main-menu button."""
    query = update.callback_query
    assert query is not None
    who = await speaker(update, context)
    if parse(query.data, "menu", _MENU) is None:
        await acknowledge(query, views.button_expired(who.t), alert=True)
        return
    await acknowledge(query)
    city = context.services.city
    entry = query.data
    if who.person is None:
        await _send(update, _first_picker(who, city))
    elif entry == views.MENU_LANGUAGE:
        await _send(update, views.language_picker(who.t))
    elif entry == views.MENU_PRIVACY:
        consent_at = who.person.consent_at if who.consented else None
        await _send(update, views.privacy_notice(who.t, city, consent_at))
    elif entry == views.MENU_STAMMTISCH:
        await events.show_stammtisch(update, context, who)
    elif entry in (views.MENU_REQUEST, views.MENU_LOTSE, views.MENU_BECOME) and not who.consented:
        await _send(update, views.consent(who.t, city))
    elif entry == views.MENU_REQUEST:
        await asking.start_asking(update, context, who)
    elif entry == views.MENU_LOTSE:
        await lotse.show_lotse_menu(update, context, who)
    elif entry == views.MENU_BECOME:
        await waitlist.show_become(update, context, who)
    else:  # MENU_HOME
        await _next_step(update, context, who)


async def _next_step(update: Update, context: LotsenContext, who: Speaker) -> None:
    """Send whatever comes next for this person: language, consent or the menu."""
    city = context.services.city
    if who.person is None:
        await _send(update, _first_picker(who, city))
    elif not who.consented:
        await _send(update, views.consent(who.t, city))
    else:
        await _send(update, views.main_menu(who.t))


async def fallback_message(update: Update, context: LotsenContext) -> None:
    """Anything the bot cannot use (free text, stickers, unknown commands): point to the menu."""
    who = await speaker(update, context)
    await _send(update, views.Screen(views.not_understood(who.t)))
    await _next_step(update, context, who)


async def fallback_button(update: Update, context: LotsenContext) -> None:
    """A button the bot does not know (old message or crafted data): refuse, change nothing."""
    query = update.callback_query
    assert query is not None
    who = await speaker(update, context)
    await acknowledge(query, views.button_expired(who.t), alert=True)


async def edited(update: Update, context: LotsenContext) -> None:
    """An edited message: the change does not reach anyone, so say so."""
    who = await speaker(update, context)
    await _send(update, views.Screen(views.edits_not_seen(who.t)))
