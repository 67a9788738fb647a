"""Messages as the demo page shows them: Telegram's HTML made safe, buttons, attachments;
Signal's plain text with its bold and italic ranges (and the numbered lists in the text).

The bot formats with Telegram's small HTML subset. The page may only ever receive that
subset: every other tag, attribute or character is escaped here, on the server, so a
person's text (relayed into another chat) can never become markup in the browser.
"""

from __future__ import annotations

import re
from datetime import datetime
from html import escape, unescape
from typing import Any
from zoneinfo import ZoneInfo

from channels.signal.fakedaemon import SignalMessage
from channels.telegram.fakeapi import BotMessage

__all__ = ["message_view", "safe_html", "signal_message_view", "styled_html", "text_html"]

JSON = dict[str, Any]

# Telegram's tags and the element the page uses for each.
_SIMPLE = {
    "b": "b",
    "strong": "b",
    "i": "i",
    "em": "i",
    "u": "u",
    "ins": "u",
    "s": "s",
    "strike": "s",
    "del": "s",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
}
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s[^<>]*)?)>")
_HREF = re.compile(r"""\bhref\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_URL = re.compile(r"https?://[^\s<>\"']+[^\s<>\"'.,;:!?)]")
_SAFE_SCHEMES = ("http://", "https://", "tg://")


def safe_html(markup: str) -> str:
    """Telegram-style HTML as HTML for the page: allowed tags kept, everything else escaped."""
    out: list[str] = []
    stack: list[str] = []  # closing tags to emit, innermost last
    position = 0
    for match in _TAG.finditer(markup):
        out.append(text_html(unescape(markup[position : match.start()]), links=not _in_a(stack)))
        position = match.end()
        closing, name, attributes = match.group(1), match.group(2).lower(), match.group(3)
        opening = _open(name, attributes)
        if name == "tg-emoji":  # a custom emoji keeps its fallback character, not the tag
            continue
        if closing:
            close = _close(name)
            if close is not None and stack and stack[-1] == close:
                out.append(stack.pop())
            elif close is None or close not in stack:
                out.append(escape(match.group(0)))
            # a close tag out of order is dropped; the matching opener is closed at the end
        elif opening is not None:
            out.append(opening[0])
            stack.append(opening[1])
        else:
            out.append(escape(match.group(0)))
    out.append(text_html(unescape(markup[position:]), links=not _in_a(stack)))
    out.extend(reversed(stack))
    return "".join(out)


def text_html(text: str, *, links: bool = True) -> str:
    """Plain text as HTML: escaped, with web addresses made into links as Telegram does."""
    if not links:
        return escape(text, quote=False)
    parts: list[str] = []
    position = 0
    for match in _URL.finditer(text):
        parts.append(escape(text[position : match.start()], quote=False))
        parts.append(_link(match.group(0), escape(match.group(0), quote=False)))
        position = match.end()
    parts.append(escape(text[position:], quote=False))
    return "".join(parts)


def _in_a(stack: list[str]) -> bool:
    return "</a>" in stack


def _open(name: str, attributes: str) -> tuple[str, str] | None:
    """The opening and closing HTML for an allowed tag, or None."""
    if name in _SIMPLE:
        return f"<{_SIMPLE[name]}>", f"</{_SIMPLE[name]}>"
    if name == "tg-spoiler" or (name == "span" and "tg-spoiler" in attributes):
        return '<span class="spoiler">', "</span>"
    if name == "a":
        found = _HREF.search(attributes)
        href = unescape(found.group(1) or found.group(2) or "") if found else ""
        return (_anchor(href) if href.startswith(_SAFE_SCHEMES) else "<a>"), "</a>"
    return None


def _close(name: str) -> str | None:
    if name in _SIMPLE:
        return f"</{_SIMPLE[name]}>"
    if name in ("tg-spoiler", "span"):
        return "</span>"
    if name == "a":
        return "</a>"
    return None


def _link(href: str, label: str) -> str:
    return f"{_anchor(href)}{label}</a>"


def _anchor(href: str) -> str:
    """An opening ``<a>``; invitation links to the bot are handled by the page itself."""
    start = re.fullmatch(r"https://t\.me/\w+\?start=([\w-]{1,64})", href)
    if start:
        return f'<a href="{escape(href)}" class="deeplink" data-start="{escape(start.group(1))}">'
    return f'<a href="{escape(href)}" target="_blank" rel="noopener noreferrer">'


def message_view(message: BotMessage, timezone: ZoneInfo, today: datetime) -> JSON:
    """One message as the page draws it."""
    raw = message.raw
    kind = message.kind
    file_id = message.file_id
    text = message.text
    if not message.from_bot:
        kind, file_id = _user_media(raw)
        text = raw.get("text") or raw.get("caption") or ""
    if message.from_bot and message.html is not None:
        html = safe_html(message.html)
    else:
        html = text_html(text)
    when = datetime.fromtimestamp(message.date, timezone)
    stamp = when.strftime("%H:%M") if when.date() == today.date() else when.strftime("%d.%m. %H:%M")
    view: JSON = {
        "id": message.message_id,
        "out": not message.from_bot,
        "kind": kind,
        "html": html,
        "time": stamp,
        "edited": message.edits > 0,
        "buttons": [
            [
                {"text": button["text"], "data": button["callback_data"]}
                if "callback_data" in button
                else {"text": button["text"], "url": button.get("url", "")}
                for button in row
            ]
            for row in message.buttons
        ],
    }
    if file_id is not None:
        view["file"] = f"/api/file/{file_id}"
    reply = raw.get("reply_to_message")
    if isinstance(reply, dict):
        view["reply"] = str(reply.get("text") or reply.get("caption") or "…")[:80]
    return view


def _user_media(raw: JSON) -> tuple[str, str | None]:
    """What a person sent: its kind and file id."""
    if raw.get("photo"):
        return "photo", str(raw["photo"][-1]["file_id"])
    for kind in ("voice", "document", "sticker"):
        if isinstance(raw.get(kind), dict):
            return kind, str(raw[kind]["file_id"]) if kind != "sticker" else None
    return "text", None


_SIGNAL_TAGS = {"BOLD": "b", "ITALIC": "i", "STRIKETHROUGH": "s", "MONOSPACE": "code"}


def styled_html(text: str, styles: list[str]) -> str:
    """Signal's text and ``start:length:STYLE`` ranges (UTF-16 code units) as safe HTML."""
    units = text.encode("utf-16-le")
    marks: list[set[str]] = [set() for _ in range(len(units) // 2)]
    for entry in styles:
        match = re.fullmatch(r"(\d+):(\d+):([A-Z]+)", entry)
        if match is None or match[3] not in _SIGNAL_TAGS:
            continue
        start, length = int(match[1]), int(match[2])
        for unit in range(start, min(start + length, len(marks))):
            marks[unit].add(_SIGNAL_TAGS[match[3]])
    out: list[str] = []
    begin = 0
    for unit in range(1, len(marks) + 1):
        if unit < len(marks) and marks[unit] == marks[begin]:
            continue
        piece = units[2 * begin : 2 * unit].decode("utf-16-le", errors="replace")
        tags = sorted(marks[begin])
        inner = text_html(piece)
        out.append("".join(f"<{t}>" for t in tags) + inner + "".join(f"</{t}>" for t in tags[::-1]))
        begin = unit
    return "".join(out)


def signal_message_view(
    message: SignalMessage, timezone: ZoneInfo, today: datetime, quoted: str | None
) -> JSON:
    """One Signal message as the page draws it: no buttons (the choices are the numbered
    list in its text); ``quoted``: the text of the message it quotes."""
    when = datetime.fromtimestamp(message.timestamp / 1000, timezone)
    stamp = when.strftime("%H:%M") if when.date() == today.date() else when.strftime("%d.%m. %H:%M")
    kind = "text"
    view: JSON = {
        "id": message.timestamp,
        "out": not message.from_bot,
        "html": styled_html(message.text, message.text_styles),
        "time": stamp,
        "edited": bool(message.edits),
        "buttons": [],
    }
    if message.attachments:
        first = message.attachments[0]
        mime = first.content_type
        kind = (
            "voice"
            if mime.startswith("audio/")
            else "photo"
            if mime.startswith("image/")
            else "document"
        )
        view["file"] = f"/api/file/{first.id}"
    view["kind"] = kind
    if quoted is not None:
        view["reply"] = quoted[:80] or "…"
    return view
