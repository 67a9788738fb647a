"""Broadcasts at the desk: a real text area with the translations beside it, the audience
with its number of recipients, the preview, send now or later, live progress and the report.

The draft is the coordinator's broadcast dialog, the same the chat keeps: the form stores it
whole (each part checked as in chat), the preview shows it, and sending publishes and ends
it in one transaction, so a form sent twice sends once.
"""

from __future__ import annotations

import datetime as dt
from html import escape

from aiohttp import web
from markupsafe import Markup

from bot.domain.broadcasts import MAX_TEXT, Broadcast, BroadcastDraft
from bot.domain.dialogs import Dialog
from bot.domain.mailings import Audience, Mailing, MailingStatus, Progress
from bot.i18n import LANGUAGES, Html, language_name, texts
from bot.markup import clean, plain
from channels.console.desk import Desk
from handlers import broadcast_views as bv
from handlers.broadcasts import LARGE_AUDIENCE

__all__ = ["routes"]

routes = web.RouteTableDef()


def shown(markup: str) -> Markup:
    """A text in the conversation's markup as HTML (bold, italic, links; all else escaped)."""
    return Markup(clean(markup))


def _escaped(text: str) -> str:
    """Typed text in the conversation's markup (the text area is plain text)."""
    return escape(text, quote=False)


def _typed(markup: str | None) -> str:
    """A stored text back in the text area."""
    return plain(markup or "")


async def _audiences(desk: Desk) -> list[tuple[str, str]]:
    """Each audience a broadcast may have, with its recipients, as the chat's buttons say."""
    t = desk.t
    sizes = await desk.services.broadcasts.audience_sizes()
    keys = [*Audience.CHOOSABLE, *(f"language:{code}" for code in LANGUAGES)]
    return [
        (key, f"{bv.audience_label(t, Audience.parse(key))} ({t.number(sizes.get(key, 0))})")
        for key in keys
    ]


def _languages(desk: Desk) -> list[tuple[str, str, str]]:
    """The languages a translation can be written in: code, name, direction."""
    return [
        (code, language_name(code), "rtl" if texts(code, desk.t.timezone).rtl else "ltr")
        for code in LANGUAGES
        if code != desk.person.language
    ]


async def _compose(
    desk: Desk,
    draft: BroadcastDraft,
    status: int = 200,
    problem: str | None = None,
) -> web.Response:
    recent = await desk.services.broadcasts.recent(20)
    return desk.render(
        "broadcasts.html",
        status,
        problem=problem,
        text=_typed(draft.text),
        audience=draft.audience or "lotsen",
        audiences=await _audiences(desk),
        languages=_languages(desk),
        translations={code: _typed(text) for code, text in draft.translations.items()},
        own=language_name(desk.person.language),
        recent=[(mailing, _report_line(desk, mailing, b)) for mailing, b in recent],
    )


def _report_line(desk: Desk, mailing: Mailing, broadcast: Broadcast) -> Markup:
    """One line about a broadcast in the list: when and to whom."""
    t = desk.t
    return Markup(
        t.gettext(
            "• {when} to {audience}",
            when=t.datetime(mailing.send_at, "short"),
            audience=bv.audience_label(t, broadcast.audience),
        )
    )


@routes.get("/broadcasts", name="broadcasts")
async def broadcasts(request: web.Request) -> web.StreamResponse:
    """The broadcasts so far, and the form for a new one (with the draft, if any)."""
    desk = Desk.of(request)
    dialog = await desk.services.broadcasts.dialog(desk.person)
    draft = BroadcastDraft.load(dialog.data) if dialog else BroadcastDraft()
    return await _compose(desk, draft)


@routes.post("/broadcasts/draft", name="broadcasts_draft_save")
async def save_draft(request: web.Request) -> web.StreamResponse:
    """The form: the text, the audience, the translations; on to the preview."""
    desk = Desk.of(request)
    form = await desk.form()
    text = form.get("text", "")
    translations = {
        code: form.get(f"tr_{code}", "") for code in LANGUAGES if form.get(f"tr_{code}", "")
    }
    dialog = await desk.services.broadcasts.prepare(
        desk.person,
        _escaped(text),
        form.get("audience", ""),
        {code: _escaped(value) for code, value in translations.items()},
    )
    if dialog is None:
        typed = BroadcastDraft(
            text=_escaped(text),
            audience=form.get("audience"),
            translations={code: _escaped(value) for code, value in translations.items()},
        )
        problem = desk.gettext(
            "Please write a text of at most {limit} characters; each translation too.",
            limit=desk.t.number(MAX_TEXT),
        )
        return await _compose(desk, typed, 400, problem)
    raise desk.redirect("/broadcasts/draft")


