"""The dialog engine: what every multi-step dialog does alike, written once.

Each dialog (the questionnaire of a request, a broadcast, planning a Stammtisch, joining the
waiting list, announcing a training) declares a :class:`Dialogue`: how to find the speaker's
state, the actions its choices carry, the screen of each step, a table of what each choice
does at which step, and what typed input does. The engine applies the rules they share:

- a press on a dialog that is gone, or at a step the choice does not fit, changes nothing
  and is refused ("no longer valid");
- an input handled again after a restart changes nothing and shows the current step again;
- an answer that fits is acknowledged, the old step's choices go and the next step comes
  (a multi-select is redrawn in place instead);
- typed text that is the label of one of the step's choices (ignoring case, accents and
  emoji) counts as choosing it;
- typed input a step does not understand is said so in one line, and the same step is
  asked again: the dialog and what it holds stay.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Generic, Protocol, TypeVar

from bot.i18n import Texts, fold
from bot.services.broadcasts import KIND as BROADCAST
from handlers import broadcast_views, views
from handlers.actions import Actions
from handlers.context import Speaker, Turn, speaker, together
from handlers.port import Kind, Screen

__all__ = [
    "Answers",
    "Apply",
    "Dialogue",
    "End",
    "Ends",
    "Reply",
    "State",
    "as_choice",
    "beginning",
    "discarding",
    "hhmm",
    "refuse",
    "small_number",
    "typed_choice",
    "typed_day",
    "typed_text",
    "typed_time",
]


class State(Protocol):
    """Where a person's dialog stands: its step, and which input made the last change."""

    @property
    def step(self) -> str | None: ...

    def replays(self, key: int | None) -> bool:
        """Whether ``key`` is the input that already made the last change."""
        ...


S = TypeVar("S", bound=State)
T = TypeVar("T")


class Reply(Enum):
    """What typed input came to, besides a new state (show it) or None (not understood)."""

    #: The dialog answered the person itself (e.g. "too long"); nothing more to show.
    TOLD = "told"
    #: The step takes no typed input: the message goes on elsewhere (a case, the menu).
    NOT_HERE = "not here"


#: Stores one chosen answer (the action's value, ``""`` if none); the new state, or None
#: when it does not fit. A ``ValueError`` (the service's own checks) also means it does not.
Apply = Callable[[Turn, S, str], Awaitable[S | None]]
#: A choice that finishes the press itself (discard, save, send…); False: it does not fit.
End = Callable[[Turn, Speaker, S, str], Awaitable[bool]]
#: What a choice does at a step: ``(action, step)``; step None: at any step.
Answers = Mapping[tuple[str, str | None], Apply[S]]
Ends = Mapping[tuple[str, str | None], End[S]]


@dataclass(frozen=True, slots=True)
class Dialogue(Generic[S]):
    """One multi-step dialog, declared once."""

    #: The speaker's state in this dialog, or None when there is none.
    load: Callable[[Turn, Speaker], Awaitable[S | None]]
    #: The actions its choices carry (a state's choices may depend on the state).
    actions: Callable[[Turn, S | None], Actions | tuple[Actions, ...]]
    #: The screen of the state's step.
    screen: Callable[[Turn, Speaker, S], Awaitable[Screen | str]]
    #: The answers chosen: each stores one and leads to the next step.
    answers: Answers[S]
    #: Typed input at the state's step: the new state, None (not understood) or a Reply.
    typed: Callable[[Turn, Speaker, S], Awaitable[S | Reply | None]]
    #: The choices that finish a press in their own way.
    ends: Ends[S] = field(default_factory=dict)
    #: Answers of a multi-select: the step is redrawn in place.
    in_place: frozenset[str] = frozenset()
    #: Acknowledge, change the old message and send the next step at the same time.
    concurrent: bool = False

    def read(self, turn: Turn, state: S | None) -> tuple[str, str] | None:
        """The pressed action and its value (values joined by ``:``), if one is offered."""
        offered = self.actions(turn, state)
        for actions in offered if isinstance(offered, tuple) else (offered,):
            action = actions.read(turn.input.action)
            if action is not None:
                return action[0], ":".join(action[1])
        return None

    async def show(self, turn: Turn, who: Speaker, state: S) -> None:
        """Send the screen of the state's step."""
        await turn.send(await self.screen(turn, who, state))

    async def on_press(self, turn: Turn, who: Speaker | None = None) -> None:
        """A press on this dialog's choices, on the speaker's own state."""
        who = who or await speaker(turn)
        await self.press(turn, who, await self.load(turn, who))

    async def press(self, turn: Turn, who: Speaker, state: S | None) -> None:
        """A press on this dialog's choices, on ``state`` (None: the dialog is gone)."""
        if state is None:
            await refuse(turn, who.t)
            return
        if state.replays(turn.input.key):
            await turn.notice()
            await self.show(turn, who, state)
            return
        if not await self._choose(turn, who, state):
            await refuse(turn, who.t)

    async def _choose(self, turn: Turn, who: Speaker, state: S) -> bool:
        """Carry out the chosen action at the state's step; False if it does not fit."""
        action = self.read(turn, state)
        if action is None:
            return False
        what, value = action
        end = _at(self.ends, what, state.step)
        apply = _at(self.answers, what, state.step)
        try:
            if end is not None:
                return await end(turn, who, state, value)
            updated = await apply(turn, state, value) if apply is not None else None
        except ValueError:  # the service's own checks
            updated = None
        if updated is None:
            return False
        if what in self.in_place:
            screen = await self.screen(turn, who, updated)
            await self._at_once(turn.notice, lambda: turn.replace(screen))
        else:
            # The press is answered, the old step's choices go and the next step comes.
            await self._at_once(
                turn.notice, turn.clear_choices, lambda: self.show(turn, who, updated)
            )
        return True

    async def take_input(self, turn: Turn, who: Speaker, state: S) -> bool:
        """Typed or sent input while in this dialog; False if its step takes none."""
        if state.replays(turn.input.key):
            await self.show(turn, who, state)
            return True
        chosen = typed_choice(turn, await self.screen(turn, who, state))
        if chosen is not None and await self._choose(chosen, who, state):
            return True
        updated = await self.typed(turn, who, state)
        if updated is Reply.NOT_HERE:
            return False
        if updated is Reply.TOLD:
            return True
        if updated is None:
            await turn.send(views.not_understood(who.t))
            updated = state
        await self.show(turn, who, updated)
        return True

    async def _at_once(self, *calls: Callable[[], Awaitable[object]]) -> None:
        """Make the calls at the same time if the dialog says so, else one after the other."""
        if self.concurrent:
            await together(*(call() for call in calls))
            return
        for call in calls:
            await call()


