"""The actions a screen's choices carry, written and read by one codec.

An action is ``<prefix>:<name>[:<value>…]``. Each feature declares its actions once, as
:class:`Actions`: what each one's values may be. The same declaration writes the action
into a choice (refusing a value that does not fit, or data over :data:`MAX_BYTES`) and
reads a pressed one back. Action data comes back from the messenger's client and can be
forged, so only what a choice offers is taken; anything else reads as ``None``, which a
handler answers with "no longer valid" (:func:`handlers.views.button_expired`). Values that
passed are safe to convert: a :data:`NUMBER` is a few ASCII digits, never a huge or a
non-ASCII number.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Iterable, Mapping, Sequence

from handlers.port import Choice

__all__ = [
    "DATE",
    "INVITE",
    "MAX_BYTES",
    "NUMBER",
    "Actions",
    "Part",
    "indices",
    "parse",
    "parse_action",
]

#: The most an action may take: Telegram's limit for ``callback_data``.
MAX_BYTES = 64

#: One part of button data: the one value allowed (a ``str``), the values a button offers
#: (a collection), or a pattern the whole value must match.
Part = str | Collection[str] | re.Pattern[str]

#: A row id or a count, as buttons carry them (fits SQLite's integers with room to spare).
NUMBER = re.compile(r"[0-9]{1,9}")
#: A day as ``YYYY-MM-DD`` (whether it is one the button offered is the service's rule).
DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
#: An invitation code riding along in the first buttons (see ``LotsenService.create_invites``).
INVITE = re.compile(r"[A-Z0-9]{6,16}")


def _fits(value: str, part: Part) -> bool:
    if isinstance(part, str):
        return value == part
    if isinstance(part, re.Pattern):
        return part.fullmatch(value) is not None
    return value in part


def parse(data: str | None, *parts: Part) -> list[str] | None:
    """``data`` split at ``:`` if it has exactly one value per part and each fits; else None."""
    values = (data or "").split(":")
    if len(values) != len(parts) or not all(map(_fits, values, parts)):
        return None
    return values


def parse_action(
    data: str | None, prefix: str, offered: Mapping[str, Sequence[Part]]
) -> tuple[str, list[str]] | None:
    """``<prefix>:<action>[:<value>…]`` as offered: the action and its values; else None.

    ``offered`` maps each action to the parts of its values (``()`` for none).
    """
    action = (data or "").split(":", 2)[1:2]
    if not action or action[0] not in offered:
        return None
    values = parse(data, prefix, action[0], *offered[action[0]])
    return None if values is None else (action[0], values[2:])


def indices(items: Iterable[object]) -> frozenset[str]:
    """The positions of ``items`` as buttons carry them (``"0"``, ``"1"``, …)."""
    return frozenset(str(i) for i, _ in enumerate(items))


#: A value written into an action: text as it is, a number, or a day (ISO).
Value = str | int | dt.date


class Actions:
    """The actions of one feature: ``Actions("ask", {"topic": (TOPICS,), "stop": ()})``.

    ``actions("topic", key)`` writes one (:class:`ValueError` if it does not fit);
    ``actions.read(data)`` reads a pressed one as ``(name, values)``, or None.
    """

    __slots__ = ("offered", "prefix")

    def __init__(self, prefix: str, offered: Mapping[str, Sequence[Part]]) -> None:
        self.prefix = prefix
        self.offered = offered

    def __call__(self, name: str, *values: Value) -> str:
        data = ":".join((self.prefix, name, *map(_written, values)))
        if self.read(data) is None:
            raise ValueError(f"{self.prefix}:{name} does not take these values")
        if len(data.encode()) > MAX_BYTES:
            raise ValueError(f"{self.prefix}:{name} is longer than {MAX_BYTES} bytes")
        return data

    def choice(self, label: str, name: str, *values: Value) -> Choice:
        """A choice labelled ``label`` carrying this action."""
        return Choice(label, self(name, *values))

    def read(self, data: str | None) -> tuple[str, list[str]] | None:
        """The pressed action's name and values, if it is one offered; else None."""
        return parse_action(data, self.prefix, self.offered)


def _written(value: Value) -> str:
    return value.isoformat() if isinstance(value, dt.date) else str(value)
