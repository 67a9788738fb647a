"""Broadcasts: a coordinator composes, previews and sends news; anyone can leave them."""

from __future__ import annotations

import datetime as dt

from bot.domain.broadcasts import Broadcast, BroadcastDraft
from bot.domain.dialogs import Dialog
from bot.domain.mailings import Audience
from bot.services.broadcasts import Step
from handlers import broadcast_views as bv
from handlers import views
from handlers.context import Speaker, Turn, speaker
from handlers.dialog_buttons import in_hand, next_step
from handlers.port import Upload

__all__ = ["on_broadcast_button", "on_news_button", "show_broadcasts", "show_step", "take_input"]


async def show_broadcasts(turn: Turn) -> None:
    """/broadcast (coordinators only, as the router sees to): what is scheduled, or straight
    to a new broadcast."""
    who = await speaker(turn)
    if who.person is None:
        await turn.send(views.language_picker(who.t))
        return
    waiting = await turn.services.broadcasts.scheduled()
    if waiting:
        await turn.send(bv.scheduled_list(who.t, waiting))
        return
    dialog = await turn.services.broadcasts.compose(who.person, turn.input.key)
    await show_step(turn, who, dialog)


async def show_step(turn: Turn, who: Speaker, dialog: Dialog) -> None:
    """Send the screen of the dialog's step."""
    services = turn.services
    draft = BroadcastDraft.load(dialog.data)
    step = dialog.step
    if step == Step.MESSAGE:
        screen = bv.ask_message(who.t)
    elif step == Step.AUDIENCE:
        screen = bv.ask_audience(who.t, await services.broadcasts.audience_sizes())
    elif step.startswith(Step.TRANSLATION):
        screen = bv.ask_translation(who.t, step.partition(":")[2])
    elif step == Step.DAY:
        screen = bv.ask_day(who.t, _send_days(turn))
    elif step == Step.TIME and draft.day is not None:
        screen = bv.ask_time(who.t, draft.day)
    else:
        screen = await _preview(turn, who, draft)
    await turn.send(screen)


async def _preview(turn: Turn, who: Speaker, draft: BroadcastDraft) -> views.Screen:
    assert who.person is not None and draft.audience is not None
    sample = Broadcast(
        id=0,
        text=draft.text,
        media_kind=draft.media_kind,
        media_file_id=draft.media_file_id,
        language=who.person.language,
        audience=Audience.parse(draft.audience),
        translations=draft.translations,
    )
    recipients = await turn.services.broadcasts.recipients(draft)
    return bv.preview(who.t, turn.services.city, draft, recipients, sample)


async def take_input(turn: Turn, who: Speaker, dialog: Dialog) -> None:
    """A message while composing: the broadcast itself, or a translation.

    The text is kept in the conversation's markup, so bold and links survive.
    """
    broadcasts = turn.services.broadcasts
    key = turn.input.key
    if dialog.replays(key):
        await show_step(turn, who, dialog)
        return
    if dialog.step == Step.MESSAGE:
        kind, ref = _media(turn.input.upload)
        updated = await broadcasts.set_message(dialog, turn.input.markup, kind, ref, key)
        if updated is None:
            limit = broadcasts.limit(BroadcastDraft(media_file_id=ref))
            await turn.send(bv.message_rejected(who.t, limit))
            return
    elif dialog.step.startswith(Step.TRANSLATION) and turn.input.text:
        updated = await broadcasts.set_translation(dialog, turn.input.markup or "", key)
        if updated is None:
            limit = broadcasts.limit(BroadcastDraft.load(dialog.data))
            await turn.send(bv.message_rejected(who.t, limit))
            return
    else:
        await turn.send(views.not_understood(who.t))
        updated = dialog
    await show_step(turn, who, updated)


def _media(upload: Upload | None) -> tuple[str | None, str | None]:
    """The kind and reference of a photo or document; ``other`` (no reference) for anything
    else sent along, which a broadcast cannot carry."""
    if upload is None:
        return None, None
    if upload.kind in ("photo", "document"):
        return upload.kind, upload.ref
    return "other", None


