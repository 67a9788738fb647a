"""Where a typed or sent message goes: a questionnaire step, a dialog, a case, or the menu."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from bot.domain.dialogs import Dialog
from bot.domain.requests import FileRef, Request
from bot.i18n import texts
from handlers import (
    asking,
    broadcasts,
    case_views,
    events,
    lotse,
    office,
    roster,
    waitlist,
    welcome,
)
from handlers.context import Speaker, Turn, speaker, together
from handlers.dialogs import Dialogue, Reply
from handlers.limits import file_problem, too_long
from handlers.port import Attachment, Kind, MessageRef, Screen

__all__ = ["current", "on_relay_button", "route"]

#: Which dialog takes typed input for an open dialog, by the dialog's kind.
DIALOGS: dict[str, Dialogue[Dialog]] = {
    "broadcast": broadcasts.COMPOSING,
    "event": events.PLANNING,
    "rule": events.PLANNING,
    "event_move": events.PLANNING,
    "join": waitlist.JOINING,
    "training": waitlist.TRAINING,
    "hours": lotse.HOURS_ASKED,
    "office": office.WRITING,
    "concern": office.CONCERNING,
    "expense": office.SPENDING,
    **dict.fromkeys(roster.KINDS, roster.TYPING),
}

# Room for the case header inside Telegram's limits (4096 per message, 1024 per caption).
MAX_TEXT = 3800
#: The reaction on a person's message that was passed on to the other side of the case.
RELAYED = "👍"
MAX_CAPTION = 900


async def route(turn: Turn) -> None:
    """Any private message that is not a command: a reply to a case's message goes to that
    case; otherwise the step or dialog the person is in takes it; else it goes to their case."""
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
    reply_to = turn.input.reply_to
    if reply_to is not None and await turn.services.requests.case_of_relay(
        turn.input.ref(reply_to)
    ):
        await _to_case(turn, who)
        return
    draft = await asking.QUESTIONNAIRE.load(turn, who)
    if draft is not None and await asking.QUESTIONNAIRE.take_input(turn, who, draft):
        return
    if await office.take_reply(turn, who):
        return
    dialog = await turn.services.dialogs.current(who.person)
    taken = DIALOGS.get(dialog.kind) if dialog is not None else None
    if dialog is not None and taken is not None and await taken.take_input(turn, who, dialog):
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
    held = _Held.of(turn)
    number, rest = _numbered(held.text)
    case = next((c for c in cases if c.id == number), None)
    if case is not None:
        await _relay(turn, who, case, replace(held, text=rest))
    elif len(cases) == 1:
        await _relay(turn, who, cases[0])
    elif cases:
        if await _refused(turn, who, held):
            return True
        # Kept, and the person is asked which case it is for.
        dialog = await turn.services.dialogs.wait(
            who.person, "relay", {"held": [held.data()]}, turn.input.key
        )
        if dialog is None:
            return False
        await CHOOSING_CASE.show(turn, who, dialog)
    else:
        return False
    return True


@dataclass(frozen=True, slots=True)
class _Held:
    """A message to pass on to a case: its text, its files and the person's own message."""

    text: str | None
    files: tuple[FileRef, ...]
    message: int | None

    @classmethod
    def of(cls, turn: Turn) -> _Held:
        text = turn.input.text or turn.input.caption
        return cls(text, tuple(asking.files_of(turn)), turn.input.message)

    def data(self) -> dict[str, Any]:
        files = [[f.kind, f.ref, f.channel, f.mime] for f in self.files]
        return {"text": self.text, "files": files, "message": self.message}

    @classmethod
    def read(cls, data: dict[str, Any]) -> _Held:
        files = tuple(
            FileRef(str(kind), str(ref), str(channel), mime)
            for kind, ref, channel, mime in data.get("files", [])
        )
        return cls(data.get("text"), files, data.get("message"))


_NUMBERED = re.compile(r"^\s*#([0-9]{1,9})\b[\s:,.-]*(.*)$", re.DOTALL)


def _numbered(text: str | None) -> tuple[int | None, str | None]:
    """A leading case number (``#5 …``) and the rest; (None, text) without one."""
    match = _NUMBERED.match(text or "")
    if match is None or not match[2].strip():
        return (int(match[1]) if match else None), text
    return int(match[1]), match[2]


