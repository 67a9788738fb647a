"""The training waiting list: joining and answering for everyone, /waitlist for coordinators."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from bot.domain.dialogs import Dialog
from bot.services.waitlist import JoinStep, TrainingStep
from handlers import views
from handlers import waitlist_views as wv
from handlers.context import Speaker, Turn, speaker
from handlers.dialogs import (
    Apply,
    Dialogue,
    beginning,
    discarding,
    hhmm,
    refuse,
    small_number,
    typed_day,
    typed_text,
    typed_time,
)
from handlers.stats import send_export

__all__ = [
    "JOINING",
    "TRAINING",
    "on_coordinator_button",
    "on_join_button",
    "on_waitlist_button",
    "show_become",
    "show_waitlist",
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
        await beginning(turn, who)
        dialog = await waitlist.begin_join(who.person, turn.input.key, turn.input.full_name)
        await JOINING.show(turn, who, dialog)
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


async def _join_screen(turn: Turn, who: Speaker, dialog: Dialog) -> views.Screen:
    """The screen of the join dialog's step."""
    data, city = dialog.data, turn.services.city
    return {
        JoinStep.NAME: lambda: wv.ask_name(who.t, str(data.get("suggested", ""))),
        JoinStep.CONTACT: lambda: wv.ask_contact(who.t),
        JoinStep.LANGUAGES: lambda: wv.ask_languages(who.t, list(data.get("languages", []))),
        JoinStep.DISTRICT: lambda: wv.ask_district(who.t, city),
    }.get(JoinStep(dialog.step), lambda: wv.confirm_join(who.t, data))()


def _joins(read: Callable[[Turn, Dialog, str], dict[str, Any] | None]) -> Apply[Dialog]:
    """A chosen answer while joining: ``read`` makes it the service's (None: it does not fit)."""

    async def apply(turn: Turn, dialog: Dialog, value: str) -> Dialog | None:
        answer = read(turn, dialog, value)
        if answer is None:
            return None
        return await turn.services.waitlist.join_step(dialog, turn.input.key, **answer)

    return apply


def _district(turn: Turn, value: str) -> dict[str, Any]:
    districts = turn.services.city.districts
    return {"district": None if value == "-" else districts[int(value)]}


async def _join(turn: Turn, who: Speaker, dialog: Dialog, value: str) -> bool:
    where = await turn.services.waitlist.join(dialog)
    if where is None:
        return False
    await turn.notice()
    await turn.clear_choices()
    await turn.send(wv.joined(who.t, where.place))
    return True


async def _join_typed(turn: Turn, who: Speaker, dialog: Dialog) -> Dialog | None:
    """Typed answers while joining: the name, or a phone number or e-mail address."""
    waitlist, key, text = turn.services.waitlist, turn.input.key, typed_text(turn)
    if text and dialog.step == JoinStep.NAME:
        return await waitlist.join_step(dialog, key, name=text)
    if text and dialog.step == JoinStep.CONTACT:
        return await waitlist.join_step(dialog, key, contact=text)
    return None


async def _load_join(turn: Turn, who: Speaker) -> Dialog | None:
    return await turn.services.waitlist.dialog(who.person, "join") if who.person else None


#: Joining the waiting list (``wld:…``), always the presser's own dialog.
JOINING: Dialogue[Dialog] = Dialogue(
    load=_load_join,
    actions=lambda turn, _: wv.joining(turn.services.city.districts),
    screen=_join_screen,
    answers={
        ("name", None): _joins(
            lambda _, d, v: {"name": d.data["suggested"]} if d.data.get("suggested") else None
        ),
        ("tg", None): _joins(lambda _, d, v: {"contact": None}),
        ("lang", None): _joins(lambda _, d, v: {"language": v}),
        ("lang_done", None): _joins(lambda _, d, v: {"done": True}),
        ("district", None): _joins(lambda turn, _, v: _district(turn, v)),
    },
    typed=_join_typed,
    ends={
        ("discard", None): discarding(
            lambda turn, d: turn.services.waitlist.discard(d), wv.discarded
        ),
        ("save", None): _join,
    },
    in_place=frozenset({"lang"}),  # several may be chosen: redrawn in place
)


async def on_join_button(turn: Turn) -> None:
    """``wld:…`` choices of the join dialog."""
    await JOINING.on_press(turn)


# -------------------------------------------------------------- coordinators


async def show_waitlist(turn: Turn) -> None:
    """/waitlist: who is waiting, the trainings and the answers, exports."""
    who = await speaker(turn)
    await turn.send(await _overview(turn, who, 0))


