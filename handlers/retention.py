"""The answers to "is this case still running?": from the case's Lotse or a coordinator."""

from __future__ import annotations

from telegram import Update

from bot.domain.requests import Request, Status
from handlers import retention_views, views
from handlers.context import LotsenContext, Speaker, acknowledge, replace, speaker

__all__ = ["on_idle_button"]


async def on_idle_button(update: Update, context: LotsenContext) -> None:
    """``idle:keep:<id>`` (*still running*) and ``idle:close:<id>`` (*close now*)."""
    query = update.callback_query
    assert query is not None and query.data is not None
    who = await speaker(update, context)
    _, action, number = query.data.split(":")  # the pattern in handlers/app.py
    services = context.services
    request = await services.requests.get(int(number))
    if request is None or not await _may_answer(context, who, request):
        await acknowledge(query, views.button_expired(who.t), alert=True)
        return
    if action == "keep":
        done = await services.retention.still_running(request)
        text = retention_views.kept(who.t, request)
    else:
        by = who.person.id if who.person is not None else 0
        done = await services.retention.close_now(request, by)
        text = retention_views.closed(who.t, request)
    if not done:  # closed, handed back or erased meanwhile
        await acknowledge(query, views.button_expired(who.t), alert=True)
        return
    await acknowledge(query)
    await replace(query, text)


async def _may_answer(context: LotsenContext, who: Speaker, request: Request) -> bool:
    """The case's own Lotse, or a coordinator; and only while the case runs."""
    if request.status is not Status.ACCEPTED:
        return False
    if who.person is not None and who.consented and request.lotse_id == who.person.id:
        return True
    return bool(who.telegram_id) and await context.services.people.is_coordinator(who.telegram_id)
