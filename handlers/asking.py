"""Asking for a Lotse: the questionnaire, /status and cancelling."""

from __future__ import annotations

import datetime as dt

from bot.domain.requests import Request, Status, Step
from bot.services.requests import MAX_TEXT
from handlers import request_views as rv
from handlers import views
from handlers.context import Speaker, Turn, speaker, together
from handlers.limits import file_problem, too_long
from handlers.port import Upload

__all__ = [
    "media_of",
    "on_ask_button",
    "on_request_button",
    "replayed",
    "show_status",
    "show_step",
    "start_asking",
    "take_input",
]

#: What a person may send along with a request (or to their case), kept by reference.
_MEDIA = ("voice", "photo", "document")


async def start_asking(turn: Turn, who: Speaker) -> None:
    """Begin a new request (or continue an unfinished one at its step)."""
    assert who.person is not None
    requests = turn.services.requests
    draft = await requests.draft(who.person) or await requests.start(who.person, turn.input.key)
    await show_step(turn, who, draft)


async def replayed(turn: Turn, who: Speaker) -> tuple[bool, Request | None]:
    """Whether the input is handled again after a restart, and the person's draft.

    Handled again: show where the person is, change nothing - ``(True, None)``. Otherwise
    ``(False, draft or None)``: the draft is always the newest request, so one read answers
    both questions.
    """
    if who.person is None:
        return False, None
    latest = await turn.services.requests.latest(who.person)
    if latest is None:
        return False, None
    if latest.updated_by != turn.input.key:
        return False, latest if latest.status is Status.DRAFT else None
    if latest.step is not None:
        await show_step(turn, who, latest)
    else:
        await turn.send(rv.sent(who.t))
    return True, None


async def show_step(turn: Turn, who: Speaker, draft: Request) -> None:
    """Send the question for the draft's current step."""
    t, city = who.t, turn.services.city
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
        screen = rv.ask_day(t, turn.services.requests.choosable_days())
    elif step is Step.TIME:
        screen = rv.ask_time(t)
    elif step is Step.PLACE:
        screen = rv.ask_place(t)
    elif step is Step.NAME:
        screen = rv.ask_name(t, turn.input.first_name)
    else:
        screen = rv.confirm(t, city, draft)
    await turn.send(screen)


async def on_ask_button(turn: Turn) -> None:
    """A choice of the questionnaire (``ask:<what>[:<value>]``), on the presser's draft."""
    who = await speaker(turn)
    again, draft = await replayed(turn, who)
    if again:
        await turn.notice()
        return
    requests = turn.services.requests
    draft = draft if who.consented else None
    if draft is None:
        await turn.notice(views.button_expired(who.t), alert=True)
        return
    action = rv.ask_actions(turn.services.city).read(turn.input.action)
    if action is None:
        await turn.notice(views.button_expired(who.t), alert=True)
        return
    what, values = action
    value = values[0] if values else ""
    if what == "stop":
        await turn.notice()
        await requests.discard(draft)
        await turn.replace(rv.stopped(who.t))
        return
    try:
        updated = await _apply(turn, draft, what, value)
    except ValueError:
        updated = None
    if updated is None:
        await turn.notice(views.button_expired(who.t), alert=True)
        return
    if what == "lang":  # multi-select: redraw in place
        await together(turn.notice(), turn.replace(rv.ask_languages(who.t, updated)))
        return
    if what == "confirm":
        await together(
            turn.notice(),
            turn.replace(rv.summary(who.t, turn.services.city, updated, anonymous=False)),
            turn.send(rv.sent(who.t)),
        )
        # The person knows it is sent; now the Lotsen hear of it.
        await requests.deliver_offers(updated.id)
        return
    # The press is answered, the old step's choices go and the next step comes at once.
    await together(turn.notice(), turn.clear_choices(), show_step(turn, who, updated))


async def _apply(turn: Turn, draft: Request, what: str, value: str) -> Request | None:
    """Store one chosen answer; None when the choice does not fit the draft's step."""
    requests, city, key = turn.services.requests, turn.services.city, turn.input.key
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
        return await requests.give_name(draft, turn.input.first_name or "", key)
    if what == "edit" and draft.step is Step.CONFIRM:
        return await requests.edit(draft, Step(value), key)
    if what == "confirm" and draft.step is Step.CONFIRM:
        return await requests.confirm(draft, key)
    return None


async def take_input(turn: Turn, who: Speaker, draft: Request) -> bool:
    """Typed or sent input for a draft step; False if the step does not take input."""
    requests = turn.services.requests
    typed, key = turn.input.text, turn.input.key
    updated: Request | None
    if draft.step is Step.DESCRIPTION:
        media = media_of(turn)
        text = typed or turn.input.caption
        problem = file_problem(who.t, media)
        if text and len(text) > MAX_TEXT:
            problem = too_long(who.t, MAX_TEXT)
        elif not text and media is None:
            problem = rv.description_missing(who.t)
        if problem:
            await turn.send(problem)
            return True
        kind, ref = (media.kind, media.ref) if media else (None, None)
        updated = await requests.describe(draft, text, kind, ref, key, channel=turn.input.channel)
    elif draft.step is Step.PLACE and typed:
        updated = await requests.give_place(draft, typed, key)
    elif draft.step is Step.NAME:
        updated = await requests.give_name(draft, typed or "", key)
        if updated is None:
            await turn.send(rv.name_missing(who.t))
            return True
    else:
        return False
    if updated is not None:
        await show_step(turn, who, updated)
    return True


def media_of(turn: Turn) -> Upload | None:
    """The voice note, photo or document the person sent (by the channel's reference only,
    never the file); None for anything else, such as a sticker or a video."""
    upload = turn.input.upload
    return upload if upload is not None and upload.kind in _MEDIA else None


async def show_status(turn: Turn) -> None:
    """/status: the person's requests, each cancellable."""
    who = await speaker(turn)
    if not who.consented or who.person is None:
        await turn.send(views.consent(who.t, turn.services.city))
        return
    await turn.send(rv.status_list(who.t, await turn.services.requests.of_person(who.person)))


async def on_request_button(turn: Turn) -> None:
    """``req:cancel:<id>``, ``req:cancel_yes:<id>``, ``req:keep``; checked against the presser."""
    who = await speaker(turn)
    action = rv.REQ.read(turn.input.action)
    if action is not None and action[0] == "keep":
        await turn.notice()
        await turn.replace(rv.nothing_changed(who.t))
        return
    requests = turn.services.requests
    request = await requests.get(int(action[1][0])) if action is not None else None
    if request is None or who.person is None or request.person_id != who.person.id:
        await turn.notice(views.button_expired(who.t), alert=True)
        return
    assert action is not None
    if action[0] == "cancel":
        await turn.notice()
        await turn.send(rv.cancel_question(who.t, request))
    elif await requests.cancel(request, who.person):
        await turn.notice()
        await turn.replace(rv.cancelled(who.t, request))
    else:
        await turn.notice(views.button_expired(who.t), alert=True)
