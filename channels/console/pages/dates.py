"""Stammtisch and other dates at the desk: plan, announce, move, cancel, see the answers.

Each date's card is the chat's coordinator card (the answers and who gave them); the forms
call the same :class:`bot.services.events.EventService` the chat's buttons do.
"""

from __future__ import annotations

import datetime as dt

from aiohttp import web
from markupsafe import Markup

from bot.domain.events import Event, Pattern
from bot.domain.mailings import MailingKind
from channels.console.desk import Desk, whole
from handlers import event_views as ev

__all__ = ["routes"]

routes = web.RouteTableDef()

#: How many coming dates the page shows.
SHOWN = 20
#: What a redirect after a form may say (``?done=…``), as the chat says it.
_DONE = {
    "invited": lambda t, e: ev.saved_event(t, e, True) if e else "",
    "saved": lambda t, e: ev.saved_event(t, e, False) if e else "",
    "announced": lambda t, e: ev.announced(t),
    "moved": lambda t, e: ev.moved_done(t, e) if e else "",
    "cancelled": lambda t, e: ev.event_cancelled(t, e) if e else "",
    "stopped": lambda t, e: ev.rule_stopped(t),
    "repeating": lambda t, e: ev.saved_rule(t),
}


async def _event(desk: Desk, request: web.Request) -> Event:
    event = await desk.services.events.get(int(request.match_info["id"]))
    if event is None:
        raise web.HTTPNotFound()
    return event


async def _card(desk: Desk, event: Event) -> tuple[Event, Markup, bool]:
    services = desk.services
    announced = await services.mailings.find(MailingKind.EVENT, event.id, "announce") is not None
    counts, answered = await services.events.counts(event), await services.events.answered(event)
    card = ev.coordinator_card(desk.t, event, counts, announced, answered)
    return event, Markup(card.text), announced


def _day_and_time(form: dict[str, str]) -> tuple[dt.date, dt.time] | None:
    try:
        return dt.date.fromisoformat(form.get("day", "")), dt.time.fromisoformat(
            form.get("time", "")
        )
    except ValueError:
        return None


async def _page(desk: Desk, problem: str | None = None, status: int = 200) -> web.Response:
    services = desk.services
    city = services.city
    t = desk.t
    events = await services.events.upcoming(SHOWN)
    done, about = desk.request.query.get("done", ""), desk.request.query.get("event", "")
    notice = None
    if done in _DONE:
        number = whole(about)
        event = await services.events.get(number) if number is not None else None
        notice = Markup(_DONE[done](t, event)) or None
    today = services.clock.now().astimezone(city.timezone).date()
    return desk.render(
        "dates.html",
        status,
        notice=notice,
        problem=problem,
        cards=[await _card(desk, e) for e in events],
        rules=[(rule, Markup(ev.rule_line(t, rule))) for rule in await services.events.rules()],
        title=city.stammtisch.title,
        place=city.stammtisch.venue,
        time=city.stammtisch.time.strftime("%H:%M"),
        topics=city.stammtisch.topics,
        weeks=ev.pattern_choices(t),
        weekdays=[(i, t.weekday(i)) for i in range(7)],
        today=today.isoformat(),
        local_day=lambda e: e.local_day(t.timezone).isoformat(),
        local_time=lambda e: e.starts_at.astimezone(t.timezone).strftime("%H:%M"),
    )


@routes.get("/dates", name="dates")
async def dates(request: web.Request) -> web.StreamResponse:
    """The coming dates with their answers, the repeating rules, and a form for a new date."""
    return await _page(Desk.of(request))


