"""``/lotsen`` for coordinators: the roster, a card per Lotse, the programme's records,
suspending, reinstating and retiring. Only coordinators get here (the router's gate; typed
input to a roster dialog is checked again)."""

from __future__ import annotations

from bot.domain.dialogs import Dialog
from bot.domain.lotsen import Lotse, LotseStatus
from handlers import roster_views as rv
from handlers import views
from handlers.context import Speaker, Turn, speaker
from handlers.dialogs import Dialogue, Reply, typed_day, typed_text

__all__ = ["TYPING", "on_roster_button", "show_roster"]

#: The roster's dialogs, each waiting for one typed answer.
KINDS = ("roster_find", "roster_reason", "roster_date")


async def show_roster(turn: Turn) -> None:
    """/lotsen: the first page of every Lotse."""
    who = await speaker(turn)
    await turn.send(await _page(turn, who, rv.Shown.none(turn.services.city), 0))


async def _page(
    turn: Turn, who: Speaker, shown: rv.Shown, page: int, name: str | None = None
) -> views.Screen:
    roster = turn.services.roster
    entries = await roster.entries(shown.filter(name))
    states = {e.lotse.person_id: roster.state(e.lotse) for e in entries}
    return rv.roster(who.t, turn.services.city, entries, states, shown, page, name)


async def _card(turn: Turn, who: Speaker, person_id: int) -> views.Screen | None:
    entry = await turn.services.roster.card(person_id, who.person_id)
    if entry is None:
        return None
    return rv.card(who.t, turn.services.city, entry, turn.services.roster.state(entry.lotse))


async def on_roster_button(turn: Turn) -> None:
    """``ro:…``: paging and filters, a card, and what the office does from it."""
    who = await speaker(turn)
    services = turn.services
    city = services.city
    action = rv.roster_actions(city).read(turn.input.action)
    if action is None:
        await turn.notice(views.button_expired(who.t), alert=True)
        return
    what, values = action
    if who.person is not None:  # any press of the roster leaves a typed step unanswered
        for kind in KINDS:
            await services.dialogs.end(who.person, kind)
    if what == "list":
        await turn.notice()
        await turn.replace(await _page(turn, who, rv.Shown(city, values[1:]), int(values[0])))
        return
    if what == "pick":
        await turn.notice()
        await turn.set_choices(rv.picker(who.t, city, values[0], rv.Shown(city, values[1:])))
        return
    if what == "find":
        if who.person is None:
            await turn.notice(views.button_expired(who.t), alert=True)
            return
        await services.dialogs.begin(who.person, "roster_find", {}, turn.input.key)
        await turn.notice()
        await turn.send(rv.find_prompt(who.t, city))
        return
    lotse = await services.lotsen.by_person_id(int(values[0]))
    if lotse is None or not await _act(turn, who, what, lotse, values):
        await turn.notice(views.button_expired(who.t), alert=True)


async def _act(turn: Turn, who: Speaker, what: str, lotse: Lotse, values: list[str]) -> bool:
    """One thing done to one Lotse from the card; False if it does not fit (any more)."""
    services = turn.services
    city, roster = services.city, services.roster
    number = lotse.person_id
    if what in ("suspend", "rec"):
        if who.person is None or (what == "suspend" and lotse.status is not LotseStatus.ACTIVE):
            return False
        data: dict[str, object] = {"lotse": number}
        if what == "rec":
            data["record"] = values[1]
        kind = "roster_reason" if what == "suspend" else "roster_date"
        await services.dialogs.begin(who.person, kind, data, turn.input.key)
        await turn.notice()
        prompt = rv.reason_prompt if what == "suspend" else rv.record_prompt
        await turn.send(prompt(who.t, city, lotse))
        return True
    if what == "retire":
        if lotse.status not in (LotseStatus.ACTIVE, LotseStatus.SUSPENDED):
            return False
        await turn.notice()
        await turn.replace(rv.retire_question(who.t, city, lotse))
        return True
    if what == "reinstate" and not await roster.reinstate(number, who.person_id):
        return False
    if what == "retire_yes" and not await roster.retire(number, who.person_id):
        return False
    card = await _card(turn, who, number)  # "card", and after reinstating or retiring
    if card is None:
        return False
    await turn.notice()
    await turn.replace(card)
    return True


async def _load(turn: Turn, who: Speaker) -> Dialog | None:
    if who.person is None:
        return None
    dialog = await turn.services.dialogs.current(who.person)
    return dialog if dialog is not None and dialog.kind in KINDS else None


async def _prompt(turn: Turn, who: Speaker, dialog: Dialog) -> views.Screen:
    """The question the dialog waits on, asked again."""
    city = turn.services.city
    if dialog.kind == "roster_find":
        return rv.find_prompt(who.t, city)
    lotse = await turn.services.lotsen.by_person_id(int(dialog.data["lotse"]))
    if lotse is None:
        return views.Screen(views.button_expired(who.t))
    prompt = rv.reason_prompt if dialog.kind == "roster_reason" else rv.record_prompt
    return prompt(who.t, city, lotse)


async def _typed(turn: Turn, who: Speaker, dialog: Dialog) -> Dialog | Reply | None:
    """The typed answer: a name to search, the reason of a suspension, or a date."""
    services = turn.services
    assert who.person is not None
    if not await services.people.is_coordinator(turn.input.contact):
        await services.dialogs.end(who.person, dialog.kind)  # no longer of the office
        return Reply.NOT_HERE
    text = typed_text(turn)
    if not text:
        return None
    if dialog.kind == "roster_find":
        await services.dialogs.end(who.person, dialog.kind)
        shown = rv.Shown.none(services.city)
        await turn.send(await _page(turn, who, shown, 0, text[:40]))
        return Reply.TOLD
    number = int(dialog.data["lotse"])
    if dialog.kind == "roster_reason":
        done = await services.roster.suspend(number, text, who.person_id)
    else:
        cleared = rv.CLEAR.fullmatch(text) is not None
        day = None if cleared else typed_day(text)
        if day is None and not cleared:
            return None
        record = str(dialog.data["record"])
        done = await services.roster.set_record(number, record, day, who.person_id)
    await services.dialogs.end(who.person, dialog.kind)
    card = await _card(turn, who, number) if done else None
    await turn.send(card if card is not None else views.button_expired(who.t))
    return Reply.TOLD


#: Typed input to the roster's dialogs (their choices are :func:`on_roster_button`'s).
TYPING: Dialogue[Dialog] = Dialogue(
    load=_load,
    actions=lambda turn, state: rv.roster_actions(turn.services.city),
    screen=_prompt,
    answers={},
    typed=_typed,
)
