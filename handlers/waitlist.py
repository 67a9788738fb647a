"""The training waiting list: joining and answering for everyone, /waitlist for coordinators."""

from __future__ import annotations

import datetime as dt

from bot.domain.dialogs import Dialog
from bot.services.waitlist import JoinStep, TrainingStep
from handlers import views
from handlers import waitlist_views as wv
from handlers.context import Speaker, Turn, speaker
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


async def show_become(turn: Turn, who: Speaker) -> None:
    """The menu entry *I want to become a Lotse*: the intro, or one's place on the list."""
    assert who.person is not None
    where = await turn.services.waitlist.standing(who.person)
    if where is None:
        await turn.send(wv.intro(who.t, turn.services.city))
    else:
        await turn.send(wv.standing(who.t, where))


async def on_waitlist_button(turn: Turn) -> None:
    """``wl:join``, ``wl:leave``, ``wl:leave_yes``, ``wl:t:<training>:yes|no``."""
    who = await speaker(turn)
    if who.person is None or not who.consented:
        await turn.notice(views.button_expired(who.t), alert=True)
        return
    waitlist = turn.services.waitlist
    what, values = wv.WAITING.read(turn.input.action) or ("", [])
    if what == "join":
        await turn.notice()
        dialog = await waitlist.begin_join(who.person, turn.input.key, turn.input.full_name)
        await show_join_step(turn, who, dialog)
    elif what == "leave":
        await turn.notice()
        await turn.send(wv.leave_question(who.t))
    elif what == "leave_yes":
        await turn.notice()
        await waitlist.leave(who.person)
        await turn.replace(wv.left(who.t))
    elif what == "t":
        training_id = int(values[0])
        answer = await waitlist.answer(training_id, who.person, values[1] == "yes")
        training = await waitlist.training(training_id)
        if answer is None or training is None:
            await turn.notice(wv.too_late(who.t), alert=True)
            return
        await turn.notice()
        choices = wv.answer_choices(who.t, training, answer)
        await turn.clear_choices()
        await turn.send(views.Screen(wv.seat_text(who.t, training, answer), choices))
    else:
        await turn.notice(views.button_expired(who.t), alert=True)


# ------------------------------------------------------------------ joining


async def show_join_step(turn: Turn, who: Speaker, dialog: Dialog) -> None:
    """Send the screen of the join dialog's step."""
    data, city = dialog.data, turn.services.city
    screen = {
        JoinStep.NAME: lambda: wv.ask_name(who.t, str(data.get("suggested", ""))),
        JoinStep.CONTACT: lambda: wv.ask_contact(who.t),
        JoinStep.LANGUAGES: lambda: wv.ask_languages(who.t, list(data.get("languages", []))),
        JoinStep.DISTRICT: lambda: wv.ask_district(who.t, city),
    }.get(JoinStep(dialog.step), lambda: wv.confirm_join(who.t, data))()
    await turn.send(screen)


async def on_join_button(turn: Turn) -> None:
    """``wld:…`` choices of the join dialog, always the presser's own dialog."""
    who = await speaker(turn)
    waitlist = turn.services.waitlist
    found = await waitlist.dialog(who.person, "join") if who.person else None
    dialog = await in_hand(turn, who, found, show_join_step)
    if dialog is None:
        return
    districts = turn.services.city.districts
    action = wv.joining(districts).read(turn.input.action)
    if action is None:
        await turn.notice(views.button_expired(who.t), alert=True)
        return
    what, value = action[0], "".join(action[1])
    key = turn.input.key
    updated: Dialog | None = None
    if what == "discard":
        await turn.notice()
        await waitlist.discard(dialog)
        await turn.replace(wv.discarded(who.t))
        return
    if what == "save":
        where = await waitlist.join(dialog)
        if where is None:
            await turn.notice(views.button_expired(who.t), alert=True)
            return
        await turn.notice()
        await turn.clear_choices()
        await turn.send(wv.joined(who.t, where.place))
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
    if what == "lang" and updated is not None:  # several may be chosen: redraw in place
        await turn.notice()
        await turn.replace(wv.ask_languages(who.t, list(updated.data.get("languages", []))))
        return
    await next_step(turn, who, updated, show_join_step)


async def take_join_input(turn: Turn, who: Speaker, dialog: Dialog) -> None:
    """Typed answers while joining: the name, or a phone number or e-mail address."""
    waitlist = turn.services.waitlist
    key = turn.input.key

    async def answer(text: str) -> Dialog | None:
        if text and dialog.step == JoinStep.NAME:
            return await waitlist.join_step(dialog, key, name=text)
        if text and dialog.step == JoinStep.CONTACT:
            return await waitlist.join_step(dialog, key, contact=text)
        return None

    await take_typed(turn, who, dialog, show_join_step, answer)


