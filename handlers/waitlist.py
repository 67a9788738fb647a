"""The training waiting list: joining and answering for everyone, /waitlist for coordinators."""

from __future__ import annotations

import datetime as dt

from telegram import InlineKeyboardMarkup, Update

from bot.domain.dialogs import Dialog
from bot.i18n import LANGUAGES
from bot.services.waitlist import JoinStep, TrainingStep
from handlers import views
from handlers import waitlist_views as wv
from handlers.actions import NUMBER, Part, indices, parse_action
from handlers.context import LotsenContext, Speaker, acknowledge, clear_buttons, replace, send
from handlers.context import speaker as find_speaker
from handlers.coordination import coordinator_only
from handlers.dialog_buttons import (
    in_hand,
    next_step,
    small_number,
    take_typed,
    typed_day,
    typed_time,
)
from handlers.stats import send_export

__all__ = [
    "on_coordinator_button",
    "on_join_button",
    "on_waitlist_button",
    "show_become",
    "show_waitlist",
    "take_join_input",
    "take_training_input",
]


async def _show(update: Update, screen: views.Screen) -> None:
    await send(update, screen.text, screen.buttons)


async def show_become(update: Update, context: LotsenContext, who: Speaker) -> None:
    """The menu entry *I want to become a Lotse*: the intro, or one's place on the list."""
    assert who.person is not None
    where = await context.services.waitlist.standing(who.person)
    if where is None:
        await _show(update, wv.intro(who.t, context.services.city))
    else:
        await _show(update, wv.standing(who.t, where))


async def on_waitlist_button(update: Update, context: LotsenContext) -> None:
    """``wl:join``, ``wl:leave``, ``wl:leave_yes``, ``wl:t:<training>:yes|no``."""
    query = update.callback_query
    assert query is not None and query.data is not None
    who = await find_speaker(update, context)
    if who.person is None or not who.consented:
        await acknowledge(query, views.button_expired(who.t), alert=True)
        return
    waitlist = context.services.waitlist
    action = parse_action(
        query.data,
        "wl",
        {"join": (), "leave": (), "leave_yes": (), "t": (NUMBER, ("yes", "no"))},
    )
    what, values = action or ("", [])
    if what == "join":
        await acknowledge(query)
        user = update.effective_user
        first = user.full_name if user is not None else None
        dialog = await waitlist.begin_join(who.person, update.update_id, first)
        await show_join_step(update, context, who, dialog)
    elif what == "leave":
        await acknowledge(query)
        await _show(update, wv.leave_question(who.t))
    elif what == "leave_yes":
        await acknowledge(query)
        await waitlist.leave(who.person)
        await replace(query, wv.left(who.t))
    elif what == "t":
        training_id = int(values[0])
        answer = await waitlist.answer(training_id, who.person, values[1] == "yes")
        training = await waitlist.training(training_id)
        if answer is None or training is None:
            await acknowledge(query, wv.too_late(who.t), alert=True)
            return
        await acknowledge(query)
        buttons = InlineKeyboardMarkup(wv.answer_buttons(who.t, training, answer))
        await clear_buttons(query)
        await send(update, wv.seat_text(who.t, training, answer), buttons)
    else:
        await acknowledge(query, views.button_expired(who.t), alert=True)


# ------------------------------------------------------------------ joining


async def show_join_step(
    update: Update, context: LotsenContext, who: Speaker, dialog: Dialog
) -> None:
    """Send the screen of the join dialog's step."""
    data, city = dialog.data, context.services.city
    screen = {
        JoinStep.NAME: lambda: wv.ask_name(who.t, str(data.get("suggested", ""))),
        JoinStep.CONTACT: lambda: wv.ask_contact(who.t),
        JoinStep.LANGUAGES: lambda: wv.ask_languages(who.t, list(data.get("languages", []))),
        JoinStep.DISTRICT: lambda: wv.ask_district(who.t, city),
    }.get(dialog.step, lambda: wv.confirm_join(who.t, data))()
    await _show(update, screen)