@routes.get("/broadcasts/draft", name="broadcasts_draft")
async def draft(request: web.Request) -> web.StreamResponse:
    """The preview: to whom, how many, and each copy as its readers will see it."""
    desk = Desk.of(request)
    dialog = await desk.services.broadcasts.dialog(desk.person)
    if dialog is None or BroadcastDraft.load(dialog.data).audience is None:
        raise desk.redirect("/broadcasts")
    return await _preview(desk, dialog)


async def _preview(
    desk: Desk,
    dialog: Dialog,
    confirm: int | None = None,
    problem: str | None = None,
    status: int = 200,
) -> web.Response:
    t = desk.t
    services = desk.services
    draft = BroadcastDraft.load(dialog.data)
    assert draft.audience is not None
    audience = Audience.parse(draft.audience)
    sample = Broadcast(
        id=0,
        text=draft.text,
        media_kind=draft.media_kind,
        media_file_id=draft.media_file_id,
        language=desk.person.language,
        audience=audience,
        translations=draft.translations,
    )
    recipients = await services.broadcasts.recipients(draft)
    copies = []
    for code in (desk.person.language, *sorted(draft.translations)):
        reader = texts(code, t.timezone)
        screen = bv.copy(reader, services.city, sample)
        copies.append((code, language_name(code), "rtl" if reader.rtl else "ltr", screen.text))
    untranslated = next(
        (c for c in LANGUAGES if c != desk.person.language and c not in draft.translations),
        None,
    )
    if untranslated is not None:
        reader = texts(untranslated, t.timezone)
        screen = bv.copy(reader, services.city, sample)
        copies.append(
            (
                untranslated,
                language_name(untranslated),
                "rtl" if reader.rtl else "ltr",
                screen.text,
            )
        )
    now = services.clock.now().astimezone(services.city.timezone)
    return desk.render(
        "broadcast_preview.html",
        status,
        problem=problem,
        recipients=Markup(
            t.ngettext(
                "It goes to {audience}: {n} person.",
                "It goes to {audience}: {n} people.",
                recipients,
                audience=bv.audience_label(t, audience),
            )
        ),
        note=t.gettext(
            "Without a translation, people get the original with a short note in their language."
        ),
        copies=[(code, name, direction, shown(text)) for code, name, direction, text in copies],
        confirm=confirm,
        confirm_text=Markup(bv.confirm_send(t, confirm).text) if confirm is not None else None,
        today=now.date().isoformat(),
        later=(now + dt.timedelta(hours=1)).strftime("%H:00"),
    )


@routes.post("/broadcasts/send", name="broadcasts_send")
async def send(request: web.Request) -> web.StreamResponse:
    """Send the draft now (a large audience is asked once more, as in chat) or later."""
    desk = Desk.of(request)
    services = desk.services
    form = await desk.form()
    dialog = await services.broadcasts.dialog(desk.person)
    if dialog is None or BroadcastDraft.load(dialog.data).audience is None:
        raise desk.redirect("/broadcasts")
    send_at = None
    if form.get("when") == "later":
        try:
            day = dt.date.fromisoformat(form.get("day", ""))
            at = dt.time.fromisoformat(form.get("time", ""))
        except ValueError:
            raise web.HTTPBadRequest() from None
        chosen = await services.broadcasts.choose_day(dialog, day, None)
        send_at = dt.datetime.combine(day, at, services.city.timezone)
        if chosen is None or send_at <= services.clock.now():
            return await _preview(desk, dialog, problem=bv.time_passed(desk.t), status=400)
        dialog = chosen
    else:
        recipients = await services.broadcasts.recipients(BroadcastDraft.load(dialog.data))
        if recipients >= LARGE_AUDIENCE and form.get("confirm") != str(recipients):
            return await _preview(desk, dialog, recipients)
    mailing = await services.broadcasts.publish(dialog, desk.person, send_at)
    if mailing is None:
        raise desk.redirect("/broadcasts")
    await desk.record("broadcast")
    raise desk.redirect(f"/broadcasts/{mailing.id}")


@routes.post("/broadcasts/discard", name="broadcasts_discard")
async def discard(request: web.Request) -> web.StreamResponse:
    """Throw the draft away."""
    desk = Desk.of(request)
    dialog = await desk.services.broadcasts.dialog(desk.person)
    if dialog is not None:
        await desk.services.broadcasts.discard(dialog)
    raise desk.redirect("/broadcasts")


