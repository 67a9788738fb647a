"""Requests: the table with its filters, a page per request with its timeline, and what the
office does to a request — assign it to a Lotse, cancel it, open it again — through the
services the chat uses, so that the people involved hear of it on their messengers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from aiohttp import web
from markupsafe import Markup

from bot.domain.requests import OPEN_STATES, Moment, Request, RequestFilter, Status
from bot.i18n import LANGUAGES, Texts, language_name
from channels.console.desk import Desk, whole
from handlers.coordination_views import assignee
from handlers.request_views import languages_label, summary, topic_label, when_label

__all__ = ["routes", "state_label"]

routes = web.RouteTableDef()

#: Rows per page of the table.
PER_PAGE = 50
#: How many months back the month filter offers.
MONTHS = 13
#: The states the table filters by (drafts are never shown).
STATES = tuple(s for s in Status if s is not Status.DRAFT)
#: The office's actions on a request that its timeline leaves out (reading it).
_QUIET = ("request.view", "concern.case")
#: What a form did, shown after its redirect (``?done=``).
_DONE = ("assigned", "cancelled", "reopened", "refused")


def state_label(t: Texts, status: Status) -> str:
    """A request's state as the office names it."""
    labels = {
        Status.OPEN: t.gettext("waiting"),
        Status.OFFERED: t.gettext("offered"),
        Status.ACCEPTED: t.gettext("accepted"),
        Status.DONE: t.gettext("done"),
        Status.CANCELLED: t.gettext("cancelled"),
        Status.EXPIRED: t.gettext("expired"),
        Status.DRAFT: t.gettext("not sent yet"),
    }
    return labels[status]


@dataclass(frozen=True, slots=True)
class _Chosen:
    """The table's filter as the query string carries it (only known values are taken)."""

    status: str = ""
    topic: str = ""
    language: str = ""
    district: str = ""
    month: str = ""

    @classmethod
    def read(cls, desk: Desk, months: list[date]) -> _Chosen:
        query = desk.request.query
        city = desk.services.city

        def one(name: str, allowed: list[str]) -> str:
            value = query.get(name, "")
            return value if value in allowed else ""

        return cls(
            one("state", [s.value for s in STATES]),
            one("topic", list(city.topics)),
            one("language", list(LANGUAGES)),
            one("district", list(city.districts)),
            one("month", [m.strftime("%Y-%m") for m in months]),
        )

    def filter(self) -> RequestFilter:
        return RequestFilter(
            status=Status(self.status) if self.status else None,
            topic=self.topic or None,
            language=self.language or None,
            district=self.district or None,
            month=date.fromisoformat(self.month + "-01") if self.month else None,
        )

    def query(self, page: int) -> str:
        parts = [
            ("state", self.status),
            ("topic", self.topic),
            ("language", self.language),
            ("district", self.district),
            ("month", self.month),
        ]
        pairs = [f"{name}={value}" for name, value in parts if value]
        if page:
            pairs.append(f"page={page}")
        return "?" + "&".join(pairs) if pairs else ""


