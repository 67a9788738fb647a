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
from handlers.dialogs import Dialogue, Reply, discarding, hhmm, refuse, typed_day, typed_text
from handlers.port import Upload

__all__ = ["COMPOSING", "on_broadcast_button", "on_news_button", "show_broadcasts"]


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
    await COMPOSING.show(turn, who, dialog)


async def _screen(turn: Turn, who: Speaker, dialog: Dialog) -> views.Screen:
    """The screen of the dialog's step."""
    services = turn.services
    draft = BroadcastDraft.load(dialog.data)
    step = dialog.step
    if step == Step.MESSAGE:
        return bv.ask_message(who.t)
    if step == Step.AUDIENCE:
        return bv.ask_audience(who.t, await services.broadcasts.audience_sizes())
    if step.startswith(Step.TRANSLATION):
        return bv.ask_translation(who.t, step.partition(":")[2])
    if step == Step.DAY:
        return bv.ask_day(who.t, _send_days(turn))
    if step == Step.TIME and draft.day is not None:
        return bv.ask_time(who.t, draft.day)
    return await _preview(turn, who, draft)


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


async def _typed(turn: Turn, who: Speaker, dialog: Dialog) -> Dialog | Reply | None:
    """A message while composing: the broadcast itself, or a translation.

    The text is kept in the conversation's markup, so bold and links survive.
    """
    broadcasts = turn.services.broadcasts
    key = turn.input.key
    if dialog.step == Step.MESSAGE:
        kind, ref = _media(turn.input.upload)
        updated = await broadcasts.set_message(dialog, turn.input.markup, kind, ref, key)
        limit = broadcasts.limit(BroadcastDraft(media_file_id=ref))
    elif dialog.step.startswith(Step.TRANSLATION) and turn.input.text:
        updated = await broadcasts.set_translation(dialog, turn.input.markup or "", key)
        limit = broadcasts.limit(BroadcastDraft.load(dialog.data))
    elif dialog.step == Step.DAY:
        day = typed_day(typed_text(turn), _send_days(turn)[0])
        return await _day(turn, dialog, day.isoformat()) if day is not None else None
    else:
        return None
    if updated is None:
        await turn.send(bv.message_rejected(who.t, limit))
        return Reply.TOLD
    return updated


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
    action = COMPOSING.read(turn, None)
    if action is None:
        await refuse(turn, who.t)
        return
    what, value = action
    if what in ("cancel", "resend"):
        await _on_mailing_button(turn, who, what, value)
        return
    if who.person is None:
        await refuse(turn, who.t)
        return
    if what == "new":
        await turn.notice()
        await COMPOSING.show(turn, who, await broadcasts.compose(who.person, turn.input.key))
        return
    await COMPOSING.press(turn, who, await broadcasts.dialog(who.person))


def _send_days(turn: Turn) -> list[dt.date]:
    """The days *send later* offers: today and the next two weeks."""
    services = turn.services
    today = services.clock.now().astimezone(services.city.timezone).date()
    return [today + dt.timedelta(days=i) for i in range(15)]


async def _day(turn: Turn, dialog: Dialog, value: str) -> Dialog | None:
    """Send later on a day, if it is one *send later* offers."""
    if value not in {day.isoformat() for day in _send_days(turn)}:
        return None
    return await turn.services.broadcasts.choose_day(
        dialog, dt.date.fromisoformat(value), turn.input.key
    )


async def _translate(turn: Turn, who: Speaker, dialog: Dialog, value: str) -> bool:
    assert who.person is not None
    await turn.notice()
    await turn.send(bv.translation_languages(who.t, who.person.language))
    return True


#: *Send now* to at least this many people asks once more.
LARGE_AUDIENCE = 50


async def _send_now(turn: Turn, who: Speaker, dialog: Dialog, value: str) -> bool:
    """*Send now*: at once, or to a large audience after asking once more."""
    recipients = await turn.services.broadcasts.recipients(BroadcastDraft.load(dialog.data))
    if recipients < LARGE_AUDIENCE:
        return await _publish(turn, who, dialog, value)
    await turn.notice()
    await turn.send(bv.confirm_send(who.t, recipients))
    return True


async def _publish(turn: Turn, who: Speaker, dialog: Dialog, value: str) -> bool:
    """Send now, or (a time chosen) at the day and time chosen; False if it cannot go."""
    assert who.person is not None
    services = turn.services
    send_at = None
    if value:
        draft = BroadcastDraft.load(dialog.data)
        if draft.day is None:
            return False
        send_at = dt.datetime.combine(draft.day, hhmm(value), services.city.timezone)
        if send_at <= services.clock.now():
            await turn.notice(bv.time_passed(who.t), alert=True)
            return True
    mailing = await services.broadcasts.publish(dialog, who.person, send_at)
    if mailing is None:
        return False
    await services.audit.record(who.person.id, "broadcast")
    await turn.notice()
    await turn.clear_choices()
    if send_at is not None:
        await turn.send(bv.scheduled(who.t, mailing))
    return True


async def _load(turn: Turn, who: Speaker) -> Dialog | None:
    return await turn.services.broadcasts.dialog(who.person) if who.person else None


#: Composing a broadcast (``bc:…``): message, audience, translations, preview, sending.
COMPOSING: Dialogue[Dialog] = Dialogue(
    load=_load,
    actions=lambda turn, _: (bv.BROADCAST_LANGUAGE, bv.BROADCAST),
    screen=_screen,
    answers={
        ("aud", None): lambda turn, d, v: turn.services.broadcasts.set_audience(
            d, v, turn.input.key
        ),
        ("tr", None): lambda turn, d, v: turn.services.broadcasts.ask_translation(
            d, v, turn.input.key
        ),
        ("later", None): lambda turn, d, _: turn.services.broadcasts.goto(
            d, Step.DAY, turn.input.key
        ),
        ("goto", None): lambda turn, d, v: turn.services.broadcasts.goto(d, v, turn.input.key),
        ("day", None): _day,
    },
    typed=_typed,
    ends={
        ("discard", None): discarding(
            lambda turn, d: turn.services.broadcasts.discard(d), bv.discarded
        ),
        ("translate", None): _translate,
        ("send", None): _send_now,
        ("send_yes", None): _publish,
        ("time", None): _publish,
    },
)


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
