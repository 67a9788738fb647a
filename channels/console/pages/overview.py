"""The overview: what waits for the office today (numbers, dates and Lotsen's first names;
no refugee's details)."""

from __future__ import annotations

from aiohttp import web

from bot.services.people import MAX_OFFICE_NAME
from channels.console.desk import Desk
from handlers.request_views import topic_label

__all__ = ["routes"]

routes = web.RouteTableDef()


@routes.get("/", name="overview")
async def overview(request: web.Request) -> web.StreamResponse:
    """Requests waiting and stuck, today's and tomorrow's appointments, concerns and office
    messages not answered, Führungszeugnisse running out, a broadcast being sent."""
    desk = Desk.of(request)
    services = desk.services
    return desk.render(
        "overview.html",
        overview=await services.console.overview(services.requests, services.mailings),
        topic=lambda key: topic_label(desk.t, key),
    )


@routes.get("/name", name="overview_name")
async def name_form(request: web.Request) -> web.StreamResponse:
    """The name the coordinator goes by in the office: the audit log records it with each
    of their actions."""
    desk = Desk.of(request)
    return desk.render("name.html", longest=MAX_OFFICE_NAME)


@routes.post("/name", name="overview_name_save")
async def name_save(request: web.Request) -> web.StreamResponse:
    """Store the name; the actions from now on are recorded under it."""
    desk = Desk.of(request)
    form = await desk.form()
    await desk.services.people.name_in_office(desk.person.id, form.get("name", ""))
    await desk.record("console.name")
    raise desk.redirect("/")
