"""Reading button data strictly: only what a button offers is taken, anything else is not.

``callback_data`` comes back from the client and can be forged, so a handler reads it with
:func:`parse` or :func:`parse_action` and answers ``None`` with "no longer valid"
(:func:`handlers.views.button_expired`). Values that passed are safe to convert: a
:data:`NUMBER` is a few ASCII digits, never a huge or a non-ASCII number.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence

__all__ = ["DATE", "INVITE", "NUMBER", "Part", "indices", "parse", "parse_action"]

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
