"""Translations, language names, RTL isolation and localized dates.

Catalogs are the ``.po`` files under ``locales/``; they are compiled in memory when the bot
starts, so a fresh checkout needs no compile step and a stale ``.mo`` can never be served.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from gettext import GNUTranslations, NullTranslations
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_datetime, format_skeleton, format_time, get_day_names
from babel.lists import format_list
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal

__all__ = [
    "LANGUAGES",
    "LOCALES_DIR",
    "Html",
    "Texts",
    "fold",
    "guess_language",
    "isolate",
    "language_name",
    "languages_named",
    "shipped_language",
    "texts",
]

#: Shipped languages, in the order the language picker shows them.
LANGUAGES: tuple[str, ...] = (
    "de",  # German
    "en",  # English
    "ar",  # Arabic
    "fa",  # Farsi (and Dari)
    "ps",  # Pashto
    "uk",  # Ukrainian
    "ru",  # Russian
    "tr",  # Turkish
    "ku",  # Kurdish, Kurmanji (Latin letters)
    "ckb",  # Kurdish, Sorani (Arabic letters)
    "ti",  # Tigrinya
    "so",  # Somali
    "fr",  # French
)

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "messages"

# Telegram clients send IETF tags; some name a shipped language by another code: Kurmanji
# (kmr) and Sorani (ckb) are both "ku", Dari (prs) is Farsi, Pashto has three regional codes,
# Southern Kurdish (sdh) is written in Sorani's letters.
_ALIASES = {
    "kmr": "ku",
    "pes": "fa",
    "prs": "fa",
    "pbt": "ps",
    "pbu": "ps",
    "pst": "ps",
    "sdh": "ckb",
}
# "ku" alone is Kurmanji (Latin letters); in Arabic letters, or from Iraq and Iran, where most
# Kurds speak and read Sorani, Sorani is the better guess.
_SORANI_HINTS = frozenset({"arab", "iq", "ir"})

_FSI, _RLI, _PDI = "\u2068", "\u2067", "\u2069"

# Babel has no list words for Sorani (it falls back to "a, b, c", a Latin comma and no "and").
_LIST_PATTERNS = {"ckb": {"2": "{0} و {1}", "start": "{0}، {1}", "end": "{0} و {1}"}}


class Html(str):
    """A value that is already safe HTML and must not be escaped again."""

    __slots__ = ()


def isolate(value: str) -> str:
    """Wrap ``value`` in Unicode isolates so it keeps its own direction inside RTL text."""
    return f"{_FSI}{value}{_PDI}"


@cache
def language_name(code: str) -> str:
    """Return the language's own name for itself, as Babel gives it (e.g. ``العربية``)."""
    return Locale.parse(code).get_display_name(code) or code


#: Letters that Arabic and Persian keyboards write differently for the same word.
_LETTERS = str.maketrans({"ي": "ی", "ى": "ی", "ك": "ک", "ة": "ه", "ـ": None})


def fold(text: str) -> str:
    """``text`` as typed answers are compared with labels: without emoji, symbols, accents
    and other marks, punctuation or format characters; letters folded (case, Arabic and
    Persian forms); spaces collapsed. ``Östrich``, ``ostrich`` and ``✅ Östrich`` are alike."""
    kept = []
    for char in unicodedata.normalize("NFKD", text):
        category = unicodedata.category(char)
        if category[0] in "SMC" or (category[0] == "P" and char not in "-'’"):
            kept.append(" " if category[0] != "M" else "")
        else:
            kept.append(char)
    return " ".join("".join(kept).casefold().translate(_LETTERS).split())


def languages_named(text: str, reader: str) -> list[str]:
    """The shipped languages ``text`` names, by their own names or by their names in the
    reader's language (``فارسی و کمی آلمانی`` to a Farsi reader: Farsi and German), in the
    picker's order."""
    words = f" {fold(text)} "
    found = []
    for code in LANGUAGES:
        names = {language_name(code), Locale.parse(reader).languages.get(code) or ""}
        if any(f" {fold(name)} " in words for name in names if fold(name)):
            found.append(code)
    return found


@cache
def _is_rtl(code: str) -> bool:
    return Locale.parse(code).text_direction == "rtl"


def shipped_language(language_code: str | None) -> str | None:
    """The shipped language Telegram's ``language_code`` (an IETF tag) names, if any.

    ``uk-UA`` is ``uk``; ``ku-Arab`` and ``ku-IQ`` are Sorani (``ckb``), plain ``ku`` Kurmanji.
    """
    if not language_code:
        return None
    primary, *rest = language_code.replace("_", "-").lower().split("-")
    if primary == "ku" and _SORANI_HINTS.intersection(rest):
        return "ckb"
    primary = _ALIASES.get(primary, primary)
    return primary if primary in LANGUAGES else None


def guess_language(language_code: str | None, default: str) -> str:
    """Map Telegram's ``language_code`` (only a first guess) onto a shipped language."""
    return shipped_language(language_code) or default


