"""Person-name normalisers: folding, transliteration, fuzzy keys, nicknames and the name key.

Everything here is pure and cached: the same given names and surnames recur millions of
times, so each distinct token is worked out once per process.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import jellyfish

from mappings.normalize._text import coerce_text, fold, memoize
from mappings.normalize._translit import to_latin
from mappings.normalize.nicknames import ENGLISH, RUSSIAN

__all__ = [
    "HONORIFICS",
    "NameKey",
    "canonical_given",
    "fold",
    "is_patronymic",
    "name_key",
    "phonetic",
    "skeleton",
    "strip_honorifics",
    "to_latin",
]

# --- fuzzy keys ------------------------------------------------------------------------

# Spelling variants of one sound, rewritten in order (later rules see earlier results).
_SPELLING_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        (r"x", "ks"),
        (r"dzh|dj", "j"),
        (r"tsch|tch", "ch"),  # German and English spellings of Russian ч
        (r"sch|shch|sh", "s"),  # German sch, Russian щ and ш, Turkish ş (folded to s)
        (r"([oe])ff$", r"\1v"),  # émigré spellings: Ivanoff, Smirnoff
        (r"zh", "z"),
        (r"ck", "k"),
        (r"ch", "C"),  # kept apart from c/k until c is rewritten
        (r"kh", "h"),
        (r"ph", "f"),
        (r"([tdbgj])h", r"\1"),  # Indian aspirates: th, dh, bh, gh, jh
        (r"tz", "z"),
        (r"[cq]", "k"),
        (r"w", "v"),
        (r"^[yj]e", "e"),  # Yelena / Jelena / Elena
        (r"[yj]", "i"),
        (r"h(?![aeiou])", ""),  # a silent or final h: Sarah / Sara, Rakhman / Rahman
        (r"C", "ch"),
    )
)
_NOT_LETTERS = re.compile(r"[^a-z]+")
_VOWELS = re.compile(r"[aeiou]+")
_DOUBLES = re.compile(r"(.)\1+")


@memoize(1 << 16)
def _unified_spelling(token: str) -> str:
    """The Latin letters of `token` with transliteration variants rewritten to one spelling."""
    latin = _NOT_LETTERS.sub("", to_latin(token))
    for pattern, replacement in _SPELLING_RULES:
        latin = pattern.sub(replacement, latin)
    return latin


@memoize(1 << 16)
def skeleton(token: str) -> str:
    """Vowel-insensitive consonant skeleton of a (transliterated) token: 'Sharma' -> 'srm'."""
    latin = _unified_spelling(token)
    if not latin:
        return ""
    return _DOUBLES.sub(r"\1", latin[0] + _VOWELS.sub("", latin[1:]))


@memoize(1 << 16)
def phonetic(token: str) -> str:
    """Phonetic blocking code: Metaphone of the unified Latin spelling (chosen by measurement)."""
    latin = _unified_spelling(token)
    return jellyfish.metaphone(latin) if latin else ""


# --- honorifics and patronymics --------------------------------------------------------

HONORIFICS: frozenset[str] = frozenset(
    {
        # English, with the post-nominals that end up in name fields
        "mr", "mrs", "ms", "miss", "mister", "mx", "dr", "doctor", "prof", "professor", "sir",
        "madam", "dame", "lord", "lady", "rev", "reverend", "hon", "capt", "jr", "sr", "esq", "phd",
        # Russian (and their transliterations)
        "г-н", "г-жа", "гн", "гжа", "господин", "госпожа", "д-р", "проф", "g-n", "g-zha", "gospodin",
        "gospozha",
        # German
        "herr", "frau", "fraulein", "hr", "fr", "dipl", "ing", "dipl-ing", "mag",
        # French
        "mme", "mlle", "monsieur", "madame", "mademoiselle", "messrs",
        # Spanish
        "sra", "srta", "senor", "senora", "senorita",
        # Hindi and other Indian languages, native and Latin
        "श्री", "श्रीमती", "सुश्री", "श्रीमान", "डॉ", "shri", "shree", "sri", "smt", "shrimati", "srimati",
        "sushri", "shriman", "thiru", "thirumathi", "tmt", "திரு", "திருமதி",
    }
)  # fmt: skip
# Titles in any script meet their Latin forms ('శ్రీ' is 'shri'); two-letter transliterations
# are left out because they are also surnames ('डॉ' would be 'do', Vietnamese Đỗ).
_HONORIFICS_LATIN = frozenset(latin for latin in map(to_latin, HONORIFICS) if len(latin) > 2)


def _is_honorific(token: str) -> bool:
    folded = fold(token)
    return folded in HONORIFICS or to_latin(folded) in _HONORIFICS_LATIN


def strip_honorifics(tokens: list[str]) -> list[str]:
    """The tokens that are not titles or honorifics ('Dr', 'г-жа', 'श्रीमती', 'Smt' ...)."""
    return [token for token in tokens if not _is_honorific(token)]


_PATRONYMIC = re.compile(
    r"..(?:ovich|evich|ovitch|evitch|ovych|evych|ovna|evna|ichna|ivna)$"
    r"|^(?:ogly|oglu|ogli|kyzy|kizi|qizi|gizi|qyzy|uly|uulu)$"
    r"|^(?:ilich|ilyich|ilych|kuzmich|fomich|lukich|nikitich|savvich)$"
)
_PATRONYMIC_MARKERS = frozenset({"ogly", "oglu", "ogli", "kyzy", "kizi", "qizi", "gizi", "qyzy", "uly", "uulu"})


@memoize(1 << 16)
def is_patronymic(token: str) -> bool:
    """True for an East Slavic patronymic or a Turkic 'son/daughter of' word, any script."""
    return bool(_PATRONYMIC.search(to_latin(token)))


# --- nicknames -------------------------------------------------------------------------


def _build_nicknames() -> dict[str, str]:
    lookup: dict[str, str] = {}
    for canonical, _variants in (*ENGLISH, *RUSSIAN):
        lookup[canonical] = canonical
    for canonical, variants in (*ENGLISH, *RUSSIAN):
        for variant in variants:
            lookup.setdefault(variant, canonical)
    return lookup


_NICKNAMES = _build_nicknames()


@memoize(1 << 16)
def canonical_given(token: str) -> str:
    """A given name (any script) in its canonical formal Latin form: 'Sasha' -> 'alexander'."""
    latin = to_latin(token)
    if " " in latin:
        return " ".join(_NICKNAMES.get(word, word) for word in latin.split(" "))
    return _NICKNAMES.get(latin, latin)


# --- the name key ----------------------------------------------------------------------

# Surname particles that belong to the family name when a full name is split.
_PARTICLES = frozenset(
    {"van", "von", "de", "der", "den", "del", "della", "di", "da", "dos", "das", "du", "le", "la",
     "bin", "ibn", "al", "el", "ter", "ten", "st"}
)  # fmt: skip
_TOKEN_SEPARATORS = re.compile(r"[\s-]+")


@dataclass(frozen=True)
class NameKey:
    """Match-key parts of one person's name, all Latin, folded and never None."""

    given: str
    family: str
    given_canonical: str
    given_initial: str
    family_skeleton: str
    family_phonetic: str
    patronymic: str
    tokens: tuple[str, ...]


