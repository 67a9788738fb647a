"""Broadcasts: a coordinator composes, previews and sends news; anyone can leave them."""

from __future__ import annotations

import datetime as dt

from telegram import Message, Update

from bot.domain.broadcasts import Broadcast, BroadcastDraft
from bot.domain.dialogs import Dialog
from bot.domain.mailings import Audience
from bot.i18n import LANGUAGES
from bot.services.broadcasts import Step
from handlers import broadcast_views as bv
from handlers import views
from handlers.actions import NUMBER, parse, parse_action
from handlers.context import LotsenContext, Speaker, acknowledge, clear_buttons, replace, send
from handlers.context import speaker as find_speaker
from handlers.coordination import coordinator_only
from handlers.dialog_buttons import in_hand, next_step

__all__ = ["on_broadcast_button", "on_news_button", "show_broadcasts", "take_input"]


async def _show(update: Update, screen: views.Screen) -> None:
    await send(update, screen.text, screen.buttons)


async def show_broadcasts(update: Update, context: LotsenContext) -> None:
    """/broadcast: what is scheduled, or straight to a new broadcast."""
    who = await coordinator_only(update, context)
    if who is None:
        return
    if who.person is None:
        await _show(update, views.language_picker(who.t))
        return
    waiting = await context.services.broadcasts.scheduled()
    if waiting:
        await _show(update, bv.scheduled_list(who.t, waiting))
        return
    dialog = await context.services.broadcasts.compose(who.person, update.update_id)
    await show_step(update, context, who, dialog)


async def show_step(update: Update, context: LotsenContext, who: Speaker, dialog: Dialog) -> None:
    """Send the screen of the dialog's step."""
    services = context.services
    draft = BroadcastDraft.load(dialog.data)
    step = dialog.step
    if step == Step.MESSAGE:
        screen = bv.ask_message(who.t)
    elif step == Step.AUDIENCE:
        screen = bv.ask_audience(who.t, await services.broadcasts.audience_sizes())
    elif step.startswith(Step.TRANSLATION):
        screen = bv.ask_translation(who.t, step.partition(":")[2])
    elif step == Step.DAY:
        screen = bv.ask_day(who.t, _send_days(context))
    elif step == Step.TIME and draft.day is not None:
        screen = bv.ask_time(who.t, draft.day)
    else:
        screen = await _preview(context, who, draft)
    await _show(update, screen)


async def _preview(context: LotsenContext, who: Speaker, draft: BroadcastDraft) -> views.Screen:
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
    recipients = await context.services.broadcasts.recipients(draft)
    return bv.preview(who.t, context.services.city, draft, recipients, sample)


async def take_input(update: Update, context: LotsenContext, who: Speaker, dialog: Dialog) -> None:
    """A message while composing: the broadcast itself, or a translation."""
    message = update.effective_message
    assert message is not None
    broadcasts = context.services.broadcasts
    if dialog.replays(update.update_id):
        await show_step(update, context, who, dialog)
        return
    if dialog.step == Step.MESSAGE:
        kind, file_id = _media(message)
        updated = await broadcasts.set_message(
            dialog, _html(message), kind, file_id, update.update_id
        )
        if updated is None:
            limit = broadcasts.limit(BroadcastDraft(media_file_id=file_id))
            await send(update, bv.message_rejected(who.t, limit))
            return
    elif dialog.step.startswith(Step.TRANSLATION) and message.text:
        updated = await broadcasts.set_translation(dialog, _html(message) or "", update.update_id)
        if updated is None:
            limit = broadcasts.limit(BroadcastDraft.load(dialog.data))
            await send(update, bv.message_rejected(who.t, limit))
            return
    else:
        await send(update, views.not_understood(who.t))
        updated = dialog
    await show_step(update, context, who, updated)


def _html(message: Message) -> str | None:
    """The text as Telegram HTML, so bold and links survive; PTB escapes the rest."""
    if message.text:
        return message.text_html
    if message.caption:
        return message.caption_html
    return None


def _media(message: Message) -> tuple[str | None, str | None]:
    if message.photo:
        return "photo", message.photo[-1].file_id
    if message.document is not None:
        return "document", message.document.file_id
    if message.effective_attachment is not None:
        return "other", None
    return None, None


