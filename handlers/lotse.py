"""The Lotse's side: joining, the profile, offers and cases."""

from __future__ import annotations

import math
import re

from bot.domain.dialogs import Dialog
from bot.domain.lotsen import Lotse, LotseStatus
from bot.domain.requests import Request, Status
from bot.services.requests import Outcome
from handlers import (
    asking_views,
    case_views,
    coordination_views,
    lotse_views,
    roster_views,
    views,
)
from handlers import request_views as rv
from handlers.actions import NUMBER, parse
from handlers.context import Speaker, Turn, coordinator_chats, quietly, speaker
from handlers.dialogs import Dialogue, Reply, as_choice, typed_text
from handlers.port import Screen

__all__ = [
    "join_with_code",
    "on_case_button",
    "on_lotse_button",
    "on_offer_button",
    "on_profile_button",
    "show_lotse_menu",
]


async def show_lotse_menu(turn: Turn, who: Speaker) -> None:
    """*I am a Lotse*: the Lotse menu, the pending notice, or how to join."""
    lotse = await turn.services.lotsen.get(who.person)
    if lotse is None or lotse.status in (LotseStatus.REJECTED, LotseStatus.LEFT):
        await turn.send(lotse_views.not_a_lotse(who.t))
    elif lotse.status in (LotseStatus.SUSPENDED, LotseStatus.RETIRED):
        await turn.send(roster_views.told(who.t, turn.services.city, lotse.status))
    elif lotse.status is LotseStatus.PENDING:
        await turn.send(lotse_views.pending(who.t))
    else:
        cases = await turn.services.requests.cases(lotse)
        await turn.send(lotse_views.lotse_menu(who.t, lotse, cases))


async def join_with_code(turn: Turn, who: Speaker, code: str) -> None:
    """``/start <code>`` from someone who has agreed: become a Lotse."""
    assert who.person is not None
    first_name = turn.input.first_name or "Lotse"
    if await turn.services.lotsen.join_with_code(who.person, code, first_name):
        await turn.send(lotse_views.welcome_lotse(who.t))
        await _show_profile(turn, who)
        for contact, t in await coordinator_chats(turn.services.people):
            told = turn.switchboard.send(
                contact, Screen(coordination_views.invite_used(t, first_name))
            )
            await quietly(told, "a joining Lotse to a coordinator")
    else:
        await turn.send(lotse_views.invite_invalid(who.t))


async def _active(turn: Turn, who: Speaker) -> Lotse | None:
    lotse = await turn.services.lotsen.get(who.person) if who.consented else None
    return lotse if lotse is not None and lotse.status is LotseStatus.ACTIVE else None


async def _show_profile(turn: Turn, who: Speaker) -> None:
    lotse = await _active(turn, who)
    if lotse is not None:
        await turn.send(lotse_views.profile(who.t, turn.services.city, lotse))


async def on_lotse_button(turn: Turn) -> None:
    """``lotse:cases``, ``lotse:profile``, ``lotse:apply``, ``lotse:leave`` and
    ``lotse:leave_yes``; anything else is refused."""
    who = await speaker(turn)
    chosen = lotse_views.LOTSE.read(turn.input.action)
    action = chosen[0] if chosen else ""
    if action == "apply" and who.consented and who.person is not None:
        await turn.notice()
        former = await turn.services.lotsen.get(who.person)
        if former is None or former.status is LotseStatus.LEFT:
            applicant = await turn.services.lotsen.apply(who.person, turn.input.first_name or "?")
            await _tell_coordinators_about(turn, applicant)
        await turn.send(lotse_views.pending(who.t))
        return
    lotse = await _active(turn, who)
    if lotse is None or not action:
        await turn.notice(views.button_expired(who.t), alert=True)
        return
    if action == "leave_yes":
        if not await turn.services.roster.leave(lotse):  # the thank-you follows
            await turn.notice(views.button_expired(who.t), alert=True)
            return
        await turn.notice()
        await turn.clear_choices()
        return
    await turn.notice()
    if action == "leave":
        await turn.replace(roster_views.leave_question(who.t))
    elif action == "cases":
        cases = await turn.services.requests.cases(lotse)
        for number, screen in lotse_views.my_cases(who.t, turn.services.city, cases):
            if number is None:
                await turn.send(screen)
            else:
                await _send_for_case(turn, number, screen)
    else:
        await _show_profile(turn, who)


async def _send_for_case(turn: Turn, number: int, screen: Screen) -> None:
    """Send a message of case ``number`` and link it to the case: a reply to it reaches the
    case while it runs, and is refused once it is closed or no longer the Lotse's."""
    sent = await turn.send(screen)
    await turn.services.requests.remember(number, (turn.input.ref(sent.id), "text"))


