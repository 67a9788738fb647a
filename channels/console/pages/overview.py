"""The overview: what waits for the office today (numbers, dates and Lotsen's first names;
no refugee's details)."""

from __future__ import annotations

from aiohttp import web

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
