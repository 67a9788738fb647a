"""Where a typed or sent message goes: the intake step, a case, or a pointer to the menu."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from telegram import Message, Update

from bot.domain.dialogs import Dialog
from bot.domain.requests import Request
from bot.i18n import texts
from handlers import asking, broadcasts, events, waitlist, welcome
from handlers import request_views as rv
from handlers.context import LotsenContext, Speaker, send, speaker
from handlers.limits import file_problem, too_long
from handlers.notify import send_file

__all__ = ["route"]

#: Who takes typed input for an open dialog, by the dialog's kind.
DIALOGS: dict[str, Callable[[Update, LotsenContext, Speaker, Dialog], Awaitable[None]]] = {
    "broadcast": broadcasts.take_input,
    "event": events.take_input,
    "rule": events.take_input,
    "event_move": events.take_input,
    "join": waitlist.take_join_input,
    "training": waitlist.take_training_input,
}

# Room for the case header inside Telegram's limits (4096 per message, 1024 per caption).
MAX_TEXT = 3800
MAX_CAPTION = 900


async def route(update: Update, context: LotsenContext) -> None:
    """Any private message that is not a command."""
    who = await speaker(update, context)
    message = update.effective_message
    if who.person is None or not who.consented or message is None:
        await welcome.fallback_message(update, context)
        return
    again, draft = await asking.replayed(update, context, who)
    if again:
        return
    if draft is not None and await asking.take_input(update, context, who, draft):
        return
    dialog = await context.services.dialogs.current(who.person)
    if dialog is not None and dialog.kind in DIALOGS:
        await DIALOGS[dialog.kind](update, context, who, dialog)
        return
    if not await _to_case(update, context, who, message):
        await welcome.fallback_message(update, context)


async def _to_case(update: Update, context: LotsenContext, who: Speaker, message: Message) -> bool:
    """Pass the message on to the case it belongs to, or say why not; False if it belongs to
    no case at all (then the menu answers).

    A reply belongs to the case of the message it replies to, and goes nowhere else: if that
    case is closed or no longer the sender's, it is refused. Only a message that is not a
    reply goes to the sender's one running case.
    """
    requests = context.services.requests
    assert who.person is not None
    if message.reply_to_message is not None:
        number = await requests.case_of_relay(message.chat_id, message.reply_to_message.message_id)
        case = await requests.get(number) if number is not None else None
        if case is not None and case.runs_for(who.person.id):
            await _relay(update, context, who, case, message)
        elif case is not None:
            city = context.services.city
            await send(update, rv.reply_refused(who.t, city, case, who.person.id))
        elif await requests.running_cases(who.person):
            await send(update, rv.reply_unknown(who.t))
        else:
            return False
        return True
    cases = await requests.running_cases(who.person)
    if len(cases) == 1:
        await _relay(update, context, who, cases[0], message)
    elif cases:
        await send(update, rv.relay_needs_reply(who.t))
    else:
        return False
    return True


async def _relay(
    update: Update, context: LotsenContext, who: Speaker, case: Request, message: Message
) -> None:
    """Pass the message to the other side of the case, marked with the case number."""
    services = context.services
    assert who.person is not None
    from_lotse = case.lotse_id == who.person.id
    other_id = case.person_id if from_lotse else case.lotse_id
    other = await services.people.by_id(other_id) if other_id is not None else None
    lotse = await services.lotsen.by_person_id(case.lotse_id) if case.lotse_id else None
    if other is None or lotse is None:
        return
    helped = case.first_name or ""
    sender, recipient = (lotse.first_name, helped) if from_lotse else (helped, lotse.first_name)
    t = texts(other.language, services.city.timezone)
    kind, file_id = asking.media_of(message)
    text = message.text or message.caption
    problem = file_problem(who.t, message)
    if text and len(text) > (MAX_CAPTION if file_id else MAX_TEXT):
        problem = too_long(who.t, MAX_CAPTION if file_id else MAX_TEXT)
    if problem:
        await send(update, problem)
        return
    if kind is not None and file_id is not None:
        caption = rv.relayed(t, case, sender, text)
        copy = await send_file(context.bot, other.telegram_id, kind, file_id, caption)
    elif text:
        copy = await context.bot.send_message(other.telegram_id, rv.relayed(t, case, sender, text))
    else:
        await welcome.fallback_message(update, context)
        return
    requests = services.requests
    await requests.remember(
        case.id,
        (other.telegram_id, copy.message_id, "media" if file_id else "text"),
        (message.chat_id, message.message_id, "own"),
        relayed=True,
    )
    sent = await send(update, rv.relay_sent(who.t, case, recipient))
    if sent is not None:  # it names the recipient: a reply to it goes to the same case
        await requests.remember(case.id, (sent.chat_id, sent.message_id, "text"))
