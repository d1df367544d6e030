"""Any script to lower-case ASCII Latin, word by word and script run by script run.

Cyrillic to Latin: one passport-style scheme for Russian, the official one for Ukrainian.

Russian (and any Cyrillic word without Ukrainian-only letters) uses the scheme of Russian
international passports before 2010, with й written 'i':

    а a  б b  в v  г g  д d  е e  ё e  ж zh  з z  и i  й i  к k  л l  м m  н n  о o  п p
    р r  с s  т t  у u  ф f  х kh  ц ts  ч ch  ш sh  щ shch  ъ -  ы y  ь -  э e  ю yu  я ya

so 'Александр' -> 'aleksandr', 'Юлия' -> 'yuliya', 'Дмитрий' -> 'dmitrii', 'Наталья' ->
'natalya', 'Хрущёв' -> 'khrushchev'. A word holding і, ї, є or ґ is Ukrainian and follows
the Ukrainian national system of 2010 (г h, и y, і i, є ie, ї i, й i, ю iu, я ia, and ye, yi,
y, yu, ya at the start of a word; зг zgh), so 'Київ' -> 'kyiv', 'Олексій' -> 'oleksii'.
Other Cyrillic letters (Serbian, Kazakh, Belarusian ...) fall back to anyascii.

Indic scripts: see `_indic`. Greek gets ELOT digraphs (ου ou, αυ av, ευ ev) before anyascii.
"""

from __future__ import annotations

import re

from anyascii import anyascii

from mappings.normalize._indic import indic_to_latin
from mappings.normalize._text import fold, memoize

__all__ = ["to_latin"]

_RUSSIAN = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh", "з": "z",
    "и": "i", "й": "i", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r",
    "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh",
    "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu", "я": "ya",
}  # fmt: skip

_UKRAINIAN = {
    **_RUSSIAN,
    "г": "h", "ґ": "g", "и": "y", "і": "i", "є": "ie", "ї": "i", "й": "i", "ю": "iu", "я": "ia",
}  # fmt: skip
_UKRAINIAN_INITIAL = {"є": "ye", "ї": "yi", "й": "y", "ю": "yu", "я": "ya"}
_UKRAINIAN_MARKERS = frozenset("іїєґ")


def _fallback(char: str) -> str:
    return "".join(c for c in anyascii(char).lower() if c.isalnum())


_RUSSIAN_TABLE = {ord(k): v for k, v in _RUSSIAN.items()}


class _Table(dict[int, str]):
    """Russian table with an anyascii fallback for the rest of Cyrillic, filled on demand."""

    def __missing__(self, code: int) -> str:
        value = _fallback(chr(code))
        self[code] = value
        return value


_TABLE = _Table(_RUSSIAN_TABLE)


def _ukrainian(word: str) -> str:
    out: list[str] = []
    previous = ""
    for index, char in enumerate(word):
        if index == 0 and char in _UKRAINIAN_INITIAL:
            out.append(_UKRAINIAN_INITIAL[char])
        elif char == "г" and previous == "з":
            out.append("gh")  # зг is 'zgh' so that it is not read back as 'zh'
        else:
            out.append(_UKRAINIAN[char] if char in _UKRAINIAN else _fallback(char))
        previous = char
    return "".join(out)


def cyrillic_to_latin(run: str) -> str:
    """A lower-case Cyrillic run (one word or part of one) in lower-case Latin."""
    if _UKRAINIAN_MARKERS.intersection(run):
        return _ukrainian(run)
    return run.translate(_TABLE)


_CYRILLIC = "\u0400-\u052f\u1c80-\u1c8f\u2de0-\u2dff\ua640-\ua69f"
_INDIC = "\u0900-\u0d7f"
_RUNS = re.compile(f"([{_CYRILLIC}]+)|([{_INDIC}]+)|([^{_CYRILLIC}{_INDIC}]+)")
_GREEK = re.compile("[\u0370-\u03ff\u1f00-\u1fff]")
# ELOT 743 digraphs that letter-by-letter anyascii gets wrong ('Παπαδόπουλος' papadopoulos)
_GREEK_DIGRAPHS = {"ου": "ou", "ού": "ou", "αυ": "av", "αύ": "av", "ευ": "ev", "εύ": "ev", "γγ": "ng",
                   "γκ": "ng", "μπ": "mp", "ντ": "nt"}  # fmt: skip
_GREEK_INITIAL = {"μπ": "b", "ντ": "d", "γκ": "g"}
_GREEK_PATTERN = re.compile("^(?:μπ|ντ|γκ)|" + "|".join(_GREEK_DIGRAPHS))
_NOT_LATIN = re.compile(r"[^a-z0-9-]+")
_EDGE_HYPHENS = re.compile(r"^-+|-+$")
_HYPHEN_RUNS = re.compile(r"--+")


def _run_to_latin(match: re.Match[str]) -> str:
    cyrillic, indic, other = match.groups()
    if cyrillic:
        return cyrillic_to_latin(cyrillic)
    if indic:
        return indic_to_latin(indic)
    if other.isascii():
        return other
    if _GREEK.search(other):
        other = _GREEK_PATTERN.sub(_greek_digraph, other)
    other = other.replace("եւ", "և")  # NFKC splits the Armenian 'ev' ligature; anyascii reads 'ew'
    return anyascii(other).lower()


def _greek_digraph(match: re.Match[str]) -> str:
    digraph = match.group()
    if match.start() == 0 and digraph in _GREEK_INITIAL:
        return _GREEK_INITIAL[digraph]
    return _GREEK_DIGRAPHS[digraph]


@memoize(1 << 17)
def _word_to_latin(word: str) -> str:
    """One folded word (no spaces) in Latin; apostrophes go, inner hyphens stay."""
    latin = word if word.isascii() else _RUNS.sub(_run_to_latin, word)
    latin = _NOT_LATIN.sub("", latin.lower())
    if "-" in latin:
        latin = _EDGE_HYPHENS.sub("", _HYPHEN_RUNS.sub("-", latin))
    return latin


@memoize(1 << 16)
def _to_latin(folded: str) -> str:
    return " ".join(filter(None, map(_word_to_latin, folded.split(" "))))


def to_latin(text: str | None) -> str:
    """Script-aware transliteration to lower-case ASCII words (schemes: see the package docstring)."""
    folded = fold(text)
    return _to_latin(folded) if folded else ""
