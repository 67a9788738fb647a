"""The training waiting list: joining and answering for everyone, /waitlist for coordinators."""

from __future__ import annotations

import datetime as dt

from telegram import InlineKeyboardMarkup, Update

from bot.domain.dialogs import Dialog
from bot.services.waitlist import JoinStep, TrainingStep
from handlers import views
from handlers import waitlist_views as wv
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
    parts = query.data.split(":")
    if parts[1] == "join":
        await acknowledge(query)
        user = update.effective_user
        first = user.full_name if user is not None else None
        dialog = await waitlist.begin_join(who.person, update.update_id, first)
        await show_join_step(update, context, who, dialog)
    elif parts[1] == "leave":
        await acknowledge(query)
        await _show(update, wv.leave_question(who.t))
    elif parts[1] == "leave_yes":
        await acknowledge(query)
        await waitlist.leave(who.person)
        await replace(query, wv.left(who.t))
    elif (
        parts[1] == "t"
        and len(parts) == 4
        and (training_id := small_number(parts[2])) is not None
        and parts[3] in ("yes", "no")
    ):
        answer = await waitlist.answer(training_id, who.person, parts[3] == "yes")
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
    _, what, *rest = query.data.split(":", 2)
    value = rest[0] if rest else ""
    key = update.update_id
    districts = context.services.city.districts
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
    elif what == "district" and value == "-":
        updated = await waitlist.join_step(dialog, key, district=None)
    elif (
        what == "district" and (index := small_number(value)) is not None and index < len(districts)
    ):
        updated = await waitlist.join_step(dialog, key, district=districts[index])
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
    services = context.services
    waitlist = services.waitlist
    today = services.clock.now().astimezone(services.city.timezone).date()
    step = dialog.step
    if step == TrainingStep.DAY:
        screen = wv.ask_day(who.t, [today + dt.timedelta(days=i) for i in range(7, 43)])
    elif step == TrainingStep.TIME:
        screen = wv.ask_time(who.t)
    elif step == TrainingStep.PLACE:
        screen = wv.ask_place(who.t, str(dialog.data.get("place", "")))
    elif step == TrainingStep.CAPACITY:
        screen = wv.ask_capacity(who.t)
    elif step == TrainingStep.CONFIRM_BY:
        day = dt.date.fromisoformat(dialog.data["day"])
        days = [today + dt.timedelta(days=i) for i in range((day - today).days)]
        screen = wv.ask_confirm_by(who.t, days[-21:])
    else:
        draft = waitlist.draft(dialog)
        assert draft is not None
        screen = wv.confirm_training(who.t, draft, await waitlist.count_waiting())
    await _show(update, screen)


async def on_coordinator_button(update: Update, context: LotsenContext) -> None:
    """``wlc:…``: exports, and the training dialog; coordinators only."""
    query = update.callback_query
    assert query is not None and query.data is not None
    who = await coordinator_only(update, context)
    if who is None or who.person is None:
        return
    waitlist = context.services.waitlist
    _, what, *rest = query.data.split(":", 2)
    value = rest[0] if rest else ""
    if what == "export" and value in ("csv", "xlsx"):
        await acknowledge(query)
        await send_export(update, context, who, "waitlist", value)
        return
    if what == "page" and (page := small_number(value)) is not None:
        await acknowledge(query)
        screen = await _overview(context, who, page)
        await replace(query, screen.text, screen.buttons)
        return
    if what == "new":
        await acknowledge(query)
        started = await waitlist.begin_training(who.person, update.update_id)
        await show_training_step(update, context, who, started)
        return
    dialog = await in_hand(
        update, context, who, await waitlist.dialog(who.person, "training"), show_training_step
    )
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
        if what == "time" and len(value) == 4:
            return await waitlist.training_step(
                dialog, key, time=dt.time(int(value[:2]), int(value[2:]))
            )
        if what == "place":
            return await waitlist.training_step(dialog, key, place=None)
        if what == "cap" and (capacity := small_number(value)) is not None:
            return await waitlist.training_step(dialog, key, capacity=capacity)
        if what == "by":
            return await waitlist.training_step(
                dialog, key, confirm_by=dt.date.fromisoformat(value)
            )
    except ValueError:
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
