"""Concerns and messages to the office: the lists of open and answered ones, a thread, and
the office's answer, which reaches the person through the bot on their messenger — the
service the chat's reply uses (:func:`handlers.office.send_answer`)."""

from __future__ import annotations

from aiohttp import web
from markupsafe import Markup

from bot.domain.office import CONCERN_REASONS, Thread
from bot.i18n import Texts, language_name
from bot.services.office import MAX_MESSAGE
from channels.console.desk import Desk, whole
from handlers.office import send_answer
from handlers.office_views import reason_text

__all__ = ["routes"]

routes = web.RouteTableDef()

#: Threads per page of the list.
PER_PAGE = 50
#: The lists: not answered yet, answered, all.
SHOWS = ("open", "answered", "all")
KINDS = ("concern", "message")
#: How much of the newest message the list shows.
PREVIEW = 160
_DONE = ("answered", "undelivered", "invalid")


def kind_label(t: Texts, thread: Thread) -> str:
    """What the thread is: a concern about a case, or a message to the office."""
    if thread.kind == "concern":
        return t.gettext("Concern about case #{number}", number=str(thread.request_id or "–"))
    return t.gettext("Message #{number}", number=str(thread.id))


def _first_text(t: Texts, thread: Thread, text: str) -> str | Markup:
    """A tapped reason of a concern in the office's language; typed words as they are."""
    if thread.reason in CONCERN_REASONS:
        return Markup(reason_text(t, thread.reason, text))
    return text


@routes.get("/concerns", name="concerns")
async def inbox(request: web.Request) -> web.StreamResponse:
    """Concerns and messages, those waiting for an answer first by default."""
    desk = Desk.of(request)
    t = desk.t
    show = request.query.get("show", "open")
    show = show if show in SHOWS else "open"
    kind = request.query.get("kind", "")
    kind = kind if kind in KINDS else ""
    number = whole(request.query.get("page", "0"))
    page = number if number is not None and number < 10**6 else 0
    answered = {"open": False, "answered": True, "all": None}[show]
    items, total = await desk.services.office.threads(kind or None, answered, page, PER_PAGE)
    pages = max(1, -(-total // PER_PAGE))

    def query(number: int) -> str:
        pairs = [f"show={show}"] + ([f"kind={kind}"] if kind else [])
        return "?" + "&".join([*pairs, f"page={number}"])

    return desk.render(
        "concerns.html",
        show=show,
        kind=kind,
        rows=[
            {
                "item": item,
                "what": kind_label(t, item.thread),
                "language": language_name(item.thread.language),
                "preview": _first_text(t, item.thread, item.latest[:PREVIEW])
                if item.messages == 1
                else item.latest[:PREVIEW],
            }
            for item in items
        ],
        total=total,
        previous=query(page - 1) if page > 0 else None,
        next=query(page + 1) if page + 1 < pages else None,
    )


async def _thread_or_404(desk: Desk) -> Thread:
    found = await desk.services.office.thread(int(desk.request.match_info["id"]))
    if found is None:
        raise web.HTTPNotFound()
    return found


@routes.get(r"/concerns/{id:\d+}", name="concerns_thread")
async def thread(request: web.Request) -> web.StreamResponse:
    """One thread: what the person wrote and the office answered, and the answer form."""
    desk = Desk.of(request)
    services, t = desk.services, desk.t
    found = await _thread_or_404(desk)
    messages = await services.office.messages(found)
    person = await services.people.by_id(found.person_id)
    side, lotse = None, None
    if found.kind == "concern":
        side = t.gettext("the Lotse") if found.side == "lotse" else t.gettext("the person helped")
        case = await services.requests.get(found.request_id) if found.request_id else None
        if case is not None and case.lotse_id is not None:
            lotse = await services.lotsen.by_person_id(case.lotse_id)
    done = request.query.get("done", "")
    await desk.record(f"{found.kind}.view", found.person_id, found.request_id)
    return desk.render(
        "thread.html",
        thread=found,
        what=kind_label(t, found),
        side=side,
        lotse=lotse,
        language=language_name(found.language),
        channel=person.contact.channel.capitalize() if person is not None else None,
        messages=[
            {
                "out": m.direction == "out",
                "at": t.datetime(m.created_at, "short"),
                "text": _first_text(t, found, m.text) if index == 0 else m.text,
            }
            for index, m in enumerate(messages)
        ],
        longest=MAX_MESSAGE,
        done=done if done in _DONE else "",
    )


@routes.post(r"/concerns/{id:\d+}/answer", name="concerns_answer")
async def answer(request: web.Request) -> web.StreamResponse:
    """The office's answer: stored, and sent to the person in their language on their
    messenger (a reply to it there continues the thread)."""
    desk = Desk.of(request)
    found = await _thread_or_404(desk)
    text = (await desk.form()).get("text", "").strip()
    if not text or len(text) > MAX_MESSAGE:
        raise desk.redirect(f"/concerns/{found.id}?done=invalid")
    delivered = await send_answer(desk.services, desk.switchboard, found, desk.person, text)
    if delivered is None:  # the person is gone
        raise web.HTTPNotFound()
    await desk.record(f"{found.kind}.reply", found.person_id, found.request_id)
    raise desk.redirect(f"/concerns/{found.id}?done={'answered' if delivered else 'undelivered'}")
