"""Figures at the desk: the charts and the summary of ``/stats`` for a chosen period, and
the anonymous exports as downloads (recorded in the audit log as in chat)."""

from __future__ import annotations

import asyncio

from aiohttp import web
from markupsafe import Markup

from bot.markup import plain
from bot.services.stats import EXPORTS, FORMATS
from channels.console.desk import Desk, whole
from handlers import stats_views as sv

__all__ = ["MONTHS", "routes"]

routes = web.RouteTableDef()

#: The periods to choose from, in months; the chat's /stats shows six.
MONTHS = (1, 3, 6, 12, 24)
_CHAT = 6
_TYPES = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _months(request: web.Request) -> int:
    number = whole(request.query.get("months", ""))
    return number if number in MONTHS else _CHAT


@routes.get("/figures", name="figures")
async def figures(request: web.Request) -> web.StreamResponse:
    """The summary of the period, its chart, and the exports."""
    desk = Desk.of(request)
    t = desk.t
    months = _months(request)
    summary = sv.summary(t, await desk.services.stats.figures(months))
    downloads = []
    for choice in (choice for row in summary.choices for choice in row):
        offered = sv.EXPORTING.read(choice.action)
        if offered is not None:
            kind, (fmt,) = offered
            downloads.append((kind, fmt, choice.label))
    heading = summary.text.split("\n", 1)[0]
    return desk.render(
        "figures.html",
        months=months,
        periods=[(n, t.ngettext("{n} month", "{n} months", n)) for n in MONTHS],
        summary=Markup(summary.text),
        alt=plain(heading),
        downloads=downloads,
    )


@routes.get("/figures/chart.png", name="figures_chart")
async def chart(request: web.Request) -> web.StreamResponse:
    """The chart of the period, drawn as the chat's (a moment of CPU, off the loop)."""
    desk = Desk.of(request)
    numbers = await desk.services.stats.figures(_months(request))
    png = await asyncio.to_thread(sv.chart, desk.t, numbers)
    return web.Response(body=png, content_type="image/png")


@routes.post("/figures/export", name="figures_export")
async def export(request: web.Request) -> web.StreamResponse:
    """An anonymous export as a file (requests, hours or the waiting list; CSV or XLSX)."""
    desk = Desk.of(request)
    form = await desk.form()
    kind, fmt = form.get("kind", ""), form.get("format", "")
    if kind not in EXPORTS or fmt not in FORMATS:
        raise web.HTTPBadRequest()
    made = await desk.services.stats.export(kind, fmt)
    await desk.record(f"export.{kind}")
    return web.Response(
        body=made.content,
        content_type=_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{made.filename}"'},
    )