async def on_join_button(update: Update, context: LotsenContext) -> None:
    """``wld:…`` buttons of the join dialog, always the presser's own dialog."""
    query = update.callback_query
    assert query is not None and query.data is not None
    who = await find_speaker(update, context)
    waitlist = context.services.waitlist
    found = await waitlist.dialog(who.person, "join") if who.person else None
    dialog = await in_hand(update, context, who, found, show_join_step)
    if dialog is None:
        return
    districts = context.services.city.districts
    action = parse_action(
        query.data,
        "wld",
        {
            **dict.fromkeys(("discard", "save", "name", "tg", "lang_done"), ()),
            "lang": (LANGUAGES,),
            "district": (indices(districts) | {"-"},),
        },
    )
    if action is None:
        await acknowledge(query, views.button_expired(who.t), alert=True)
        return
    what, value = action[0], "".join(action[1])
    key = update.update_id
    updated: Dialog | None = None
    if what == "discard":
        await acknowledge(query)
        await waitlist.discard(dialog)
        await replace(query, wv.discarded(who.t))
        return
    if what == "save":
        where = await waitlist.join(dialog)
        if where is None:
            await acknowledge(query, views.button_expired(who.t), alert=True)
            return
        await acknowledge(query)
        await clear_buttons(query)
        await send(update, wv.joined(who.t, where.place))
        return
    if what == "name" and dialog.data.get("suggested"):
        updated = await waitlist.join_step(dialog, key, name=dialog.data["suggested"])
    elif what == "tg":
        updated = await waitlist.join_step(dialog, key, contact=None)
    elif what == "lang":
        updated = await waitlist.join_step(dialog, key, language=value)
    elif what == "lang_done":
        updated = await waitlist.join_step(dialog, key, done=True)
    elif what == "district":
        district = None if value == "-" else districts[int(value)]
        updated = await waitlist.join_step(dialog, key, district=district)
    if what == "lang" and updated is not None:  # multi-select: redraw in place
        await acknowledge(query)
        screen = wv.ask_languages(who.t, list(updated.data.get("languages", [])))
        await replace(query, screen.text, screen.buttons)
        return
    await next_step(update, context, who, updated, show_join_step)


async def take_join_input(
    update: Update, context: LotsenContext, who: Speaker, dialog: Dialog
) -> None:
    """Typed answers while joining: the name, or a phone number or e-mail address."""
    waitlist = context.services.waitlist

    async def answer(text: str) -> Dialog | None:
        if text and dialog.step == JoinStep.NAME:
            return await waitlist.join_step(dialog, update.update_id, name=text)
        if text and dialog.step == JoinStep.CONTACT:
            return await waitlist.join_step(dialog, update.update_id, contact=text)
        return None

    await take_typed(update, context, who, dialog, show_join_step, answer)


# -------------------------------------------------------------- coordinators


async def show_waitlist(update: Update, context: LotsenContext) -> None:
    """/waitlist: who is waiting, the trainings and the answers, exports."""
    who = await coordinator_only(update, context)
    if who is None:
        return
    await _show(update, await _overview(context, who, 0))


async def _overview(context: LotsenContext, who: Speaker, page: int) -> views.Screen:
    waitlist = context.services.waitlist
    trainings = [(t, await waitlist.counts(t)) for t in (await waitlist.upcoming())[:2]]
    entries = await waitlist.waiting(wv.PAGE, page * wv.PAGE)
    return wv.overview(who.t, await waitlist.count_waiting(), entries, trainings, page)


async def show_training_step(
    update: Update, context: LotsenContext, who: Speaker, dialog: Dialog
) -> None:
    """Send the screen of the training dialog's step."""
    waitlist = context.services.waitlist
    step = dialog.step
    if step == TrainingStep.DAY:
        screen = wv.ask_day(who.t, _training_days(context))
    elif step == TrainingStep.TIME:
        screen = wv.ask_time(who.t)
    elif step == TrainingStep.PLACE:
        screen = wv.ask_place(who.t, str(dialog.data.get("place", "")))
    elif step == TrainingStep.CAPACITY:
        screen = wv.ask_capacity(who.t)
    elif step == TrainingStep.CONFIRM_BY:
        screen = wv.ask_confirm_by(who.t, _confirm_by_days(context, dialog))
    else:
        draft = waitlist.draft(dialog)
        assert draft is not None
        screen = wv.confirm_training(who.t, draft, await waitlist.count_waiting())
    await _show(update, screen)


def _today(context: LotsenContext) -> dt.date:
    services = context.services
    return services.clock.now().astimezone(services.city.timezone).date()


def _training_days(context: LotsenContext) -> list[dt.date]:
    """The days a training can be announced for: one to six weeks ahead."""
    today = _today(context)
    return [today + dt.timedelta(days=i) for i in range(7, 43)]