async def on_broadcast_button(update: Update, context: LotsenContext) -> None:
    """``bc:…`` buttons, for coordinators only; each acts on the presser's own draft."""
    query = update.callback_query
    assert query is not None
    who = await coordinator_only(update, context)
    if who is None:
        return
    broadcasts = context.services.broadcasts
    action = _parse(context, query.data)
    if action is None:
        await acknowledge(query, views.button_expired(who.t), alert=True)
        return
    what, value = action
    if what in ("cancel", "resend"):
        await _on_mailing_button(update, context, who, what, value)
        return
    if who.person is None:
        await acknowledge(query, views.button_expired(who.t), alert=True)
        return
    if what == "new":
        await acknowledge(query)
        await show_step(
            update, context, who, await broadcasts.compose(who.person, update.update_id)
        )
        return
    dialog = await in_hand(update, context, who, await broadcasts.dialog(who.person), show_step)
    if dialog is None:
        return
    if what == "discard":
        await acknowledge(query)
        await broadcasts.discard(dialog)
        await replace(query, bv.discarded(who.t))
        return
    if what == "translate":
        await acknowledge(query)
        await _show(update, bv.translation_languages(who.t, who.person.language))
        return
    if what in ("send", "time"):
        await _publish(update, context, who, dialog, value)
        return
    updated = await _apply(context, dialog, what, value, update.update_id)
    await next_step(update, context, who, updated, show_step)


def _send_days(context: LotsenContext) -> list[dt.date]:
    """The days *send later* offers: today and the next two weeks."""
    services = context.services
    today = services.clock.now().astimezone(services.city.timezone).date()
    return [today + dt.timedelta(days=i) for i in range(15)]


def _parse(context: LotsenContext, data: str | None) -> tuple[str, str] | None:
    """A ``bc:`` button's action and value (``""`` for none), if a button offers them."""
    language = parse(data, "bc", "aud", "language", LANGUAGES)
    if language is not None:
        return "aud", f"language:{language[4]}"
    action = parse_action(
        data,
        "bc",
        {
            **dict.fromkeys(("new", "discard", "translate", "send", "later"), ()),
            "aud": (Audience.CHOOSABLE,),
            "tr": (LANGUAGES,),
            "goto": ((Step.MESSAGE, Step.AUDIENCE, Step.PREVIEW, Step.DAY),),
            "day": ({day.isoformat() for day in _send_days(context)},),
            "time": ({value.replace(":", "") for value in bv.SEND_TIMES},),
            "cancel": (NUMBER,),
            "resend": (NUMBER,),
        },
    )
    return None if action is None else (action[0], "".join(action[1]))


async def _apply(
    context: LotsenContext, dialog: Dialog, what: str, value: str, key: int
) -> Dialog | None:
    broadcasts = context.services.broadcasts
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


async def _publish(
    update: Update, context: LotsenContext, who: Speaker, dialog: Dialog, value: str
) -> None:
    query = update.callback_query
    assert query is not None and who.person is not None
    services = context.services
    send_at = None
    if value:
        draft = BroadcastDraft.load(dialog.data)
        if draft.day is None:
            await acknowledge(query, views.button_expired(who.t), alert=True)
            return
        at = dt.time(int(value[:2]), int(value[2:]))
        send_at = dt.datetime.combine(draft.day, at, services.city.timezone)
        if send_at <= services.clock.now():
            await acknowledge(query, bv.time_passed(who.t), alert=True)
            return
    mailing = await services.broadcasts.publish(dialog, who.person, send_at)
    if mailing is None:
        await acknowledge(query, views.button_expired(who.t), alert=True)
        return
    await acknowledge(query)
    await clear_buttons(query)
    if send_at is not None:
        await _show(update, bv.scheduled(who.t, mailing))


async def _on_mailing_button(
    update: Update, context: LotsenContext, who: Speaker, what: str, value: str
) -> None:
    query = update.callback_query
    assert query is not None
    broadcasts = context.services.broadcasts
    if what == "cancel" and await broadcasts.cancel(int(value)):
        await acknowledge(query)
        await replace(query, bv.cancelled(who.t))
    elif what == "resend" and (count := await broadcasts.resend_unconfirmed(int(value))):
        await acknowledge(query, bv.resent(who.t, count))
        await clear_buttons(query)
    else:
        await acknowledge(query, views.button_expired(who.t), alert=True)


async def on_news_button(update: Update, context: LotsenContext) -> None:
    """``news:off`` / ``news:on``: leave broadcasts or come back; always about the presser."""
    query = update.callback_query
    assert query is not None
    who = await find_speaker(update, context)
    if who.person is None or query.data not in (bv.NEWS_ON, bv.NEWS_OFF):
        await acknowledge(query, views.button_expired(who.t), alert=True)
        return
    wanted = query.data == bv.NEWS_ON
    await context.services.broadcasts.set_news(who.person, wanted)
    if wanted:
        await acknowledge(query, bv.news_on(who.t))
        await replace(query, bv.news_on(who.t))
    else:
        await acknowledge(query)
        await clear_buttons(query)
        await _show(update, bv.news_off(who.t))