@cache
def _translations(code: str) -> NullTranslations:
    path = LOCALES_DIR / code / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not path.exists():
        return NullTranslations()
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=code, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return GNUTranslations(buffer)


def _format_list(parts: list[str], language: str) -> str:
    patterns = _LIST_PATTERNS.get(language)
    if patterns is None:
        return format_list(parts, locale=language)
    if len(parts) < 3:
        return parts[0] if len(parts) == 1 else patterns["2"].format(*parts)
    joined = parts[0]
    for part in parts[1:-1]:
        joined = patterns["start"].format(joined, part)
    return patterns["end"].format(joined, parts[-1])


def _render(value: object, rtl: bool) -> str:
    text = value if isinstance(value, Html) else html.escape(str(value), quote=False)
    return isolate(text) if rtl and not isinstance(value, int) else text


@dataclass(frozen=True, slots=True)
class Texts:
    """Everything a handler needs to speak one language.

    Placeholders use ``{name}``; values are HTML-escaped (unless wrapped in :class:`Html`)
    and, in right-to-left languages, isolated so names, dates and numbers stay readable.
    """

    language: str
    timezone: ZoneInfo
    _translations: NullTranslations

    @property
    def rtl(self) -> bool:
        """Whether the language is written right to left."""
        return _is_rtl(self.language)

    def gettext(self, message: str, /, **values: object) -> str:
        """Translate ``message`` and fill in its placeholders."""
        return self._fill(self._translations.gettext(message), values)

    def ngettext(self, singular: str, plural: str, n: int, /, **values: object) -> str:
        """Translate with the plural form for ``n``; ``{n}`` is filled in too."""
        return self._fill(self._translations.ngettext(singular, plural, n), {"n": n, **values})

    def pgettext(self, context: str, message: str, /, **values: object) -> str:
        """Translate ``message`` in ``context`` (for short words that mean several things)."""
        return self._fill(self._translations.pgettext(context, message), values)

    def datetime(self, moment: dt.datetime, format: str = "medium") -> str:
        """Format ``moment`` in this language and the city's time zone."""
        return format_datetime(moment, format, tzinfo=self.timezone, locale=self.language)

    def date(self, moment: dt.datetime, format: str = "full") -> str:
        """Format the calendar day of ``moment`` in this language and the city's time zone."""
        return format_date(moment.astimezone(self.timezone), format, locale=self.language)

    def day(self, value: dt.date, format: str = "full") -> str:
        """Format a calendar day (e.g. an appointment) in this language."""
        return format_date(value, format, locale=self.language)

    def short_day(self, value: dt.date) -> str:
        """A compact day label for calendar buttons (weekday, day, month)."""
        return format_skeleton("MMMEd", value, locale=self.language)

    def clock(self, value: dt.time) -> str:
        """Format a time of day in this language."""
        return format_time(value, "short", locale=self.language)

    def month(self, value: dt.date) -> str:
        """A month and its year, e.g. "März 2026" (for figures per month)."""
        return format_skeleton("yMMM", value, locale=self.language)

    def join(self, items: Iterable[object]) -> Html:
        """A list in this language's words, e.g. "a, b und c" or "a وb وc".

        Items are HTML-escaped; in right-to-left languages each item is isolated and the list
        laid out right to left, so Latin names keep their places among Arabic letters.
        """
        parts = [_render(item, self.rtl) for item in items]
        if not parts:
            return Html("")
        joined = _format_list(parts, self.language)
        return Html(f"{_RLI}{joined}{_PDI}" if self.rtl else joined)

    def weekday(self, index: int) -> str:
        """The name of a day of the week (0 = Monday) in this language."""
        return str(get_day_names("wide", "format", locale=self.language)[index])

    def number(self, value: float) -> str:
        """Format a number with this language's digits and grouping (e.g. 1.234 in German)."""
        return format_decimal(value, locale=self.language)

    def euros(self, cents: int) -> str:
        """An amount in euros as this language writes it (e.g. 12,50 € in German)."""
        return format_currency(cents / 100, "EUR", locale=self.language)

    def _fill(self, template: str, values: dict[str, object]) -> str:
        if not values:
            return template
        rtl = self.rtl
        return template.format_map({k: _render(v, rtl) for k, v in values.items()})


def warm_up(timezone: ZoneInfo) -> None:
    """Load every shipped language's catalog and locale data now, at start.

    Babel reads a locale's data on its first use (a few milliseconds per language and kind
    of format); done here, the first people after a start do not wait for it.
    """
    now = dt.datetime.now(timezone)
    for language in LANGUAGES:
        t = texts(language, timezone)
        t.datetime(now), t.date(now), t.day(now.date()), t.day(now.date(), "medium")
        t.short_day(now.date()), t.clock(now.time()), t.weekday(0), t.number(1234.5)
        t.month(now.date()), t.join(["a", "b", "c"])


def texts(language: str, timezone: ZoneInfo) -> Texts:
    """Return the :class:`Texts` for ``language`` (an unknown code falls back to English)."""
    code = language if language in LANGUAGES else "en"
    return Texts(code, timezone, _translations(code))
