"""/stats for coordinators: the chart, the summary, and anonymous exports as documents."""

from __future__ import annotations

import asyncio
import io

from telegram import Update

from bot.services.stats import EXPORTS, FORMATS
from handlers import stats_views as sv
from handlers import views
from handlers.actions import parse
from handlers.context import LotsenContext, Speaker, acknowledge
from handlers.coordination import coordinator_only

__all__ = ["on_stats_button", "send_export", "show_stats"]


async def show_stats(update: Update, context: LotsenContext) -> None:
    """/stats: the last six months as a chart image with a short summary."""
    who = await coordinator_only(update, context)
    if who is None or update.effective_chat is None:
        return
    figures = await context.services.stats.figures()
    # Drawing takes a moment of CPU: other people's updates go on meanwhile.
    png = await asyncio.to_thread(sv.chart, who.t, figures)
    screen = sv.summary(who.t, figures)
    await update.effective_chat.send_photo(
        io.BytesIO(png), caption=screen.text, reply_markup=screen.buttons
    )


async def on_stats_button(update: Update, context: LotsenContext) -> None:
    """``st:<export>:<format>``: an export as a document; coordinators only."""
    query = update.callback_query
    assert query is not None
    who = await coordinator_only(update, context)
    if who is None:
        return
    parts = parse(query.data, "st", EXPORTS, FORMATS)
    if parts is None:
        await acknowledge(query, views.button_expired(who.t), alert=True)
        return
    await acknowledge(query)
    await send_export(update, context, who, parts[1], parts[2])


async def send_export(
    update: Update, context: LotsenContext, who: Speaker, kind: str, fmt: str
) -> None:
    """Send an anonymous export (requests, hours or the waiting list) as a document."""
    if update.effective_chat is None:
        return
    export = await context.services.stats.export(kind, fmt)
    caption = who.t.ngettext(
        "{n} row, anonymous: no names, no texts, no Telegram ids.",
        "{n} rows, anonymous: no names, no texts, no Telegram ids.",
        export.rows,
    )
    await update.effective_chat.send_document(
        io.BytesIO(export.content), filename=export.filename, caption=caption
    )
