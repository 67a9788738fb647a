"""The Lotse's side: joining, the profile, offers and cases."""

from __future__ import annotations

from telegram import Update

from bot.config import CityConfig
from bot.domain.lotsen import Lotse, LotseStatus
from bot.domain.requests import Request, Status
from bot.i18n import LANGUAGES
from bot.services.requests import Outcome
from handlers import request_views as rv
from handlers import views
from handlers.actions import NUMBER, Part, indices, parse, parse_action
from handlers.context import (
    LotsenContext,
    Speaker,
    acknowledge,
    clear_buttons,
    replace,
    send,
    speaker,
)

__all__ = [
    "join_with_code",
    "on_case_button",
    "on_lotse_button",
    "on_offer_button",
    "on_profile_button",
    "show_lotse_menu",
]


async def show_lotse_menu(update: Update, context: LotsenContext, who: Speaker) -> None:
    """*I am a Lotse*: the Lotse menu, the pending notice, or how to join."""
    lotse = await context.services.lotsen.get(who.person)
    if lotse is None or lotse.status is LotseStatus.REJECTED:
        screen = rv.not_a_lotse(who.t)
        await send(update, screen.text, screen.buttons)
    elif lotse.status is LotseStatus.PENDING:
        await send(update, rv.pending(who.t))
    else:
        cases = await context.services.requests.cases(lotse)
        screen = rv.lotse_menu(who.t, lotse, cases)
        await send(update, screen.text, screen.buttons)


async def join_with_code(update: Update, context: LotsenContext, who: Speaker, code: str) -> None:
    """``/start <code>`` from someone who has agreed: become a Lotse."""
    assert who.person is not None
    user = update.effective_user
    first_name = user.first_name if user else "Lotse"
    if await context.services.lotsen.join_with_code(who.person, code, first_name):
        await send(update, rv.welcome_lotse(who.t))
        await _show_profile(update, context, who)
    else:
        await send(update, rv.invite_invalid(who.t))


async def _active(update: Update, context: LotsenContext, who: Speaker) -> Lotse | None:
    lotse = await context.services.lotsen.get(who.person) if who.consented else None
    return lotse if lotse is not None and lotse.status is LotseStatus.ACTIVE else None


async def _show_profile(update: Update, context: LotsenContext, who: Speaker) -> None:
    lotse = await _active(update, context, who)
    if lotse is not None:
        screen = rv.profile(who.t, context.services.city, lotse)
        await send(update, screen.text, screen.buttons)


async def on_lotse_button(update: Update, context: LotsenContext) -> None:
    """``lotse:cases``, ``lotse:profile``, ``lotse:apply``."""
    query = update.callback_query
    assert query is not None
    who = await speaker(update, context)
    parts = parse(query.data, "lotse", ("cases", "profile", "apply"))
    action = parts[1] if parts else ""
    if action == "apply" and who.consented and who.person is not None:
        await acknowledge(query)
        if await context.services.lotsen.get(who.person) is None:
            user = update.effective_user
            applicant = await context.services.lotsen.apply(
                who.person, user.first_name if user else "?"
            )
            await _tell_coordinators_about(context, applicant)
        await send(update, rv.pending(who.t))
        return
    lotse = await _active(update, context, who)
    if lotse is None or not action:
        await acknowledge(query, views.button_expired(who.t), alert=True)
        return
    await acknowledge(query)
    if action == "cases":
        cases = await context.services.requests.cases(lotse)
        for number, screen in rv.my_cases(who.t, context.services.city, cases):
            message = await send(update, screen.text, screen.buttons)
            if message is not None and number is not None:  # a reply to it reaches the case
                await context.services.requests.remember_relay(
                    number, message.chat_id, message.message_id, relayed=False
                )
    else:
        await _show_profile(update, context, who)


async def _tell_coordinators_about(context: LotsenContext, lotse: Lotse) -> None:
    from bot.i18n import texts

    services = context.services
    for telegram_id in await services.people.coordinator_ids():
        person = await services.people.find(telegram_id)
        t = texts(
            person.language if person else services.city.default_language, services.city.timezone
        )
        screen = rv.application(t, lotse)
        await context.bot.send_message(telegram_id, screen.text, reply_markup=screen.buttons)


def _profile_offers(city: CityConfig) -> dict[str, tuple[Part, ...]]:
    """What the profile's buttons offer, for each part of the profile."""
    return {
        "show": (rv.PROFILE_SECTIONS,),
        "lang": (LANGUAGES,),
        "dist": (indices(city.districts),),
        "topic": (city.topics,),
        "max": (rv.MAX_OPEN,),
        "pause": (("off", *rv.PAUSE_DAYS),),
        "quiet": (("off", *rv.QUIET_HOURS),),
    }


