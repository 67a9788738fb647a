"""The conversation's markup: the one way every text the bot stores or shows is formatted.

A text in the markup is plain text with ``&amp;``, ``&lt;`` and ``&gt;`` escaped and four
kinds of formatting: ``<b>bold</b>``, ``<i>italic</i>``, ``<a href="https://…">links</a>``
(web, mail and phone) and line breaks (``\\n``). Each channel renders it as its messenger can;
:func:`clean` turns HTML from anywhere (a messenger's formatting, an older stored text) into
it, and :func:`spans` reads it for a channel that formats by ranges of plain text.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from html.parser import HTMLParser

__all__ = ["Span", "clean", "plain", "spans"]

_KEPT = {"b": "b", "strong": "b", "i": "i", "em": "i"}
_SCHEMES = ("https://", "http://", "mailto:", "tel:")


def clean(html: str) -> str:
    """``html`` in the markup: bold, italic and links kept, every other tag dropped (its text
    stays), text escaped."""
    if "<" not in html and "&" not in html:
        return html
    reader = _Reader()
    reader.feed(html)
    reader.close()
    return "".join(reader.out) + "".join(f"</{tag}>" for tag in reversed(reader.open) if tag)


@dataclass(frozen=True, slots=True)
class Span:
    """A formatted range of :func:`plain`'s text (offsets in characters)."""

    start: int
    length: int
    style: str  #: ``bold``, ``italic`` or ``link``
    href: str | None = None


def spans(markup: str) -> tuple[str, list[Span]]:
    """The plain text of ``markup`` and where it is bold, italic or a link."""
    reader = _Reader(keep_text=True)
    reader.feed(markup)
    reader.close()
    return "".join(reader.text), reader.spans


def plain(markup: str) -> str:
    """The text of ``markup`` without its formatting."""
    return spans(markup)[0]


class _Reader(HTMLParser):
    def __init__(self, keep_text: bool = False) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.open: list[str | None] = []
        self.text: list[str] = []
        self.spans: list[Span] = []
        self._starts: list[tuple[int, str | None]] = []
        self._length = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href") or ""
        if tag in _KEPT:
            kept: str | None = _KEPT[tag]
            self.out.append(f"<{kept}>")
        elif tag == "a" and href.startswith(_SCHEMES):
            kept = "a"
            self.out.append(f'<a href="{escape(href)}">')
        else:
            kept = None
        self.open.append(kept)
        self._starts.append((self._length, href if kept == "a" else None))

    def handle_endtag(self, tag: str) -> None:
        if not self.open:
            return
        kept = self.open.pop()
        start, href = self._starts.pop()
        if kept is not None:
            self.out.append(f"</{kept}>")
            if self._length > start:
                style = {"b": "bold", "i": "italic", "a": "link"}[kept]
                self.spans.append(Span(start, self._length - start, style, href))

    def handle_data(self, data: str) -> None:
        self.out.append(escape(data, quote=False))
        self.text.append(data)
        self._length += len(data)
