"""The answers to "is this case still running?": from the case's Lotse or a coordinator."""

from __future__ import annotations

from bot.domain.requests import Request, Status
from handlers import retention_views, views
from handlers.context import Speaker, Turn, speaker

__all__ = ["on_idle_button"]


async def on_idle_button(turn: Turn) -> None:
    """``idle:keep:<id>`` (*still running*) and ``idle:close:<id>`` (*close now*); anything
    else is refused."""
    who = await speaker(turn)
    services = turn.services
    chosen = retention_views.IDLE.read(turn.input.action)
    request = await services.requests.get(int(chosen[1][0])) if chosen else None
    if chosen is None or request is None or not await _may_answer(turn, who, request):
        await turn.notice(views.button_expired(who.t), alert=True)
        return
    if chosen[0] == "keep":
        done = await services.retention.still_running(request)
        text = retention_views.kept(who.t, request)
    else:
        by = who.person.id if who.person is not None else 0
        done = await services.retention.close_now(request, by)
        text = retention_views.closed(who.t, request)
    if not done:  # closed, handed back or erased meanwhile
        await turn.notice(views.button_expired(who.t), alert=True)
        return
    await turn.notice()
    await turn.replace(text)


async def _may_answer(turn: Turn, who: Speaker, request: Request) -> bool:
    """The case's own Lotse, or a coordinator; and only while the case runs."""
    if request.status is not Status.ACCEPTED:
        return False
    if who.person is not None and who.consented and request.lotse_id == who.person.id:
        return True
    return await turn.services.people.is_coordinator(who.contact)
