"""/stats for coordinators: the chart, the summary, and anonymous exports as documents."""

from __future__ import annotations

import asyncio

from handlers import stats_views as sv
from handlers import views
from handlers.context import Speaker, Turn, speaker
from handlers.port import OutFile

__all__ = ["on_stats_button", "send_export", "show_stats"]


async def show_stats(turn: Turn) -> None:
    """/stats: the last six months as a chart image with a short summary."""
    who = await speaker(turn)
    figures = await turn.services.stats.figures()
    # Drawing takes a moment of CPU: other people's inputs go on meanwhile.
    png = await asyncio.to_thread(sv.chart, who.t, figures)
    await turn.send(sv.summary(who.t, figures), file=OutFile("stats.png", png, "photo"))


async def on_stats_button(turn: Turn) -> None:
    """``st:<export>:<format>``: an export as a document (the router admits coordinators
    only)."""
    who = await speaker(turn)
    action = sv.EXPORTING.read(turn.input.action)
    if action is None:
        await turn.notice(views.button_expired(who.t), alert=True)
        return
    await turn.notice()
    kind, (fmt,) = action
    await send_export(turn, who, kind, fmt)


async def send_export(turn: Turn, who: Speaker, kind: str, fmt: str) -> None:
    """Send an anonymous export (requests, hours or the waiting list) as a document."""
    export = await turn.services.stats.export(kind, fmt)
    await turn.services.audit.record(who.person_id, f"export.{kind}")
    caption = who.t.ngettext(
        "{n} row, anonymous: no names, no texts, no Telegram ids.",
        "{n} rows, anonymous: no names, no texts, no Telegram ids.",
        export.rows,
    )
    await turn.send(caption, file=OutFile(export.filename, export.content))