async def _tell_coordinators_about(turn: Turn, lotse: Lotse) -> None:
    """Ask every coordinator to approve the applicant; one who cannot be reached does not
    keep the others (or the applicant's answer) from being sent."""
    for contact, t in await coordinator_chats(turn.services.people):
        sent = turn.switchboard.send(contact, coordination_views.application(t, lotse))
        await quietly(sent, "an application to a coordinator")


async def on_profile_button(turn: Turn) -> None:
    """``prof:<what>:<value>``: edit one part of the profile, to a value its choices offer."""
    who = await speaker(turn)
    lotse = await _active(turn, who)
    lotsen, city = turn.services.lotsen, turn.services.city
    action = lotse_views.profile_actions(city).read(turn.input.action)
    if lotse is None or action is None:
        await turn.notice(views.button_expired(who.t), alert=True)
        return
    what, (value,) = action
    if what == "lang":
        await lotsen.toggle_language(lotse, value)
    elif what == "dist":
        await lotsen.toggle_district(lotse, city.districts[int(value)])
    elif what == "topic":
        await lotsen.toggle_topic(lotse, value)
    elif what == "max":
        await lotsen.set_max_open(lotse, int(value))
    elif what == "pause":
        await lotsen.pause(lotse, None if value == "off" else int(value))
    elif what == "quiet":
        start, _, end = value.partition("-")
        await lotsen.set_quiet_hours(lotse, None if value == "off" else (int(start), int(end)))
    await turn.notice()
    fresh = await lotsen.get(who.person)
    assert fresh is not None
    if what in ("pause", "quiet"):  # chosen: back to the whole profile
        screen = lotse_views.profile(who.t, city, fresh)
    else:
        screen = lotse_views.profile_section(who.t, city, fresh, value if what == "show" else what)
    await turn.replace(screen)


async def on_offer_button(turn: Turn) -> None:
    """``offer:accept:<id>`` / ``offer:decline:<id>``: checked against the presser's offers."""
    who = await speaker(turn)
    lotse = await _active(turn, who)
    chosen = lotse_views.OFFER.read(turn.input.action)
    if lotse is None or chosen is None:
        await turn.notice(views.button_expired(who.t), alert=True)
        return
    requests = turn.services.requests
    action, (number,) = chosen
    if action == "accept":
        outcome = await requests.accept(int(number), lotse, turn.input.key)
    else:
        outcome = await requests.decline(int(number), lotse)
    if outcome == Outcome.NOT_YOURS:
        await turn.notice(views.button_expired(who.t), alert=True)
    elif outcome == Outcome.TAKEN:
        await turn.notice(lotse_views.offer_gone(who.t), alert=True)
        await turn.replace(lotse_views.offer_gone(who.t))
    elif outcome == Outcome.DECLINED:
        await turn.notice()
        await turn.replace(lotse_views.offer_declined(who.t))
    else:  # accepted: the details follow as their own message (handlers/notify.py)
        await turn.notice()
        await turn.clear_choices()


def _case_parts(data: str | None) -> list[str] | None:
    """A case choice as ``[prefix, …]``: ``["case", action, id(, hours)]``,
    ``["att", id, yes|no]`` or ``["fb", id, answer]``; None for anything else."""
    case = lotse_views.CASE.read(data)
    if case is not None:
        return ["case", case[0], *case[1]]
    return parse(data, "att", NUMBER, ("yes", "no")) or parse(data, "fb", NUMBER, rv.FEEDBACK)


async def on_case_button(turn: Turn) -> None:
    """``case:done|back|back_yes:<id>``, ``case:hours:<id>:<hours>``, ``att:<id>:yes|no``,
    ``fb:<id>:good|ok|bad``; anything else is refused."""
    who = await speaker(turn)
    parts = _case_parts(turn.input.action)
    number = None if parts is None else parts[2] if parts[0] == "case" else parts[1]
    request = await turn.services.requests.get(int(number)) if number else None
    if request is None or who.person is None or not who.consented:
        await turn.notice(views.button_expired(who.t), alert=True)
        return
    assert parts is not None
    ok = await _case_action(turn, who, request, parts)
    if not ok:
        await turn.notice(views.button_expired(who.t), alert=True)


