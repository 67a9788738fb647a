"""Screens as Signal shows them (text styles in UTF-16, numbered choices) and answers read back."""

from __future__ import annotations

import json
from html import escape

from hypothesis import given
from hypothesis import strategies as st

from bot.i18n import isolate
from channels.signal.inputs import dump_inputs, load_inputs
from channels.signal.render import choices_of, choose, render, styled_text, utf16_length
from handlers.port import Choice, Input, Kind, Screen, Upload


def cut(text: str, styles: tuple[str, ...], style: str) -> list[str]:
    """The parts of ``text`` that ``styles`` mark ``style``, cut by UTF-16 code units."""
    units = text.encode("utf-16-le")
    parts = []
    for entry in styles:
        start, length, name = entry.split(":")
        if name == style:
            parts.append(units[2 * int(start) : 2 * (int(start) + int(length))].decode("utf-16-le"))
    return parts


def test_utf16_counts_characters_beyond_the_basic_plane_twice() -> None:
    assert utf16_length("Dorsten") == 7
    assert utf16_length("مرحبا") == 5
    assert utf16_length("👋") == 2
    assert utf16_length("🇩🇪") == 4
    assert utf16_length("👩‍👧") == 5  # two emoji and a zero-width joiner


def test_german_heading_after_an_emoji() -> None:
    text, styles = styled_text("🌍 <b>Willkommen in Dorsten</b>\nSchön, dass du da bist.")
    assert text == "🌍 Willkommen in Dorsten\nSchön, dass du da bist."
    assert styles == ("3:21:BOLD",)  # the globe is two code units, then a space
    assert cut(text, styles, "BOLD") == ["Willkommen in Dorsten"]


def test_arabic_with_emoji_inside_and_before_the_styles() -> None:
    text, styles = styled_text("🤝 <b>مرحبا أمل 👋</b>\nهل تحتاجين <i>مساعدة</i>؟ 🇩🇪 <b>نعم</b>")
    assert text == "🤝 مرحبا أمل 👋\nهل تحتاجين مساعدة؟ 🇩🇪 نعم"
    assert styles == ("3:12:BOLD", "27:6:ITALIC", "40:3:BOLD")
    assert cut(text, styles, "BOLD") == ["مرحبا أمل 👋", "نعم"]
    assert cut(text, styles, "ITALIC") == ["مساعدة"]


def test_farsi_with_nested_styles_and_escapes() -> None:
    text, styles = styled_text("<b>سلام 🙂 <i>داریوش</i></b> &amp; <i>خوش آمدید</i>")
    assert text == "سلام 🙂 داریوش & خوش آمدید"
    assert cut(text, styles, "BOLD") == ["سلام 🙂 داریوش"]
    assert cut(text, styles, "ITALIC") == ["داریوش", "خوش آمدید"]
    assert styles == ("0:14:BOLD", "8:6:ITALIC", "17:9:ITALIC")


def test_links_become_their_text_and_address() -> None:
    text, styles = styled_text(
        '<b>Beratung</b>: <a href="https://dorsten.de/integration">Integrationsbüro</a> 📍, '
        '<a href="mailto:lotsen@dorsten.de">lotsen@dorsten.de</a>, '
        '<a href="https://dorsten.de">https://dorsten.de</a>, '
        '<b><a href="tel:+492362660">Anrufen</a></b> <b>danach</b>'
    )
    assert text == (
        "Beratung: Integrationsbüro (https://dorsten.de/integration) 📍, lotsen@dorsten.de, "
        "https://dorsten.de, Anrufen (+492362660) danach"
    )
    # Bold that ends with a link ends before its address; later styles move past it.
    assert cut(text, styles, "BOLD") == ["Beratung", "Anrufen", "danach"]


def test_a_screen_lists_its_choices_by_number_row_by_row() -> None:
    screen = Screen(
        "<b>Sprache</b> wählen",
        (
            (Choice("Deutsch", "lang:de"), Choice("العربية", "lang:ar")),
            (Choice("فارسی", "lang:fa"),),
            (Choice("Українська", "lang:uk"),),
        ),
    )
    shown = render(screen)
    assert shown.text == "Sprache wählen\n\n1. Deutsch\n2. العربية\n3. فارسی\n4. Українська"
    assert shown.text_styles == ("0:7:BOLD",)
    assert [c.action for c in shown.choices] == ["lang:de", "lang:ar", "lang:fa", "lang:uk"]
    assert shown.choices == choices_of(screen.choices)


def test_a_screen_without_choices_or_text() -> None:
    assert render(Screen("Danke 🙏")).text == "Danke 🙏"
    assert render(Screen("Danke 🙏")).choices == ()
    only = render(Screen("", ((Choice("Weiter", "next"),),)))
    assert only.text == "1. Weiter"


