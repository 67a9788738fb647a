"""Stammtisch dates: /stammtisch for everyone, answers for Lotsen, planning for coordinators."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from bot.config import StammtischRules
from bot.domain.dialogs import Dialog
from bot.domain.events import Event, EventRule, Rsvp
from bot.domain.lotsen import LotseStatus
from bot.domain.mailings import MailingKind
from bot.services import Services
from bot.services.events import Step
from handlers import event_views as ev
from handlers import views
from handlers.context import Speaker, Turn, speaker
from handlers.dialogs import (
    Apply,
    Dialogue,
    End,
    beginning,
    discarding,
    hhmm,
    typed_day,
    typed_text,
    typed_time,
)

__all__ = [
    "PLANNING",
    "on_dialog_button",
    "on_event_button",
    "on_rsvp",
    "show_stammtisch",
]


async def _may_answer(turn: Turn, who: Speaker) -> bool:
    """Active Lotsen and coordinators answer invitations."""
    if who.person is None or not who.consented:
        return False
    lotse = await turn.services.lotsen.get(who.person)
    if lotse is not None and lotse.status is LotseStatus.ACTIVE:
        return True
    return await turn.services.people.is_coordinator(who.contact)


async def _upcoming(turn: Turn, who: Speaker) -> views.Screen:
    """The /stammtisch list as ``who`` sees it: with their answers if they may answer, with
    the planning choices if they coordinate."""
    services = turn.services
    events = await services.events.upcoming()
    answers = None
    if who.person is not None and await _may_answer(turn, who):
        answers = await services.events.answers(who.person, events)
    coordinator = bool(who.contact) and await services.people.is_coordinator(who.contact)
    return ev.upcoming(who.t, services.city, events, answers, coordinator)


async def show_stammtisch(turn: Turn, who: Speaker | None = None) -> None:
    """/stammtisch and the menu entry: the next dates, for anyone."""
    who = who or await speaker(turn)
    await turn.send(await _upcoming(turn, who))


async def on_event_button(turn: Turn) -> None:
    """The coordinators' ``ev:`` choices (the router lets only coordinators through)."""
    who = await speaker(turn)
    services = turn.services
    action = ev.EVENTS.read(turn.input.action)
    if action is None:
        await turn.notice(views.button_expired(who.t), alert=True)
        return
    what, values = action
    number = int(values[0]) if values else None
    event = await services.events.get(number) if number is not None else None
    if what in ("new", "rule_new") and who.person is not None:
        await turn.notice()
        kind = "event" if what == "new" else "rule"
        await beginning(turn, who)
        dialog = await services.events.begin(who.person, kind, turn.input.key)
        await PLANNING.show(turn, who, dialog)
    elif what == "rules":
        await turn.notice()
        await turn.send(ev.rules(who.t, await services.events.rules()))
    elif what == "rule_edit" and number is not None and who.person is not None:
        if number not in {rule.id for rule in await services.events.rules()}:
            await turn.notice(views.button_expired(who.t), alert=True)
            return
        await beginning(turn, who)
        editing = await services.events.edit_rule(who.person, number, turn.input.key)
        await turn.notice()
        if editing is not None:
            await PLANNING.show(turn, who, editing)
    elif what == "rule_stop" and number is not None and await services.events.stop_rule(number):
        await turn.notice()
        await turn.replace(ev.rule_stopped(who.t))
    elif event is None or event.cancelled:
        await turn.notice(views.button_expired(who.t), alert=True)
    elif what == "card":
        await turn.notice()
        await turn.send(await _card(turn, who, event))
    elif what == "announce":
        announced = await services.events.announce(event.id)
        await turn.notice(ev.announced(who.t) if announced else views.button_expired(who.t))
        if announced:
            await turn.clear_choices()
    elif what == "move" and who.person is not None:
        await turn.notice()
        await beginning(turn, who)
        dialog = await services.events.begin(
            who.person, "event_move", turn.input.key, event=event.id
        )
        await PLANNING.show(turn, who, dialog)
    elif what == "cancel":
        await turn.notice()
        await turn.send(ev.cancel_question(who.t, event))
    elif what == "cancel_yes" and await services.events.cancel(event.id):
        await turn.notice()
        await turn.replace(ev.event_cancelled(who.t, event))
    else:
        await turn.notice(views.button_expired(who.t), alert=True)


