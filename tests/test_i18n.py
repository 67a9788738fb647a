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
        "українська",
        "русский",
        "Türkçe",
        "kurdî (kurmancî)",
    ]


def test_values_are_escaped_unless_marked_safe() -> None:
    en = texts("en", BERLIN)
    assert en.gettext("✓ Language: {language}", language="<b>&") == "✓ Language: &lt;b&gt;&amp;"
    assert en.gettext("✓ Language: {language}", language=Html("<b>x</b>")) == (
        "✓ Language: <b>x</b>"
    )


def test_rtl_languages_isolate_values_ltr_do_not() -> None:
    assert texts("ar", BERLIN).rtl and texts("fa", BERLIN).rtl
    assert not texts("ku", BERLIN).rtl
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
