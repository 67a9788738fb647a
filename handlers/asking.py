"""Asking for a Lotse: the intake steps, /status and cancelling."""

from __future__ import annotations

import datetime as dt
import re

from telegram import Message, Update

from bot.domain.requests import Request, Status, Step
from bot.i18n import LANGUAGES
from bot.services.requests import MAX_TEXT
from handlers import request_views as rv
from handlers import views
from handlers.actions import DATE, NUMBER, Part, indices, parse_action
from handlers.context import (
    LotsenContext,
    Speaker,
    acknowledge,
    clear_buttons,
    replace,
    send,
    speaker,
    together,
)
from handlers.limits import file_problem, too_long

__all__ = ["on_ask_button", "on_request_button", "show_status", "start_asking", "take_input"]


async def start_asking(update: Update, context: LotsenContext, who: Speaker) -> None:
    """Begin a new request (or continue an unfinished one at its step)."""
    assert who.person is not None
    requests = context.services.requests
    draft = await requests.draft(who.person) or await requests.start(who.person, update.update_id)
    await show_step(update, context, who, draft)


async def replayed(
    update: Update, context: LotsenContext, who: Speaker
) -> tuple[bool, Request | None]:
    """Whether the update is handled again after a restart, and the person's draft.

    Handled again: show where the person is, change nothing - ``(True, None)``. Otherwise
    ``(False, draft or None)``: the draft is always the newest request, so one read answers
    both questions.
    """
    if who.person is None:
        return False, None
    latest = await context.services.requests.latest(who.person)
    if latest is None:
        return False, None
    if latest.updated_by != update.update_id:
        return False, latest if latest.status is Status.DRAFT else None
    if latest.step is not None:
        await show_step(update, context, who, latest)
    else:
        screen = rv.sent(who.t)
        await send(update, screen.text, screen.buttons)
    return True, None


async def show_step(update: Update, context: LotsenContext, who: Speaker, draft: Request) -> None:
    """Send the question for the draft's current step."""
    t, city = who.t, context.services.city
    step = draft.step
    if step is Step.TOPIC:
        screen = rv.ask_topic(t, city)
    elif step is Step.DESCRIPTION:
        screen = rv.ask_description(t)
    elif step is Step.LANGUAGES:
        screen = rv.ask_languages(t, draft)
    elif step is Step.DISTRICT:
        screen = rv.ask_district(t, city)
    elif step is Step.DAY:
        screen = rv.ask_day(t, context.services.requests.choosable_days())
    elif step is Step.TIME:
        screen = rv.ask_time(t)
    elif step is Step.PLACE:
        screen = rv.ask_place(t)
    elif step is Step.NAME:
        user = update.effective_user
        screen = rv.ask_name(t, user.first_name if user else None)
    else:
        screen = rv.confirm(t, city, draft)
    await send(update, screen.text, screen.buttons)


async def on_ask_button(update: Update, context: LotsenContext) -> None:
    """A button of the intake (``ask:<what>[:<value>]``); it always acts on the presser's draft."""
    query = update.callback_query
    assert query is not None
    who = await speaker(update, context)
    again, draft = await replayed(update, context, who)
    if again:
        await acknowledge(query)
        return
    requests = context.services.requests
    draft = draft if who.consented else None
    if draft is None:
        await acknowledge(query, views.button_expired(who.t), alert=True)
        return
    action = parse_action(query.data, "ask", _offers(context))
    if action is None:
        await acknowledge(query, views.button_expired(who.t), alert=True)
        return
    what, values = action
    value = values[0] if values else ""
    if what == "stop":
        await acknowledge(query)
        await requests.discard(draft)
        await replace(query, rv.stopped(who.t))
        return
    try:
        updated = await _apply(context, draft, what, value, update.update_id, update)
    except ValueError:
        updated = None
    if updated is None:
        await acknowledge(query, views.button_expired(who.t), alert=True)
        return
    if what == "lang":  # multi-select: redraw in place
        screen = rv.ask_languages(who.t, updated)
        await together(acknowledge(query), replace(query, screen.text, screen.buttons))
        return
    if what == "confirm":
        screen = rv.sent(who.t)
        await together(
            acknowledge(query),
            replace(query, rv.summary(who.t, context.services.city, updated, anonymous=False)),
            send(update, screen.text, screen.buttons),
        )
        # The person knows it is sent; now the Lotsen hear of it.
        await context.services.requests.deliver_offers(updated.id)
        return
    # The press is answered, the old step's buttons go and the next step comes at once.
    await together(
        acknowledge(query), clear_buttons(query), show_step(update, context, who, updated)
    )


#: A day of the calendar, or flexible.
_DAY = re.compile(rf"flex|{DATE.pattern}")


