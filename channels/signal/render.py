"""A screen as Signal shows it, and a person's typed answer as the choice it means.

Signal has no buttons and no HTML: a message is plain text with ``textStyle`` ranges
(``start:length:STYLE``, counted in UTF-16 code units as signal-cli takes them), so the
conversation's markup (:mod:`bot.markup`) becomes its plain text with bold and italic as
ranges and each link as its text followed by the address; and a screen's choices become a
numbered list under the text. The answer to such a list is a number, several numbers for a
multi-select (``1 3 5``, ``1,3``; Arabic-Indic and Persian digits count), or a label's text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.i18n import fold
from bot.markup import spans
from handlers.port import Choice, Choices, Screen

__all__ = [
    "Rendered",
    "choices_of",
    "choose",
    "numbers_are_labels",
    "render",
    "styled_text",
    "utf16_length",
]

_STYLES = {"bold": "BOLD", "italic": "ITALIC"}
_SCHEMES = ("mailto:", "tel:")
#: Arabic-Indic (٠-٩) and Persian (۰-۹) digits, read as 0-9.
_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
#: Numbers apart by spaces, commas or semicolons (Latin or Arabic); each may end in a full
#: stop, as people copy "1." from the list. Up to four digits each, none with a leading zero:
#: ``0176 1234567`` is a phone number, typed text.
_NUMBERS = re.compile(r"(?!0\d)\d{1,4}\.?(?:[\s,;،؛]+(?!0\d)\d{1,4}\.?)*")


@dataclass(frozen=True, slots=True)
class Rendered:
    """What signal-cli's ``send`` takes for a screen, and the choices in their numbers' order
    (the first is number 1)."""

    text: str
    text_styles: tuple[str, ...] = ()
    choices: tuple[Choice, ...] = ()


def utf16_length(text: str) -> int:
    """The length of ``text`` in UTF-16 code units (a character beyond U+FFFF counts two)."""
    return len(text.encode("utf-16-le")) // 2


def styled_text(markup: str) -> tuple[str, tuple[str, ...]]:
    """The plain text of ``markup`` and its bold and italic ranges as ``start:length:STYLE``.

    A link is its text with the address after it in brackets (only the text when they are the
    same); a style that ends where a link ends does not cover the address.
    """
    plain, found = spans(markup)
    # Where each link's address goes in, in characters of ``plain``.
    inserts: list[tuple[int, str]] = []
    for span in found:
        if span.style != "link" or not span.href:
            continue
        label = plain[span.start : span.start + span.length]
        address = span.href
        shown = address.removeprefix(_SCHEMES[0]).removeprefix(_SCHEMES[1])
        if label.strip() not in (address, shown, address.rstrip("/")):
            inserts.append((span.start + span.length, f" ({shown})"))
    inserts.sort(key=lambda item: item[0])

    def moved(position: int) -> int:
        # An address inserted at ``position`` comes after what ends there.
        return position + sum(len(text) for at, text in inserts if at < position)

    pieces: list[str] = []
    previous = 0
    for at, text in inserts:
        pieces.append(plain[previous:at])
        pieces.append(text)
        previous = at
    pieces.append(plain[previous:])
    text = "".join(pieces)
    units = _utf16_offsets(text)
    styles = []
    for span in sorted(found, key=lambda s: (s.start, s.length)):
        style = _STYLES.get(span.style)
        if style is None:
            continue
        first, last = moved(span.start), moved(span.start + span.length)
        styles.append(f"{units[first]}:{units[last] - units[first]}:{style}")
    return text, tuple(styles)


def choices_of(choices: Choices) -> tuple[Choice, ...]:
    """A screen's choices in the order they are numbered (row by row)."""
    return tuple(choice for row in choices for choice in row)


def render(screen: Screen) -> Rendered:
    """``screen`` as signal-cli sends it: the text, its styles, and the numbered choices below
    (one a line, ``1. label``) after an empty line."""
    text, styles = styled_text(screen.text)
    numbered = choices_of(screen.choices)
    if numbered:
        listing = "\n".join(f"{number}. {c.label}" for number, c in enumerate(numbered, 1))
        text = f"{text}\n\n{listing}" if text else listing
    return Rendered(text, styles, numbered)


def choose(choices: Sequence[Choice], answer: str) -> tuple[str, ...] | None:
    """The action(s) ``answer`` picks from ``choices`` (numbered from 1), or None.

    A number picks that choice; several numbers pick several (in the order typed, each once),
    and the caller decides whether the screen takes more than one. Otherwise the answer picks
    the choice whose label it is, ignoring case, emoji, check marks and the direction marks
    around names. A number outside the list, or text that is no label (or more than one),
    picks nothing.
    """
    if not choices:
        return None
    typed = answer.translate(_DIGITS).strip()
    if _NUMBERS.fullmatch(typed) and numbers_are_labels(choices):
        found = [c.action for c in choices if _normal(c.label.translate(_DIGITS)) == typed]
        return (found[0],) if len(found) == 1 else None
    if _NUMBERS.fullmatch(typed):
        numbers = [int(n) for n in re.findall(r"\d+", typed)]
        if not all(1 <= n <= len(choices) for n in numbers):
            return None
        return tuple(choices[n - 1].action for n in dict.fromkeys(numbers))
    wanted = _normal(answer)
    if not wanted:
        return None
    found = [c.action for c in choices if _normal(c.label) == wanted]
    return (found[0],) if len(set(found)) == 1 else None


#: A label that is one number (``2``, ``2,5``), not a time (``09:00``) or a date.
_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")


def numbers_are_labels(choices: Sequence[Choice]) -> bool:
    """Whether some of the choices are labelled with a number: typed numbers then mean
    those labels (an answer such as ``2,5`` that is none of them is typed text)."""
    return any(_NUMBER.fullmatch(_normal(c.label.translate(_DIGITS))) for c in choices)


def _normal(label: str) -> str:
    """A label as it is compared (:func:`bot.i18n.fold`)."""
    return fold(label)


def _utf16_offsets(text: str) -> list[int]:
    """For each character index of ``text`` (and its end), the offset in UTF-16 code units."""
    offsets = [0]
    for char in text:
        offsets.append(offsets[-1] + (2 if ord(char) > 0xFFFF else 1))
    return offsets
