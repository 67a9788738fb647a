"""Coordinators: invitations, approvals, the overview of waiting requests, manual assignment.

Only coordinators get here: the router lets no one else through.
"""

from __future__ import annotations

import logging

from bot.domain.lotsen import Lotse
from bot.domain.requests import OPEN_STATES
from bot.i18n import texts
from bot.services import Services
from handlers import coordination_views, lotse_views, views
from handlers.context import Speaker, Turn, speaker
from handlers.dialogs import small_number
from handlers.port import Blocked, DeliveryError, Screen, Switchboard

__all__ = ["decide_application", "on_coordinator_button", "show_invites", "show_overview"]

log = logging.getLogger(__name__)


async def show_invites(turn: Turn) -> None:
    """/invite [N]: one-time invitation links for new Lotsen."""
    who = await speaker(turn)
    asked = small_number(turn.input.args[0]) if turn.input.args else None
    understood = asked is not None and 1 <= asked <= 50
    count = asked if asked is not None and understood else 1
    typed = " ".join(turn.input.args)[:20] if turn.input.args and not understood else None
    codes = await turn.services.lotsen.create_invites(count)
    links = [turn.messenger.invitation(code) for code in codes]
    await turn.send(coordination_views.invites(who.t, links, typed))


async def show_overview(turn: Turn) -> None:
    """/requests: open, stuck and expired requests."""
    who = await speaker(turn)
    await turn.send(coordination_views.overview(who.t, await turn.services.requests.waiting()))


async def _pick(turn: Turn, who: Speaker, number: int) -> None:
    """``coord:pick:<request>``: the Lotsen a waiting request can be assigned to."""
    services = turn.services
    request = await services.requests.get(number)
    if request is None or request.status not in OPEN_STATES:
        await turn.notice(views.button_expired(who.t), alert=True)
        return
    await turn.notice()
    lotsen = await services.lotsen.for_assignment(request)
    head = coordination_views.pick_head(who.t, request)
    now = services.clock.now()
    await turn.send(coordination_views.assignment(who.t, services.city, request, lotsen, now, head))


async def decide_application(
    services: Services, switchboard: Switchboard, lotse: Lotse, approve: bool
) -> bool:
    """Approve or reject an application to become a Lotse (from the chat or the console)
    and tell the applicant on their messenger; False if it was decided already. The caller
    records it in the audit log."""
    if not await services.lotsen.decide(lotse.person_id, approve):
        return False
    t = texts(lotse.language, services.city.timezone)
    message = (
        lotse_views.welcome_lotse(t) if approve else coordination_views.rejected(t, services.city)
    )
    try:
        await switchboard.send(lotse.contact, Screen(message))
    except DeliveryError as exc:
        log.info("the answer to an application not delivered: %s", type(exc).__name__)
        if isinstance(exc, Blocked):
            await services.people.unreachable(lotse.contact)
    return True


async def on_coordinator_button(turn: Turn) -> None:
    """``coord:approve|reject:<person>``, ``coord:pick:<request>``,
    ``coord:assign:<request>:<person>``."""
    who = await speaker(turn)
    action = coordination_views.COORD.read(turn.input.action)
    services = turn.services
    if action is not None and action[0] == "pick":
        await _pick(turn, who, int(action[1][0]))
        return
    if action is not None and action[0] == "links":
        await turn.notice()
        codes = await services.lotsen.open_invites()
        links = [turn.messenger.invitation(code) for code in codes]
        await turn.send(coordination_views.open_invites(who.t, links))
        return
    lotse = await services.lotsen.by_person_id(int(action[1][-1])) if action else None
    if action is None or lotse is None:
        await turn.notice(views.button_expired(who.t), alert=True)
        return
    what, values = action
    if what in ("approve", "reject"):
        approve = what == "approve"
        if not await decide_application(services, turn.switchboard, lotse, approve):
            await turn.notice(views.button_expired(who.t), alert=True)
            return
        await services.audit.record(who.person_id, f"lotse.{what}", lotse.person_id)
        await turn.notice()
        await turn.replace(coordination_views.application_decided(who.t, lotse.first_name, approve))
        return
    request = await services.requests.get(int(values[0]))
    if request is None or not await services.requests.assign(request.id, lotse):
        await turn.notice(views.button_expired(who.t), alert=True)
        return
    await services.audit.record(who.person_id, "request.assign", lotse.person_id, request.id)
    await turn.notice()
    await turn.replace(coordination_views.assigned(who.t, request, lotse.first_name))
