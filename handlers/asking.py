"""Asking for a Lotse: the questionnaire, /status and cancelling."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.domain.requests import MAX_FILES, FileRef, Request, Status, Step
from bot.i18n import languages_named
from bot.services.requests import MAX_TEXT, RequestService
from handlers import asking_views, views
from handlers import request_views as rv
from handlers.context import Speaker, Turn, speaker, together
from handlers.dialogs import Answers, Apply, Dialogue, Reply, hhmm, typed_time
from handlers.limits import file_problem, usable
from handlers.port import Input, Screen
from handlers.views import home_button

__all__ = [
    "QUESTIONNAIRE",
    "Draft",
    "files_of",
    "on_ask_button",
    "on_request_button",
    "show_status",
    "start_asking",
    "start_quick",
]

#: The states of a request that was sent and has not ended.
_RUNNING = (Status.OPEN, Status.OFFERED, Status.ACCEPTED)
#: What a person may send along with a request (or to their case), kept by reference.
_MEDIA = ("voice", "photo", "document")


@dataclass(frozen=True, slots=True)
class Draft:
    """The questionnaire's state: the person's newest request, as the dialog engine sees it."""

    request: Request

    @property
    def step(self) -> Step | None:
        return self.request.step

    def replays(self, key: int | None) -> bool:
        """Whether ``key`` made the request's last change (handled again after a restart)."""
        return key is not None and self.request.updated_by == key


async def start_asking(turn: Turn, who: Speaker) -> None:
    """Begin a new request (or continue an unfinished one at its step)."""
    assert who.person is not None
    requests = turn.services.requests
    draft = await requests.draft(who.person)
    if draft is None:
        draft = await requests.start(who.person, turn.input.key)
        running = await _running(turn, who)
        if running is not None:
            await turn.send(asking_views.another_request(who.t, running))
    await QUESTIONNAIRE.show(turn, who, Draft(draft))


async def start_quick(turn: Turn, who: Speaker) -> None:
    """A quick request: only what it is about, then *Send* (an unfinished request is
    continued instead; without a name to address the person by, the whole questionnaire)."""
    assert who.person is not None
    requests = turn.services.requests
    draft = await requests.draft(who.person)
    name = turn.input.first_name or ""
    if draft is None and name.strip():
        draft = await requests.start_quick(who.person, name, turn.input.key)
    if draft is None:
        draft = await requests.start(who.person, turn.input.key)
    await QUESTIONNAIRE.show(turn, who, Draft(draft))


async def _running(turn: Turn, who: Speaker) -> Request | None:
    """The person's newest request that was sent and has not ended, if any."""
    assert who.person is not None
    sent = await turn.services.requests.of_person(who.person)
    return next((r for r in sent if r.status in _RUNNING), None)


async def _load(turn: Turn, who: Speaker) -> Draft | None:
    """The person's draft; or their newest request if this input changed it last (handled
    again after a restart). The draft is always the newest request, so one read answers both."""
    if who.person is None:
        return None
    latest = await turn.services.requests.latest(who.person)
    if latest is None:
        return None
    if Draft(latest).replays(turn.input.key):
        return Draft(latest)
    return Draft(latest) if latest.status is Status.DRAFT and who.consented else None


async def _screen(turn: Turn, who: Speaker, draft: Draft) -> Screen | str:
    """The question for the draft's current step (a request sent already: that it is)."""
    t, city = who.t, turn.services.city
    step = draft.step
    if step is Step.TOPIC:
        return asking_views.ask_topic(t, city)
    if step is Step.DESCRIPTION:
        return asking_views.ask_description(t)
    if step is Step.LANGUAGES:
        return asking_views.ask_languages(t, draft.request)
    if step is Step.DISTRICT:
        return asking_views.ask_district(t, city)
    if step is Step.DAY:
        return asking_views.ask_day(t, turn.services.requests.choosable_days())
    if step is Step.TIME:
        return asking_views.ask_time(t)
    if step is Step.PLACE:
        return asking_views.ask_place(t)
    if step is Step.NAME:
        return asking_views.ask_name(t, turn.input.first_name)
    if step is None:
        return asking_views.sent(t)
    return asking_views.confirm(t, city, draft.request)


#: One change to the request: the service, the draft, the choice's value and the input.
_Change = Callable[[RequestService, Request, str, Input], Awaitable[Request | None]]


