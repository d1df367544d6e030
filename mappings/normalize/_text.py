"""Script-neutral folding of free text: the first step of every match key.

`fold` keeps every script it meets (transliteration is `to_latin`'s job) but makes the
same name typed on different keyboards, in different cases and with or without accents
come out as the same string.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache, wraps
from typing import ParamSpec, TypeVar

from anyascii import anyascii

__all__ = ["coerce_text", "fold", "memoize"]

_P = ParamSpec("_P")
_R = TypeVar("_R")
_LONGEST_CACHED = 256


def memoize(maxsize: int) -> Callable[[Callable[_P, _R]], Callable[_P, _R]]:
    """`lru_cache` for short text only: a 10 kB value is computed each time, never kept."""

    def decorate(function: Callable[_P, _R]) -> Callable[_P, _R]:
        cached: Callable[..., _R] = lru_cache(maxsize=maxsize)(function)

        @wraps(function)
        def call(*args: _P.args, **kwargs: _P.kwargs) -> _R:
            if len(args) == 1 and not kwargs:  # the usual call, checked without a loop (~30% less overhead)
                arg = args[0]
                if isinstance(arg, str) and len(arg) > _LONGEST_CACHED:
                    return function(*args)
                return cached(arg)
            for arg in args:
                if isinstance(arg, str) and len(arg) > _LONGEST_CACHED:
                    return function(*args, **kwargs)
            return cached(*args, **kwargs)

        call.cache_clear = cached.cache_clear  # type: ignore[attr-defined]
        return call

    return decorate

_APOSTROPHES = "\u0027\u0060\u00b4\u02b9\u02bb\u02bc\u02bd\u2018\u2019\u201b\u2032\uff07"
_HYPHENS = "\u002d\u2010\u2011\u2012\u2013\u2014\u2212\ufe63\uff0d"
# Invisible characters that sit inside words (selectors, joiners, tags): removed, not spaced.
_INVISIBLE_RANGES = ((0xFE00, 0xFE0F), (0xE0000, 0xE007F), (0xE0100, 0xE01EF))


def _is_invisible(code: int) -> bool:
    return any(low <= code <= high for low, high in _INVISIBLE_RANGES)


def _latin_letter(char: str) -> str:
    """One Latin letter without its diacritics, as ASCII ('ø' -> 'o', 'æ' -> 'ae')."""
    stripped = "".join(c for c in unicodedata.normalize("NFD", char) if not unicodedata.combining(c))
    if stripped.isascii():
        return stripped
    ascii_form = anyascii(stripped).lower()
    return ascii_form if ascii_form.isalpha() else ""


def _classify(char: str) -> str:
    """What one (already NFKC-normalised, case-folded) character becomes in folded text."""
    if char in _APOSTROPHES:
        return "'"
    if char in _HYPHENS:
        return "-"
    code = ord(char)
    if code < 128:
        if char.isalnum():
            return char
        return " " if char.isspace() or code > 31 else ""  # ASCII controls vanish like other controls
    if _is_invisible(code):
        return ""
    category = unicodedata.category(char)
    major = category[0]
    if major == "L":
        if unicodedata.name(char, "").startswith("LATIN"):
            return _latin_letter(char)
        return char
    if major == "M":
        return "" if category == "Me" else char
    if category == "Nd":
        return char
    if major == "Z" or (category == "Cc" and char.isspace()):
        return " "
    if major == "C":  # controls, RTL/LTR marks, zero-width joiners, soft hyphens, private use
        return ""
    return " "  # punctuation, symbols and emoji separate words


class _FoldTable(dict[int, str]):
    """A `str.translate` table filled lazily, so each distinct character is classified once."""

    def __missing__(self, code: int) -> str:
        value = _classify(chr(code))
        self[code] = value
        return value


_TABLE = _FoldTable()
_LATIN_MARKS = re.compile(r"(?<=[a-z])[\u0300-\u036f]+")
_EDGE_JOINERS = re.compile(r"(?:(?<=\s)|^)['-]+|['-]+(?=\s|$)")
_JOINER_RUNS = re.compile(r"(['-])['-]+")


def coerce_text(value: object) -> str:
    """Any value as text: None is empty, non-strings go through str()."""
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


@memoize(1 << 16)
def _fold(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).casefold()
    folded = unicodedata.normalize("NFKC", folded).translate(_TABLE)
    folded = _LATIN_MARKS.sub("", folded)
    folded = _EDGE_JOINERS.sub(" ", folded)
    folded = _JOINER_RUNS.sub(r"\1", folded)
    return " ".join(folded.split())


def fold(text: str | None) -> str:
    """NFKC, case-fold, strip Latin diacritics, drop punctuation but inner - and ', collapse spaces."""
    if not text:
        return ""
    return _fold(coerce_text(text))
