"""Lotsen: the roster (filtered and sorted), a card per Lotse with the programme's dates,
cases, hours and expenses; suspending, reinstating, retiring — the roster's services, as
``/lotsen`` in chat uses them, so the cases move the same way — and invitation links."""

from __future__ import annotations

import logging
from datetime import date, datetime
from math import inf

from aiohttp import web
from markupsafe import Markup

from bot.domain.lotsen import RECORDS, STATES, LotseStatus, RosterEntry
from bot.domain.office import ExpenseState
from bot.i18n import LANGUAGES, Texts, language_name
from bot.services.roster import MAX_REASON, Filter, RosterService
from channels.console.desk import Desk, whole
from channels.console.pages.requests import state_label as request_state
from handlers.coordination import decide_application
from handlers.office import decide_expense
from handlers.request_views import languages_label, topic_label
from handlers.roster_views import state_label

log = logging.getLogger(__name__)

__all__ = ["routes"]

routes = web.RouteTableDef()

#: How the roster can be sorted, each with its key (ties by name).
SORTS = ("name", "load", "hours", "seen")
#: What a form did, shown after its redirect (``?done=``).
_DONE = (
    "suspended",
    "reinstated",
    "retired",
    "records",
    "approved",
    "rejected",
    "refused",
    "invalid",
)
#: The most invitation links made at once (as ``/invite`` in chat).
MAX_INVITES = 50


def _roster(desk: Desk) -> RosterService:
    """The roster's service recording in the audit log through the console."""
    roster = desk.services.roster
    return RosterService(
        roster.repo,
        roster.timers,
        desk.services.console.audit,
        roster.requests,
        roster.notify,
        roster.city,
        roster.clock,
    )


def _sorted(entries: list[RosterEntry], by: str) -> list[RosterEntry]:
    def name(entry: RosterEntry) -> str:
        return entry.lotse.first_name.casefold()

    ordered = sorted(entries, key=name)
    if by == "load":
        return sorted(ordered, key=lambda e: -e.lotse.open_cases)
    if by == "hours":
        return sorted(ordered, key=lambda e: -e.hours_this_year)
    if by == "seen":  # the latest first, those never seen last
        return sorted(
            ordered, key=lambda e: -e.lotse.seen_at.timestamp() if e.lotse.seen_at else inf
        )
    return ordered


def _day(t: Texts, value: date | datetime | None) -> str:
    if value is None:
        return "–"
    if isinstance(value, datetime):
        return t.date(value, "medium")
    return t.day(value, "medium")


@routes.get("/lotsen", name="lotsen")
async def roster(request: web.Request) -> web.StreamResponse:
    """Every Lotse and applicant, narrowed by language, Stadtteil and state, sorted."""
    desk = Desk.of(request)
    t, city = desk.t, desk.services.city
    query = request.query
    language = query.get("language", "")
    language = language if language in LANGUAGES else ""
    district = query.get("district", "")
    district = district if district in city.districts else ""
    state = query.get("state", "")
    state = state if state in STATES else ""
    by = query.get("sort", "name")
    by = by if by in SORTS else "name"
    chosen = Filter(language or None, district or None, state or None)
    roster = desk.services.roster
    entries = _sorted(await roster.entries(chosen), by)
    base = {"language": language, "district": district, "state": state}
    return desk.render(
        "lotsen.html",
        chosen={**base, "sort": by},
        rows=[
            {
                "entry": e,
                "state": state_label(t, roster.state(e.lotse)),
                "languages": Markup(languages_label(t, e.lotse.languages)),
                "districts": Markup(t.join(sorted(e.lotse.districts))) or t.gettext("all"),
                "hours": t.number(e.hours_this_year),
                "seen": _day(t, e.lotse.seen_at),
            }
            for e in entries
        ],
        sorts=[
            (key, "?" + "&".join(f"{k}={v}" for k, v in {**base, "sort": key}.items() if v))
            for key in SORTS
        ],
        languages=[(code, language_name(code)) for code in LANGUAGES],
        districts=list(city.districts),
        states=[(code, state_label(t, code)) for code in STATES],
    )


async def _lotse_id(desk: Desk) -> int:
    number = int(desk.request.match_info["id"])
    if await desk.services.lotsen.by_person_id(number) is None:
        raise web.HTTPNotFound()
    return number