def _answer(change: _Change) -> Apply[Draft]:
    async def apply(turn: Turn, draft: Draft, value: str) -> Draft | None:
        changed = await change(turn.services.requests, draft.request, value, turn.input)
        return None if changed is None else Draft(changed)

    return apply


def _day(value: str) -> dt.date | None:
    return None if value == "flex" else dt.date.fromisoformat(value)


_ANSWERS: Answers[Draft] = {
    ("topic", Step.TOPIC): _answer(lambda rq, r, v, i: rq.choose_topic(r, v, i.key)),
    ("lang", Step.LANGUAGES): _answer(lambda rq, r, v, i: rq.toggle_language(r, v, i.key)),
    ("langs_done", Step.LANGUAGES): _answer(lambda rq, r, _, i: rq.languages_done(r, i.key)),
    ("district", Step.DISTRICT): _answer(
        lambda rq, r, v, i: rq.choose_district(
            r, None if v == "none" else rq.city.districts[int(v)], i.key
        )
    ),
    ("day", Step.DAY): _answer(lambda rq, r, v, i: rq.choose_day(r, _day(v), i.key)),
    ("time", Step.TIME): _answer(
        lambda rq, r, v, i: rq.choose_time(r, None if v == "none" else hhmm(v), i.key)
    ),
    ("place", Step.PLACE): _answer(lambda rq, r, _, i: rq.give_place(r, None, i.key)),
    ("name", Step.NAME): _answer(lambda rq, r, _, i: rq.give_name(r, i.first_name or "", i.key)),
    ("edit", Step.CONFIRM): _answer(lambda rq, r, v, i: rq.edit(r, Step(v), i.key)),
}


async def _confirm(turn: Turn, who: Speaker, draft: Draft, value: str) -> bool:
    requests = turn.services.requests
    sent = await requests.confirm(draft.request, turn.input.key)
    if sent is None:
        return False
    await together(
        turn.notice(),
        turn.replace(rv.summary(who.t, turn.services.city, sent, anonymous=False)),
        turn.send(asking_views.sent(who.t)),
    )
    # The person knows it is sent; now the Lotsen hear of it.
    await requests.deliver_offers(sent.id)
    return True


async def _quarters(turn: Turn, who: Speaker, draft: Draft, value: str) -> bool:
    """An hour tapped at the time step: its quarter hours in its place (back: the hours).
    The hour's label typed is that full hour."""
    if turn.input.press is None and value != "back":
        at = dt.time(int(value))
        updated = await turn.services.requests.choose_time(draft.request, at, turn.input.key)
        if updated is None:
            return False
        await QUESTIONNAIRE.show(turn, who, Draft(updated))
        return True
    await turn.notice()
    if value == "back":
        await turn.replace(asking_views.ask_time(who.t))
    else:
        await turn.replace(asking_views.ask_quarter(who.t, value))
    return True


async def _stop(turn: Turn, who: Speaker, draft: Draft, value: str) -> bool:
    """Stop asking: the draft goes; a request sent before is said to stay open."""
    await turn.notice()
    await turn.services.requests.discard(draft.request)
    await turn.replace(asking_views.stopped(who.t, await _running(turn, who)))
    return True


