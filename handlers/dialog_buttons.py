"""What every multi-step dialog does alike: refuse stale presses, replay after a restart,
read typed dates and times, go on to the next step."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Awaitable, Callable

from bot.domain.dialogs import Dialog
from handlers import views
from handlers.context import Speaker, Turn

__all__ = [
    "ShowStep",
    "in_hand",
    "next_step",
    "small_number",
    "take_typed",
    "typed_day",
    "typed_time",
]

#: Sends the screen of a dialog's current step.
ShowStep = Callable[[Turn, Speaker, Dialog], Awaitable[None]]


async def in_hand(turn: Turn, who: Speaker, dialog: Dialog | None, show: ShowStep) -> Dialog | None:
    """The dialog a press may change, or None when the press is answered already.

    A press on a dialog that is gone is refused; a press handled before a restart only
    shows the current step again.
    """
    if dialog is None:
        await turn.notice(views.button_expired(who.t), alert=True)
        return None
    if dialog.replays(turn.input.key):
        await turn.notice()
        await show(turn, who, dialog)
        return None
    return dialog


async def next_step(turn: Turn, who: Speaker, updated: Dialog | None, show: ShowStep) -> None:
    """After a choice answered a step: the next step, or a refusal if it did not fit."""
    if updated is None:
        await turn.notice(views.button_expired(who.t), alert=True)
        return
    await turn.notice()
    await turn.clear_choices()
    await show(turn, who, updated)


_DATE = re.compile(r"^\s*(\d{1,2})\.(\d{1,2})\.(\d{4})\s*$")
_TIME = re.compile(r"^\s*(\d{1,2})[:.](\d{2})\s*(?:uhr|h)?\s*$", re.IGNORECASE)


def small_number(text: str) -> int | None:
    """A whole number of up to six ASCII digits (button data and typed counts); else None."""
    return int(text) if re.fullmatch(r"[0-9]{1,6}", text) else None


def typed_day(text: str) -> dt.date | None:
    """A typed date such as ``14.3.2027``."""
    match = _DATE.match(text)
    if match is None:
        return None
    try:
        return dt.date(int(match[3]), int(match[2]), int(match[1]))
    except ValueError:
        return None


def typed_time(text: str) -> dt.time | None:
    """A typed time such as ``18:45``, ``18.45`` or ``18:45 Uhr``."""
    match = _TIME.match(text)
    if match is None or int(match[1]) > 23 or int(match[2]) > 59:
        return None
    return dt.time(int(match[1]), int(match[2]))


async def take_typed(
    turn: Turn,
    who: Speaker,
    dialog: Dialog,
    show: ShowStep,
    answer: Callable[[str], Awaitable[Dialog | None]],
) -> None:
    """Typed input in a dialog: ``answer`` takes the text at the current step (None: it does
    not fit, and the person is told so); then the step that follows is shown."""
    if dialog.replays(turn.input.key):
        await show(turn, who, dialog)
        return
    updated = await answer((turn.input.text or "").strip())
    if updated is None:
        await turn.send(views.not_understood(who.t))
        updated = dialog
    await show(turn, who, updated)
