"""Any script to lower-case ASCII Latin, word by word and script run by script run."""

from __future__ import annotations

import re
from functools import lru_cache

from anyascii import anyascii

from mappings.normalize._cyrillic import cyrillic_to_latin
from mappings.normalize._indic import indic_to_latin
from mappings.normalize._text import fold

__all__ = ["to_latin"]

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


@lru_cache(maxsize=1 << 17)
def _word_to_latin(word: str) -> str:
    """One folded word (no spaces) in Latin; apostrophes go, inner hyphens stay."""
    latin = word if word.isascii() else _RUNS.sub(_run_to_latin, word)
    latin = _NOT_LATIN.sub("", latin.lower())
    if "-" in latin:
        latin = _EDGE_HYPHENS.sub("", _HYPHEN_RUNS.sub("-", latin))
    return latin


@lru_cache(maxsize=1 << 16)
def _to_latin(folded: str) -> str:
    return " ".join(filter(None, map(_word_to_latin, folded.split(" "))))


def to_latin(text: str | None) -> str:
    """Script-aware transliteration to lower-case ASCII words (schemes: see the package docstring)."""
    folded = fold(text)
    return _to_latin(folded) if folded else ""