@dataclass
class _Parts:
    given: list[str]
    family: list[str]
    patronymic: list[str]
    middle: list[str]


def _words(text: str | None) -> list[str]:
    return fold(coerce_text(text)).split()


def _split_full(words: list[str]) -> _Parts:
    """Split the words of a full name, honorifics already removed."""
    if len(words) >= 3 and to_latin(words[-1]) in _PATRONYMIC_MARKERS:  # 'Mamedov Ali Hasan oglu'
        words = [*words[:-2], f"{words[-2]} {words[-1]}"]
    if not words:
        return _Parts([], [], [], [])
    if len(words) == 1:
        return _Parts(words, [], [], [])
    if is_patronymic(words[-1]) or " " in words[-1]:
        if len(words) == 2:  # 'Ivan Petrovich'
            return _Parts(words[:1], [], words[1:], [])
        return _Parts(words[1:2], words[:1], words[-1:], words[2:-1])  # 'Ivanov Ivan Petrovich'
    if len(words) >= 3 and is_patronymic(words[1]):  # 'Ivan Petrovich Ivanov'
        return _Parts(words[:1], words[-1:], words[1:2], words[2:-1])
    start = len(words) - 1
    while start > 1 and to_latin(words[start - 1]) in _PARTICLES:
        start -= 1
    return _Parts(words[:1], words[start:], [], words[1:start])


