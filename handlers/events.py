"""Stammtisch dates: /stammtisch for everyone, answers for Lotsen, planning for coordinators."""

from __future__ import annotations

import datetime as dt

from telegram import InlineKeyboardMarkup, Update
from telegram.error import BadRequest

from bot.domain.dialogs import Dialog
from bot.domain.events import Event, EventRule, Rsvp
from bot.domain.lotsen import LotseStatus
from bot.domain.mailings import MailingKind
from bot.services.events import Step
from handlers import event_views as ev
from handlers import views
from handlers.actions import NUMBER, Part, indices, parse, parse_action
from handlers.context import LotsenContext, Speaker, acknowledge, clear_buttons, replace, send
from handlers.context import speaker as find_speaker
from handlers.coordination import coordinator_only
from handlers.dialog_buttons import in_hand, next_step, take_typed, typed_day, typed_time

__all__ = ["on_dialog_button", "on_event_button", "show_stammtisch", "take_input"]


async def _show(update: Update, screen: views.Screen) -> None:
    await send(update, screen.text, screen.buttons)


async def _may_answer(context: LotsenContext, who: Speaker) -> bool:
    """Active Lotsen and coordinators answer invitations."""
    if who.person is None or not who.consented:
        return False
    lotse = await context.services.lotsen.get(who.person)
    if lotse is not None and lotse.status is LotseStatus.ACTIVE:
        return True
    return await context.services.people.is_coordinator(who.telegram_id)


async def show_stammtisch(
    update: Update, context: LotsenContext, who: Speaker | None = None
) -> None:
    """/stammtisch and the menu entry: the next dates, for anyone."""
    who = who or await find_speaker(update, context)
    services = context.services
    events = await services.events.upcoming()
    answers = None
    if who.person is not None and await _may_answer(context, who):
        answers = await services.events.answers(who.person, events)
    coordinator = bool(who.telegram_id) and await services.people.is_coordinator(who.telegram_id)
    await _show(update, ev.upcoming(who.t, services.city, events, answers, coordinator))


#: The coordinators' ``ev:`` buttons and the event or rule number they carry.
_EVENT_ACTIONS: dict[str, tuple[Part, ...]] = {
    **dict.fromkeys(("new", "rules", "rule_new"), ()),
    **dict.fromkeys(("rule_stop", "card", "announce", "move", "cancel", "cancel_yes"), (NUMBER,)),
}


async def on_event_button(update: Update, context: LotsenContext) -> None:
    """``ev:rsvp:<event>:<answer>`` for Lotsen; the other ``ev:`` buttons for coordinators."""
    query = update.callback_query
    assert query is not None and query.data is not None
    if query.data.startswith("ev:rsvp:"):
        await _on_rsvp(update, context, parse(query.data, "ev", "rsvp", NUMBER, tuple(Rsvp)))
        return
    who = await coordinator_only(update, context)
    if who is None:
        return
    services = context.services
    action = parse_action(query.data, "ev", _EVENT_ACTIONS)
    if action is None:
        await acknowledge(query, views.button_expired(who.t), alert=True)
        return
    what, values = action
    number = int(values[0]) if values else None
    event = await services.events.get(number) if number is not None else None
    if what in ("new", "rule_new") and who.person is not None:
        await acknowledge(query)
        kind = "event" if what == "new" else "rule"
        await show_step(
            update, context, who, await services.events.begin(who.person, kind, update.update_id)
        )
    elif what == "rules":
        await acknowledge(query)
        await _show(update, ev.rules(who.t, await services.events.rules()))
    elif what == "rule_stop" and number is not None and await services.events.stop_rule(number):
        await acknowledge(query)
        await replace(query, ev.rule_stopped(who.t))
    elif event is None or event.cancelled:
        await acknowledge(query, views.button_expired(who.t), alert=True)
    elif what == "card":
        await acknowledge(query)
        await _show(update, await _card(context, who, event))
    elif what == "announce":
        announced = await services.events.announce(event.id)
        await acknowledge(query, ev.announced(who.t) if announced else views.button_expired(who.t))
        if announced:
            await clear_buttons(query)
    elif what == "move" and who.person is not None:
        await acknowledge(query)
        dialog = await services.events.begin(
            who.person, "event_move", update.update_id, event=event.id
        )
        await show_step(update, context, who, dialog)
    elif what == "cancel":
        await acknowledge(query)
        await _show(update, ev.cancel_question(who.t, event))
    elif what == "cancel_yes" and await services.events.cancel(event.id):
        await acknowledge(query)
        await replace(query, ev.event_cancelled(who.t, event))
    else:
        await acknowledge(query, views.button_expired(who.t), alert=True)


