"""What every multi-step dialog's buttons do alike: refuse stale presses, replay, go on."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from telegram import Update

from bot.domain.dialogs import Dialog
from handlers import views
from handlers.context import LotsenContext, Speaker, acknowledge, clear_buttons

__all__ = ["ShowStep", "in_hand", "next_step"]

#: Sends the screen of a dialog's current step.
ShowStep = Callable[[Update, LotsenContext, Speaker, Dialog], Awaitable[None]]


async def in_hand(
    update: Update, context: LotsenContext, who: Speaker, dialog: Dialog | None, show: ShowStep
) -> Dialog | None:
    """The dialog a button press may change, or None when the press is answered already.

    A press on a dialog that is gone is refused; a press handled before a restart only
    shows the current step again.
    """
    query = update.callback_query
    assert query is not None
    if dialog is None:
        await acknowledge(query, views.button_expired(who.t), alert=True)
        return None
    if dialog.replays(update.update_id):
        await acknowledge(query)
        await show(update, context, who, dialog)
        return None
    return dialog


async def next_step(
    update: Update, context: LotsenContext, who: Speaker, updated: Dialog | None, show: ShowStep
) -> None:
    """After a button answered a step: the next step, or a refusal if it did not fit."""
    query = update.callback_query
    assert query is not None
    if updated is None:
        await acknowledge(query, views.button_expired(who.t), alert=True)
        return
    await acknowledge(query)
    await clear_buttons(query)
    await show(update, context, who, updated)