async def _case_action(turn: Turn, who: Speaker, request: Request, parts: list[str]) -> bool:
    assert who.person is not None
    requests = turn.services.requests
    if parts[0] == "att":
        coming = parts[2] == "yes"
        if not await requests.attendance(request, who.person, coming):
            return False
        await turn.notice()
        if request.lotse_id == who.person.id:
            other = request.first_name or ""
        else:
            lotse = await turn.services.lotsen.by_person_id(request.lotse_id or 0)
            other = lotse.first_name if lotse is not None else ""
        await turn.replace(case_views.reminder_answered(who.t, request, other, coming))
        return True
    if parts[0] == "fb":
        if not await requests.feedback(request, who.person, parts[2]):
            return False
        await turn.notice()
        await turn.replace(asking_views.feedback_thanks(who.t))
        return True
    lotse = await _active(turn, who)
    if lotse is None or request.lotse_id != lotse.person_id:
        return False
    action = parts[1]
    if action in ("done", "back", "back_yes") and request.status is not Status.ACCEPTED:
        return False
    if action == "done":
        await turn.notice()
        await _send_for_case(turn, request.id, lotse_views.hours_question(who.t, request))
        # Until the answer comes, typed text is the hours (not a message to the person).
        await turn.services.dialogs.wait(who.person, HOURS, {"case": request.id}, turn.input.key)
        return True
    if action == "hours":
        # The hours are given once, with closing the case; a closed case keeps them.
        if not await requests.finish(request, lotse, float(parts[3]) or None, turn.input.key):
            return False
        await turn.services.dialogs.end(who.person, HOURS)
        await turn.notice()
        await turn.replace(lotse_views.case_done_feedback(who.t, request))
        return True
    if action == "back":
        await turn.notice()
        await _send_for_case(turn, request.id, lotse_views.hand_back_question(who.t, request))
        return True
    if action == "back_yes" and await requests.hand_back(request, lotse):
        await turn.notice()
        await turn.replace(lotse_views.handed_back(who.t, request))
        return True
    return False


# ------------------------------------------------------------------ hours, typed

#: The dialog of a Lotse asked how many hours a case took.
HOURS = "hours"
_HOURS_TYPED = re.compile(r"\s*([0-9]{1,2})(?:[.,]([0-9]{1,2}))?\s*[^\W\d_]{0,12}\.?\s*")
_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹٫", "01234567890123456789,")


def typed_hours(text: str) -> float | None:
    """Hours typed as ``2``, ``2,5``, ``2.5`` or ``2,5 h`` (to the half hour, 0 to 24)."""
    match = _HOURS_TYPED.fullmatch(text.translate(_DIGITS))
    if match is None:
        return None
    hours = math.floor(float(f"{match[1]}.{match[2] or 0}") * 2 + 0.5) / 2  # half up
    return hours if hours <= 24 else None


async def _hours_asked(turn: Turn, who: Speaker) -> Dialog | None:
    dialog = await turn.services.dialogs.current(who.person) if who.person else None
    return dialog if dialog is not None and dialog.kind == HOURS else None


async def _hours_case(turn: Turn, dialog: Dialog) -> Request | None:
    request = await turn.services.requests.get(int(dialog.data.get("case", 0)))
    return request if request is not None and request.status is Status.ACCEPTED else None


async def _hours_screen(turn: Turn, who: Speaker, dialog: Dialog) -> Screen | str:
    request = await _hours_case(turn, dialog)
    if request is None:  # closed meanwhile (e.g. handled again after a restart)
        return views.button_expired(who.t)
    return lotse_views.hours_question(who.t, request)


async def _hours_chosen(turn: Turn, who: Speaker, dialog: Dialog, value: str) -> bool:
    """A choice of the hours question, typed (the press goes through the case's route)."""
    request = await _hours_case(turn, dialog)
    number, _, hours = value.partition(":")
    if request is None or str(request.id) != number:
        return False
    return await _case_action(turn, who, request, ["case", "hours", number, hours])


async def _hours_typed(turn: Turn, who: Speaker, dialog: Dialog) -> Dialog | Reply | None:
    """Typed text while the hours are asked: the hours (else the question again). A case
    that no longer runs asks nothing: the text goes on as any other."""
    request = await _hours_case(turn, dialog)
    if request is None:
        assert who.person is not None
        await turn.services.dialogs.end(who.person, HOURS)
        return Reply.NOT_HERE
    hours = typed_hours(typed_text(turn))
    if hours is None:
        return None
    answered = as_choice(turn, turn.input.action)  # the answer is sent, not edited in
    if not await _case_action(
        answered, who, request, ["case", "hours", str(request.id), str(hours)]
    ):
        return None
    return Reply.TOLD


#: Typed text while a Lotse is asked how many hours a case took: the answer.
HOURS_ASKED: Dialogue[Dialog] = Dialogue(
    load=_hours_asked,
    actions=lambda turn, _: lotse_views.CASE,
    screen=_hours_screen,
    answers={},
    typed=_hours_typed,
    ends={("hours", None): _hours_chosen},
)