async def _card(context: LotsenContext, who: Speaker, event: Event) -> views.Screen:
    services = context.services
    announced = await services.mailings.find(MailingKind.EVENT, event.id, "announce") is not None
    return ev.coordinator_card(who.t, event, await services.events.counts(event), announced)


async def _on_rsvp(update: Update, context: LotsenContext, parts: list[str] | None) -> None:
    query = update.callback_query
    assert query is not None
    who = await find_speaker(update, context)
    if parts is None:
        await acknowledge(query, views.button_expired(who.t), alert=True)
        return
    if not await _may_answer(context, who):
        await acknowledge(query, ev.only_lotsen(who.t), alert=True)
        return
    assert who.person is not None
    answer = Rsvp(parts[3])
    event = await context.services.events.answer(int(parts[2]), who.person, answer)
    if event is None:
        await acknowledge(query, ev.event_over(who.t), alert=True)
        return
    await acknowledge(query, ev.answer_noted(who.t, answer))
    message = query.message
    markup = (
        message.reply_markup if message is not None and hasattr(message, "reply_markup") else None
    )
    if markup is not None and any(
        b.callback_data == views.MENU_HOME for row in markup.inline_keyboard for b in row
    ):
        # The /stammtisch list: draw it again with the new answer.
        await show_list_again(update, context, who)
        return
    buttons = InlineKeyboardMarkup([ev.rsvp_buttons(who.t, event, answer)])
    try:
        await query.edit_message_reply_markup(buttons)
    except BadRequest as exc:  # the same answer again: nothing to redraw
        if "not modified" not in str(exc):
            raise


async def show_list_again(update: Update, context: LotsenContext, who: Speaker) -> None:
    """Redraw the /stammtisch list in place after an answer."""
    query = update.callback_query
    assert query is not None and who.person is not None
    services = context.services
    events = await services.events.upcoming()
    answers = await services.events.answers(who.person, events)
    coordinator = await services.people.is_coordinator(who.telegram_id)
    screen = ev.upcoming(who.t, services.city, events, answers, coordinator)
    await replace(query, screen.text, screen.buttons)


# ---------------------------------------------------------------------- dialogs


async def show_step(update: Update, context: LotsenContext, who: Speaker, dialog: Dialog) -> None:
    """Send the screen of a planning dialog's step."""
    services = context.services
    city = services.city
    step, data = dialog.step, dialog.data
    if step == Step.TITLE:
        screen = ev.ask_title(who.t, city.stammtisch.title)
    elif step == Step.PATTERN:
        screen = ev.ask_pattern(who.t)
    elif step == Step.WEEKDAY:
        screen = ev.ask_weekday(who.t)
    elif step == Step.DAY:
        screen = ev.ask_day(who.t, _days(context))
    elif step == Step.TIME:
        screen = ev.ask_time(who.t)
    elif step == Step.PLACE:
        screen = ev.ask_place(who.t, city.stammtisch.venue)
    elif step == Step.TOPICS:
        screen = ev.ask_topics(who.t, city.stammtisch.topics, list(data.get("topics", [])))
    else:
        screen = await _summary(context, who, dialog)
    await _show(update, screen)


async def _summary(context: LotsenContext, who: Speaker, dialog: Dialog) -> views.Screen:
    services = context.services
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


async def on_dialog_button(update: Update, context: LotsenContext) -> None:
    """``evd:…`` buttons of the planning dialogs; coordinators only, always their own dialog."""
    query = update.callback_query
    assert query is not None and query.data is not None
    who = await coordinator_only(update, context)
    if who is None:
        return
    services = context.services
    found = await services.events.dialog(who.person) if who.person else None
    dialog = await in_hand(update, context, who, found, show_step)
    if dialog is None or who.person is None:
        return
    action = parse_action(query.data, "evd", _dialog_offers(context))
    if action is None:
        await acknowledge(query, views.button_expired(who.t), alert=True)
        return
    what, value = action[0], "".join(action[1])
    if what == "discard":
        await acknowledge(query)
        await services.events.discard(dialog)
        await replace(query, ev.discarded(who.t))
        return
    if what in ("save", "save_quiet") and dialog.step == Step.CONFIRM:
        await _save(update, context, who, dialog, announce=what == "save")
        return
    updated = await _apply(context, dialog, what, value, update.update_id)
    if what == "topic" and updated is not None:  # multi-select: redraw in place
        await acknowledge(query)
        screen = ev.ask_topics(
            who.t, services.city.stammtisch.topics, list(updated.data.get("topics", []))
        )
        await replace(query, screen.text, screen.buttons)
        return
    await next_step(update, context, who, updated, show_step)