@routes.get(r"/lotsen/{id:\d+}", name="lotsen_card")
async def card(request: web.Request) -> web.StreamResponse:
    """One Lotse's card: the profile, the programme's dates (editable), the cases, this
    year's hours, the expenses (open ones to decide), and what the office can do."""
    desk = Desk.of(request)
    services, t = desk.services, desk.t
    roster = _roster(desk)
    entry = await roster.card(await _lotse_id(desk), desk.person.id)
    if entry is None:  # an applicant who was rejected
        raise web.HTTPNotFound()
    lotse = entry.lotse
    cases = await services.requests.of_lotse(lotse)
    expenses = await services.office.expenses_of(lotse)
    done = request.query.get("done", "")
    everywhere = t.gettext("all")
    return desk.render(
        "lotse.html",
        lotse=lotse,
        entry=entry,
        state=state_label(t, roster.state(lotse)),
        languages=Markup(languages_label(t, lotse.languages)),
        districts=Markup(t.join(sorted(lotse.districts))) or everywhere,
        topics=Markup(t.join(topic_label(t, k) for k in services.city.topics if k in lotse.topics))
        or everywhere,
        hours=t.number(entry.hours_this_year),
        seen=_day(t, lotse.seen_at),
        joined=_day(t, lotse.joined_at),
        stopped=_day(t, lotse.stopped_at) if lotse.stopped_at else None,
        records=[(name, _record_label(t, name), getattr(lotse.records, name)) for name in RECORDS],
        cases=[
            {
                "request": case,
                "topic": topic_label(t, case.topic),
                "state": request_state(t, case.status),
                "accepted": _day(t, case.accepted_at),
                "hours": t.number(case.hours) if case.hours is not None else "–",
            }
            for case in cases
        ],
        expenses=[
            {"expense": e, "amount": t.euros(e.cents), "state": _expense_state(t, e.state)}
            for e in expenses
        ],
        pending=lotse.status is LotseStatus.PENDING,
        active=lotse.status is LotseStatus.ACTIVE,
        suspended=lotse.status is LotseStatus.SUSPENDED,
        max_reason=MAX_REASON,
        done=done if done in _DONE else "",
    )


def _record_label(t: Texts, name: str) -> str:
    labels = {
        "certified_on": t.gettext("Certified on"),
        "pledge_on": t.gettext("Pledge signed on"),
        "check_seen_on": t.gettext("Führungszeugnis seen on"),
        "check_valid_until": t.gettext("Führungszeugnis valid until"),
    }
    return labels[name]


def _expense_state(t: Texts, state: ExpenseState) -> str:
    labels = {
        ExpenseState.OPEN: t.gettext("open"),
        ExpenseState.APPROVED: t.gettext("approved"),
        ExpenseState.REJECTED: t.gettext("rejected"),
    }
    return labels[state]


@routes.post(r"/lotsen/{id:\d+}/decide", name="lotsen_decide")
async def decide(request: web.Request) -> web.StreamResponse:
    """Approve or reject an application (``decision``): the applicant hears of it as when
    decided in chat."""
    desk = Desk.of(request)
    number = await _lotse_id(desk)
    decision = (await desk.form()).get("decision", "")
    lotse = await desk.services.lotsen.by_person_id(number)
    if decision not in ("approve", "reject") or lotse is None:
        raise desk.redirect(f"/lotsen/{number}?done=invalid")
    approve = decision == "approve"
    if not await decide_application(desk.services, desk.switchboard, lotse, approve):
        raise desk.redirect(f"/lotsen/{number}?done=refused")
    await desk.record(f"lotse.{decision}", number)
    if not approve:  # a rejected applicant has no card
        raise desk.redirect("/lotsen")
    raise desk.redirect(f"/lotsen/{number}?done=approved")


@routes.post(r"/lotsen/{id:\d+}/records", name="lotsen_records")
async def records(request: web.Request) -> web.StreamResponse:
    """The programme's dates: each one changed is set (an empty field clears it)."""
    desk = Desk.of(request)
    number = await _lotse_id(desk)
    form = await desk.form()
    lotse = await desk.services.lotsen.by_person_id(number)
    assert lotse is not None
    wanted: dict[str, date | None] = {}
    for name in RECORDS:
        typed = form.get(name, "").strip()
        try:
            wanted[name] = date.fromisoformat(typed) if typed else None
        except ValueError:
            raise desk.redirect(f"/lotsen/{number}?done=invalid") from None
    roster = _roster(desk)
    for name, day in wanted.items():
        if getattr(lotse.records, name) != day:
            await roster.set_record(number, name, day, desk.person.id)
    raise desk.redirect(f"/lotsen/{number}?done=records")


@routes.post(r"/lotsen/{id:\d+}/suspend", name="lotsen_suspend")
async def suspend(request: web.Request) -> web.StreamResponse:
    """Suspend at once, with the office's reason: offers withdrawn, cases offered to others,
    the Lotse told — as from the card in chat."""
    desk = Desk.of(request)
    number = await _lotse_id(desk)
    reason = " ".join((await desk.form()).get("reason", "").split())
    if not reason:
        raise desk.redirect(f"/lotsen/{number}?done=invalid")
    done = await _roster(desk).suspend(number, reason, desk.person.id)
    raise desk.redirect(f"/lotsen/{number}?done={'suspended' if done else 'refused'}")