async def _card(turn: Turn, who: Speaker, event: Event) -> views.Screen:
    services = turn.services
    announced = await services.mailings.find(MailingKind.EVENT, event.id, "announce") is not None
    counts, answered = await services.events.counts(event), await services.events.answered(event)
    return ev.coordinator_card(who.t, event, counts, announced, answered)


def _read_answer(data: str | None) -> tuple[int, Rsvp, bool] | None:
    """A chosen answer: the event, the answer, and whether it was chosen on the list."""
    for actions, listed in ((ev.RSVP, False), (ev.RSVP_LISTED, True)):
        chosen = actions.read(data)
        if chosen is not None:
            return int(chosen[1][0]), Rsvp(chosen[1][1]), listed
    return None


async def on_rsvp(turn: Turn) -> None:
    """``ev:rsvp:<event>:<answer>[:list]``: an answer to an invitation, from anyone who may
    answer. Under a notice only its choices change; on the /stammtisch list (``:list``) the
    list is drawn again with the new answer."""
    who = await speaker(turn)
    chosen = _read_answer(turn.input.action)
    if chosen is None:
        await turn.notice(views.button_expired(who.t), alert=True)
        return
    if not await _may_answer(turn, who):
        await turn.notice(ev.only_lotsen(who.t), alert=True)
        return
    assert who.person is not None
    number, answer, listed = chosen
    event = await turn.services.events.answer(number, who.person, answer)
    if event is None:
        await turn.notice(ev.event_over(who.t), alert=True)
        return
    await turn.notice(ev.answer_noted(who.t, answer))
    if listed:
        await turn.replace(await _upcoming(turn, who))
    else:  # the same answer again leaves the choices unchanged, which is fine
        await turn.set_choices((ev.rsvp_buttons(who.t, event, answer),))


# ---------------------------------------------------------------------- dialogs


async def _screen(turn: Turn, who: Speaker, dialog: Dialog) -> views.Screen:
    """The screen of a planning dialog's step."""
    services = turn.services
    city = services.city
    step, data = dialog.step, dialog.data
    if step == Step.TITLE:
        return ev.ask_title(who.t, city.stammtisch.title)
    if step == Step.PATTERN:
        return ev.ask_pattern(who.t)
    if step == Step.WEEKDAY:
        return ev.ask_weekday(who.t)
    if step == Step.DAY:
        return ev.ask_day(who.t, _days(services))
    if step == Step.TIME:
        return ev.ask_time(who.t)
    if step == Step.PLACE:
        return ev.ask_place(who.t, city.stammtisch.venue)
    if step == Step.TOPICS:
        return ev.ask_topics(who.t, city.stammtisch.topics, list(data.get("topics", [])))
    return await _summary(services, who, dialog)


async def _summary(services: Services, who: Speaker, dialog: Dialog) -> views.Screen:
    data = dialog.data
    if dialog.kind == "rule":
        rule = services.events.draft_rule(dialog)
        assert rule is not None
        return ev.confirm_rule(who.t, rule, services.events.next_dates(rule))
    day, at = dt.date.fromisoformat(data["day"]), dt.time.fromisoformat(data["time"])
    if dialog.kind == "event_move":
        event = await services.events.get(int(data["event"]))
        assert event is not None
        return ev.confirm_move(who.t, event, day, at)
    draft = Event(
        id=0,
        rule_id=None,
        occurrence=None,
        title=data["title"],
        starts_at=dt.datetime.combine(day, at, services.city.timezone),
        place=data["place"],
        topics=tuple(data.get("topics", [])),
        cancelled=False,
        sequence=0,
    )
    return ev.confirm_event(who.t, draft, services.city.stammtisch.announce_days)


def _days(services: Services) -> list[dt.date]:
    """The days a date can be planned for by a choice: the next four weeks."""
    today = services.clock.now().astimezone(services.city.timezone).date()
    return [today + dt.timedelta(days=i) for i in range(1, 29)]