#: The steps the planning dialogs' buttons go to (from the summary, and on to it).
_GOTO = (Step.TITLE, Step.PATTERN, Step.DAY, Step.TIME, Step.PLACE, Step.TOPICS, Step.CONFIRM)


def _days(context: LotsenContext) -> list[dt.date]:
    """The days a date can be planned for by button: the next four weeks."""
    services = context.services
    today = services.clock.now().astimezone(services.city.timezone).date()
    return [today + dt.timedelta(days=i) for i in range(1, 29)]


def _dialog_offers(context: LotsenContext) -> dict[str, tuple[Part, ...]]:
    """What the planning dialogs' buttons offer."""
    return {
        **dict.fromkeys(("discard", "save", "save_quiet"), ()),
        "title": ("default",),
        "nth": (ev.PATTERNS,),
        "wd": (indices(range(7)),),
        "day": ({day.isoformat() for day in _days(context)},),
        "time": ({value.replace(":", "") for value in ev.EVENT_TIMES},),
        "place": ("default",),
        "topic": (indices(context.services.city.stammtisch.topics),),
        "goto": (
            (Step.TITLE, Step.PATTERN, Step.DAY, Step.TIME, Step.PLACE, Step.TOPICS, Step.CONFIRM),
        ),
    }


async def _apply(
    context: LotsenContext, dialog: Dialog, what: str, value: str, key: int
) -> Dialog | None:
    events = context.services.events
    stammtisch = context.services.city.stammtisch
    step = dialog.step
    try:
        if what == "title" and step == Step.TITLE:
            return await events.step(dialog, key, title=stammtisch.title)
        if what == "nth" and step == Step.PATTERN:
            nth = 0 if value == "00" else int(value)
            return await events.step(dialog, key, nth=nth, every_other=value == "00")
        if what == "wd" and step == Step.WEEKDAY:
            return await events.step(dialog, key, weekday=int(value))
        if what == "day" and step == Step.DAY:
            return await events.step(dialog, key, day=dt.date.fromisoformat(value))
        if what == "time" and step == Step.TIME:
            return await events.step(dialog, key, time=dt.time(int(value[:2]), int(value[2:])))
        if what == "place" and step == Step.PLACE:
            return await events.step(dialog, key, place=stammtisch.venue)
        if what == "topic" and step == Step.TOPICS:
            return await events.step(dialog, key, topic=stammtisch.topics[int(value)])
        if what == "goto":
            return await events.goto(dialog, value, key)
    except ValueError:  # the service's own checks
        return None
    return None


async def _save(
    update: Update, context: LotsenContext, who: Speaker, dialog: Dialog, announce: bool
) -> None:
    query = update.callback_query
    assert query is not None and who.person is not None
    saved = await context.services.events.finish(dialog, who.person, announce=announce)
    if saved is None:
        await acknowledge(query, ev.not_saved(who.t), alert=True)
        return
    await acknowledge(query)
    await clear_buttons(query)
    if isinstance(saved, EventRule):
        await send(update, ev.saved_rule(who.t))
    elif dialog.kind == "event_move":
        await send(update, ev.moved_done(who.t, saved))
    else:
        await send(update, ev.saved_event(who.t, saved, announce))
    await show_stammtisch(update, context, who)


async def take_input(update: Update, context: LotsenContext, who: Speaker, dialog: Dialog) -> None:
    """Typed answers in a planning dialog: a title, a date, a time, a place, a topic."""
    events = context.services.events
    key, step = update.update_id, dialog.step

    async def answer(text: str) -> Dialog | None:
        day, at = typed_day(text), typed_time(text)
        if text and step in (Step.TITLE, Step.PLACE, Step.TOPICS):
            field = {Step.TITLE: "title", Step.PLACE: "place", Step.TOPICS: "topic"}[step]
            return await events.step(dialog, key, **{field: text})
        if day is not None and step == Step.DAY:
            return await events.step(dialog, key, day=day)
        if at is not None and step == Step.TIME:
            return await events.step(dialog, key, time=at)
        return None

    await take_typed(update, context, who, dialog, show_step, answer)