@routes.post(r"/lotsen/{id:\d+}/reinstate", name="lotsen_reinstate")
async def reinstate(request: web.Request) -> web.StreamResponse:
    """Undo a suspension (the cases stay where they went); the Lotse is told."""
    desk = Desk.of(request)
    number = await _lotse_id(desk)
    done = await _roster(desk).reinstate(number, desk.person.id)
    raise desk.redirect(f"/lotsen/{number}?done={'reinstated' if done else 'refused'}")


@routes.post(r"/lotsen/{id:\d+}/retire", name="lotsen_retire")
async def retire(request: web.Request) -> web.StreamResponse:
    """End the role for good (the box *for good* must be ticked)."""
    desk = Desk.of(request)
    number = await _lotse_id(desk)
    if (await desk.form()).get("sure") != "yes":
        raise desk.redirect(f"/lotsen/{number}?done=invalid")
    done = await _roster(desk).retire(number, desk.person.id)
    raise desk.redirect(f"/lotsen/{number}?done={'retired' if done else 'refused'}")


#: Pictures shown in the browser, by their first bytes; anything else is a download.
_PICTURES = ((b"\xff\xd8\xff", "image/jpeg", "jpg"), (b"\x89PNG", "image/png", "png"))


def _served_as(data: bytes) -> tuple[str, str, str]:
    """The content type, disposition and file ending of a receipt's bytes."""
    for magic, mime, ending in _PICTURES:
        if data.startswith(magic):
            return mime, "inline", ending
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp", "inline", "webp"
    if data.startswith(b"%PDF"):
        return "application/pdf", "attachment", "pdf"
    return "application/octet-stream", "attachment", "bin"


@routes.get(r"/lotsen/expenses/{id:\d+}/receipt", name="lotsen_receipt")
async def receipt(request: web.Request) -> web.StreamResponse:
    """The receipt of an expense as the Lotse sent it, fetched from their messenger when
    asked (the bot keeps only the messenger's reference, never the file)."""
    desk = Desk.of(request)
    found = await desk.services.office.expense(int(request.match_info["id"]))
    messengers = desk.switchboard.messengers
    if found is None or not found.receipt_ref or found.receipt_channel not in messengers:
        raise web.HTTPNotFound()
    try:
        data = await messengers[found.receipt_channel].fetch(found.receipt_ref)
    except Exception as exc:  # gone from the messenger, or it cannot be reached just now
        log.info("a receipt could not be fetched: %s", type(exc).__name__)
        return desk.render("error.html", 502, problem="receipt", code=502)
    await desk.record("expense.receipt", found.lotse_id, found.request_id)
    mime, disposition, ending = _served_as(data)
    return web.Response(
        body=data,
        content_type=mime,
        headers={"Content-Disposition": f'{disposition}; filename="receipt-{found.id}.{ending}"'},
    )


@routes.post(r"/lotsen/expenses/{id:\d+}", name="lotsen_expense")
async def expense(request: web.Request) -> web.StreamResponse:
    """Approve or reject an open expense; the Lotse hears of it as from ``/expenses``."""
    desk = Desk.of(request)
    services = desk.services
    found = await services.office.expense(int(request.match_info["id"]))
    if found is None:
        raise web.HTTPNotFound()
    decision = (await desk.form()).get("decision", "")
    if decision not in ("approve", "reject"):
        raise desk.redirect(f"/lotsen/{found.lotse_id}?done=invalid")
    approved = decision == "approve"
    outcome = await decide_expense(services, desk.switchboard, found, approved, desk.person)
    if outcome is None:
        raise desk.redirect(f"/lotsen/{found.lotse_id}?done=refused")
    await desk.record(f"expense.{decision}", found.lotse_id, found.request_id)
    said = "approved" if approved else "rejected"
    raise desk.redirect(f"/lotsen/{found.lotse_id}?done={said}")


def _links(desk: Desk, codes: list[str]) -> list[list[str]]:
    """Each code's link on every running messenger."""
    messengers = desk.switchboard.messengers.values()
    return [[messenger.invitation(code) for messenger in messengers] for code in codes]


@routes.get("/lotsen/invitations", name="lotsen_invitations")
async def invitations(request: web.Request) -> web.StreamResponse:
    """The invitation links nobody has used yet, and a form for new ones (above them the
    ones just made, after the form)."""
    desk = Desk.of(request)
    made = desk.console.made.pop(desk.csrf, [])
    codes = await desk.services.lotsen.open_invites()
    return desk.render(
        "invitations.html", links=_links(desk, codes), made=_links(desk, made), most=MAX_INVITES
    )


@routes.post("/lotsen/invitations", name="lotsen_invite")
async def invite(request: web.Request) -> web.StreamResponse:
    """New one-time invitation links (1 to 50), shown once made; each works once."""
    desk = Desk.of(request)
    count = whole((await desk.form()).get("count", "1").strip())
    if count is None or not 1 <= count <= MAX_INVITES:
        raise web.HTTPBadRequest()
    codes = await desk.services.lotsen.create_invites(count)
    await desk.record("invite.create")
    desk.console.made[desk.csrf] = codes
    raise desk.redirect("/lotsen/invitations")