async def on_broadcast_button(turn: Turn) -> None:
    """``bc:…`` choices (coordinators only, as the router sees to); each acts on the
    presser's own draft."""
    who = await speaker(turn)
    broadcasts = turn.services.broadcasts
    action = _read(turn)
    if action is None:
        await turn.notice(views.button_expired(who.t), alert=True)
        return
    what, value = action
    if what in ("cancel", "resend"):
        await _on_mailing_button(turn, who, what, value)
        return
    if who.person is None:
        await turn.notice(views.button_expired(who.t), alert=True)
        return
    if what == "new":
        await turn.notice()
        await show_step(turn, who, await broadcasts.compose(who.person, turn.input.key))
        return
    dialog = await in_hand(turn, who, await broadcasts.dialog(who.person), show_step)
    if dialog is None:
        return
    if what == "discard":
        await turn.notice()
        await broadcasts.discard(dialog)
        await turn.replace(bv.discarded(who.t))
        return
    if what == "translate":
        await turn.notice()
        await turn.send(bv.translation_languages(who.t, who.person.language))
        return
    if what in ("send", "time"):
        await _publish(turn, who, dialog, value)
        return
    updated = await _apply(turn, dialog, what, value)
    await next_step(turn, who, updated, show_step)


def _send_days(turn: Turn) -> list[dt.date]:
    """The days *send later* offers: today and the next two weeks."""
    services = turn.services
    today = services.clock.now().astimezone(services.city.timezone).date()
    return [today + dt.timedelta(days=i) for i in range(15)]


def _read(turn: Turn) -> tuple[str, str] | None:
    """The pressed ``bc:`` action and its value (``""`` for none, ``language:<code>`` for a
    language audience), if a choice offers them now."""
    data = turn.input.action
    action = bv.BROADCAST_LANGUAGE.read(data) or bv.BROADCAST.read(data)
    if action is None:
        return None
    what, value = action[0], ":".join(action[1])
    if what == "day" and value not in {day.isoformat() for day in _send_days(turn)}:
        return None
    return what, value


async def _apply(turn: Turn, dialog: Dialog, what: str, value: str) -> Dialog | None:
    broadcasts = turn.services.broadcasts
    key = turn.input.key
    if what == "aud":
        return await broadcasts.set_audience(dialog, value, key)
    if what == "tr":
        return await broadcasts.ask_translation(dialog, value, key)
    if what == "later":
        return await broadcasts.goto(dialog, Step.DAY, key)
    if what == "goto":
        return await broadcasts.goto(dialog, value, key)
    if what == "day":
        return await broadcasts.choose_day(dialog, dt.date.fromisoformat(value), key)
    return None


async def _publish(turn: Turn, who: Speaker, dialog: Dialog, value: str) -> None:
    assert who.person is not None
    services = turn.services
    send_at = None
    if value:
        draft = BroadcastDraft.load(dialog.data)
        if draft.day is None:
            await turn.notice(views.button_expired(who.t), alert=True)
            return
        at = dt.time(int(value[:2]), int(value[2:]))
        send_at = dt.datetime.combine(draft.day, at, services.city.timezone)
        if send_at <= services.clock.now():
            await turn.notice(bv.time_passed(who.t), alert=True)
            return
    mailing = await services.broadcasts.publish(dialog, who.person, send_at)
    if mailing is None:
        await turn.notice(views.button_expired(who.t), alert=True)
        return
    await turn.notice()
    await turn.clear_choices()
    if send_at is not None:
        await turn.send(bv.scheduled(who.t, mailing))


async def _on_mailing_button(turn: Turn, who: Speaker, what: str, value: str) -> None:
    broadcasts = turn.services.broadcasts
    if what == "cancel" and await broadcasts.cancel(int(value)):
        await turn.notice()
        await turn.replace(bv.cancelled(who.t))
    elif what == "resend" and (count := await broadcasts.resend_unconfirmed(int(value))):
        await turn.notice(bv.resent(who.t, count))
        await turn.clear_choices()
    else:
        await turn.notice(views.button_expired(who.t), alert=True)


async def on_news_button(turn: Turn) -> None:
    """``news:off`` / ``news:on``: leave broadcasts or come back; always about the presser."""
    who = await speaker(turn)
    action = bv.NEWS.read(turn.input.action)
    if who.person is None or action is None:
        await turn.notice(views.button_expired(who.t), alert=True)
        return
    wanted = action[0] == "on"
    await turn.services.broadcasts.set_news(who.person, wanted)
    if wanted:
        await turn.notice(bv.news_on(who.t))
        await turn.replace(bv.news_on(who.t))
    else:
        await turn.notice()
        await turn.clear_choices()
        await turn.send(bv.news_off(who.t))