async def _sent(desk: Desk, mailing_id: int) -> tuple[Mailing, Broadcast]:
    found = await desk.services.broadcasts.sent(mailing_id)
    if found is None:
        raise web.HTTPNotFound()
    return found


def _counting(progress: Progress) -> dict[str, int]:
    """The progress as JSON, and as the page's live numbers."""
    return {
        "total": progress.total,
        "finished": progress.finished,
        "sent": progress.sent,
        "failed": progress.failed,
        "blocked": progress.blocked,
        "unconfirmed": progress.unconfirmed,
    }


def _live(name: str, shown: str) -> Html:
    """A number the page's script keeps up to date."""
    return Html(f'<span data-count="{name}">{shown}</span>')


@routes.get("/broadcasts/{id:\\d+}", name="broadcasts_mailing")
async def mailing(request: web.Request) -> web.StreamResponse:
    """One broadcast: waiting for its time, sending (live), or its final report."""
    desk = Desk.of(request)
    t = desk.t
    mailing, broadcast = await _sent(desk, int(request.match_info["id"]))
    progress = await desk.services.mailings.progress(mailing.id)
    finished = mailing.status is MailingStatus.DONE
    report = None
    live = None
    if finished:
        report = Markup(bv.report(t, broadcast, mailing, progress, True).text)
    elif mailing.status is MailingStatus.SENDING:
        state = _counting(progress)
        numbers = {name: _live(name, t.number(value)) for name, value in state.items()}
        live = {
            "title": Markup(
                t.gettext(
                    "📤 <b>Sending the broadcast to {audience}…</b>",
                    audience=bv.audience_label(t, broadcast.audience),
                )
            ),
            "done": Markup(
                t.gettext(
                    "{done} of {total} done", done=numbers["finished"], total=numbers["total"]
                )
            ),
            "counts": Markup(
                t.gettext(
                    "✅ sent {sent} · ⚠️ failed {failed} · 🚫 blocked {blocked}",
                    sent=numbers["sent"],
                    failed=numbers["failed"],
                    blocked=numbers["blocked"],
                )
            ),
            "total": progress.total,
            "finished": progress.finished,
        }
    scheduled = None
    if mailing.status is MailingStatus.SCHEDULED:
        scheduled = Markup(bv.scheduled(t, mailing).text)
    return desk.render(
        "broadcast.html",
        mailing=mailing,
        broadcast_text=shown(broadcast.text or ""),
        audience=bv.audience_label(t, broadcast.audience),
        report=report,
        live=live,
        scheduled=scheduled,
        cancelled=Markup(bv.cancelled(t)) if mailing.status is MailingStatus.CANCELLED else None,
        unconfirmed=progress.unconfirmed if finished else 0,
    )


@routes.get("/broadcasts/{id:\\d+}/progress", name="broadcasts_progress")
async def progress(request: web.Request) -> web.StreamResponse:
    """How far a broadcast has come, for the page's script."""
    desk = Desk.of(request)
    mailing, _ = await _sent(desk, int(request.match_info["id"]))
    state: dict[str, object] = {**_counting(await desk.services.mailings.progress(mailing.id))}
    state["status"] = mailing.status.value
    state["done"] = mailing.status in (MailingStatus.DONE, MailingStatus.CANCELLED)
    return web.json_response(state)


@routes.post("/broadcasts/{id:\\d+}/cancel", name="broadcasts_cancel")
async def cancel(request: web.Request) -> web.StreamResponse:
    """Cancel a broadcast waiting for its time."""
    desk = Desk.of(request)
    mailing, _ = await _sent(desk, int(request.match_info["id"]))
    if await desk.services.broadcasts.cancel(mailing.id):
        await desk.record("broadcast.cancel")
    raise desk.redirect(f"/broadcasts/{mailing.id}")


@routes.post("/broadcasts/{id:\\d+}/resend", name="broadcasts_resend")
async def resend(request: web.Request) -> web.StreamResponse:
    """Send the unconfirmed copies again (the coordinator accepts possible doubles)."""
    desk = Desk.of(request)
    mailing, _ = await _sent(desk, int(request.match_info["id"]))
    if await desk.services.broadcasts.resend_unconfirmed(mailing.id):
        await desk.record("broadcast.resend")
    raise desk.redirect(f"/broadcasts/{mailing.id}")
