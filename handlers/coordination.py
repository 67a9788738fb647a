"""Coordinators: invitations, approvals, the overview of waiting requests, manual assignment."""

from __future__ import annotations

from telegram import Update

from bot.i18n import texts
from handlers import request_views as rv
from handlers import views
from handlers.actions import NUMBER, parse_action
from handlers.context import LotsenContext, Speaker, acknowledge, replace, send, speaker

__all__ = ["coordinator_only", "on_coordinator_button", "show_invites", "show_overview"]


async def coordinator_only(update: Update, context: LotsenContext) -> Speaker | None:
    """The speaker if they coordinate; everyone else is refused, and nothing changes."""
    who = await speaker(update, context)
    if who.telegram_id and await context.services.people.is_coordinator(who.telegram_id):
        return who
    if update.callback_query is not None:
        await acknowledge(update.callback_query, rv.not_allowed(who.t), alert=True)
    else:
        await send(update, rv.not_allowed(who.t))
    return None


async def show_invites(update: Update, context: LotsenContext) -> None:
    """/invite [N]: one-time invitation links for new Lotsen."""
    who = await coordinator_only(update, context)
    if who is None:
        return
    args = context.args or []
    count = int(args[0]) if args and args[0].isdigit() and 1 <= int(args[0]) <= 50 else 1
    codes = await context.services.lotsen.create_invites(count)
    await send(update, rv.invites(who.t, codes, context.bot.username))


async def show_overview(update: Update, context: LotsenContext) -> None:
    """/requests: open, stuck and expired requests."""
    who = await coordinator_only(update, context)
    if who is None:
        return
    await send(update, rv.overview(who.t, await context.services.requests.waiting()))


async def on_coordinator_button(update: Update, context: LotsenContext) -> None:
    """``coord:approve|reject:<person>``, ``coord:assign:<request>:<person>``."""
    query = update.callback_query
    assert query is not None
    who = await coordinator_only(update, context)
    if who is None:
        return
    action = parse_action(
        query.data,
        "coord",
        {"approve": (NUMBER,), "reject": (NUMBER,), "assign": (NUMBER, NUMBER)},
    )
    services = context.services
    lotse = await services.lotsen.by_person_id(int(action[1][-1])) if action else None
    if action is None or lotse is None:
        await acknowledge(query, views.button_expired(who.t), alert=True)
        return
    what, values = action
    if what in ("approve", "reject"):
        approve = what == "approve"
        if not await services.lotsen.decide(lotse.person_id, approve):
            await acknowledge(query, views.button_expired(who.t), alert=True)
            return
        await acknowledge(query)
        await replace(query, rv.application_decided(who.t, lotse.first_name, approve))
        t = texts(lotse.language, services.city.timezone)
        message = rv.welcome_lotse(t) if approve else rv.rejected(t, services.city)
        await context.bot.send_message(lotse.telegram_id, message)
        return
    request = await services.requests.get(int(values[0]))
    if request is None or not await services.requests.assign(request.id, lotse):
        await acknowledge(query, views.button_expired(who.t), alert=True)
        return
    await acknowledge(query)
    await replace(query, rv.assigned(who.t, request, lotse.first_name))
