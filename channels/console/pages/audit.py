"""The audit log at the desk: who did what, when, through which way — a table with filters
(since a day, by one coordinator, one action or family of actions). Never the content."""

from __future__ import annotations

import datetime as dt

from aiohttp import web

from channels.console.desk import Desk, whole

__all__ = ["routes"]

routes = web.RouteTableDef()

#: The most rows the page shows (the newest).
SHOWN = 500


@routes.get("/audit", name="audit")
async def audit(request: web.Request) -> web.StreamResponse:
    """The newest entries matching the filters, newest first."""
    desk = Desk.of(request)
    services = desk.services
    query = request.query
    tz = services.city.timezone
    try:
        day = dt.date.fromisoformat(query["since"]) if query.get("since") else None
    except ValueError:
        day = None
    who = whole(query.get("who", ""))
    actors, actions = await services.audit.choices()
    families = sorted({a.split(".", 1)[0] for a in actions if "." in a})
    offered = sorted({*families, *actions})
    what = query.get("what") if query.get("what") in offered else None
    since = dt.datetime.combine(day, dt.time(0), tz) if day else None
    entries = await services.audit.search(since, who, what, SHOWN)
    names = {actor: _named(actor, name) for actor, name in actors}
    return desk.render(
        "audit.html",
        entries=entries,
        names=names,
        named=_named,
        actors=actors,
        offered=offered,
        since=day.isoformat() if day else "",
        who=who,
        what=what or "",
        shown=SHOWN,
    )


def _named(actor: int, name: str | None) -> str:
    """A coordinator as the log shows them: the name they went by, and their number."""
    return f"{name} #{actor}" if name else f"#{actor}"
