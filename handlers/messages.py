"""Where a typed or sent message goes: a questionnaire step, a dialog, a case, or the menu."""

from __future__ import annotations

from bot.domain.dialogs import Dialog
from bot.domain.requests import Request
from bot.i18n import texts
from handlers import asking, broadcasts, case_views, events, office, roster, waitlist, welcome
from handlers.context import Speaker, Turn, speaker
from handlers.dialogs import Dialogue
from handlers.limits import file_problem, too_long
from handlers.port import Attachment, MessageRef, Screen

__all__ = ["route"]

#: Which dialog takes typed input for an open dialog, by the dialog's kind.
DIALOGS: dict[str, Dialogue[Dialog]] = {
    "broadcast": broadcasts.COMPOSING,
    "event": events.PLANNING,
    "rule": events.PLANNING,
    "event_move": events.PLANNING,
    "join": waitlist.JOINING,
    "training": waitlist.TRAINING,
    "office": office.WRITING,
    "concern": office.CONCERNING,
    "expense": office.SPENDING,
    **dict.fromkeys(roster.KINDS, roster.TYPING),
}

# Room for the case header inside Telegram's limits (4096 per message, 1024 per caption).
MAX_TEXT = 3800
MAX_CAPTION = 900


async def route(turn: Turn) -> None:
    """Any private message that is not a command."""
    who = await speaker(turn)
    if who.person is None or not who.consented:
        await welcome.fallback_message(turn)
        return
    draft = await asking.QUESTIONNAIRE.load(turn, who)
    if draft is not None and await asking.QUESTIONNAIRE.take_input(turn, who, draft):
        return
    if await office.take_reply(turn, who):
        return
    dialog = await turn.services.dialogs.current(who.person)
    if dialog is not None and dialog.kind in DIALOGS:
        await DIALOGS[dialog.kind].take_input(turn, who, dialog)
        return
    if not await _to_case(turn, who):
        await welcome.fallback_message(turn)


async def _to_case(turn: Turn, who: Speaker) -> bool:
    """Pass the message on to the case it belongs to, or say why not; False if it belongs to
    no case at all (then the menu answers).

    A reply belongs to the case of the message it replies to, and goes nowhere else: if that
    case is closed or no longer the sender's, it is refused. Only a message that is not a
    reply goes to the sender's one running case.
    """
    requests = turn.services.requests
    assert who.person is not None
    if turn.input.reply_to is not None:
        number = await requests.case_of_relay(turn.input.ref(turn.input.reply_to))
        case = await requests.get(number) if number is not None else None
        if case is not None and case.runs_for(who.person.id):
            await _relay(turn, who, case)
        elif case is not None:
            city = turn.services.city
            await turn.send(case_views.reply_refused(who.t, city, case, who.person.id))
        elif await requests.running_cases(who.person):
            await turn.send(case_views.reply_unknown(who.t))
        else:
            return False
        return True
    cases = await requests.running_cases(who.person)
    if len(cases) == 1:
        await _relay(turn, who, cases[0])
    elif cases:
        await turn.send(case_views.relay_needs_reply(who.t))
    else:
        return False
    return True


async def _relay(turn: Turn, who: Speaker, case: Request) -> None:
    """Pass the message to the other side of the case, marked with the case number."""
    services = turn.services
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
    media = asking.media_of(turn)
    text = turn.input.text or turn.input.caption
    limit = MAX_CAPTION if media else MAX_TEXT
    problem = file_problem(who.t, media)
    if text and len(text) > limit:
        problem = too_long(who.t, limit)
    if problem:
        await turn.send(problem)
        return
    # The other side may be on another channel: the switchboard reaches them there (an
    # attachment only goes along on the channel it came from).
    switchboard, to = turn.switchboard, other.contact
    if media is not None:
        caption = Screen(case_views.relayed(t, case, sender, text))
        attachment = Attachment(media.kind, media.ref, turn.input.channel)
        copy = await switchboard.send(to, caption, attachment=attachment)
    elif text:
        copy = await switchboard.send(to, Screen(case_views.relayed(t, case, sender, text)))
    else:
        await welcome.fallback_message(turn)
        return
    kind = "media" if media is not None and to.channel == turn.input.channel else "text"
    relays = [(MessageRef.at(to, copy.id), kind)]
    if turn.input.message is not None:
        relays.append((turn.input.ref(turn.input.message), "own"))
    requests = services.requests
    await requests.remember(case.id, *relays, relayed=True)
    sent = await turn.send(case_views.relay_sent(who.t, case, recipient))
    # It names the recipient: a reply to it goes to the same case.
    await requests.remember(case.id, (turn.input.ref(sent.id), "text"))