def _confirm_by_days(context: LotsenContext, dialog: Dialog | None) -> list[dt.date]:
    """The days answers can be asked for by: up to three weeks before the training."""
    if dialog is None or "day" not in dialog.data:
        return []
    today, day = _today(context), dt.date.fromisoformat(dialog.data["day"])
    return [today + dt.timedelta(days=i) for i in range((day - today).days)][-21:]


def _training_offers(context: LotsenContext, dialog: Dialog | None) -> dict[str, tuple[Part, ...]]:
    """What the ``wlc:`` buttons offer (the days depend on the dialog's training day)."""
    return {
        **dict.fromkeys(("new", "discard", "save", "place"), ()),
        "export": (("csv", "xlsx"),),
        "page": (NUMBER,),
        "day": ({day.isoformat() for day in _training_days(context)},),
        "time": ({value.replace(":", "") for value in wv.TRAINING_TIMES},),
        "cap": ({str(n) for n in wv.CAPACITIES},),
        "by": ({day.isoformat() for day in _confirm_by_days(context, dialog)},),
    }


async def on_coordinator_button(update: Update, context: LotsenContext) -> None:
    """``wlc:…``: exports, and the training dialog; coordinators only."""
    query = update.callback_query
    assert query is not None
    who = await coordinator_only(update, context)
    if who is None:
        return
    waitlist = context.services.waitlist
    found = await waitlist.dialog(who.person, "training") if who.person else None
    action = parse_action(query.data, "wlc", _training_offers(context, found))
    if action is None or who.person is None:
        await acknowledge(query, views.button_expired(who.t), alert=True)
        return
    what, value = action[0], "".join(action[1])
    if what == "export":
        await acknowledge(query)
        await send_export(update, context, who, "waitlist", value)
        return
    if what == "page":
        page = int(value)
        if page > 0 and page * wv.PAGE >= await waitlist.count_waiting():
            await acknowledge(query, views.button_expired(who.t), alert=True)
            return
        await acknowledge(query)
        screen = await _overview(context, who, page)
        await replace(query, screen.text, screen.buttons)
        return
    if what == "new":
        await acknowledge(query)
        started = await waitlist.begin_training(who.person, update.update_id)
        await show_training_step(update, context, who, started)
        return
    dialog = await in_hand(update, context, who, found, show_training_step)
    if dialog is None:
        return
    if what == "discard":
        await acknowledge(query)
        await waitlist.discard(dialog)
        await replace(query, wv.discarded(who.t))
        return
    if what == "save":
        training = await waitlist.announce(dialog)
        await acknowledge(query, None if training else wv.not_saved(who.t), alert=not training)
        if training is not None:
            await clear_buttons(query)
            await send(update, wv.announced(who.t))
        return
    updated = await _apply(context, dialog, what, value, update.update_id)
    await next_step(update, context, who, updated, show_training_step)


async def _apply(
    context: LotsenContext, dialog: Dialog, what: str, value: str, key: int
) -> Dialog | None:
    waitlist = context.services.waitlist
    try:
        if what == "day":
            return await waitlist.training_step(dialog, key, day=dt.date.fromisoformat(value))
        if what == "time":
            return await waitlist.training_step(
                dialog, key, time=dt.time(int(value[:2]), int(value[2:]))
            )
        if what == "place":
            return await waitlist.training_step(dialog, key, place=None)
        if what == "cap":
            return await waitlist.training_step(dialog, key, capacity=int(value))
        if what == "by":
            return await waitlist.training_step(
                dialog, key, confirm_by=dt.date.fromisoformat(value)
            )
    except ValueError:  # the service's own checks
        return None
    return None


async def take_training_input(
    update: Update, context: LotsenContext, who: Speaker, dialog: Dialog
) -> None:
    """Typed answers while announcing a training: a date, a time, a place, a number."""
    waitlist = context.services.waitlist
    key, step = update.update_id, dialog.step

    async def answer(text: str) -> Dialog | None:
        day, at = typed_day(text), typed_time(text)
        if day is not None and step == TrainingStep.DAY:
            return await waitlist.training_step(dialog, key, day=day)
        if day is not None and step == TrainingStep.CONFIRM_BY:
            return await waitlist.training_step(dialog, key, confirm_by=day)
        if at is not None and step == TrainingStep.TIME:
            return await waitlist.training_step(dialog, key, time=at)
        if text and step == TrainingStep.PLACE:
            return await waitlist.training_step(dialog, key, place=text)
        if (capacity := small_number(text)) is not None and step == TrainingStep.CAPACITY:
            return await waitlist.training_step(dialog, key, capacity=capacity)
        return None

    await take_typed(update, context, who, dialog, show_training_step, answer)