MENU = (
    Choice("🇩🇪 Deutsch", "lang:de"),
    Choice(isolate("العربية") + " ✓", "lang:ar"),
    Choice("فارسی", "lang:fa"),
    Choice("✅ Українська", "lang:uk"),
    Choice("Fertig!", "done"),
)


def test_a_number_in_any_digits_picks_its_choice() -> None:
    assert choose(MENU, "2") == ("lang:ar",)
    assert choose(MENU, " 3 ") == ("lang:fa",)
    assert choose(MENU, "٢") == ("lang:ar",)  # Arabic-Indic
    assert choose(MENU, "۳") == ("lang:fa",)  # Persian
    assert choose(MENU, "4.") == ("lang:uk",)


def test_several_numbers_pick_several_in_the_order_typed() -> None:
    assert choose(MENU, "1 3 5") == ("lang:de", "lang:fa", "done")
    assert choose(MENU, "1,3") == ("lang:de", "lang:fa")
    assert choose(MENU, "3, 1") == ("lang:fa", "lang:de")
    assert choose(MENU, "١، ٣") == ("lang:de", "lang:fa")
    assert choose(MENU, "۱ ۲ ۴") == ("lang:de", "lang:ar", "lang:uk")
    assert choose(MENU, "2 2") == ("lang:ar",)
    assert choose(MENU, "1. 2.") == ("lang:de", "lang:ar")


def test_a_label_picks_its_choice_whatever_its_marks() -> None:
    assert choose(MENU, "deutsch") == ("lang:de",)
    assert choose(MENU, "DEUTSCH 🇩🇪") == ("lang:de",)
    assert choose(MENU, "العربية") == ("lang:ar",)
    assert choose(MENU, "فارسي") == ("lang:fa",)  # typed with the Arabic yeh
    assert choose(MENU, "українська") == ("lang:uk",)
    assert choose(MENU, "fertig") == ("done",)


def test_what_fits_no_choice_picks_nothing() -> None:
    assert choose(MENU, "6") is None
    assert choose(MENU, "0") is None
    assert choose(MENU, "1 9") is None  # one stale number spoils the answer
    assert choose(MENU, "٧") is None
    assert choose(MENU, "Englisch") is None
    assert choose(MENU, "Deutsch bitte") is None
    assert choose(MENU, "") is None
    assert choose(MENU, "🇩🇪") is None
    assert choose((), "1") is None
    assert choose((), "Deutsch") is None
    twice = (Choice("Ja", "yes:1"), Choice("ja", "yes:2"))
    assert choose(twice, "ja") is None


_PLAIN = st.lists(
    st.sampled_from([*"aäß مرحبا سلام Дорстен", "👋", "🇩🇪", "👩\u200d👧", "\n", "&", "<"]),
    max_size=8,
).map("".join)


@given(st.lists(st.tuples(_PLAIN, st.sampled_from(["", "b", "i"])), max_size=6))
def test_every_style_covers_exactly_its_text(pieces: list[tuple[str, str]]) -> None:
    markup = "".join(
        f"<{tag}>{escape(text)}</{tag}>" if tag else escape(text) for text, tag in pieces
    )
    text, styles = styled_text(markup)
    assert text == "".join(part for part, _ in pieces)
    bold = [part for part, tag in pieces if tag == "b" and part]
    italic = [part for part, tag in pieces if tag == "i" and part]
    assert cut(text, styles, "BOLD") == bold
    assert cut(text, styles, "ITALIC") == italic


def test_inputs_kept_with_an_event_come_back_with_all_their_files() -> None:
    pages = Input(
        Kind.MESSAGE,
        key=16,
        channel="signal",
        sender="u",
        chat="u",
        caption="Seite 1 und 2",
        upload=Upload("photo", "SgnlAtt1.jpg", 10, "image/jpeg"),
        also=(Upload("photo", "SgnlAtt2.jpg", 12, "image/jpeg"),),
    )
    assert load_inputs(json.loads(dump_inputs([pages]))) == [pages]


def test_a_number_picks_by_position_in_a_list_of_times_and_by_label_in_a_list_of_numbers() -> None:
    times = [Choice("08:00", "ask:hour:08"), Choice("09:00", "ask:hour:09")]
    assert choose(times, "2") == ("ask:hour:09",)
    counts = [Choice("1", "case:hours:7:1"), Choice("2", "case:hours:7:2"), Choice("4", "x")]
    assert choose(counts, "4") == ("x",)  # the label 4, not the third choice
    assert choose(counts, "3") is None