def _at(table: Mapping[tuple[str, str | None], T], what: str, step: str | None) -> T | None:
    """What ``what`` does at ``step``, or at any step."""
    return table.get((what, step)) or table.get((what, None))


async def beginning(turn: Turn, who: Speaker) -> None:
    """Before another dialog begins (a person has one at a time): an unfinished broadcast it
    replaces does not end silently."""
    if who.person is None:
        return
    current = await turn.services.dialogs.current(who.person)
    if current is not None and current.kind == BROADCAST:
        await turn.send(broadcast_views.dropped(who.t))


async def refuse(turn: Turn, t: Texts) -> None:
    """The press does not fit (any more): nothing changes; the person is told so and shown
    where they are."""
    await turn.refuse(views.button_expired(t))


def discarding(
    discard: Callable[[Turn, S], Awaitable[object]], said: Callable[[Texts], Screen | str]
) -> End[S]:
    """The end that drops the dialog and replaces its message by ``said``."""

    async def end(turn: Turn, who: Speaker, state: S, value: str) -> bool:
        await turn.notice()
        await discard(turn, state)
        await turn.replace(said(who.t))
        return True

    return end


def typed_choice(turn: Turn, screen: Screen | str) -> Turn | None:
    """The turn as the choice of ``screen`` whose label the typed text is (ignoring case,
    accents, emoji and marks), or None: no label, or labels of different choices. The choice
    counts as pressed on no message (what would change the pressed message is sent)."""
    wanted = fold(typed_text(turn))
    if not wanted or isinstance(screen, str) or turn.input.upload is not None:
        return None
    found = {c.action for row in screen.choices for c in row if fold(c.label) == wanted}
    if len(found) != 1:
        return None
    (action,) = found
    return as_choice(turn, action)


def as_choice(turn: Turn, action: str | None) -> Turn:
    """The typed input as a choice of ``action`` pressed on no message: what would change
    the pressed message is sent instead."""
    chosen = dataclasses.replace(
        turn.input, kind=Kind.ACTION, action=action, pressed=None, press=None
    )
    return dataclasses.replace(turn, input=chosen)


def hhmm(value: str) -> dt.time:
    """A time as choices carry it: ``HHMM``."""
    return dt.time(int(value[:2]), int(value[2:]))


def typed_text(turn: Turn) -> str:
    """The typed text without surrounding space (``""`` for none)."""
    return (turn.input.text or "").strip()


_DATE = re.compile(r"^\s*(\d{1,2})\.(\d{1,2})(?:\.|\.(\d{4}))?\s*$")
_TIME = re.compile(r"^\s*(\d{1,2})(?:[:.](\d{2}))?\s*(uhr|h)?\s*$", re.IGNORECASE)


#: Arabic-Indic and Persian digits, read as 0-9.
_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")


def small_number(text: str) -> int | None:
    """A whole number of up to six ASCII digits (button data and typed counts); else None."""
    return int(text) if re.fullmatch(r"[0-9]{1,6}", text) else None


def typed_day(text: str, today: dt.date | None = None) -> dt.date | None:
    """A typed date such as ``14.3.2027``, or (given ``today``) ``16.12.``: the next 16
    December from today on."""
    match = _DATE.match(text)
    if match is None or (match[3] is None and today is None):
        return None
    day, month = int(match[1]), int(match[2])
    try:
        if match[3] is not None:
            return dt.date(int(match[3]), month, day)
        assert today is not None
        this_year = dt.date(today.year, month, day)
        return this_year if this_year >= today else dt.date(today.year + 1, month, day)
    except ValueError:
        return None


def typed_time(text: str, *, hour_alone: bool = False) -> dt.time | None:
    """A typed time such as ``18:45``, ``18.45``, ``18:45 Uhr`` or ``18 Uhr`` (with
    ``hour_alone`` also ``18``)."""
    match = _TIME.match(text.translate(_DIGITS))
    if match is None or (match[2] is None and match[3] is None and not hour_alone):
        return None
    hour, minute = int(match[1]), int(match[2] or 0)
    if hour > 23 or minute > 59:
        return None
    return dt.time(hour, minute)