async def on_profile_button(update: Update, context: LotsenContext) -> None:
    """``prof:<what>:<value>``: edit one part of the profile, to a value its buttons offer."""
    query = update.callback_query
    assert query is not None
    who = await speaker(update, context)
    lotse = await _active(update, context, who)
    lotsen, city = context.services.lotsen, context.services.city
    action = parse_action(query.data, "prof", _profile_offers(city))
    if lotse is None or action is None:
        await acknowledge(query, views.button_expired(who.t), alert=True)
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
    await acknowledge(query)
    fresh = await lotsen.get(who.person)
    assert fresh is not None
    if what in ("pause", "quiet"):  # chosen: back to the whole profile
        screen = rv.profile(who.t, city, fresh)
    else:
        screen = rv.profile_section(who.t, city, fresh, value if what == "show" else what)
    await replace(query, screen.text, screen.buttons)


async def on_offer_button(update: Update, context: LotsenContext) -> None:
    """``offer:accept:<id>`` / ``offer:decline:<id>``: checked against the presser's offers."""
    query = update.callback_query
    assert query is not None
    who = await speaker(update, context)
    lotse = await _active(update, context, who)
    parts = parse(query.data, "offer", ("accept", "decline"), NUMBER)
    if lotse is None or parts is None:
        await acknowledge(query, views.button_expired(who.t), alert=True)
        return
    requests = context.services.requests
    request_id = int(parts[2])
    if parts[1] == "accept":
        outcome = await requests.accept(request_id, lotse)
    else:
        outcome = await requests.decline(request_id, lotse)
    if outcome == Outcome.NOT_YOURS:
        await acknowledge(query, views.button_expired(who.t), alert=True)
    elif outcome == Outcome.TAKEN:
        await acknowledge(query, rv.offer_gone(who.t), alert=True)
        await replace(query, rv.offer_gone(who.t))
    elif outcome == Outcome.DECLINED:
        await acknowledge(query)
        await replace(query, rv.offer_declined(who.t))
    else:  # accepted: the details follow as their own message (handlers/notify.py)
        await acknowledge(query)
        await clear_buttons(query)


async def on_case_button(update: Update, context: LotsenContext) -> None:
    """``case:done|back|back_yes:<id>``, ``case:hours:<id>:<hours>``, ``att:<id>:yes|no``,
    ``fb:<id>:good|ok|bad``."""
    query = update.callback_query
    assert query is not None
    who = await speaker(update, context)
    data = query.data
    parts = (
        parse(data, "case", ("done", "back", "back_yes"), NUMBER)
        or parse(data, "case", "hours", NUMBER, ("0", *rv.HOURS))
        or parse(data, "att", NUMBER, ("yes", "no"))
        or parse(data, "fb", NUMBER, rv.FEEDBACK)
    )
    number = None if parts is None else parts[2] if parts[0] == "case" else parts[1]
    request = await context.services.requests.get(int(number)) if number else None
    if request is None or who.person is None or not who.consented:
        await acknowledge(query, views.button_expired(who.t), alert=True)
        return
    assert parts is not None
    ok = await _case_action(update, context, who, request, parts)
    if not ok:
        await acknowledge(query, views.button_expired(who.t), alert=True)


async def _case_action(
    update: Update, context: LotsenContext, who: Speaker, request: Request, parts: list[str]
) -> bool:
    query = update.callback_query
    assert query is not None and who.person is not None
    requests = context.services.requests
    if parts[0] == "att":
        if not await requests.attendance(request, who.person, parts[2] == "yes"):
            return False
        await acknowledge(query)
        await replace(query, rv.attendance_noted(who.t))
        return True
    if parts[0] == "fb":
        if not await requests.feedback(request, who.person, parts[2]):
            return False
        await acknowledge(query)
        await replace(query, rv.feedback_thanks(who.t))
        return True
    lotse = await _active(update, context, who)
    if lotse is None or request.lotse_id != lotse.person_id:
        return False
    action = parts[1]
    if action in ("done", "back", "back_yes") and request.status is not Status.ACCEPTED:
        return False
    if action == "done":
        await acknowledge(query)
        screen = rv.hours_question(who.t, request)
        await send(update, screen.text, screen.buttons)
        return True
    if action == "hours":
        # The hours are given once, with closing the case; a closed case keeps them.
        if not await requests.finish(request, lotse, float(parts[3]) or None, update.update_id):
            return False
        await acknowledge(query)
        screen = rv.case_done_feedback(who.t, request)
        await replace(query, screen.text, screen.buttons)
        return True
    if action == "back":
        await acknowledge(query)
        screen = rv.hand_back_question(who.t, request)
        await send(update, screen.text, screen.buttons)
        return True
    if action == "back_yes" and await requests.hand_back(request, lotse):
        await acknowledge(query)
        await replace(query, rv.handed_back(who.t, request))
        return True
    return False