async def _overview(turn: Turn, who: Speaker, page: int) -> views.Screen:
    waitlist = turn.services.waitlist
    trainings = [
        (t, await waitlist.counts(t), await waitlist.answered(t))
        for t in (await waitlist.upcoming())[:2]
    ]
    entries = await waitlist.waiting(wv.PAGE, page * wv.PAGE)
    return wv.overview(who.t, await waitlist.count_waiting(), entries, trainings, page)


async def _training_screen(turn: Turn, who: Speaker, dialog: Dialog) -> views.Screen:
    """The screen of the training dialog's step."""
    waitlist = turn.services.waitlist
    step = dialog.step
    if step == TrainingStep.DAY:
        return wv.ask_day(who.t, _training_days(turn))
    if step == TrainingStep.TIME:
        return wv.ask_time(who.t)
    if step == TrainingStep.PLACE:
        return wv.ask_place(who.t, str(dialog.data.get("place", "")))
    if step == TrainingStep.CAPACITY:
        return wv.ask_capacity(who.t)
    if step == TrainingStep.CONFIRM_BY:
        return wv.ask_confirm_by(who.t, _confirm_by_days(turn, dialog))
    draft = waitlist.draft(dialog)
    assert draft is not None
    changing = "replaces" in dialog.data
    return wv.confirm_training(who.t, draft, await waitlist.count_waiting(), changing)


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
    found = await TRAINING.load(turn, who)
    action = TRAINING.read(turn, found)
    if action is None or who.person is None:
        await refuse(turn, who.t)
        return
    what, value = action
    if what == "export":
        await turn.notice()
        await send_export(turn, who, "waitlist", value)
        return
    if what == "page":
        page = int(value)
        if page > 0 and page * wv.PAGE >= await waitlist.count_waiting():
            await refuse(turn, who.t)
            return
        await turn.notice()
        await turn.replace(await _overview(turn, who, page))
        return
    if what == "new":
        await turn.notice()
        await beginning(turn, who)
        started = await waitlist.begin_training(who.person, turn.input.key)
        await TRAINING.show(turn, who, started)
        return
    if what == "edit":
        training = await waitlist.training(int(value))
        if training is None or not waitlist.changeable(training):
            await refuse(turn, who.t)
            return
        await turn.notice()
        await beginning(turn, who)
        await TRAINING.show(
            turn, who, await waitlist.edit_training(who.person, training, turn.input.key)
        )
        return
    await TRAINING.press(turn, who, found)


def _trains(read: Callable[[str], dict[str, Any]]) -> Apply[Dialog]:
    """A chosen answer while announcing a training: ``read`` makes it the service's."""

    async def apply(turn: Turn, dialog: Dialog, value: str) -> Dialog | None:
        return await turn.services.waitlist.training_step(dialog, turn.input.key, **read(value))

    return apply


async def _announce(turn: Turn, who: Speaker, dialog: Dialog, value: str) -> bool:
    training = await turn.services.waitlist.announce(dialog)
    await turn.notice(None if training else wv.not_saved(who.t), alert=not training)
    if training is not None:
        await turn.clear_choices()
        await turn.send(wv.announced(who.t))
    return True


async def _training_typed(turn: Turn, who: Speaker, dialog: Dialog) -> Dialog | None:
    """Typed answers while announcing a training: a date, a time, a place, a number."""
    waitlist = turn.services.waitlist
    key, step, text = turn.input.key, dialog.step, typed_text(turn)
    day, at = typed_day(text, _today(turn)), typed_time(text)
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


async def _load_training(turn: Turn, who: Speaker) -> Dialog | None:
    return await turn.services.waitlist.dialog(who.person, "training") if who.person else None


#: Announcing a training (``wlc:…`` of the dialog), always the coordinator's own dialog.
TRAINING: Dialogue[Dialog] = Dialogue(
    load=_load_training,
    actions=lambda turn, dialog: wv.coordinating(
        _training_days(turn), _confirm_by_days(turn, dialog)
    ),
    screen=_training_screen,
    answers={
        ("day", None): _trains(lambda v: {"day": dt.date.fromisoformat(v)}),
        ("time", None): _trains(lambda v: {"time": hhmm(v)}),
        ("place", None): _trains(lambda _: {"place": None}),
        ("cap", None): _trains(lambda v: {"capacity": int(v)}),
        ("by", None): _trains(lambda v: {"confirm_by": dt.date.fromisoformat(v)}),
    },
    typed=_training_typed,
    ends={
        ("discard", None): discarding(
            lambda turn, d: turn.services.waitlist.discard(d), wv.discarded
        ),
        ("save", None): _announce,
    },
)