async def _typed(turn: Turn, who: Speaker, draft: Draft) -> Draft | Reply | None:
    """Typed or sent input for a draft step (a choice's label is taken by the engine
    before): text, voice note or photo where the matter is asked, a place, a name, the
    languages named, a time; anything else is not understood, and the step stays."""
    requests = turn.services.requests
    typed, key = turn.input.text, turn.input.key
    request = draft.request
    files = files_of(turn)
    problems = [p for p in (file_problem(who.t, u) for u in turn.input.uploads) if p]
    if problems:  # a file too large, say: the rest is taken
        await turn.send(problems[0])
    updated: Request | None
    if draft.step is Step.DESCRIPTION:
        text = typed or turn.input.caption
        if not text and not files and problems:
            return Reply.TOLD
        if not text and not files:
            await turn.send(asking_views.description_missing(who.t))
            return Reply.TOLD
        if text and len(text.strip()) > MAX_TEXT:
            await turn.send(asking_views.text_shortened(who.t, MAX_TEXT))
        updated = await requests.describe(request, text, files[0] if files else None, key)
        if updated is not None and len(files) > 1:
            updated = await _add(turn, who, updated, files[1:])
    elif draft.step is Step.TOPIC and not request.topic and typed and len(typed.split()) > 1:
        # The matter told in a sentence before a topic is chosen: kept, the topic asked.
        if len(typed.strip()) > MAX_TEXT:
            await turn.send(asking_views.text_shortened(who.t, MAX_TEXT))
        updated = await requests.note(request, typed, key)
        await turn.send(asking_views.words_kept(who.t))
    elif files:
        # More pages of the letter, at a later step: added, and the step asked again.
        updated = await _add(turn, who, request, files)
        await turn.send(asking_views.file_added(who.t, len(updated.files)))
    elif draft.step is Step.PLACE and typed:
        updated = await requests.give_place(request, typed, key)
    elif draft.step is Step.LANGUAGES and typed:
        named = languages_named(typed, who.t.language)
        if not named:
            return None
        updated = await requests.add_languages(request, named, key)
    elif draft.step is Step.TIME and typed:
        at = typed_time(typed, hour_alone=True)
        if at is None:
            return None
        updated = await requests.choose_time(request, at, key)
    elif draft.step is Step.NAME:
        updated = await requests.give_name(request, typed or "", key)
        if updated is None:
            await turn.send(asking_views.name_missing(who.t))
            return Reply.TOLD
    else:
        return None
    return Reply.TOLD if updated is None else Draft(updated)


async def _add(turn: Turn, who: Speaker, request: Request, files: list[FileRef]) -> Request:
    """Add ``files`` to the draft, as many as it keeps; say so if some were left out."""
    for file in files:
        added = await turn.services.requests.add_file(request, file, None)
        if added is None:
            await turn.send(asking_views.files_full(who.t, MAX_FILES))
            break
        request = added
    return request


def files_of(turn: Turn) -> list[FileRef]:
    """The voice notes, photos and documents sent that a request can take, as it keeps
    them (by the channel's reference only, never the file); a sticker or a video is none."""
    return [
        FileRef(u.kind, u.ref, turn.input.channel, u.mime)
        for u in turn.input.uploads
        if u.kind in _MEDIA and usable(u)
    ]


#: The questionnaire of a request (``ask:<what>[:<value>]``), on the person's own draft.
QUESTIONNAIRE: Dialogue[Draft] = Dialogue(
    load=_load,
    actions=lambda turn, _: asking_views.ask_actions(turn.services.city),
    screen=_screen,
    answers=_ANSWERS,
    typed=_typed,
    ends={
        ("stop", None): _stop,
        ("hour", Step.TIME): _quarters,
        ("confirm", Step.CONFIRM): _confirm,
    },
    in_place=frozenset({"lang"}),  # multi-select: redrawn in place
    concurrent=True,
)


async def on_ask_button(turn: Turn) -> None:
    """A choice of the questionnaire, on the presser's draft."""
    await QUESTIONNAIRE.on_press(turn)


async def show_status(turn: Turn, who: Speaker | None = None) -> None:
    """/status (or *My requests*): the person's requests, each cancellable."""
    who = who or await speaker(turn)
    if not who.consented or who.person is None:
        await turn.send(views.consent(who.t, turn.services.city))
        return
    await turn.send(
        asking_views.status_list(who.t, await turn.services.requests.of_person(who.person))
    )


async def on_request_button(turn: Turn) -> None:
    """``req:cancel:<id>``, ``req:cancel_yes:<id>``, ``req:keep``; checked against the presser."""
    who = await speaker(turn)
    action = rv.REQ.read(turn.input.action)
    if action is not None and action[0] == "keep":
        await turn.notice()
        await turn.replace(Screen(asking_views.nothing_changed(who.t), ((home_button(who.t),),)))
        return
    requests = turn.services.requests
    request = await requests.get(int(action[1][0])) if action is not None else None
    if request is None or who.person is None or request.person_id != who.person.id:
        await turn.notice(views.button_expired(who.t), alert=True)
        return
    assert action is not None
    if action[0] == "cancel":
        await turn.notice()
        await turn.send(asking_views.cancel_question(who.t, request))
    elif await requests.cancel(request, who.person):
        await turn.notice()
        await turn.replace(asking_views.cancelled(who.t, request))
    else:
        await turn.notice(views.button_expired(who.t), alert=True)
