"""The overview: what waits for the office today."""

from __future__ import annotations

from aiohttp import web

from bot.domain.requests import Status
from channels.console.desk import Desk

__all__ = ["routes"]

routes = web.RouteTableDef()


@routes.get("/", name="overview")
async def overview(request: web.Request) -> web.StreamResponse:
    """Requests waiting and stuck (numbers, topics and states only)."""
    desk = Desk.of(request)
    waiting = await desk.services.requests.waiting()
    return desk.render(
        "overview.html",
        waiting=[r for r in waiting if r.status is not Status.EXPIRED],
        stuck=[r for r in waiting if r.status is Status.EXPIRED],
    )