@routes.post("/dates", name="dates_plan")
async def plan(request: web.Request) -> web.StreamResponse:
    """A new date, announced to all Lotsen at once or later by hand."""
    desk = Desk.of(request)
    form = await desk.form()
    when = _day_and_time(form)
    offered = desk.services.city.stammtisch.topics
    ticked = (await desk.request.post()).getall("topic", [])
    topics = tuple(topic for topic in offered if topic in ticked)
    announce = form.get("announce") == "now"
    title, place = form.get("title", "").strip(), form.get("place", "").strip()
    event = None
    if when is not None and title and place:
        event = await desk.services.events.plan(
            title, when[0], when[1], place, topics, announce=announce
        )
    if event is None:
        return await _page(desk, ev.not_saved(desk.t), 400)
    await desk.record("event.plan")
    raise desk.redirect(f"/dates?done={'invited' if announce else 'saved'}&event={event.id}")


@routes.post("/dates/rules", name="dates_rule_add")
async def add_rule(request: web.Request) -> web.StreamResponse:
    """A repeating date: its next dates are created and announced by themselves, as when
    planned in the chat."""
    desk = Desk.of(request)
    form = await desk.form()
    offered = desk.services.city.stammtisch.topics
    ticked = (await desk.request.post()).getall("topic", [])
    title, place = form.get("title", "").strip(), form.get("place", "").strip()
    rule = None
    try:
        nth, every_other = ev.week_of(form.get("week", ""))
        pattern = Pattern(int(form.get("weekday", "")), nth, every_other)
        at = dt.time.fromisoformat(form.get("time", ""))
    except ValueError:
        pattern = None
    if pattern is not None and title and place:
        topics = tuple(topic for topic in offered if topic in ticked)
        rule = await desk.services.events.add_rule(title, pattern, at, place, topics)
    if rule is None:
        return await _page(desk, ev.not_saved(desk.t), 400)
    await desk.record("event.rule_add")
    raise desk.redirect("/dates?done=repeating")


@routes.post("/dates/{id:\\d+}/announce", name="dates_announce")
async def announce(request: web.Request) -> web.StreamResponse:
    """Announce a date saved quietly."""
    desk = Desk.of(request)
    event = await _event(desk, request)
    if await desk.services.events.announce(event.id):
        await desk.record("event.announce")
    raise desk.redirect(f"/dates?done=announced&event={event.id}")


@routes.post("/dates/{id:\\d+}/move", name="dates_move")
async def move(request: web.Request) -> web.StreamResponse:
    """Move a date; everyone who was told hears of it."""
    desk = Desk.of(request)
    event = await _event(desk, request)
    when = _day_and_time(await desk.form())
    moved = None
    if when is not None and not event.cancelled:
        moved = await desk.services.events.move(event.id, when[0], when[1])
    if moved is None:
        return await _page(desk, ev.not_saved(desk.t), 400)
    await desk.record("event.move")
    raise desk.redirect(f"/dates?done=moved&event={event.id}")


@routes.get("/dates/{id:\\d+}/cancel", name="dates_cancel_ask")
async def cancel_question(request: web.Request) -> web.StreamResponse:
    """Are you sure?"""
    desk = Desk.of(request)
    event = await _event(desk, request)
    question = ev.cancel_question(desk.t, event)
    return desk.render("dates_cancel.html", event=event, question=Markup(question.text))


@routes.post("/dates/{id:\\d+}/cancel", name="dates_cancel")
async def cancel(request: web.Request) -> web.StreamResponse:
    """Cancel a date; everyone who was told hears of it."""
    desk = Desk.of(request)
    event = await _event(desk, request)
    if not await desk.services.events.cancel(event.id):
        raise desk.redirect("/dates")
    await desk.record("event.cancel")
    raise desk.redirect(f"/dates?done=cancelled&event={event.id}")


@routes.post("/dates/rules/{id:\\d+}/stop", name="dates_rule_stop")
async def stop_rule(request: web.Request) -> web.StreamResponse:
    """No more dates from a repeating rule (those announced stay)."""
    desk = Desk.of(request)
    if await desk.services.events.stop_rule(int(request.match_info["id"])):
        await desk.record("event.rule_stop")
        raise desk.redirect("/dates?done=stopped")
    raise desk.redirect("/dates")
