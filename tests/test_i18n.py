"""Language guessing, escaping, RTL isolation and localized dates."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.i18n import LANGUAGES, Html, guess_language, language_name, texts

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("ar", "ar"),
        ("uk-UA", "uk"),
        ("pt-br", "de"),
        ("kmr", "ku"),
        ("FA", "fa"),
        ("tr_TR", "tr"),
        ("fr-CA", "fr"),
        ("ps", "ps"),
        ("pbt", "ps"),
        ("ckb", "ckb"),
        ("ku-Arab", "ckb"),
        ("ku-IQ", "ckb"),
        ("ku-TR", "ku"),
        ("ku", "ku"),
        ("ti-ER", "ti"),
        ("so-SO", "so"),
        (None, "de"),
        ("", "de"),
    ],
)
def test_guess_language(code: str | None, expected: str) -> None:
    assert guess_language(code, "de") == expected


def test_language_names_are_each_languages_own() -> None:
    assert [language_name(c) for c in LANGUAGES] == [
        "Deutsch",
        "English",
        "العربية",
        "فارسی",
        "پښتو",
        "українська",
        "русский",
        "Türkçe",
        "kurdî (kurmancî)",
        "کوردیی ناوەندی",
        "ትግርኛ",
        "Soomaali",
        "français",
    ]


def test_values_are_escaped_unless_marked_safe() -> None:
    en = texts("en", BERLIN)
    assert en.gettext("✓ Language: {language}", language="<b>&") == "✓ Language: &lt;b&gt;&amp;"
    assert en.gettext("✓ Language: {language}", language=Html("<b>x</b>")) == (
        "✓ Language: <b>x</b>"
    )


def test_rtl_languages_isolate_values_ltr_do_not() -> None:
    assert [c for c in LANGUAGES if texts(c, BERLIN).rtl] == ["ar", "fa", "ps", "ckb"]
    ar = texts("ar", BERLIN).gettext("✓ Language: {language}", language="Deutsch")
    assert "\u2068Deutsch\u2069" in ar
    de = texts("de", BERLIN).gettext("✓ Language: {language}", language="Deutsch")
    assert "\u2068" not in de


def test_dates_use_the_locale_and_the_city_time_zone() -> None:
    # 23:30 UTC on 31 March is already 1 April in Berlin (summer time, UTC+2).
    moment = datetime(2026, 3, 31, 23, 30, tzinfo=UTC)
    assert texts("de", BERLIN).datetime(moment) == "01.04.2026, 01:30:00"
    assert texts("en", BERLIN).date(moment) == "Wednesday, April 1, 2026"
    assert "квіт" in texts("uk", BERLIN).date(moment)
    assert "Nisan" in texts("tr", BERLIN).date(moment)
    assert "أبريل" in texts("ar", BERLIN).date(moment)


def test_unknown_language_falls_back_to_english() -> None:
    assert texts("xx", BERLIN).language == "en"


def test_lists_are_joined_in_each_language() -> None:
    names = ["Deutsch", "English", "<b>"]
    assert texts("de", BERLIN).join(names) == "Deutsch, English und &lt;b&gt;"
    assert texts("fr", BERLIN).join(names) == "Deutsch, English et &lt;b&gt;"
    assert texts("so", BERLIN).join(names[:2]) == "Deutsch iyo English"
    assert texts("de", BERLIN).join([]) == ""
    # Right to left: each item isolated, the whole list laid out right to left, no Latin comma.
    fsi, rli, pdi = "\u2068", "\u2067", "\u2069"
    pashto = texts("ps", BERLIN).join(names)
    assert pashto == f"{rli}{fsi}Deutsch{pdi}، {fsi}English{pdi}، او {fsi}&lt;b&gt;{pdi}{pdi}"
    sorani = texts("ckb", BERLIN).join(names)
    assert sorani == f"{rli}{fsi}Deutsch{pdi}، {fsi}English{pdi} و {fsi}&lt;b&gt;{pdi}{pdi}"
    assert texts("ar", BERLIN).join(["Deutsch", "English"]) == (
        f"{rli}{fsi}Deutsch{pdi} و{fsi}English{pdi}{pdi}"
    )


def test_months_are_written_in_each_language() -> None:
    march = datetime(2026, 3, 1).date()
    assert texts("de", BERLIN).month(march) == "März 2026"
    assert texts("fr", BERLIN).month(march) == "mars 2026"
    assert texts("ps", BERLIN).month(march) == "2026 مارچ"
    assert texts("ar", BERLIN).month(march) == "مارس 2026"