def _answer(read: Callable[[StammtischRules, str], dict[str, Any]]) -> Apply[Dialog]:
    """A chosen answer: ``read`` turns the choice's value into the answer for the service."""

    async def apply(turn: Turn, dialog: Dialog, value: str) -> Dialog | None:
        answer = read(turn.services.city.stammtisch, value)
        return await turn.services.events.step(dialog, turn.input.key, **answer)

    return apply


def _nth(value: str) -> dict[str, Any]:
    """A rule's week of the month; ``00`` is every other week."""
    nth, every_other = ev.week_of(value)
    return {"nth": nth, "every_other": every_other}


def _saving(announce: bool) -> End[Dialog]:
    """Saving from the summary, announced to the Lotsen or not."""

    async def save(turn: Turn, who: Speaker, dialog: Dialog, value: str) -> bool:
        assert who.person is not None
        return await _save(turn, who, dialog, announce)

    return save


async def _save(turn: Turn, who: Speaker, dialog: Dialog, announce: bool) -> bool:
    assert who.person is not None
    saved = await turn.services.events.finish(dialog, who.person, announce=announce)
    if saved is None:
        await turn.notice(ev.not_saved(who.t), alert=True)
        return True
    await turn.notice()
    await turn.clear_choices()
    if isinstance(saved, EventRule):
        await turn.send(ev.saved_rule(who.t))
    elif dialog.kind == "event_move":
        await turn.send(ev.moved_done(who.t, saved))
    else:
        await turn.send(ev.saved_event(who.t, saved, announce))
    await show_stammtisch(turn, who)
    return True


#: What a typed answer is, at the steps that take text as it is.
_TEXT = {Step.TITLE: "title", Step.PLACE: "place", Step.TOPICS: "topic"}


async def _typed(turn: Turn, who: Speaker, dialog: Dialog) -> Dialog | None:
    """Typed answers in a planning dialog: a title, a date, a time, a place, a topic."""
    events = turn.services.events
    key, step, text = turn.input.key, dialog.step, typed_text(turn)
    day, at = typed_day(text, _today(turn)), typed_time(text)
    if text and step in _TEXT:
        return await events.step(dialog, key, **{_TEXT[Step(step)]: text})
    if day is not None and step == Step.DAY:
        return await events.step(dialog, key, day=day)
    if at is not None and step == Step.TIME:
        return await events.step(dialog, key, time=at)
    return None


def _today(turn: Turn) -> dt.date:
    services = turn.services
    return services.clock.now().astimezone(services.city.timezone).date()


async def _load(turn: Turn, who: Speaker) -> Dialog | None:
    return await turn.services.events.dialog(who.person) if who.person else None


#: Planning a date, a repeating rule or moving a date (``evd:…``, coordinators only, as the
#: router sees to), always on the coordinator's own dialog.
PLANNING: Dialogue[Dialog] = Dialogue(
    load=_load,
    actions=lambda turn, _: ev.planning_actions(
        _days(turn.services), turn.services.city.stammtisch.topics
    ),
    screen=_screen,
    answers={
        ("title", Step.TITLE): _answer(lambda st, _: {"title": st.title}),
        ("nth", Step.PATTERN): _answer(lambda _, v: _nth(v)),
        ("wd", Step.WEEKDAY): _answer(lambda _, v: {"weekday": int(v)}),
        ("day", Step.DAY): _answer(lambda _, v: {"day": dt.date.fromisoformat(v)}),
        ("time", Step.TIME): _answer(lambda _, v: {"time": hhmm(v)}),
        ("place", Step.PLACE): _answer(lambda st, _: {"place": st.venue}),
        ("topic", Step.TOPICS): _answer(lambda st, v: {"topic": st.topics[int(v)]}),
        ("goto", None): lambda turn, d, v: turn.services.events.goto(d, v, turn.input.key),
    },
    typed=_typed,
    ends={
        ("discard", None): discarding(
            lambda turn, d: turn.services.events.discard(d), ev.discarded
        ),
        ("save", Step.CONFIRM): _saving(announce=True),
        ("save_quiet", Step.CONFIRM): _saving(announce=False),
    },
    in_place=frozenset({"topic"}),  # multi-select: redrawn in place
)


async def on_dialog_button(turn: Turn) -> None:
    """``evd:…`` choices of the planning dialogs."""
    await PLANNING.on_press(turn)