async def _refused(turn: Turn, who: Speaker, held: _Held) -> bool:
    """Whether the message cannot be passed on (a file too large, a text too long): the
    person is told why."""
    limit = MAX_CAPTION if held.files else MAX_TEXT
    problem = next(filter(None, (file_problem(who.t, u) for u in turn.input.uploads)), None)
    if held.text and len(held.text) > limit:
        problem = too_long(who.t, limit)
    if problem:
        await turn.send(problem)
    return problem is not None


async def _relay(turn: Turn, who: Speaker, case: Request, held: _Held | None = None) -> None:
    """Pass the message (``held``: one kept before, checked then) to the other side of the
    case, marked with the case number."""
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
    if held is None:
        held = _Held.of(turn)
        if await _refused(turn, who, held):
            return
    files, text = held.files, held.text
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
    if held.message is not None:
        relays.append((turn.input.ref(held.message), "own"))
    requests = services.requests
    await requests.remember(case.id, *relays, relayed=True)
    # Passed on: a reaction on the person's own message says so where the messenger has
    # them; else a line that names the recipient (a reply to it goes to the same case).
    own = held.message
    if own is not None and await switchboard.react(turn.input.ref(own), RELAYED):
        return
    sent = await turn.send(case_views.relay_sent(who.t, case, recipient))
    await requests.remember(case.id, (turn.input.ref(sent.id), "text"))


# ------------------------------------------------------------------ which case


async def _held_load(turn: Turn, who: Speaker) -> Dialog | None:
    if who.person is None:
        return None
    dialog = await turn.services.dialogs.current(who.person)
    return dialog if dialog is not None and dialog.kind == "relay" else None


async def _cases_named(turn: Turn, who: Speaker) -> list[tuple[Request, str]]:
    """The person's running cases, each with the other side's first name."""
    assert who.person is not None
    named = []
    for case in await turn.services.requests.running_cases(who.person):
        if case.lotse_id == who.person.id:
            named.append((case, case.first_name or ""))
        else:
            lotse = await turn.services.lotsen.by_person_id(case.lotse_id or 0)
            named.append((case, lotse.first_name if lotse else ""))
    return named


async def _which_screen(turn: Turn, who: Speaker, dialog: Dialog) -> Screen:
    return case_views.which_case(who.t, await _cases_named(turn, who))


async def _send_held(
    turn: Turn, who: Speaker, dialog: Dialog, value: str, rest: _Held | None = None
) -> bool:
    """Pass the kept messages (and ``rest``) on to case ``value``, if it runs for the person."""
    assert who.person is not None
    cases = await turn.services.requests.running_cases(who.person)
    case = next((c for c in cases if str(c.id) == value), None)
    if case is None:
        return False
    await turn.services.dialogs.end(who.person, "relay")
    await together(turn.notice(), turn.clear_choices())
    for data in dialog.data.get("held", []):
        await _relay(turn, who, case, _Held.read(data))
    if rest is not None:
        await _relay(turn, who, case, rest)
    return True


#: How many messages are kept while the person is asked which case they are for.
MAX_HELD = 5


async def _held_typed(turn: Turn, who: Speaker, dialog: Dialog) -> Dialog | Reply | None:
    """Another message while asked which case: ``#5 …`` sends everything to case 5; any
    other is kept too, and the question stays."""
    assert who.person is not None
    if not await turn.services.requests.running_cases(who.person):  # no case to ask about
        await turn.services.dialogs.end(who.person, "relay")
        return Reply.NOT_HERE
    held = _Held.of(turn)
    if await _refused(turn, who, held):
        return Reply.TOLD
    number, rest = _numbered(held.text)
    if number is not None and await _send_held(
        turn, who, dialog, str(number), replace(held, text=rest)
    ):
        return Reply.TOLD
    kept = [*dialog.data.get("held", []), held.data()][-MAX_HELD:]
    updated = await turn.services.dialogs.wait(who.person, "relay", {"held": kept}, turn.input.key)
    return updated or Reply.NOT_HERE


#: Which case a message is for: asked of someone with several cases who did not say.
CHOOSING_CASE: Dialogue[Dialog] = Dialogue(
    load=_held_load,
    actions=lambda turn, _: case_views.RELAY,
    screen=_which_screen,
    answers={},
    typed=_held_typed,
    ends={("to", None): _send_held},
)


async def on_relay_button(turn: Turn) -> None:
    """``relay:to:<id>``: the kept messages go to that case."""
    await CHOOSING_CASE.on_press(turn)


DIALOGS["relay"] = CHOOSING_CASE
