"""Every shipped catalog is complete, current, correctly pluralised and keeps its placeholders."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel import Locale
from babel.core import get_global
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from bot.i18n import LANGUAGES, LOCALES_DIR, texts

ROOT = Path(__file__).resolve().parent.parent
BERLIN = ZoneInfo("Europe/Berlin")
PLACEHOLDER = re.compile(r"\{[a-z_]*\}")
TAG = re.compile(r"</?[a-z-]+>")
WORD = re.compile(r"[^\W\d_]{2,}")
EXPECTED_PLURALS = {
    "de": 2,
    "en": 2,
    "ar": 6,
    "fa": 1,
    "ps": 2,
    "uk": 3,
    "ru": 3,
    "tr": 1,
    "ku": 2,
    "ckb": 2,
    "ti": 2,
    "so": 2,
    "fr": 2,
}
SCRIPT = {
    "ar": r"[\u0600-\u06ff]",
    "fa": r"[\u0600-\u06ff]",
    "ps": r"[\u0600-\u06ff]",
    "ckb": r"[\u0600-\u06ff]",
    "uk": r"[\u0400-\u04ff]",
    "ru": r"[\u0400-\u04ff]",
    "ti": r"[\u1200-\u137f]",
}
#: German words people meet on paper or hear in town (the Stammtisch menu entry included). They
#: stay recognisable, and in a catalog not written in Latin letters each comes with words in that
#: script next to it.
GERMAN_TERMS = re.compile(r"Jobcenter|Bürgergeld|Ausländerbehörde|\bZUE\b|Stammtisch")
RLM = "\u200f"


def script_of(language: str) -> str:
    """The script a language is usually written in (Babel's likely subtags: Arab, Latn …)."""
    return get_global("likely_subtags")[language].split("_")[1]


NON_LATIN = [code for code in LANGUAGES if script_of(code) != "Latn"]
RIGHT_TO_LEFT = [code for code in LANGUAGES if Locale.parse(code).text_direction == "rtl"]


def load(language: str) -> Catalog:
    with (LOCALES_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        return read_po(fh, locale=language)


def template() -> Catalog:
    with (LOCALES_DIR / "messages.pot").open("rb") as fh:
        return read_po(fh)


def ids(message: Message) -> tuple[str, ...]:
    return message.id if isinstance(message.id, tuple) else (message.id,)


def strings(message: Message) -> tuple[str, ...]:
    return message.string if isinstance(message.string, tuple) else (message.string,)


def test_template_matches_the_code() -> None:
    """`make extract` has been run: every translatable string in the code is in the template."""
    keywords = {**DEFAULT_KEYWORDS, "N_": None}
    with (ROOT / "babel.cfg").open(encoding="utf-8") as mapping:
        method_map, options_map = parse_mapping_cfg(mapping)
    in_code: set[str] = set()
    for _, _, message, _, _ in extract_from_dir(ROOT, method_map, options_map, keywords):
        in_code.add(message[0] if isinstance(message, tuple) else message)
    # The mapping reaches every place that speaks: the conversation, the channels (their
    # command menus) and the office console's templates.
    assert {"bot/**.py", "handlers/**.py", "channels/**.py"} <= {p for p, _ in method_map}
    assert any(m == "jinja2" for _, m in method_map)
    in_template = {ids(m)[0] for m in template() if m.id}
    assert in_code == in_template


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalog_is_complete_and_consistent(language: str) -> None:
    catalog = load(language)
    wanted = {ids(m)[0] for m in template() if m.id}
    have = {ids(m)[0] for m in catalog if m.id}
    assert have == wanted, "run `make update-catalogs` and translate"
    assert catalog.num_plurals == EXPECTED_PLURALS[language]
    problems: list[str] = []
    for message in catalog:
        if not message.id:
            continue
        source = ids(message)
        label = source[0][:50]
        if message.fuzzy:
            problems.append(f"fuzzy: {label}")
        if message.pluralizable and len(strings(message)) != catalog.num_plurals:
            problems.append(f"wrong number of plural forms: {label}")
        expected = set(PLACEHOLDER.findall(" ".join(source)))
        for text in strings(message):
            if not text.strip():
                problems.append(f"untranslated: {label}")
                continue
            found = set(PLACEHOLDER.findall(text))
            optional = {"{n}"} if message.pluralizable else set()
            if found - expected or expected - optional - found:
                problems.append(f"placeholders {sorted(found)} != {sorted(expected)}: {label}")
            if sorted(TAG.findall(text)) != sorted(TAG.findall(source[0])):
                problems.append(f"HTML tags differ: {label}")
            words = WORD.findall(PLACEHOLDER.sub("", text))
            if language != "en" and text == source[0] and len(words) >= 3:
                problems.append(f"left in English: {label}")
            if (
                language in SCRIPT
                and len(WORD.findall(PLACEHOLDER.sub("", source[0]))) >= 3
                and not re.search(SCRIPT[language], text)
            ):
                problems.append(f"not in the {language} script: {label}")
    problems += [f"babel: {error}" for _, errors in catalog.check() for error in errors]
    assert problems == []


def test_kurmanji_is_written_in_the_latin_hawar_alphabet() -> None:
    text = " ".join(s for m in load("ku") if m.id for s in strings(m))
    assert re.search("[êîûçş]", text)
    assert not re.search(r"[\u0600-\u06ff]", text)


def test_sorani_and_pashto_use_their_own_letters_of_the_arabic_script() -> None:
    sorani = " ".join(s for m in load("ckb") if m.id for s in strings(m))
    pashto = " ".join(s for m in load("ps") if m.id for s in strings(m))
    assert re.search("[ەێۆڵڕ]", sorani)  # Central Kurdish orthography
    assert re.search("[ټډړږښګڼ]", pashto)
    assert not re.search(r"[êîûçş]", sorani)  # not Kurmanji's Latin letters


@pytest.mark.parametrize(
    ("language", "n", "form"),
    [
        *[("fr", 0, 0), ("fr", 1, 0), ("fr", 2, 1), ("ti", 0, 0), ("ti", 1, 0), ("ti", 2, 1)],
        *[("ps", 0, 1), ("ps", 1, 0), ("ckb", 0, 1), ("ckb", 1, 0), ("so", 0, 1), ("so", 3, 1)],
    ],
)
def test_plural_forms_of_the_new_languages(language: str, n: int, form: int) -> None:
    """French and Tigrinya say "0 demande" like "1 demande"; Pashto, Sorani, Somali do not."""
    plural = next(
        m
        for m in load(language)
        if m.pluralizable
        and len(set(strings(m))) > 1  # the forms differ
        and set(PLACEHOLDER.findall(" ".join(ids(m)))) == {"{n}"}
    )
    tr = texts(language, BERLIN)
    rendered = tr.ngettext(plural.id[0], plural.id[1], n)
    assert rendered == strings(plural)[form].format(n=n)


@pytest.mark.parametrize(("n", "form"), [(0, 0), (1, 1), (2, 2), (5, 3), (11, 4), (100, 5)])
def test_arabic_plural_forms_follow_the_header(n: int, form: int) -> None:
    catalog = load("ar")
    plural = next(m for m in catalog if m.pluralizable)
    from bot.i18n import texts

    tr = texts("ar", __import__("zoneinfo").ZoneInfo("Europe/Berlin"))
    rendered = tr.ngettext(plural.id[0], plural.id[1], n, since="2009")
    assert rendered == strings(plural)[form].format(n=n, since="\u20682009\u2069")


def glossed(text: str, start: int, end: int, script: str) -> bool:
    """Whether the term at ``text[start:end]`` is one half of a pair with ``script`` text.

    Either ``<own words> (Term)``, ``Term (<own words>)``, or both inside one pair of brackets.
    """
    opening, closing = text.rfind("(", 0, start), text.find(")", end)
    if opening > text.rfind(")", 0, start) and closing != -1 and text.find("(", end, closing) == -1:
        before = text[:opening].rstrip(" \u2068\u2069\u200e\u200f")
        inside = text[opening + 1 : closing]
        return bool(re.search(script, inside) or (before and re.match(script, before[-1])))
    after = re.match(r"\s*\(([^()]*)\)", text[end:])
    return bool(after and re.search(script, after.group(1)))


def test_every_non_latin_catalog_has_its_script() -> None:
    assert set(NON_LATIN) <= set(SCRIPT), "add the new language's script to SCRIPT"


@pytest.mark.parametrize("language", LANGUAGES)
def test_german_terms_stay_recognisable(language: str) -> None:
    """A term in the English text is kept (e.g. "جوب سنتر (Jobcenter)", "Job centre" is not)."""
    missing = [
        f"{term}: {ids(m)[0][:50]}"
        for m in load(language)
        if m.id
        for term in set(GERMAN_TERMS.findall(" ".join(ids(m))))
        for text in strings(m)
        if term not in text
    ]
    assert missing == []


@pytest.mark.parametrize("language", NON_LATIN)
def test_german_terms_are_explained_in_the_catalogs_script(language: str) -> None:
    """Jobcenter, Bürgergeld, Ausländerbehörde, ZUE, Stammtisch: a person who reads only Arabic
    or Cyrillic letters gets words they can read next to the German one.

    Checked in every string, not only those refugees see: the Lotsen and coordinators who read
    these catalogs read the same script, and nobody loses by the explanation.
    """
    unexplained = [
        f"{match.group()}: {text[:60]}"
        for m in load(language)
        if m.id
        for text in strings(m)
        for match in GERMAN_TERMS.finditer(text)
        if not glossed(text, match.start(), match.end(), SCRIPT[language])
    ]
    assert unexplained == []


def first_strong(line: str) -> str | None:
    """The first character that sets a line's direction, skipping tags and placeholders."""
    visible = PLACEHOLDER.sub("", TAG.sub("", line))
    for char in visible:
        if unicodedata.bidirectional(char) in ("L", "R", "AL"):
            return char
    return None


@pytest.mark.parametrize("language", RIGHT_TO_LEFT)
def test_right_to_left_lines_start_right_to_left(language: str) -> None:
    """Telegram lays each line out by its first letter: a line such as "/help – …" or
    "Jobcenter …" would run left to right. Such a line starts with its own words or with U+200F.
    """
    wrong = [
        line
        for m in load(language)
        if m.id
        for text in strings(m)
        for line in text.split("\n")
        if re.search(SCRIPT[language], line)
        and (char := first_strong(line)) is not None
        and char != RLM
        and unicodedata.bidirectional(char) == "L"
    ]
    assert wrong == []


@pytest.mark.parametrize("language", RIGHT_TO_LEFT)
def test_right_to_left_numbers_are_not_marked_with_a_hash(language: str) -> None:
    """After Arabic letters "#{number}" shows as "123#": the catalog writes "number" in words."""
    hashed = [ids(m)[0][:50] for m in load(language) if m.id for s in strings(m) if "#{" in s]
    assert hashed == []