def _months(desk: Desk) -> list[date]:
    """This month and the twelve before it (city time), newest first."""
    today = desk.services.clock.now().astimezone(desk.services.city.timezone).date()
    index = today.year * 12 + today.month - 1
    return [date((index - n) // 12, (index - n) % 12 + 1, 1) for n in range(MONTHS)]


def _page_number(desk: Desk) -> int:
    number = whole(desk.request.query.get("page", "0"))
    return number if number is not None and number < 10**6 else 0


@routes.get("/requests", name="requests")
async def table(request: web.Request) -> web.StreamResponse:
    """The table: every request sent, newest first, narrowed by the filters."""
    desk = Desk.of(request)
    t, city = desk.t, desk.services.city
    months = _months(desk)
    chosen = _Chosen.read(desk, months)
    page = _page_number(desk)
    rows, total = await desk.services.requests.search(chosen.filter(), page, PER_PAGE)
    pages = max(1, -(-total // PER_PAGE))
    return desk.render(
        "requests.html",
        chosen=chosen,
        rows=[
            {
                "request": r,
                "topic": topic_label(t, r.topic),
                "languages": Markup(languages_label(t, r.languages)),
                "when": Markup(when_label(t, r)),
                "state": state_label(t, r.status),
                "lotse": name,
            }
            for r, name in rows
        ],
        total=total,
        page=page,
        pages=pages,
        previous=chosen.query(page - 1) if page > 0 else None,
        next=chosen.query(page + 1) if page + 1 < pages else None,
        states=[(s.value, state_label(t, s)) for s in STATES],
        topics=[(key, topic_label(t, key)) for key in city.topics],
        languages=[(code, language_name(code)) for code in LANGUAGES],
        districts=list(city.districts),
        months=[(m.strftime("%Y-%m"), t.month(m)) for m in months],
    )


def _moment_text(t: Texts, moment: Moment) -> str:
    """One line of the timeline (never what was said)."""
    name = moment.name or "–"
    if moment.what == "created":
        return t.gettext("The person began the request")
    if moment.what == "sent":
        return t.gettext("The request was sent")
    if moment.what == "offered":
        answers = {
            "open": t.gettext("no answer yet"),
            "declined": t.gettext("declined"),
            "accepted": t.gettext("accepted"),
            "closed": t.gettext("withdrawn"),
            "handed_back": t.gettext("accepted, then handed back"),
        }
        answer = answers.get(moment.state or "", moment.state or "")
        if moment.detail == "99":
            return t.gettext("Given to {name} by the office ({answer})", name=name, answer=answer)
        return t.gettext(
            "Offered to {name}, round {round} ({answer})",
            name=name,
            round=moment.detail or "",
            answer=answer,
        )
    if moment.what == "accepted":
        return t.gettext("Accepted by {name}", name=name)
    if moment.what == "handed_back":
        return t.gettext("{name} handed the case back", name=name)
    if moment.what == "notice":
        return _notice_text(t, moment)
    if moment.what == "concern":
        side = t.gettext("the Lotse") if moment.side == "lotse" else t.gettext("the person helped")
        return t.gettext("Concern reported by {side}", side=side)
    if moment.what == "audit":
        return _action_text(t, moment.detail or "")
    state = Status(moment.state) if moment.state else Status.DONE
    return t.gettext("Closed: {state}", state=state_label(t, state))


def _action_text(t: Texts, action: str) -> str:
    """What the office did to the request, as the audit log recorded it."""
    labels = {
        "request.assign": t.gettext("The office assigned it"),
        "request.cancel": t.gettext("The office cancelled it"),
        "request.reopen": t.gettext("The office opened it again"),
        "concern.reply": t.gettext("The office answered a concern"),
    }
    return labels.get(action) or t.gettext("The office: {action}", action=action)


def _notice_text(t: Texts, moment: Moment) -> str:
    lotse = moment.side == "lotse"
    if moment.detail == "accepted":
        if lotse:
            text = t.gettext("The details went to {name}", name=moment.name or "–")
        else:
            text = t.gettext("The person was told who helps")
    elif moment.detail == "closed":
        text = t.gettext("The person was asked how it went")
    elif lotse:
        text = t.gettext("Reminder to {name}", name=moment.name or "–")
    else:
        text = t.gettext("Reminder to the person")
    if moment.state == "failed":
        text += " — " + t.gettext("not delivered")
    elif moment.state == "sending":
        text += " — " + t.gettext("perhaps not delivered")
    return text


async def _request_or_404(desk: Desk) -> Request:
    found = await desk.services.requests.get(int(desk.request.match_info["id"]))
    if found is None or found.status is Status.DRAFT:
        raise web.HTTPNotFound()
    return found


@routes.get(r"/requests/{id:\d+}", name="requests_one")
async def one(request: web.Request) -> web.StreamResponse:
    """A request: its details as the chat's assignment shows them (no name), its timeline,
    and what the office can do with it now."""
    desk = Desk.of(request)
    services, t = desk.services, desk.t
    found = await _request_or_404(desk)
    moments = await services.requests.history(found)
    now = services.clock.now()
    lotsen: list[tuple[int, str]] = []
    if found.status in OPEN_STATES:
        lotsen = [
            (lotse.person_id, assignee(t, lotse, now))
            for lotse in await services.lotsen.for_assignment(found)
        ]
    lotse = await services.lotsen.by_person_id(found.lotse_id) if found.lotse_id else None
    done = request.query.get("done", "")
    await desk.record("request.view", request_id=found.id)
    return desk.render(
        "request.html",
        r=found,
        state=state_label(t, found.status),
        details=[Markup(line) for line in summary(t, services.city, found, True).split("\n")],
        lotse=lotse,
        timeline=[
            (t.datetime(m.at, "short"), _moment_text(t, m))
            for m in moments
            if not (m.what == "audit" and m.detail in _QUIET)
        ],
        lotsen=lotsen,
        cancellable=found.status in (*OPEN_STATES, Status.ACCEPTED),
        reopenable=found.status in (Status.CANCELLED, Status.EXPIRED)
        and found.person_id is not None,
        done=done if done in _DONE else "",
    )


@routes.post(r"/requests/{id:\d+}/assign", name="requests_assign")
async def assign(request: web.Request) -> web.StreamResponse:
    """Give a waiting request to a Lotse: both hear of it as after an assignment in chat."""
    desk = Desk.of(request)
    services = desk.services
    found = await _request_or_404(desk)
    chosen = (await desk.form()).get("lotse", "")
    number = whole(chosen)
    lotse = await services.lotsen.by_person_id(number) if number is not None else None
    if lotse is None or not await services.requests.assign(found.id, lotse):
        raise desk.redirect(f"/requests/{found.id}?done=refused")
    await desk.record("request.assign", lotse.person_id, found.id)
    raise desk.redirect(f"/requests/{found.id}?done=assigned")


@routes.post(r"/requests/{id:\d+}/cancel", name="requests_cancel")
async def cancel(request: web.Request) -> web.StreamResponse:
    """Cancel a request that waits or runs; the person and its Lotse are told."""
    desk = Desk.of(request)
    found = await _request_or_404(desk)
    if not await desk.services.requests.cancel_by_office(found):
        raise desk.redirect(f"/requests/{found.id}?done=refused")
    await desk.record("request.cancel", found.person_id, found.id)
    raise desk.redirect(f"/requests/{found.id}?done=cancelled")


@routes.post(r"/requests/{id:\d+}/reopen", name="requests_reopen")
async def reopen(request: web.Request) -> web.StreamResponse:
    """Open a cancelled or expired request again: the person is told, Lotsen are asked."""
    desk = Desk.of(request)
    found = await _request_or_404(desk)
    if not await desk.services.requests.reopen(found):
        raise desk.redirect(f"/requests/{found.id}?done=refused")
    await desk.record("request.reopen", found.person_id, found.id)
    raise desk.redirect(f"/requests/{found.id}?done=reopened")