# -------------------------------------------------------------- coordinators


async def show_waitlist(turn: Turn) -> None:
    """/waitlist: who is waiting, the trainings and the answers, exports."""
    who = await speaker(turn)
    await turn.send(await _overview(turn, who, 0))


async def _overview(turn: Turn, who: Speaker, page: int) -> views.Screen:
    waitlist = turn.services.waitlist
    trainings = [(t, await waitlist.counts(t)) for t in (await waitlist.upcoming())[:2]]
    entries = await waitlist.waiting(wv.PAGE, page * wv.PAGE)
    return wv.overview(who.t, await waitlist.count_waiting(), entries, trainings, page)


async def show_training_step(turn: Turn, who: Speaker, dialog: Dialog) -> None:
    """Send the screen of the training dialog's step."""
    waitlist = turn.services.waitlist
    step = dialog.step
    if step == TrainingStep.DAY:
        screen = wv.ask_day(who.t, _training_days(turn))
    elif step == TrainingStep.TIME:
        screen = wv.ask_time(who.t)
    elif step == TrainingStep.PLACE:
        screen = wv.ask_place(who.t, str(dialog.data.get("place", "")))
    elif step == TrainingStep.CAPACITY:
        screen = wv.ask_capacity(who.t)
    elif step == TrainingStep.CONFIRM_BY:
        screen = wv.ask_confirm_by(who.t, _confirm_by_days(turn, dialog))
    else:
        draft = waitlist.draft(dialog)
        assert draft is not None
        screen = wv.confirm_training(who.t, draft, await waitlist.count_waiting())
    await turn.send(screen)


def _today(turn: Turn) -> dt.date:
    services = turn.services
    return services.clock.now().astimezone(services.city.timezone).date()


def _training_days(turn: Turn) -> list[dt.date]:
    """The days a training can be announced for: one to six weeks ahead."""
    today = _today(turn)
    return [today + dt.timedelta(days=i) for i in range(7, 43)]


def _confirm_by_days(turn: Turn, dialog: Dialog | None) -> list[dt.date]:
    """The days answers can be asked for by: up to three weeks before the training."""
    if dialog is None or "day" not in dialog.data:
        return []
    today, day = _today(turn), dt.date.fromisoformat(dialog.data["day"])
    return [today + dt.timedelta(days=i) for i in range((day - today).days)][-21:]


async def on_coordinator_button(turn: Turn) -> None:
    """``wlc:…``: exports, and the training dialog (the router admits coordinators only)."""
    who = await speaker(turn)
    waitlist = turn.services.waitlist
    found = await waitlist.dialog(who.person, "training") if who.person else None
    offered = wv.coordinating(_training_days(turn), _confirm_by_days(turn, found))
    action = offered.read(turn.input.action)
    if action is None or who.person is None:
        await turn.notice(views.button_expired(who.t), alert=True)
        return
    what, value = action[0], "".join(action[1])
    if what == "export":
        await turn.notice()
        await send_export(turn, who, "waitlist", value)
        return
    if what == "page":
        page = int(value)
        if page > 0 and page * wv.PAGE >= await waitlist.count_waiting():
            await turn.notice(views.button_expired(who.t), alert=True)
            return
        await turn.notice()
        await turn.replace(await _overview(turn, who, page))
        return
    if what == "new":
        await turn.notice()
        started = await waitlist.begin_training(who.person, turn.input.key)
        await show_training_step(turn, who, started)
        return
    dialog = await in_hand(turn, who, found, show_training_step)
    if dialog is None:
        return
    if what == "discard":
        await turn.notice()
        await waitlist.discard(dialog)
        await turn.replace(wv.discarded(who.t))
        return
    if what == "save":
        training = await waitlist.announce(dialog)
        await turn.notice(None if training else wv.not_saved(who.t), alert=not training)
        if training is not None:
            await turn.clear_choices()
            await turn.send(wv.announced(who.t))
        return
    updated = await _apply(turn, dialog, what, value)
    await next_step(turn, who, updated, show_training_step)


async def _apply(turn: Turn, dialog: Dialog, what: str, value: str) -> Dialog | None:
    waitlist, key = turn.services.waitlist, turn.input.key
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


async def take_training_input(turn: Turn, who: Speaker, dialog: Dialog) -> None:
    """Typed answers while announcing a training: a date, a time, a place, a number."""
    waitlist = turn.services.waitlist
    key, step = turn.input.key, dialog.step

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

    await take_typed(turn, who, dialog, show_training_step, answer)