def _offers(context: LotsenContext) -> dict[str, tuple[Part, ...]]:
    """What the intake's buttons offer (whether a day is in the calendar, the service checks)."""
    city = context.services.city
    return {
        "stop": (),
        "topic": (city.topics,),
        "lang": (LANGUAGES,),
        "langs_done": (),
        "district": (indices(city.districts),),
        "day": (_DAY,),
        "time": (("none", *(value.replace(":", "") for value in rv.TIMES)),),
        "place": ("skip",),
        "name": ("telegram",),
        "edit": (rv.EDITABLE,),
        "confirm": (),
    }


async def _apply(
    context: LotsenContext, draft: Request, what: str, value: str, key: int, update: Update
) -> Request | None:
    """Store one button answer; None when the button does not fit the draft's step."""
    requests, city = context.services.requests, context.services.city
    if what == "topic" and draft.step is Step.TOPIC:
        return await requests.choose_topic(draft, value, key)
    if what == "lang" and draft.step is Step.LANGUAGES:
        return await requests.toggle_language(draft, value, key)
    if what == "langs_done" and draft.step is Step.LANGUAGES:
        return await requests.languages_done(draft, key)
    if what == "district" and draft.step is Step.DISTRICT:
        return await requests.choose_district(draft, city.districts[int(value)], key)
    if what == "day" and draft.step is Step.DAY:
        return await requests.choose_day(
            draft, None if value == "flex" else dt.date.fromisoformat(value), key
        )
    if what == "time" and draft.step is Step.TIME:
        at = None if value == "none" else dt.time(int(value[:2]), int(value[2:]))
        return await requests.choose_time(draft, at, key)
    if what == "place" and draft.step is Step.PLACE:
        return await requests.give_place(draft, None, key)
    if what == "name" and draft.step is Step.NAME:
        user = update.effective_user
        return await requests.give_name(draft, user.first_name if user else "", key)
    if what == "edit" and draft.step is Step.CONFIRM:
        return await requests.edit(draft, Step(value), key)
    if what == "confirm" and draft.step is Step.CONFIRM:
        return await requests.confirm(draft, key)
    return None


async def take_input(update: Update, context: LotsenContext, who: Speaker, draft: Request) -> bool:
    """Typed or sent input for a draft step; False if the step does not take input."""
    message = update.effective_message
    assert message is not None
    requests = context.services.requests
    updated: Request | None
    if draft.step is Step.DESCRIPTION:
        kind, file_id = media_of(message)
        text = message.text or message.caption
        problem = file_problem(who.t, message)
        if text and len(text) > MAX_TEXT:
            problem = too_long(who.t, MAX_TEXT)
        elif not text and not file_id:
            problem = rv.description_missing(who.t)
        if problem:
            await send(update, problem)
            return True
        updated = await requests.describe(draft, text, kind, file_id, update.update_id)
    elif draft.step is Step.PLACE and message.text:
        updated = await requests.give_place(draft, message.text, update.update_id)
    elif draft.step is Step.NAME:
        updated = await requests.give_name(draft, message.text or "", update.update_id)
        if updated is None:
            await send(update, rv.name_missing(who.t))
            return True
    else:
        return False
    if updated is not None:
        await show_step(update, context, who, updated)
    return True


def media_of(message: Message) -> tuple[str | None, str | None]:
    """Keep Telegram's file id of a voice note, photo or document; never the file."""
    if message.voice is not None:
        return "voice", message.voice.file_id
    if message.photo:
        return "photo", message.photo[-1].file_id
    if message.document is not None:
        return "document", message.document.file_id
    return None, None


async def show_status(update: Update, context: LotsenContext) -> None:
    """/status: the person's requests, each cancellable."""
    who = await speaker(update, context)
    if not who.consented or who.person is None:
        screen = views.consent(who.t, context.services.city)
        await send(update, screen.text, screen.buttons)
        return
    screen = rv.status_list(who.t, await context.services.requests.of_person(who.person))
    await send(update, screen.text, screen.buttons)


async def on_request_button(update: Update, context: LotsenContext) -> None:
    """``req:cancel:<id>``, ``req:cancel_yes:<id>``, ``req:keep``; checked against the presser."""
    query = update.callback_query
    assert query is not None
    who = await speaker(update, context)
    action = parse_action(
        query.data, "req", {"keep": (), "cancel": (NUMBER,), "cancel_yes": (NUMBER,)}
    )
    if action is not None and action[0] == "keep":
        await acknowledge(query)
        await replace(query, rv.nothing_changed(who.t))
        return
    requests = context.services.requests
    request = await requests.get(int(action[1][0])) if action is not None else None
    if request is None or who.person is None or request.person_id != who.person.id:
        await acknowledge(query, views.button_expired(who.t), alert=True)
        return
    assert action is not None
    if action[0] == "cancel":
        await acknowledge(query)
        screen = rv.cancel_question(who.t, request)
        await send(update, screen.text, screen.buttons)
    elif await requests.cancel(request, who.person):
        await acknowledge(query)
        await replace(query, rv.cancelled(who.t, request))
    else:
        await acknowledge(query, views.button_expired(who.t), alert=True)
