"""The training waiting list at the desk: who is waiting, the trainings and their answers,
a training announced or changed.

The lists are the chat's (:mod:`handlers.waitlist_views`), all at once instead of ten at a
time; a training goes through the same checks as the chat's dialog
(:meth:`bot.services.waitlist.WaitlistService.announce_at_once`).
"""

from __future__ import annotations

import datetime as dt

from aiohttp import web
from markupsafe import Markup

from bot.domain.mailings import Audience
from bot.domain.waitlist import Training
from channels.console.desk import Desk
from handlers import waitlist_views as wv

__all__ = ["routes"]

routes = web.RouteTableDef()


async def _page(desk: Desk, problem: str | None = None, status: int = 200) -> web.Response:
    services = desk.services
    waitlist = services.waitlist
    t = desk.t
    entries = await waitlist.waiting()
    trainings = []
    for training in await waitlist.upcoming():
        summary = wv.training_summary(
            t, training, await waitlist.counts(training), await waitlist.answered(training)
        )
        trainings.append((training, Markup(summary), waitlist.changeable(training)))
    recipients = await services.mailings.count(Audience("training_called"))
    tz = services.city.timezone
    today = services.clock.now().astimezone(tz).date()
    return desk.render(
        "waitlist.html",
        status,
        notice=Markup(wv.announced(t)) if desk.request.query.get("done") == "announced" else None,
        problem=problem,
        heading=Markup(
            t.ngettext(
                "<b>Waiting list</b>: {n} person", "<b>Waiting list</b>: {n} people", len(entries)
            )
        ),
        entries=[Markup(wv.entry_line(t, n, e)) for n, e in enumerate(entries, start=1)],
        trainings=trainings,
        told=Markup(
            t.ngettext(
                "It goes to {n} person on the waiting list.",
                "It goes to {n} people on the waiting list.",
                recipients,
            )
        ),
        place=services.city.training.place,
        capacity=services.city.training.capacity,
        tomorrow=(today + dt.timedelta(days=1)).isoformat(),
        today=today.isoformat(),
        day_of=lambda tr: tr.starts_at.astimezone(tz).date().isoformat(),
        time_of=lambda tr: tr.starts_at.astimezone(tz).strftime("%H:%M"),
        by_of=lambda tr: tr.confirm_by.astimezone(tz).date().isoformat(),
        downloads=[
            (choice.action.rsplit(":", 1)[1], choice.label)
            for choice in wv.overview(t, 0, [], []).choices[-1]
        ],
        change_label=lambda tr: t.gettext(
            "✏️ Change the training of {day}",
            day=t.short_day(tr.starts_at.astimezone(tz).date()),
        ),
    )


@routes.get("/waitlist", name="waitlist")
async def waitlist(request: web.Request) -> web.StreamResponse:
    """Everyone waiting, in order; the coming trainings with their answers."""
    return await _page(Desk.of(request))


async def _announce(desk: Desk, replaces: Training | None) -> web.StreamResponse:
    form = await desk.form()
    training = None
    try:
        day = dt.date.fromisoformat(form.get("day", ""))
        at = dt.time.fromisoformat(form.get("time", ""))
        by = dt.date.fromisoformat(form.get("confirm_by", ""))
        capacity = int(form.get("capacity", ""))
    except ValueError:
        pass
    else:
        training = await desk.services.waitlist.announce_at_once(
            desk.person, day, at, form.get("place", ""), capacity, by, replaces
        )
    if training is None:
        return await _page(desk, wv.not_saved(desk.t), 400)
    await desk.record("training.change" if replaces else "training.announce")
    raise desk.redirect("/waitlist?done=announced")


@routes.post("/waitlist/trainings", name="waitlist_announce")
async def announce(request: web.Request) -> web.StreamResponse:
    """Announce a training to everyone waiting."""
    return await _announce(Desk.of(request), None)


@routes.post("/waitlist/trainings/{id:\\d+}", name="waitlist_change")
async def change(request: web.Request) -> web.StreamResponse:
    """Change a training; those who were told and did not say no hear of it."""
    desk = Desk.of(request)
    training = await desk.services.waitlist.training(int(request.match_info["id"]))
    if training is None or not desk.services.waitlist.changeable(training):
        raise web.HTTPNotFound()
    return await _announce(desk, training)
