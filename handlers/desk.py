"""The coordinators' entry points in the menu: each opens what its command opens.

Only coordinators get here: the router lets no one else through.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from handlers import broadcasts, coordination, events, office, roster, stats, views, waitlist
from handlers.context import Turn, speaker

__all__ = ["on_desk_button"]

#: Each entry (``desk:<name>``, see :data:`handlers.views.DESK`) and what opens it.
_OPENS: dict[str, Callable[[Turn], Awaitable[None]]] = {
    "requests": coordination.show_overview,
    "invite": coordination.show_invites,
    "broadcast": broadcasts.show_broadcasts,
    "dates": events.show_stammtisch,
    "waitlist": waitlist.show_waitlist,
    "stats": stats.show_stats,
    "lotsen": roster.show_roster,
    "expenses": office.show_expenses,
}
assert set(_OPENS) == set(views.DESK_ENTRIES)


async def on_desk_button(turn: Turn) -> None:
    """``desk:<entry>``: the screen of that entry's command."""
    chosen = views.DESK.read(turn.input.action)
    if chosen is None:
        who = await speaker(turn)
        await turn.notice(views.button_expired(who.t), alert=True)
        return
    await turn.notice()
    await _OPENS[chosen[0]](turn)
