"""Telegram's formatting and the conversation's markup.

The markup (``handlers.port``) is a subset of Telegram's HTML, so a screen goes out as it is.
What a person sends comes as Telegram HTML with more in it (underline, spoilers, code,
quotes, mentions): only bold, italic and web, mail and phone links are kept; the rest keeps
its text.
"""

from __future__ import annotations

from html import escape
from html.parser import HTMLParser

from telegram import Message

__all__ = ["markup_of", "to_markup"]

_KEPT = {"b": "b", "strong": "b", "i": "i", "em": "i"}
_SCHEMES = ("https://", "http://", "mailto:", "tel:")


def markup_of(message: Message) -> str | None:
    """The text (or else the caption) of ``message`` in the conversation's markup."""
    if message.text:
        return to_markup(message.text_html)
    if message.caption:
        return to_markup(message.caption_html)
    return None


def to_markup(html: str) -> str:
    """Telegram HTML as the conversation's markup."""
    if "<" not in html:  # nothing but text (entities escaped already)
        return html
    parser = _Reader()
    parser.feed(html)
    parser.close()
    return "".join(parser.out)


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self._open: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _KEPT:
            kept: str | None = _KEPT[tag]
            self.out.append(f"<{kept}>")
        elif tag == "a" and (href := dict(attrs).get("href") or "").startswith(_SCHEMES):
            kept = "a"
            self.out.append(f'<a href="{escape(href)}">')
        else:
            kept = None
        self._open.append(kept)

    def handle_endtag(self, tag: str) -> None:
        if self._open:
            kept = self._open.pop()
            if kept is not None:
                self.out.append(f"</{kept}>")

    def handle_data(self, data: str) -> None:
        self.out.append(escape(data, quote=False))
