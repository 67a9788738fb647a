"""The conversation's markup: what is kept of a messenger's formatting, how a channel reads
it, and the broadcasts stored as Telegram HTML before, moved over on upgrade."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bot.markup import Span, clean, plain, spans
from bot.storage.database import Database
from tests.test_upgrade import load

TELEGRAM = (
    "<b>Stammtisch</b> am <i>Mittwoch</i>, <u>bitte</u> <s>nicht</s> "
    '<span class="tg-spoiler">pünktlich</span> <code>18:00</code>\n'
    '<a href="https://www.dorsten.de">dorsten.de</a> '
    '<a href="tg://user?id=123">Jonas</a> <tg-emoji emoji-id="5368">👍</tg-emoji> '
    "<blockquote>Zitat</blockquote> 1 &lt; 2 &amp; 3"
)
MARKUP = (
    "<b>Stammtisch</b> am <i>Mittwoch</i>, bitte nicht pünktlich 18:00\n"
    '<a href="https://www.dorsten.de">dorsten.de</a> Jonas 👍 Zitat 1 &lt; 2 &amp; 3'
)


def test_only_bold_italic_and_web_links_are_kept() -> None:
    assert clean(TELEGRAM) == MARKUP
    assert clean(MARKUP) == MARKUP  # the markup is what it keeps
    assert clean("no tags, 5 > 3") == "no tags, 5 > 3"
    assert clean('<a href="javascript:alert(1)">x</a><b>open') == "x<b>open</b>"


def test_a_channel_reads_the_markup_as_text_and_ranges() -> None:
    text, found = spans(MARKUP)
    assert text.startswith("Stammtisch am Mittwoch, bitte") and text.endswith("1 < 2 & 3")
    assert found[0] == Span(0, 10, "bold")
    assert text[found[1].start : found[1].start + found[1].length] == "Mittwoch"
    link = [span for span in found if span.style == "link"]
    assert link == [Span(text.index("dorsten.de"), 10, "link", "https://www.dorsten.de")]
    assert plain("<b>a</b> &amp; b") == "a & b"


async def test_broadcasts_stored_as_telegram_html_are_moved_to_the_markup(
    tmp_path: Path,
) -> None:
    path = tmp_path / "bot.sqlite3"
    load(path)  # a database made by schema 0008
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE broadcast SET text = ?", (TELEGRAM,))
        (number,) = conn.execute("SELECT min(id) FROM broadcast").fetchone()
        conn.execute(
            "INSERT INTO broadcast_translation (broadcast_id, language, text) VALUES (?, ?, ?)",
            (number, "ar", "<u>تحت</u> <b>عريض</b>"),
        )
    db = Database(path)
    await db.open()
    await db.close()
    with sqlite3.connect(path) as conn:
        assert {text for (text,) in conn.execute("SELECT text FROM broadcast")} == {MARKUP}
        assert conn.execute("SELECT text FROM broadcast_translation").fetchall() == [
            ("تحت <b>عريض</b>",)
        ]