def _split_comma(text: str) -> _Parts:
    """'Family, Given [Patronymic]'."""
    family_text, _, given_text = text.partition(",")
    family = strip_honorifics(_words(family_text))
    rest = strip_honorifics(_words(given_text))
    if len(rest) >= 2 and is_patronymic(rest[-1]):
        return _Parts(rest[:1], family, rest[-1:], rest[1:-1])
    return _Parts(rest[:1], family, [], rest[1:])


def _parts_of_full(full: str) -> _Parts:
    if "," in full:
        return _split_comma(full)
    return _split_full(strip_honorifics(_words(full)))


def _field(text: str | None, *, keep_if_only_titles: bool) -> list[str]:
    words = _words(text)
    stripped = strip_honorifics(words)
    return words if keep_if_only_titles and not stripped else stripped


def _parts(given: str | None, family: str | None, full: str | None, patronymic: str | None) -> _Parts:
    parts = _Parts(
        _field(given, keep_if_only_titles=False),
        _field(family, keep_if_only_titles=True),
        _words(patronymic),
        [],
    )
    full_text = coerce_text(full).strip()
    if not full_text and not parts.family and len(parts.given) >= 2:
        full_text = " ".join(parts.given)  # a whole name typed into the given-name field
        parts.given = []
    elif not full_text and not parts.given and len(parts.family) >= 2:
        full_text = " ".join(parts.family)
        parts.family = []
    if full_text and not (parts.given and parts.family):
        split = _parts_of_full(full_text)
        if not parts.given and not parts.family:
            parts.middle = split.middle  # middle names only when the split decides both ends
        parts.given = parts.given or split.given
        parts.family = parts.family or split.family
        parts.patronymic = parts.patronymic or split.patronymic
    if not parts.patronymic and len(parts.given) >= 2 and is_patronymic(parts.given[-1]):
        parts.patronymic = parts.given[-1:]
        parts.given = parts.given[:-1]
    return parts


def _latin_words(words: list[str]) -> list[str]:
    return [latin for latin in (to_latin(word) for word in words) if latin]


@memoize(1 << 16)
def name_key(
    given: str | None, family: str | None, full: str | None, patronymic: str | None = None
) -> NameKey:
    """Build a NameKey from whatever name parts a record has; empty parts give empty strings."""
    parts = _parts(given, family, full, patronymic)
    given_words = _latin_words(parts.given)
    family_words = _latin_words(parts.family)
    patronymic_words = _latin_words(parts.patronymic)
    all_words = [*given_words, *_latin_words(parts.middle), *patronymic_words, *family_words]
    tokens = sorted(token for word in all_words for token in _TOKEN_SEPARATORS.split(word) if token)
    formal = next((word for word in given_words if len(word) > 1), given_words[0] if given_words else "")
    family_text = " ".join(family_words)
    return NameKey(
        given=" ".join(given_words),
        family=family_text,
        given_canonical=canonical_given(formal) if formal else "",
        given_initial=given_words[0][:1] if given_words else "",
        family_skeleton=skeleton(family_text),
        family_phonetic=phonetic(family_text),
        patronymic=" ".join(patronymic_words),
        tokens=tuple(tokens),
    )
