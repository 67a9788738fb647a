"""Where a typed or sent message goes: a questionnaire step, a dialog, a case, or the menu."""

from __future__ import annotations

from dataclasses import replace

from bot.domain.dialogs import Dialog
from bot.domain.requests import Request
from bot.i18n import texts
from handlers import asking, broadcasts, case_views, events, roster, waitlist, welcome
from handlers.context import Speaker, Turn, speaker
from handlers.dialogs import Dialogue
from handlers.limits import file_problem, too_long
from handlers.port import Attachment, Kind, MessageRef, Screen

__all__ = ["current", "route"]

#: Which dialog takes typed input for an open dialog, by the dialog's kind.
DIALOGS: dict[str, Dialogue[Dialog]] = {
    "broadcast": broadcasts.COMPOSING,
    "event": events.PLANNING,
    "rule": events.PLANNING,
    "event_move": events.PLANNING,
    "join": waitlist.JOINING,
    "training": waitlist.TRAINING,
    **dict.fromkeys(roster.KINDS, roster.TYPING),
}

# Room for the case header inside Telegram's limits (4096 per message, 1024 per caption).
MAX_TEXT = 3800
#: The reaction on a person's message that was passed on to the other side of the case.
RELAYED = "👍"
MAX_CAPTION = 900


async def route(turn: Turn) -> None:
    """Any private message that is not a command."""
    code = welcome.typed_code(turn.input.text)
    if code is not None:
        # A typed code is the invitation link's /start.
        start = replace(turn.input, kind=Kind.COMMAND, command="start", args=(code,))
        await welcome.start(replace(turn, input=start))
        return
    who = await speaker(turn)
    if who.person is None or not who.consented:
        await welcome.fallback_message(turn)
        return
    draft = await asking.QUESTIONNAIRE.load(turn, who)
    if draft is not None and await asking.QUESTIONNAIRE.take_input(turn, who, draft):
        return
    dialog = await turn.services.dialogs.current(who.person)
    if dialog is not None and dialog.kind in DIALOGS:
        await DIALOGS[dialog.kind].take_input(turn, who, dialog)
        return
    if not await _to_case(turn, who):
        await welcome.fallback_message(turn)


async def current(turn: Turn) -> None:
    """Show the person where they are: the step of their unfinished request or dialog, or
    what comes next (language, consent, the menu)."""
    who = await speaker(turn)
    if who.person is not None and who.consented:
        draft = await asking.QUESTIONNAIRE.load(turn, who)
        if draft is not None and draft.step is not None:
            await asking.QUESTIONNAIRE.show(turn, who, draft)
            return
        dialog = await turn.services.dialogs.current(who.person)
        if dialog is not None and dialog.kind in DIALOGS:
            await DIALOGS[dialog.kind].show(turn, who, dialog)
            return
    await welcome.next_step(turn, who)


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
    files = asking.files_of(turn)
    text = turn.input.text or turn.input.caption
    limit = MAX_CAPTION if files else MAX_TEXT
    problem = next(filter(None, (file_problem(who.t, u) for u in turn.input.uploads)), None)
    if text and len(text) > limit:
        problem = too_long(who.t, limit)
    if problem:
        await turn.send(problem)
        return
    if not files and not text:
        await welcome.fallback_message(turn)
        return
    # The other side may be on another channel: the switchboard reaches them there (with a
    # copy of an attachment); each file goes with the case's line, the text with the first.
    switchboard, to = turn.switchboard, other.contact
    relays: list[tuple[MessageRef, str]] = []
    if files:
        for n, file in enumerate(files):
            caption = Screen(case_views.relayed(t, case, sender, text if n == 0 else None))
            attachment = Attachment(file.kind, file.ref, file.channel, file.mime)
            copy = await switchboard.send(to, caption, attachment=attachment)
            relays.append((MessageRef.at(to, copy.id), "media"))
    else:
        copy = await switchboard.send(to, Screen(case_views.relayed(t, case, sender, text)))
        relays.append((MessageRef.at(to, copy.id), "text"))
    if turn.input.message is not None:
        relays.append((turn.input.ref(turn.input.message), "own"))
    requests = services.requests
    await requests.remember(case.id, *relays, relayed=True)
    # Passed on: a reaction on the person's own message says so where the messenger has
    # them; else a line that names the recipient (a reply to it goes to the same case).
    own = turn.input.message
    if own is not None and await switchboard.react(turn.input.ref(own), RELAYED):
        return
    sent = await turn.send(case_views.relay_sent(who.t, case, recipient))
    await requests.remember(case.id, (turn.input.ref(sent.id), "text"))
